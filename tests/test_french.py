"""French articles: cleaning, dates, language, and the offline extractor reading them.

The article under ``tests/synthetic/french/`` is hand-written in the shape of a French
wire story as a news site prints it (caption and credit above the headline, publication
line, paywall notice, « Lire aussi », share buttons, « Le Monde avec AFP »).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from summarise.backends.offline import OfflineBackend
from summarise.backends.offline.extractor import extract
from summarise.clean import CleanArticle, clean, clean_text
from summarise.evaluate import evaluate, load_gold
from summarise.ground import ground_summary
from summarise.schema import ModelSummary, WarningCode
from summarise.text.dates import parse_date, resolve_date
from summarise.text.language import detect
from tests.helpers import raw_seed

SYNTHETIC = Path(__file__).parent / "synthetic" / "french"
CALL = (SYNTHETIC / "lavrov_blinken_appel.txt").read_text(encoding="utf-8")


# --- Cleaning -----------------------------------------------------------------------------


def test_french_page_furniture_is_dropped_and_the_body_kept() -> None:
    article = clean_text(CALL)
    assert article.title is not None and article.title.startswith("Ukraine : Lavrov et Blinken")
    assert article.published == "2022-07-12"
    assert article.text.startswith("Le chef de la diplomatie russe, Sergueï Lavrov")
    assert article.text.endswith("a indiqué le département d'État.")
    reasons = {r.text: r.reason for r in article.removed}
    assert reasons["Article réservé aux abonnés"] == "boilerplate: paywall notice"
    assert reasons["Lire aussi : La guerre en Ukraine, jour après jour"] == "related stories"
    assert reasons["Partager"] == "boilerplate: share button"
    assert reasons["Abonnez-vous"] == "boilerplate: account link"
    assert reasons["© AFP"] == "boilerplate: photo credit"
    assert reasons["Le Monde avec AFP"] == "end of article: credit line"


def test_short_caption_above_the_headline_is_not_the_first_paragraph() -> None:
    article = clean_text(CALL)
    caption = "Sergueï Lavrov et Antony Blinken lors d'une rencontre à Genève, en janvier 2022."
    assert caption not in article.text
    assert {r.text: r.reason for r in article.removed}[caption] == "photo caption"


# --- Dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Publié le 12/09/2017 à 10h32", "2017-09-12"),
        ("Publié le 3 mars 2023 à 10h32, mis à jour le 4 mars 2023", "2023-03-03"),
        ("mardi 12 septembre 2017", "2017-09-12"),
        ("Le 1er juin 2022", "2022-06-01"),
    ],
)
def test_french_publication_dates(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("le 3 mars 2023", "2023-03-03"),
        ("le 1er mars", "2023-03-01"),
        ("jeudi", "2023-03-02"),  # published on a Thursday: that day
        ("mardi", "2023-02-28"),
        ("jeudi dernier", "2023-02-23"),
        ("lundi prochain", "2023-03-06"),
        ("hier", "2023-03-01"),
        ("mardi 12 septembre 2017", "2017-09-12"),
    ],
)
def test_french_event_dates_resolve_against_the_publication_date(value: str, iso: str) -> None:
    assert resolve_date(value, "2023-03-02")[0] == iso


# --- Language -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (CALL, "fr"),
        (
            "Russian Foreign Minister Sergey Lavrov said on Tuesday that the talks were useful.",
            "en",
        ),
        (
            "El ministro ruso dijo el martes que las conversaciones con los europeos son útiles.",
            "es",
        ),
        (
            "Der russische Außenminister sagte, die Gespräche mit den Europäern seien schwer.",
            "de",
        ),
        (
            "Министр иностранных дел Сергей Лавров заявил во вторник, что переговоры полезны.",
            "ru",
        ),
        ("Lavrov, Blinken.", None),
    ],
)
def test_language_is_told_from_common_words(text: str, code: str | None) -> None:
    assert detect(text) == code


def _offline_warnings(text: str) -> list[WarningCode]:
    article = CleanArticle(title=None, published=None, dateline=None, text=text)
    extraction, _ = asyncio.run(OfflineBackend().summarise(article))
    return [w.code for w in extraction.warnings]


def test_offline_extractor_warns_on_a_language_it_does_not_read() -> None:
    spanish = (
        "El ministro de Asuntos Exteriores ruso, Serguéi Lavrov, se reunió el martes con "
        "su homólogo estadounidense en Ginebra. «Fue una conversación franca», dijo Lavrov "
        "a los periodistas, según la agencia, y añadió que las conversaciones seguirán."
    )
    assert WarningCode.language_unsupported in _offline_warnings(spanish)
    assert WarningCode.language_unsupported not in _offline_warnings(clean_text(CALL).text)


# --- The offline extractor ------------------------------------------------------------------


def _summary_of(page: str) -> ModelSummary:
    return extract(clean_text(page))


def test_french_titles_give_roles_and_countries_from_demonyms() -> None:
    people = {p.name: p for p in _summary_of(CALL).participants}
    assert set(people) == {"Sergueï Lavrov", "Antony Blinken", "Dmitri Peskov"}
    assert (people["Sergueï Lavrov"].role, people["Sergueï Lavrov"].country) == (
        "chef de la diplomatie",
        "RUS",
    )
    assert (people["Antony Blinken"].role, people["Antony Blinken"].country) == (
        "secrétaire d'État",
        "USA",
    )
    assert (people["Dmitri Peskov"].role, people["Dmitri Peskov"].affiliation) == (
        "porte-parole",
        "Kremlin",
    )
    assert people["Sergueï Lavrov"].present and people["Antony Blinken"].present


def test_french_quotes_are_attributed_by_french_reporting_verbs() -> None:
    speakers = {q.text: q.speaker for q in _summary_of(CALL).quotes}
    assert speakers["Nous avons eu une conversation franche et directe"] == "Antony Blinken"
    # « ... », a-t-il ajouté: the pronoun in the verb is the previous speaker.
    assert speakers["La Russie doit mettre fin à cette guerre"] == "Antony Blinken"
    assert speakers["Il n'y a pas d'accord pour l'instant"] == "Dmitri Peskov"
    assert speakers["ouvert au dialogue"] == "Sergueï Lavrov"


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("« Nous restons prêts au dialogue », selon Sergueï Lavrov.", "Sergueï Lavrov"),
        ("« Nous restons prêts au dialogue », d'après Sergueï Lavrov.", "Sergueï Lavrov"),
        ("Sergueï Lavrov estime que « le dialogue reste possible ».", "Sergueï Lavrov"),
        ("Pour Sergueï Lavrov, « le dialogue reste possible ».", "Sergueï Lavrov"),
        ("« Le dialogue reste possible », a également déclaré Antony Blinken.", "Antony Blinken"),
        ("« Le dialogue reste possible », a martelé Sergueï Lavrov.", "Sergueï Lavrov"),
    ],
)
def test_selon_dapres_and_present_tense_verbs_name_the_speaker(sentence: str, speaker: str) -> None:
    page = (
        "Le chef de la diplomatie russe Sergueï Lavrov a rencontré jeudi à Genève son "
        f"homologue américain Antony Blinken pour des pourparlers sur l'Ukraine.\n\n{sentence}\n"
    )
    assert [q.speaker for q in _summary_of(page).quotes] == [speaker]


def test_french_event_kind_date_and_place_come_from_the_lead() -> None:
    event = _summary_of(CALL).event
    assert (event.kind, event.date) == ("phone_call", "mardi")
    page = (
        "Le président français Emmanuel Macron a rencontré le 3 mars 2023 à Pékin le "
        "président chinois Xi Jinping lors d'une visite d'État de trois jours en Chine.\n"
    )
    event = _summary_of(page).event
    assert (event.kind, event.date, event.location) == ("visit", "3 mars 2023", "Pékin")


def test_french_outcomes_and_issues_are_source_sentences_with_french_cues() -> None:
    summary = _summary_of(CALL)
    assert [o.status for o in summary.outcomes] == ["disagreed"]
    assert summary.outcomes[0].description.startswith("Les deux diplomates ne sont pas parvenus")
    topics = {t for issue in summary.issues for t in issue.topic.split(", ")}
    assert {"war in Ukraine", "sanctions", "detained citizens"} <= topics


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        # the one person with that country and a title
        (
            "« Le dialogue reste possible », a indiqué le chef de la diplomatie russe.",
            "Sergueï Lavrov",
        ),
        (
            "Le secrétaire d'État américain avait déclaré qu'il restait « prêt au dialogue ».",
            "Antony Blinken",
        ),
        # no person holds it: the body, as written
        (
            "« Le dialogue reste possible », a indiqué la présidence française.",
            "la présidence française",
        ),
    ],
)
def test_a_speaker_named_by_title_is_the_person_with_that_title(
    sentence: str, speaker: str
) -> None:
    page = (
        "Le chef de la diplomatie russe, Sergueï Lavrov, a rencontré jeudi à Genève le "
        "secrétaire d'État américain Antony Blinken pour des pourparlers sur l'Ukraine.\n\n"
        f"{sentence}\n"
    )
    assert [q.speaker for q in _summary_of(page).quotes] == [speaker]


def test_a_french_verb_after_a_comma_is_not_an_appositive_role() -> None:
    page = (
        "Le président français Emmanuel Macron s'est entretenu dimanche au téléphone avec "
        "Vladimir Poutine, a annoncé l'Elysée dans un communiqué.\n"
    )
    people = {p.name: p for p in _summary_of(page).participants}
    assert people["Vladimir Poutine"].role is None
    assert (people["Emmanuel Macron"].role, people["Emmanuel Macron"].country) == (
        "président",
        "FRA",
    )


# --- The dev half of the hand-annotated set (never the test half) ---------------------------

DEVSET = Path(__file__).parent / "devset"


def _french_dev_ids() -> list[str]:
    manifest = DEVSET / "manifest-fr.jsonl"
    if not manifest.exists():
        return []
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    return [r["id"] for r in rows if r.get("split") == "dev"]


@pytest.mark.skipif(not _french_dev_ids(), reason="the hand-annotated devset is not here")
def test_offline_extractor_reads_the_french_dev_articles() -> None:
    ids = _french_dev_ids()
    records = []
    for id_ in ids:
        article = clean(raw_seed(DEVSET / "articles" / f"{id_}.txt"))
        summary, _ = ground_summary(extract(article), article.text, published=article.published)
        records.append(
            {
                "id": id_,
                "article": {"text": article.text},
                "summary": summary.model_dump(mode="json"),
            }
        )
    gold = {k: v for k, v in load_gold(DEVSET / "gold").items() if k in ids}
    scores = evaluate(records, gold).summary()
    # Before French was read (main at d919a9b): participants 4/22, speakers 0/13. Floors
    # well under today's figures (speakers 6/13 on the gold as finally written).
    assert (scores["participant_precision"] or 0) >= 0.9
    assert (scores["participant_recall"] or 0) >= 0.6
    assert (scores["speaker_accuracy"] or 0) >= 0.4
    assert scores["quotes_verbatim"] == 1.0
