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

# French: country names pycountry does not give in French, and demonyms (every gender
# and number: "le ministre russe", "la diplomatie américaine", "les Chinois").
_FRENCH_FORMS: dict[str, tuple[str, ...]] = {
    "AFG": ("Afghanistan", "afghan afghane afghans afghanes"),
    "DEU": ("Allemagne", "allemand allemande allemands allemandes"),
    "SAU": ("Arabie saoudite", "saoudien saoudienne saoudiens saoudiennes"),
    "AUS": ("Australie", "australien australienne australiens australiennes"),
    "AUT": ("Autriche", "autrichien autrichienne autrichiens autrichiennes"),
    "BEL": ("Belgique", "belge belges"),
    "BLR": ("Biélorussie", "Bélarus", "biélorusse biélorusses bélarusse bélarusses"),
    "BRA": ("Brésil", "brésilien brésilienne brésiliens brésiliennes"),
    "CAN": ("canadien canadienne canadiens canadiennes",),
    "CHN": ("Chine", "chinois chinoise chinoises"),
    "KOR": ("Corée du Sud", "sud-coréen sud-coréenne sud-coréens sud-coréennes"),
    "PRK": ("Corée du Nord", "nord-coréen nord-coréenne nord-coréens nord-coréennes"),
    "EGY": ("Égypte", "égyptien égyptienne égyptiens égyptiennes"),
    "ESP": ("Espagne", "espagnol espagnole espagnols espagnoles"),
    "USA": ("États-Unis", "Etats-Unis", "américain américaine américains américaines"),
    "FRA": ("français française françaises",),
    "GBR": ("Royaume-Uni", "Grande-Bretagne", "britannique britanniques"),
    "GRC": ("Grèce", "grec grecque grecs grecques"),
    "IND": ("Inde", "indien indienne indiens indiennes"),
    "IRN": ("iranien iranienne iraniens iraniennes",),
    "IRL": ("Irlande", "irlandais irlandaise irlandaises"),
    "ISR": ("Israël", "israélien israélienne israéliens israéliennes"),
    "ITA": ("Italie", "italien italienne italiens italiennes"),
    "JPN": ("Japon", "japonais japonaise japonaises"),
    "MAR": ("Maroc", "marocain marocaine marocains marocaines"),
    "MEX": ("Mexique", "mexicain mexicaine mexicains mexicaines"),
    "NLD": ("Pays-Bas", "néerlandais néerlandaise néerlandaises"),
    "POL": ("Pologne", "polonais polonaise polonaises"),
    "RUS": ("Russie", "russe russes"),
    "SYR": ("Syrie", "syrien syrienne syriens syriennes"),
    "CHE": ("Suisse", "suisse suisses"),
    "TUR": ("Turquie", "turc turque turcs turques"),
    "UKR": ("ukrainien ukrainienne ukrainiens ukrainiennes",),
    "LBY": ("Libye", "libyen libyenne libyens libyennes"),
    "GAB": ("gabonais gabonaise gabonaises",),
    "RWA": ("rwandais rwandaise rwandaises",),
    "ARM": ("Arménie", "arménien arménienne arméniens arméniennes"),
    "AZE": ("Azerbaïdjan", "azerbaïdjanais azerbaïdjanaise azerbaïdjanaises"),
    "GEO": ("Géorgie", "géorgien géorgienne géorgiens géorgiennes"),
    "DZA": ("Algérie", "algérien algérienne algériens algériennes"),
    "TUN": ("Tunisie", "tunisien tunisienne tunisiens tunisiennes"),
    "LBN": ("Liban", "libanais libanaise libanaises"),
    "IRQ": ("Irak", "irakien irakienne irakiens irakiennes"),
    "JOR": ("Jordanie", "jordanien jordanienne jordaniens jordaniennes"),
    "ZAF": ("Afrique du Sud", "sud-africain sud-africaine sud-africains sud-africaines"),
    "CAF": ("Centrafrique", "centrafricain centrafricaine centrafricains centrafricaines"),
    "SEN": ("Sénégal", "sénégalais sénégalaise sénégalaises"),
    "CIV": ("Côte d'Ivoire", "ivoirien ivoirienne ivoiriens ivoiriennes"),
    "CMR": ("Cameroun", "camerounais camerounaise camerounaises"),
    "MLI": ("malien malienne maliens maliennes",),
    "NOR": ("Norvège", "norvégien norvégienne norvégiens norvégiennes"),
    "SWE": ("Suède", "suédois suédoise suédoises"),
    "FIN": ("Finlande", "finlandais finlandaise finlandaises"),
    "DNK": ("Danemark", "danois danoise danoises"),
    "HUN": ("Hongrie", "hongrois hongroise hongroises"),
    "ROU": ("Roumanie", "roumain roumaine roumains roumaines"),
    "SRB": ("Serbie", "serbe serbes"),
    "LTU": ("Lituanie", "lituanien lituanienne lituaniens lituaniennes"),
    "LVA": ("Lettonie", "letton lettone lettons lettones"),
    "EST": ("Estonie", "estonien estonienne estoniens estoniennes"),
    "MDA": ("Moldavie", "moldave moldaves"),
    "PAK": ("pakistanais pakistanaise pakistanaises",),
    "IDN": ("Indonésie", "indonésien indonésienne indonésiens indonésiennes"),
    "VNM": ("vietnamien vietnamienne vietnamiens vietnamiennes",),
    "THA": ("Thaïlande", "thaïlandais thaïlandaise thaïlandaises"),
    "TWN": ("Taïwan", "taïwanais taïwanaise taïwanaises"),
    "NZL": ("Nouvelle-Zélande", "néo-zélandais néo-zélandaise néo-zélandaises"),
    "ARG": ("Argentine", "argentin argentine argentins argentines"),
    "COL": ("Colombie", "colombien colombienne colombiens colombiennes"),
    "CHL": ("chilien chilienne chiliens chiliennes",),
    "ETH": ("Éthiopie", "éthiopien éthiopienne éthiopiens éthiopiennes"),
}
FRENCH: dict[str, str] = {
    form: code
    for code, entries in _FRENCH_FORMS.items()
    for entry in entries
    for form in ([entry] if entry[0].isupper() else entry.split())
}
"""French country names and demonyms -> alpha-3 ("russe" -> "RUS")."""

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
    for table in (FRENCH, METONYMS, DEMONYMS, SHORT_NAMES):
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
