"""Participants in the offline extractor: who is a person, their full name, their country.

Snippets are in the shape of the wire and news copy the extractor meets (the sentences
follow real reports of meetings); the hard-wrapped wire story (a Reuters-21578 SGML record, each
line of which the HTML cleaner keeps as a paragraph) is hand-written under
``tests/synthetic/participants/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from summarise.backends.offline.extractor import extract
from summarise.clean import CleanArticle, clean_html
from summarise.schema import Participant
from summarise.text.names import RUN, classify

SYNTHETIC = Path(__file__).parent / "synthetic" / "participants"


def _participants(text: str) -> dict[str, Participant]:
    article = CleanArticle(title=None, published=None, dateline=None, text=text)
    return {p.name: p for p in extract(article).participants}


@pytest.mark.parametrize(
    ("run", "kind"),
    [
        ("New Delhi", "place"),
        ("Camp David", "place"),
        ("Geneva", "place"),
        ("Indo-Pacific", "place"),
        ("Joint Chiefs Gen", "org"),
        ("Pentagon", "org"),
        ("EU Brown", "org"),
        ("the Kremlin", "org"),
    ],
)
def test_places_and_bodies_are_not_people(run: str, kind: str) -> None:
    named = classify(run)
    assert named is not None and named[0] == kind


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("talks with President Bashar al-Assad on Friday", "Bashar al-Assad"),
        ("in talks with Ursula von der Leyen on Friday", "Ursula von der Leyen"),
        ("held talks with Mohammed bin Salman in Jeddah", "Mohammed bin Salman"),
        ("US Chairman of the Joint Chiefs Gen. CQ Brown and", "CQ Brown"),
        ("His running mate JD Vance has advocated", "JD Vance"),
    ],
)
def test_full_names_keep_particles_and_initials(text: str, name: str) -> None:
    people = [n[1] for r in RUN.finditer(text) if (n := classify(r.group(0))) and n[0] == "person"]
    assert people == [name]


def test_hosting_at_a_famous_place_names_no_person() -> None:
    people = _participants(
        "Japan's Prime Minister Fumio Kishida met South Korean President Yoon Suk Yeol in "
        "Tokyo on Thursday. Four months later, Biden hosted the leaders of Japan and South "
        "Korea at Camp David, where they pledged to inaugurate a new era of partnership.\n\n"
        "Kishida said the talks were frank."
    )
    assert "Camp David" not in people and "David" not in people
    assert {"Fumio Kishida", "Yoon Suk Yeol"} <= set(people)


def test_capital_with_new_is_a_place_not_a_person() -> None:
    people = _participants(
        "Indian Prime Minister Manmohan Singh and visiting Pakistani President Asif Ali "
        "Zardari held their first meeting in nearly three years in India's capital New Delhi "
        "on Sunday, and said it was friendly and constructive.\n\nZardari later flew to Ajmer."
    )
    assert set(people) == {"Manmohan Singh", "Asif Ali Zardari"}


def test_a_hard_wrapped_wire_story_gives_names_cut_by_the_line_end() -> None:
    html = (SYNTHETIC / "swiss_debt_wrapped.html").read_text(encoding="utf-8")
    people = {p.name: p for p in extract(clean_html(html, None, None)).participants}
    assert {"Dilson Funaro", "Otto Stich", "Jean-Pascal Delamuraz", "Pierre Languetin"} <= set(
        people
    )
    assert "Pierre" not in people
    assert people["Jean-Pascal Delamuraz"].country == "CHE"


def test_people_named_once_in_a_french_list_are_participants() -> None:
    people = _participants(
        "« Les États-Unis soutiennent une Arménie démocratique », a déclaré Antony Blinken "
        "lors de la conférence de presse commune en compagnie de Nikol Pachinian, Ursula van "
        "der Leyen et Josep Borrell à Bruxelles avant la réunion tripartite."
    )
    assert {"Antony Blinken", "Nikol Pachinian", "Ursula van der Leyen", "Josep Borrell"} <= set(
        people
    )


def test_a_surname_misspelt_once_is_the_same_person() -> None:
    people = _participants(
        "Le ministre français des Affaires étrangères a rencontré le président rwandais à "
        "Libreville. Laurent Fabius et Paul Kagame sont arrivés et repartis séparément.\n\n"
        "Selon une source diplomatique, Laurent Fabius et Paul Kagme ont évoqué les dossiers "
        "concrets."
    )
    assert "Paul Kagame" in people and "Paul Kagme" not in people


def test_an_arabic_surname_alone_folds_into_the_full_name() -> None:
    people = _participants(
        "Secretary of State John Kerry met Russian President Vladimir Putin in Moscow on "
        "Tuesday to discuss the future of President Bashar al-Assad.\n\n"
        "Kerry said Assad could not be part of a transitional government."
    )
    assert "Bashar al-Assad" in people and "Assad" not in people


def test_a_french_lead_puts_both_sides_of_an_entretien_at_the_event() -> None:
    people = _participants(
        "Le président français Emmanuel Macron s'entretient dimanche avec son homologue "
        "ukrainien Volodymyr Zelensky après avoir échangé avec Vladimir Poutine, a annoncé "
        "l'Elysée.\n\nLe président ukrainien a appelé au calme."
    )
    assert people["Emmanuel Macron"].present and people["Volodymyr Zelensky"].present
    assert people["Emmanuel Macron"].country == "FRA"


def test_someone_met_by_surname_alone_is_a_participant() -> None:
    people = _participants(
        "There have been some high-level engagements. CIA chief William Burns travelled to "
        "China in May. And Biden's national security adviser Jake Sullivan met with Wang in "
        "Vienna in May."
    )
    assert {"William Burns", "Jake Sullivan", "Wang"} <= set(people)
    assert "Vienna" not in people


def test_the_country_word_nearest_the_title_wins_over_a_dateline() -> None:
    people = _participants(
        "FINSTADJORDET, Norway U.S. Secretary of State John Kerry said on Wednesday he had "
        "discussed ways to revive a fragile truce with Iranian Foreign Minister Mohammad "
        "Javad Zarif."
    )
    assert people["John Kerry"].country == "USA"
    assert people["Mohammad Javad Zarif"].country == "IRN"


def test_an_aide_named_by_whom_they_serve_shares_that_country() -> None:
    people = _participants(
        "Russian President Vladimir Putin met Chinese President Xi Jinping in Shanghai on "
        "Tuesday.\n\nThe price was still being negotiated, Putin spokesman Dmitry Peskov "
        "told reporters."
    )
    assert people["Dmitry Peskov"].country == "RUS"
    assert people["Dmitry Peskov"].role == "Putin spokesman"


def test_a_rank_after_a_title_that_names_nobody_still_gives_the_name() -> None:
    people = _participants(
        "Before a trilateral meeting with US Chairman of the Joint Chiefs Gen. CQ Brown and "
        "South Korean Adm. Kim Myung-soo, Japanese Gen. Yoshihide Yoshida said China was a "
        "concern."
    )
    assert set(people) == {"CQ Brown", "Kim Myung-soo", "Yoshihide Yoshida"}
    assert people["CQ Brown"].role == "Gen."
    assert people["Kim Myung-soo"].country == "KOR"


def test_two_demonyms_and_two_names_pair_in_order() -> None:
    people = _participants(
        "Les ministres américain et français des Affaires étrangères, Antony Blinken et "
        "Jean-Yves Le Drian, auront une tête-à-tête jeudi à New York, a annoncé mercredi une "
        "responsable américaine."
    )
    assert people["Antony Blinken"].country == "USA"
    assert people["Jean-Yves Le Drian"].country == "FRA"
