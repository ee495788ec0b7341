"""Issues and outcomes chosen as a reader would: results with their status, subjects of the
talks, never captions, photo lines or background (``summarise.backends.offline.topics``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarise.backends.offline.extractor import extract
from summarise.clean import CleanArticle, clean
from summarise.schema import ModelSummary
from tests.helpers import raw_seed

TOPICS = Path(__file__).parent / "synthetic" / "topics"
LEAD = "The two foreign ministers met in Geneva on Thursday for their first talks this year."
FRENCH_LEAD = "Les deux ministres des Affaires étrangères se sont entretenus jeudi à Genève."


def _summary(*paragraphs: str) -> ModelSummary:
    text = "\n\n".join(paragraphs)
    return extract(CleanArticle(title=None, published=None, dateline=None, text=text))


def _fixture(name: str) -> ModelSummary:
    return extract(clean(raw_seed(TOPICS / name)))


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        ("The two sides agreed to resume military-to-military communication.", "agreed"),
        ("Both sides agree that the working group should meet again this year.", "agreed"),
        ("Russia and China signed 49 cooperation deals on energy and transport.", "agreed"),
        ("Putin and Xi attended the signing of 49 cooperation deals in several fields.", "agreed"),
        ("They failed to agree on export controls on advanced chips, officials said.", "disagreed"),
        ("Putin admitted that 'our positions do not fully coincide' on Syria.", "disagreed"),
        ("Another round of talks is planned for next week in Abu Dhabi, Peskov said.", "pending"),
        ("The document is ready, although it still needs to be formally signed.", "pending"),
        ("The two sides had yet to agree on the price of the gas supply deal.", "pending"),
        ("The United States announced new sanctions on three Chinese companies.", "announced"),
        ("Blinken warned that the US will take appropriate measures against China.", "announced"),
        ("There was no breakthrough on Taiwan, a senior official said on Friday.", "no_progress"),
        # French
        ("Les deux ministres sont convenus de poursuivre le dialogue stratégique.", "agreed"),
        ("Ils ne sont pas parvenus à s'entendre sur le retrait des troupes.", "disagreed"),
        ("Les deux hommes se retrouveront à Vienne le mois prochain.", "pending"),
        ("Moscou a annoncé la libération d'un journaliste américain détenu.", "announced"),
        ("Rien n'a encore filtré sur le contenu de cette longue discussion.", "no_progress"),
    ],
)
def test_each_kind_of_outcome_has_its_status(sentence: str, status: str) -> None:
    lead = FRENCH_LEAD if "Les " in sentence or "Ils " in sentence or "Rien " in sentence else LEAD
    outcomes = _summary(lead, sentence).outcomes
    assert [(o.description, o.status) for o in outcomes] == [(sentence, status)]


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        ("He said: ‘We agreed to push the process of peace talks in Geneva.’", "agreed"),
        (
            "“Russia needs to understand that our patience is not infinite,” Kerry said.",
            "announced",
        ),
        ("« Nous nous attendons à ce qu’ils se voient à nouveau jeudi », a-t-elle dit.", "pending"),
    ],
)
def test_a_result_a_speaker_reports_in_quotes_is_an_outcome(sentence: str, status: str) -> None:
    lead = FRENCH_LEAD if "«" in sentence else LEAD
    assert [(o.description, o.status) for o in _summary(lead, sentence).outcomes] == [
        (sentence, status)
    ]


def test_captions_photo_lines_and_background_are_never_chosen() -> None:
    summary = _fixture("talks_en.txt")
    chosen = [i.summary for i in summary.issues] + [o.description for o in summary.outcomes]
    assert chosen, "the fixture has issues and outcomes"
    assert not [s for s in chosen if s.startswith(("Poker faces", "In 2023", "By "))]
    assert not [s for s in chosen if "pictured" in s]


def test_captions_bylines_and_background_left_by_the_cleaner_are_skipped_too() -> None:
    # As a CleanArticle straight from a feed: nothing has removed these lines.
    summary = _summary(
        "By Jane Reporter, CNN Diplomatic Correspondent, reporting from the summit in Vientiane",
        "Poker faces: Blinken and Wang agreed on nothing in more than an hour on Friday",
        LEAD,
        "Then last month, the two sides announced sanctions on each other's companies. "
        "They also agreed to resume flights between the two capitals.",
        "The two ministers agreed to meet again in Beijing before the end of the year.",
    )
    assert [o.description for o in summary.outcomes] == [
        "The two ministers agreed to meet again in Beijing before the end of the year."
    ]
    assert not [i for i in summary.issues if "sanctions" in i.topic or "summit" in i.topic]


def test_the_talks_results_in_an_english_report_have_their_statuses() -> None:
    summary = _fixture("talks_en.txt")
    assert [o.status for o in summary.outcomes] == [
        "agreed",
        "disagreed",
        "pending",
        "announced",
        "no_progress",
    ]
    topics = {t for issue in summary.issues for t in issue.topic.split(", ")}
    assert {"South China Sea", "fentanyl and opioids", "sanctions", "Taiwan"} <= topics


def test_french_cues_give_issues_and_outcomes_and_skip_background() -> None:
    summary = _fixture("talks_fr.txt")
    assert [o.status for o in summary.outcomes] == ["agreed", "disagreed", "pending", "announced"]
    assert summary.outcomes[2].description.startswith("Les deux hommes se retrouveront")
    topics = {t for issue in summary.issues for t in issue.topic.split(", ")}
    assert {"war in Ukraine", "detained citizens"} <= topics
    chosen = [i.summary for i in summary.issues] + [o.description for o in summary.outcomes]
    assert not [s for s in chosen if s.startswith("En 2021")]


def test_a_sentence_saying_what_was_discussed_is_an_issue_labelled_by_its_subject() -> None:
    sentence = "Funaro also discussed the attitude of European and Japanese banks, officials said."
    plain = "Funaro also discussed the outlook for coffee exports with the Swiss minister."
    issues = _summary(LEAD, plain, sentence).issues
    assert (issues[0].topic, issues[0].summary) == ("the outlook for coffee exports", plain)
    assert [i.summary for i in issues] == [plain, sentence]


def test_one_issue_per_topic_at_its_first_sentence() -> None:
    first = "Kerry and Lavrov discussed the sanctions imposed on Moscow over Crimea."
    again = "Lavrov said the sanctions had failed and would be lifted sooner or later."
    issues = _summary(LEAD, first, again).issues
    assert [i.summary for i in issues] == [first]
    assert set(issues[0].topic.split(", ")) == {"sanctions", "war in Ukraine"}


def test_a_partys_quote_on_an_issue_is_its_position() -> None:
    summary = _summary(
        "Russian Foreign Minister Sergey Lavrov met Secretary of State Antony Blinken in "
        "Geneva on Thursday to discuss the war in Ukraine and sanctions.",
        "“The sanctions will not change our course,” Lavrov told reporters after the talks.",
        "“We will keep the sanctions until Russia ends its war,” Blinken said.",
        "“The weather in Geneva was lovely,” Lavrov said.",
    )
    sanctions = next(i for i in summary.issues if "sanctions" in i.topic)
    assert [(p.party, p.stance) for p in sanctions.positions] == [
        ("Sergey Lavrov", "The sanctions will not change our course"),
        ("Antony Blinken", "We will keep the sanctions until Russia ends its war"),
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "It may grow into something bigger if Trump agrees to Beijing's demands on tariffs.",
        "Trump hasn't committed to any specifics so far, White House advisers say.",
        "Putin is in Shanghai this week to agree on a multibillion-dollar natural gas sale.",
    ],
)
def test_conditions_and_intentions_are_not_results(sentence: str) -> None:
    assert _summary(LEAD, sentence).outcomes == []


def test_a_result_inside_a_paragraph_long_quotation_is_its_quoted_sentence() -> None:
    pledge = (
        "Nous prévoyons de fournir plus de 65 millions de dollars d’aide au cours de notre "
        "campagne 2023."
    )
    quotation = (
        "« Les États-Unis déploient des efforts qui sont conformes aux réformes engagées par "
        "le gouvernement arménien depuis plusieurs années, dans la justice comme dans "
        "l’économie, et nous saluons le courage dont font preuve les autorités à Erevan. "
        "Nous avons travaillé avec nos partenaires européens pour que ce soutien soit "
        "durable, prévisible et adapté aux besoins des citoyens arméniens, en particulier "
        "dans les régions frontalières qui ont souffert du conflit et de ses conséquences. "
        f"{pledge} C’est une hausse importante par rapport aux années précédentes, et elle "
        "montre que notre engagement ne faiblit pas, quelles que soient les difficultés. », "
        "a déclaré Antony Blinken."
    )
    outcomes = _summary(FRENCH_LEAD, quotation).outcomes
    assert [(o.description, o.status) for o in outcomes] == [(pledge, "pending")]
