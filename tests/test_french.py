"""French articles: cleaning, dates, language, and the offline extractor reading them.

The article under ``tests/synthetic/french/`` is hand-written in the shape of a French
wire story as a news site prints it (caption and credit above the headline, publication
line, paywall notice, « Lire aussi », share buttons, « Le Monde avec AFP »).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from summarise.backends.offline import OfflineBackend
from summarise.clean import CleanArticle, clean_text
from summarise.schema import WarningCode
from summarise.text.dates import parse_date, resolve_date
from summarise.text.language import detect

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
