"""Countries: names, demonyms and metonyms -> ISO 3166-1 alpha-3 codes.

News names countries in many ways: "Russia", "Russian", "Moscow", "the Kremlin",
"U.S.", "American", "Washington". ``to_iso3`` maps any of them to one code, using
``pycountry`` for official and common names and the tables below (data, not code) for
what ``pycountry`` does not know.

>>> to_iso3("Russian"), to_iso3("U.S."), to_iso3("Canada's"), to_iso3("Atlantis")
('RUS', 'USA', 'CAN', None)
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# Short names pycountry's ``lookup`` does not find ("Russia" is "Russian Federation").
SHORT_NAMES: dict[str, str] = {
    "America": "USA",
    "Bolivia": "BOL",
    "Britain": "GBR",
    "Brunei": "BRN",
    "Burma": "MMR",
    "Cape Verde": "CPV",
    "Congo-Kinshasa": "COD",
    "Czech Republic": "CZE",
    "DR Congo": "COD",
    "Democratic Republic of Congo": "COD",
    "Democratic Republic of the Congo": "COD",
    "East Timor": "TLS",
    "England": "GBR",
    "Great Britain": "GBR",
    "Holland": "NLD",
    "Iran": "IRN",
    "Ivory Coast": "CIV",
    "Korea": "KOR",
    "Laos": "LAO",
    "Macedonia": "MKD",
    "Micronesia": "FSM",
    "Moldova": "MDA",
    "North Korea": "PRK",
    "Palestine": "PSE",
    "Russia": "RUS",
    "Scotland": "GBR",
    "South Korea": "KOR",
    "Swaziland": "SWZ",
    "Syria": "SYR",
    "Taiwan": "TWN",
    "Tanzania": "TZA",
    "The Netherlands": "NLD",
    "Turkey": "TUR",
    "Türkiye": "TUR",
    "U.K.": "GBR",
    "U.S.": "USA",
    "U.S.A.": "USA",
    "United Kingdom": "GBR",
    "United States": "USA",
    "United States of America": "USA",
    "Vatican": "VAT",
    "Vatican City": "VAT",
    "Venezuela": "VEN",
    "Vietnam": "VNM",
    "Wales": "GBR",
}

# Capitalised abbreviations: matched only as written, so "us" stays a pronoun.
ACRONYMS: dict[str, str] = {"DRC": "COD", "UAE": "ARE", "UK": "GBR", "US": "USA", "USA": "USA"}

# Adjectives and nouns for people: "the Russian minister", "a detained American".
DEMONYMS: dict[str, str] = {
    "Afghan": "AFG",
    "Albanian": "ALB",
    "Algerian": "DZA",
    "American": "USA",
    "Americans": "USA",
    "Angolan": "AGO",
    "Argentine": "ARG",
    "Argentinian": "ARG",
    "Armenian": "ARM",
    "Australian": "AUS",
    "Austrian": "AUT",
    "Azerbaijani": "AZE",
    "Bahraini": "BHR",
    "Bangladeshi": "BGD",
    "Belarusian": "BLR",
    "Belgian": "BEL",
    "Bolivian": "BOL",
    "Bosnian": "BIH",
    "Brazilian": "BRA",
    "British": "GBR",
    "Bulgarian": "BGR",
    "Burmese": "MMR",
    "Cambodian": "KHM",
    "Cameroonian": "CMR",
    "Canadian": "CAN",
    "Canadians": "CAN",
    "Chilean": "CHL",
    "Chinese": "CHN",
    "Colombian": "COL",
    "Congolese": "COD",
    "Croatian": "HRV",
    "Cuban": "CUB",
    "Cypriot": "CYP",
    "Czech": "CZE",
    "Danish": "DNK",
    "Dutch": "NLD",
    "Ecuadorian": "ECU",
    "Egyptian": "EGY",
    "Emirati": "ARE",
    "English": "GBR",
    "Eritrean": "ERI",
    "Estonian": "EST",
    "Ethiopian": "ETH",
    "Filipino": "PHL",
    "Finnish": "FIN",
    "French": "FRA",
    "Georgian": "GEO",
    "German": "DEU",
    "Ghanaian": "GHA",
    "Greek": "GRC",
    "Hungarian": "HUN",
    "Icelandic": "ISL",
    "Indian": "IND",
    "Indonesian": "IDN",
    "Iranian": "IRN",
    "Iraqi": "IRQ",
    "Irish": "IRL",
    "Israeli": "ISR",
    "Italian": "ITA",
    "Japanese": "JPN",
    "Jordanian": "JOR",
    "Kazakh": "KAZ",
    "Kenyan": "KEN",
    "Korean": "KOR",
    "Kuwaiti": "KWT",
    "Kyrgyz": "KGZ",
    "Lao": "LAO",
    "Laotian": "LAO",
    "Latvian": "LVA",
    "Lebanese": "LBN",
    "Libyan": "LBY",
    "Lithuanian": "LTU",
    "Malaysian": "MYS",
    "Malian": "MLI",
    "Maltese": "MLT",
    "Mexican": "MEX",
    "Moldovan": "MDA",
    "Mongolian": "MNG",
    "Moroccan": "MAR",
    "Nepalese": "NPL",
    "New Zealand": "NZL",
    "Nigerian": "NGA",
    "Nigerien": "NER",
    "North Korean": "PRK",
    "Norwegian": "NOR",
    "Omani": "OMN",
    "Pakistani": "PAK",
    "Palestinian": "PSE",
    "Peruvian": "PER",
    "Philippine": "PHL",
    "Polish": "POL",
    "Portuguese": "PRT",
    "Qatari": "QAT",
    "Romanian": "ROU",
    "Russian": "RUS",
    "Russians": "RUS",
    "Rwandan": "RWA",
    "Saudi": "SAU",
    "Scottish": "GBR",
    "Senegalese": "SEN",
    "Serbian": "SRB",
    "Singaporean": "SGP",
    "Slovak": "SVK",
    "Slovenian": "SVN",
    "Somali": "SOM",
    "South African": "ZAF",
    "South Korean": "KOR",
    "Spanish": "ESP",
    "Sri Lankan": "LKA",
    "Sudanese": "SDN",
    "Swedish": "SWE",
    "Swiss": "CHE",
    "Syrian": "SYR",
    "Taiwanese": "TWN",
    "Tajik": "TJK",
    "Thai": "THA",
    "Tunisian": "TUN",
    "Turkish": "TUR",
    "Turkmen": "TKM",
    "Ugandan": "UGA",
    "Ukrainian": "UKR",
    "Ukrainians": "UKR",
    "Uzbek": "UZB",
    "Venezuelan": "VEN",
    "Vietnamese": "VNM",
    "Welsh": "GBR",
    "Yemeni": "YEM",
    "Zambian": "ZMB",
    "Zimbabwean": "ZWE",
}

# Capitals and seats of government standing for their country ("Moscow said ...").
METONYMS: dict[str, str] = {
    "Abu Dhabi": "ARE",
    "Ankara": "TUR",
    "Athens": "GRC",
    "Baghdad": "IRQ",
    "Beijing": "CHN",
    "Berlin": "DEU",
    "Cairo": "EGY",
    "Damascus": "SYR",
    "Downing Street": "GBR",
    "Islamabad": "PAK",
    "Jerusalem": "ISR",
    "Kabul": "AFG",
    "Kiev": "UKR",
    "Kremlin": "RUS",
    "Kyiv": "UKR",
    "London": "GBR",
    "Madrid": "ESP",
    "Minsk": "BLR",
    "Moscow": "RUS",
    "New Delhi": "IND",
    "Ottawa": "CAN",
    "Paris": "FRA",
    "Pyongyang": "PRK",
    "Riyadh": "SAU",
    "Rome": "ITA",
    "Seoul": "KOR",
    "Taipei": "TWN",
    "Tehran": "IRN",
    "Tokyo": "JPN",
    "Warsaw": "POL",
    "Washington": "USA",
    "White House": "USA",
}

_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_THE = re.compile(r"^the\s+", re.IGNORECASE)


def _key(name: str) -> str:
    return " ".join(_THE.sub("", _POSSESSIVE.sub("", name.strip())).split()).casefold()


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Every known spelling (casefolded) -> alpha-3; the hand tables win over pycountry."""
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if isinstance(value, str):
                index[_key(value)] = country.alpha_3
    for table in (METONYMS, DEMONYMS, SHORT_NAMES):
        for name, code in table.items():
            index[_key(name)] = code
    return index


@lru_cache(maxsize=1)
def _alpha3_codes() -> frozenset[str]:
    return frozenset(country.alpha_3 for country in pycountry.countries)


def is_iso3(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-3 code ("RUS"), false for "XKX" or "rus"."""
    return code in _alpha3_codes()


@lru_cache(maxsize=4096)
def to_iso3(name: str) -> str | None:
    """ISO 3166-1 alpha-3 for a country name, demonym, capital, or code; else None.

    Two-letter codes count only when written in capitals ("FR"), so that ordinary words
    ("in", "us") never turn into countries.
    """
    stripped = name.strip()
    if not stripped:
        return None
    if len(stripped) == 3 and stripped.isupper() and is_iso3(stripped):
        return stripped
    if (
        len(stripped) == 2
        and stripped.isalpha()
        and stripped.isupper()
        and stripped not in ACRONYMS
    ):
        country = pycountry.countries.get(alpha_2=stripped)
        return str(country.alpha_3) if country is not None else None
    if stripped in ACRONYMS:
        return ACRONYMS[stripped]
    return _index().get(_key(stripped))
