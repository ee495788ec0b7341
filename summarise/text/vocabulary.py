"""Vocabulary: the words the text library reads news with, as data.

Reporting verbs, titles that come before names, words that mark organisations, places
and non-names, and the one table of month names used by every date reader (cleaning,
grounding, the offline extractor). Adding a word is a one-line change here; the regexes
that use these tables are compiled in ``reader``, ``names`` and ``dates``.
"""

from __future__ import annotations

from typing import Final


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


REPORTING_VERBS: tuple[str, ...] = (
    "said", "says", "say", "saying", "told", "tells", "telling", "added", "adds", "adding",
    "noted", "noting", "warned", "warns", "warning", "stressed", "stresses",
    "stressing", "emphasized", "emphasised", "emphasizing", "emphasising", "insisted",
    "insists", "insisting", "urged", "urges", "urging", "lamented", "laments", "asked",
    "asks", "replied", "replies", "responded", "explained", "explains", "wrote", "writes",
    "declared", "declares", "argued", "argues", "arguing", "acknowledged", "admitted",
    "claimed", "claiming", "accused", "accuses", "accusing", "announced",
    "pledged", "promised", "vowed", "called", "calling", "described", "describing",
    "rejected", "dismissed", "criticized", "criticised", "complained", "repeated",
    "reiterated", "recalled", "cautioned", "predicted", "suggested", "conceded", "denied",
    "stated", "mocked", "quipped", "tweeted", "posted", "expressed", "labeled", "labelled",
    "mentioned",
)  # fmt: skip
"""Verbs that introduce speech; their subject is the speaker."""

# French reporting verbs: past participle and present, as "a déclaré", "déclare",
# "a-t-il déclaré". Present forms that are also English words ("note") are left out.
_FRENCH_SPEECH: tuple[tuple[str, str], ...] = (
    ("déclaré", "déclare"), ("affirmé", "affirme"), ("dit", "dit"), ("ajouté", "ajoute"),
    ("souligné", "souligne"), ("indiqué", "indique"), ("estimé", "estime"),
    ("assuré", "assure"), ("expliqué", "explique"), ("martelé", "martèle"),
    ("insisté", "insiste"), ("rappelé", "rappelle"), ("averti", "avertit"),
    ("prévenu", "prévient"), ("annoncé", "annonce"), ("précisé", "précise"),
    ("répondu", "répond"), ("confié", "confie"), ("déploré", "déplore"),
    ("dénoncé", "dénonce"), ("jugé", "juge"), ("écrit", "écrit"), ("relevé", "relève"),
    ("reconnu", "reconnaît"), ("lancé", "lance"), ("poursuivi", "poursuit"),
    ("rétorqué", "rétorque"), ("répliqué", "réplique"), ("salué", "salue"),
    ("promis", "promet"), ("plaidé", "plaide"), ("ironisé", "ironise"),
)  # fmt: skip
# The imperfect of a story told as it happened: '« ... », confiait-il', 'il expliquait'.
_FRENCH_IMPERFECT: tuple[str, ...] = (
    "déclarait", "disait", "affirmait", "ajoutait", "soulignait", "expliquait", "estimait",
    "assurait", "confiait", "insistait", "précisait", "répondait", "indiquait",
)  # fmt: skip
_FRENCH_NOT_PRESENT = frozenset({"juge", "lance", "dit"})  # nouns, or a past form too
FRENCH_INVERTED: Final[frozenset[str]] = frozenset(
    f"{aux}-t-{pronoun} {participle}" if aux == "a" else f"{aux}-{pronoun}s {participle}"
    for participle, _ in _FRENCH_SPEECH
    for aux in ("a", "ont")
    for pronoun in ("il", "elle")
) | frozenset(  # the present: "estime-t-il", "dit-elle", "répond-il"
    f"{present}-{pronoun}" if present.endswith(("t", "d")) else f"{present}-t-{pronoun}"
    for present in (*(p for _, p in _FRENCH_SPEECH), *_FRENCH_IMPERFECT)
    for pronoun in ("il", "elle")
)
"""'a-t-il déclaré', 'ont-elles ajouté', 'estime-t-il': the subject is the pronoun inside
the verb."""
FRENCH_REPORTING_VERBS: Final[tuple[str, ...]] = (
    *sorted(FRENCH_INVERTED),
    *(
        f"{aux} {participle}"
        for participle, _ in _FRENCH_SPEECH
        for aux in ("a", "ont", "avait", "avaient")
    ),
    *(present for _, present in _FRENCH_SPEECH if present not in _FRENCH_NOT_PRESENT),
    *_FRENCH_IMPERFECT,
)
"""French verbs that introduce speech ("a déclaré", "estime"): read like the English."""
FRENCH_PARTICIPLES: Final[tuple[str, ...]] = tuple(p for p, _ in _FRENCH_SPEECH)
# Adverbs French puts inside a compound verb: "a également souligné", "a cependant précisé".
FRENCH_VERB_ADVERBS: Final[tuple[str, ...]] = (
    "également", "aussi", "encore", "cependant", "toutefois", "notamment", "ensuite",
    "enfin", "pourtant", "néanmoins", "déjà", "d'ailleurs", "d’ailleurs", "par ailleurs",
    "alors", "plus tard", "de son côté",
)  # fmt: skip
REPORTING_VERBS = (*REPORTING_VERBS, *FRENCH_REPORTING_VERBS)

PARTICIPLES = frozenset(v for v in REPORTING_VERBS if v.endswith("ing"))
# Verbs that can come before their subject: '"...," said Joseph Pickerill'.
INVERTIBLE = frozenset({"said", "says", "added", "adds", "noted", "asked", "wrote", "replied"}) | {
    v for v in FRENCH_REPORTING_VERBS if v not in FRENCH_INVERTED
}  # French puts the speaker after the quote: '« ... », a déclaré (souligne) Antony Blinken'.

ROLE_TITLES: tuple[str, ...] = (
    "Secretary of State", "Foreign Affairs Minister", "Minister of Foreign Affairs",
    "Foreign Minister", "Deputy Foreign Minister", "Defence Minister", "Defense Minister",
    "Minister of Defence", "Minister of National Defence", "Defense Secretary",
    "Defence Secretary", "Foreign Secretary", "Home Secretary", "Treasury Secretary",
    "Interior Minister", "Finance Minister", "Trade Minister", "Commerce Minister",
    "Deputy Prime Minister", "Prime Minister", "Vice President", "Vice-President",
    "President", "Chancellor", "Premier", "King", "Queen", "Crown Prince", "Emir",
    "Sultan", "Pope", "Secretary-General", "Secretary General", "High Representative",
    "Special Envoy", "special envoy", "envoy", "Ambassador", "ambassador",
    "spokesperson", "spokesman", "spokeswoman", "press secretary",
    "national security adviser", "security adviser", "adviser", "advisor",
    "Attorney General", "Senator", "Sen.", "Rep.", "Gen.", "General", "Admiral",
    "Governor", "Mayor", "Commissioner", "Minister", "Secretary", "leader", "chief",
    "director", "co-founder", "founder", "chairman", "chairwoman", "chair", "CEO",
    "negotiator", "arms dealer", "star", "counterpart", "Marshal", "Field Marshal", "Adm.",
    # Descriptions a name follows: "Russia's top diplomat Sergei Lavrov", "author Salman Rushdie".
    "top diplomat", "running mate", "author", "novelist", "analyst", "hardliner",
)  # fmt: skip
"""Titles that come right before a name ("Foreign Minister Sergey Lavrov"); any case."""
FRENCH_TITLES: Final[tuple[str, ...]] = (
    "ministre des Affaires étrangères", "ministre de la Défense", "ministre de l'Intérieur",
    "ministre de l'Économie", "ministre des Armées", "ministre", "Premier ministre",
    "première ministre", "président", "présidente", "vice-président", "vice-présidente",
    "chef de la diplomatie", "cheffe de la diplomatie", "chef de l'État", "cheffe de l'État",
    "chef du gouvernement", "cheffe du gouvernement", "secrétaire d'État",
    "secrétaire général", "secrétaire générale", "porte-parole", "ambassadeur",
    "ambassadrice", "chancelier", "chancelière", "haut représentant",
    "haute représentante", "maréchal", "conseiller", "conseillère", "envoyé spécial", "émissaire",
    "négociateur", "négociatrice", "homologue", "dirigeant", "dirigeante", "roi", "reine",
)  # fmt: skip
"""French titles before a name ("le chef de la diplomatie russe, Sergueï Lavrov")."""
# As printed: curly apostrophes, and capitals without their accent ("secrétaire d’Etat").
_PRINTED_TITLES = tuple(
    dict.fromkeys(
        variant
        for title in FRENCH_TITLES
        for apostrophe in ("'", "’")
        for variant in (
            title.replace("'", apostrophe),
            title.replace("'", apostrophe).replace("É", "E"),
        )
    )
)
ROLE_TITLES = (*ROLE_TITLES, *_PRINTED_TITLES)

# Titles that tell us someone is a person without being a role worth reporting.
EVIDENCE_ONLY_TITLES = frozenset({"counterpart", "homologue"})

# Words that, capitalised at the start of a name-like run, are not part of the name.
LEADING_STOP = _wordset(
    "a an the but and or so yet still in on at as for with from by of to into despite "
    "since during under after before while when where if although though however "
    "meanwhile earlier later shortly also then that this these those it its he she they "
    "we i his her their our my your there here what who which why how mr mrs ms dr former "
    "deputy acting vice first senior top new said says according asked now last next "
    "today yesterday tomorrow one two three four five six seven eight nine ten both all "
    "some many"
    # French (not "le", "la", "de": they are inside names, "Jean-Yves Le Drian").
    " selon pour dans lors après avant depuis pendant il elle ils elles nous ce cette ces"
    " mais et ainsi alors aussi les une un à m. mme mlle"
)
TITLE_WORDS = _wordset(
    "secretary state minister ministers prime president foreign affairs defence defense "
    "ambassador spokesperson spokesman spokeswoman chancellor premier king queen prince "
    "leader chief envoy adviser advisor senator sen. rep. gen. general admiral governor "
    "mayor commissioner attorney director chairman chair ceo national security interior "
    "finance trade commerce treasury home high representative special counterpart"
    " gen adm lt col maj capt cmdr marshal maréchal"  # abbreviated ranks ("Gen. CQ Brown")
    " état etat"  # "secrétaire d'État", "porte-parole du département d'Etat Nicholas Burns"
)
ORG_WORDS = _wordset(
    "ministry ministries department council government parliament congress senate house "
    "assembly committee commission agency office organization organisation association "
    "nations union alliance party forces force army navy corp corp. inc inc. ltd company "
    "group bank fund news press times post radio television tv network institute "
    "university college school foundation center centre church court police service "
    "services summit conference forum meeting treaty accord agreement declaration war "
    "crisis revolution strait sea ocean gulf bay river lake island islands mountains "
    "region province state states republic kingdom empire federation city street square "
    "airport hall palace kremlin pentagon period day hamas taliban hezbollah houthis"
    # French
    " ministère ministères département gouvernement parlement assemblée conseil"
    " commission agence organisation alliance parti armée banque fonds élysée elysée matignon"
)
# English months first: only these stop a name ("Marco Rubio", "Mai" are names, and a
# name run is English text); the other languages are for datelines and dates in headers.
ENGLISH_MONTHS: Final[dict[str, int]] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_OTHER_MONTHS: tuple[tuple[str, ...], ...] = (
    ("janvier", "enero", "janeiro", "gennaio", "januar"),
    ("février", "fevrier", "febrero", "fevereiro", "febbraio", "februar"),
    ("mars", "marzo", "março", "marco", "märz"),
    ("avril", "abril", "aprile"),
    ("mai", "mayo", "maio", "maggio"),
    ("juin", "junio", "junho", "giugno", "juni"),
    ("juillet", "julio", "julho", "luglio", "juli"),
    ("août", "aout", "agosto"),
    ("septembre", "septiembre", "setembro", "settembre"),
    ("octobre", "octubre", "outubro", "ottobre", "oktober"),
    ("novembre", "noviembre", "novembro"),
    ("décembre", "decembre", "diciembre", "dezembro", "dicembre", "dezember"),
)
MONTHS: Final[dict[str, int]] = {
    **ENGLISH_MONTHS,
    **{name: number for number, names in enumerate(_OTHER_MONTHS, start=1) for name in names},
}
"""Month names and abbreviations (English, French, Spanish, Portuguese, Italian, German)
-> month number: the one month table."""

WEEKDAYS: Final[tuple[str, ...]] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
"""Weekday names in ``date.weekday()`` order."""
FRENCH_WEEKDAYS: Final[tuple[str, ...]] = (
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
)  # fmt: skip
"""French weekday names in ``date.weekday()`` order."""
FRENCH_MONTHS: Final[tuple[str, ...]] = tuple(names[0] for names in _OTHER_MONTHS)
"""French month names, January first (the first of each row of ``_OTHER_MONTHS``)."""

# Calendar words end a name run ("Lavrov Monday") but are never a name themselves.
NOT_NAMES = frozenset(ENGLISH_MONTHS) | frozenset(WEEKDAYS)
COMPASS = _wordset(
    "north south east west central eastern western northern southern upper lower greater"
)
REGIONS = _wordset(
    "Africa Asia Europe Pacific Atlantic Arctic Antarctica Balkans Baltics Caucasus "
    "Caribbean Americas Eurasia Oceania Scandinavia Sahel Levant Mideast Indo-Pacific"
)
# Adjectives of regions, places rather than names ("European", "Arab").
REGIONAL_ADJECTIVES = _wordset(
    "European Asian African Arab Latin Nordic Baltic Balkan Caucasian Mideastern "
    "Transatlantic Eurasian Scandinavian Siberian"
)
# A capitalised French article before a title is no name ("Le porte-parole du Kremlin").
FRENCH_ARTICLES = frozenset({"le", "la", "les", "l'", "l’", "un", "une"})
PRONOUNS = frozenset({"he", "she", "they", "i", "we", "il", "elle", "ils", "elles"})
# A name after one of these is an object ("told Lavrov", "with Blinken"), not a subject.
OBJECT_MARKERS = _wordset(
    "with to by from for of at on in against about between among told telling tell tells "
    "asked urged persuade persuaded met meeting than like including"
)
# French prepositions before a name: "à Moscou", "avec Emmanuel Macron" (not a subject).
FRENCH_PREPOSITIONS = _wordset("à au aux avec pour par chez contre entre auprès dans sur vers")
# Words that may sit between a subject and its verb ("Blinken also said").
BETWEEN = _wordset(
    "also then had has have would will later earlier previously again only further "
    "reportedly repeatedly once publicly privately too himself herself meanwhile"
)
CLAUSE_LINKS = frozenset({"and", "while", "after", "before", "when", "by", "also"})
# After a quote, these open another clause: its verb reports something else.
CONTRAST_LINKS: tuple[str, ...] = (
    "although", "though", "but", "while", "whereas", "because", "since", "mais", "alors que",
)  # fmt: skip
# A period after one of these does not end a sentence ("Mr. Lavrov", "Jan. 5").
ABBREVIATIONS = _wordset(
    "mr mrs ms dr gen lt col sen rep gov st jr sr corp inc co ltd no jan feb mar apr jun "
    "jul aug sep sept oct nov dec vs etc prof capt sgt"
)

INCISE_CUES: tuple[str, ...] = (
    "a déclaré", "a dit", "a affirmé", "a ajouté", "a souligné", "a expliqué", "a estimé",
    "a assuré", "a répondu", "a indiqué", "a insisté", "déclare", "affirme", "ajoute",
    "souligne", "dijo", "afirmó", "añadió", "señaló", "aseguró", "declaró", "explicó",
    "sagte", "erklärte", "betonte", "заявил", "заявила", "сказал", "сказала", "отметил",
)  # fmt: skip
"""Words after a comma where the speech of a dialogue paragraph ("— Nous voulons la paix,
a déclaré le ministre") gives way to who said it."""

TITLE_SMALL_WORDS = _wordset("a an the at of in on and or to for by with")
"""Words a title leaves in lower case ('Bad at Love'): a quoted title is no speech."""

# Unnamed sources, kept as the article words them ("a spokesman for the ministry",
# "one official", "diplomats"): the nouns such a phrase ends in, the words that may
# open it, and the lowercase words that may describe its head ("a senior official").
SOURCE_NOUNS = _wordset(
    "official officials spokesman spokeswoman spokesperson spokespeople diplomat diplomats "
    "source sources aide aides minister ministers secretary president ambassador envoy "
    "negotiator negotiators lawmaker lawmakers senator adviser advisers advisor officer "
    "officers representative representatives leader leaders ministry government embassy "
    "chancellor premier commissioner statement declaration communique communiqué readout"
)
SOURCE_OPENERS = _wordset("a an one two three several some another the other")
SOURCE_MODIFIERS = _wordset(
    "senior top junior chief deputy foreign defence defense government military state "
    "ministry unnamed anonymous western other former press high-ranking ranking prime "
    "interior finance trade security intelligence administration embassy kremlin joint "
    "final official"
)
# Heads of a description that never stand for a named person: "the official said" is
# the "one official" met before, not the last minister named.
UNNAMED_HEADS = _wordset(
    "official source sources ministry government embassy statement declaration communique "
    "communiqué readout"
)
# French unnamed sources, kept as worded ("une responsable américaine", "de nombreux
# députés égyptiens"): the nouns, the words that open the phrase (indefinite: a new
# source; definite or demonstrative: "cette responsable" is one met before), and the
# adjectives after the noun besides demonyms.
# Titles ("le porte-parole") are read as titles (``TITLE_PHRASE``), not here.
FRENCH_UNNAMED_HEADS = _wordset(
    "responsable responsables source sources officiel officiels député députés députée "
    "députées élu élus sénateur sénateurs"
)
FRENCH_SOURCE_NOUNS = FRENCH_UNNAMED_HEADS | _wordset("diplomate diplomates")
FRENCH_SOURCE_OPENERS: tuple[str, ...] = (
    "de nombreux", "de nombreuses", "un", "une", "des", "plusieurs", "certains", "certaines",
    "deux", "trois", "quelques", "le", "la", "les", "l'", "l’", "ce", "cet", "cette", "ces",
)  # fmt: skip
FRENCH_DEFINITE = _wordset("le la les l' l’ ce cet cette ces")
FRENCH_SOURCE_ADJECTIVES = _wordset(
    "haut haute hauts hautes diplomatique diplomatiques gouvernemental gouvernementale "
    "gouvernementaux militaire militaires occidental occidentale occidentaux occidentales "
    "anonyme anonymes proche proches haut-placé haut-placée haut-placés européen européenne "
    "européens européennes"
)
STRESSED_PRONOUNS = _wordset("eux elles lui elle")
"""'selon eux': the pronoun stands for the subject of its clause."""
# Abbreviated titles whose period ends no phrase ("said Gen. Brown, ...").
HONORIFICS: tuple[str, ...] = ("Mr", "Mrs", "Ms", "Dr", "St", "Gen", "Sen", "Rep", "Gov")
# What a title is "of" before the name: "Secretary of State Antony Blinken" (regexes).
TITLE_OBJECTS: tuple[str, ...] = ("State", "Defen[cs]e", "Foreign Affairs", "National Defen[cs]e")
# A title that names its country on its own: "Secretary of State Antony Blinken" is
# American even without "U.S." before it.
TITLE_COUNTRIES: Final[dict[str, str]] = {
    "secretary of state": "USA",
}

# Words so common in one language (and rare in the others) that counting them tells a
# text's language: ``language.detect``. Words shared by two languages count for both.
_STOPWORDS_BY_LANGUAGE: dict[str, str] = {
    "en": "the and of to in is that was for with said on he his it be are by from has "
    "have this which were not but they who an its their will",
    "fr": "le la les des du une et est dans pour que qui pas sur au aux avec ce cette "
    "par il elle ont été son ses sont mais comme leur selon lors",
    "es": "el los las del una y es en por que con para se su sus pero como más fue "
    "según ha han este esta también",
    "de": "der die das und ist nicht mit den dem ein eine auch sich auf für von zu im "
    "wird wurde sie hat",
    "it": "il lo gli della delle che di una è per con non sono anche nel alla più ha "
    "come questo dei",
    "pt": "o os as da do das dos uma e é em que não com para por mais foi como seu sua "
    "também pelo pela",
    "nl": "de het een en van is niet met op te dat voor zijn aan ook werd door bij naar",
}
STOPWORDS: Final[dict[str, tuple[str, ...]]] = {
    word: tuple(code for code, words in _STOPWORDS_BY_LANGUAGE.items() if word in words.split())
    for words in _STOPWORDS_BY_LANGUAGE.values()
    for word in words.split()
}
"""Stopword -> the languages it is common in."""

MEETING_CUES: tuple[str, ...] = (
    r"met(?:\s+with)?", r"meets(?:\s+with)?", r"meeting\s+with", r"(?:held|holds)\s+talks\s+with",
    r"talks\s+with", r"hosted", r"hosts", r"visited",
    r"(?:called|received|welcomed)(?=\s+(?-i:[A-Z]))",
    r"spoke\s+(?:by\s+(?:tele)?phone\s+)?(?:with|to)",
    r"(?:held|holds)\s+(?:their|a|an|the)\s+(?:[\w-]+\s+){0,4}?(?:meeting|talks)",
    # French: "Macron s'entretient dimanche avec Zelensky", "Blinken a rencontré Le Drian".
    r"s['’](?:est\s+)?entretenue?\s+(?:\w+\s+)?avec", r"s['’]entretient\s+(?:\w+\s+)?avec",
    r"(?:a|ont)\s+rencontré", r"rencontre", r"(?:a\s+)?reçu", r"reçoit",
    r"(?:a|ont)\s+(?:eu\s+)?(?:un\s+)?(?:entretien|échangé)\s+avec",
)  # fmt: skip
"""Verbs whose subject and object took part in the event ("Blinken met Qin Gang")."""

OTHER_TIME_CUES: tuple[str, ...] = (
    r"last (?:week|month|year|spring|summer|autumn|fall|winter|[A-Z][a-z]+day|[A-Z][a-z]+)",
    r"in (?:January|February|March|April|May|June|July|August|September|October|November|December)",
    r"earlier this (?:week|month|year)", r"(?:days|weeks|months|years) (?:ago|later|earlier)",
    r"in \d{4}", "previously", "before that",
)  # fmt: skip
"""A meeting sentence with one of these reports another meeting, not the article's event."""

# Small words inside a name, lowercase ("Ursula van der Leyen", "Mohammed bin Salman"),
# and Arabic article prefixes joined by a hyphen ("Bashar al-Assad").
NAME_PARTICLES: tuple[str, ...] = (
    "de", "da", "del", "della", "der", "van", "von", "bin", "ibn", "al", "dos", "ben", "di", "ter",
)  # fmt: skip
NAME_PREFIXES: tuple[str, ...] = ("al", "el", "ad", "ar", "as", "at", "an", "ash", "az", "bin")
# Two capitals that name a body, not a person's initials ("EU", unlike "CQ Brown").
BODY_ACRONYMS = frozenset({"EU", "UN", "AU", "EC", "IS", "UE", "ONU"})
# Places that a capitalised run names but no country table holds: where leaders meet.
PLACES = frozenset(
    {
        "Camp David", "Mar-a-Lago", "Geneva", "Genève", "Davos", "Munich", "Helsinki",
        "Vienna", "Brussels", "Bruxelles", "Strasbourg", "New York", "Manhattan",
        "Capitol Hill", "Wall Street", "Shangri-La", "Bali", "Sochi", "Anchorage", "Doha",
        "Jeddah", "Istanbul", "Vientiane", "Shanghai", "Osaka", "Hiroshima", "Delhi",
        "Libreville", "Oslo", "Stockholm", "The Hague", "Yalta", "Potsdam", "Reykjavik",
        "Dayton", "Oval Office", "Élysée", "Elysée", "Sharm el-Sheikh",
    }
)  # fmt: skip
