"""The feed contract: pydantic models that are the single source of truth.

Two layers:

* the *model-facing* part (``ModelSummary`` and its parts) is what a language model is
  asked to produce. It is strict: every property required, ``null`` instead of defaults,
  no extra keys, and every list and string capped so that a weak model cannot loop.
* the *feed* part (``Record``, ``ErrorRecord``) wraps it with what code computes:
  spans, grounding, provenance and article fields.

``summarise schema`` prints the JSON Schema generated from these models; nothing here is
written twice.

Feed schema versions: "1" had warnings as ``"code: message"`` strings; "2" has
``RecordWarning`` objects, a ``match`` kind on each quote, and ``mentions`` and
``attested`` on each participant; ``provenance.review`` (optional, added later) keeps a
person's verdicts; "3" (this one) adds ``coding``, the record's PLOVER and CAMEO codes,
and nothing else, so a "2" line still validates. The model-facing part is the same in all.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["3"] = "3"

EventKind = Literal["meeting", "phone_call", "visit", "summit", "negotiation", "statement", "other"]
OutcomeStatus = Literal["agreed", "disagreed", "pending", "no_progress", "announced", "other"]

# Caps for the model-facing schema: generous for real articles, tight enough that a
# small model stuck in a loop hits a validation error instead of the context limit.
SHORT = 200
LONG = 600
QUOTE = 1500
MAX_PARTICIPANTS = 20
MAX_ISSUES = 10
MAX_POSITIONS = 8
MAX_OUTCOMES = 10
MAX_QUOTES = 25


class _Strict(BaseModel):
    """Base for model-facing models: no extra keys (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


class Event(_Strict):
    """What kind of diplomatic event the article reports, and when and where."""

    kind: EventKind = Field(description="The kind of event the article is about.")
    date: str | None = Field(
        max_length=SHORT,
        description="Date of the event as ISO 8601 (YYYY-MM-DD) when it can be told, else null.",
    )
    location: str | None = Field(
        max_length=SHORT, description="City and/or country where it took place, else null."
    )


class Participant(_Strict):
    """A person or body that took part in the event or is named in connection with it."""

    name: str = Field(max_length=SHORT, description="Name as written in the article.")
    role: str | None = Field(
        max_length=SHORT, description="Title or role, e.g. 'Foreign Minister'; null if not stated."
    )
    affiliation: str | None = Field(
        max_length=SHORT, description="Government, ministry or organisation; null if not stated."
    )
    country: str | None = Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 3166-1 alpha-3 code of the country the participant represents, or null.",
    )
    present: bool = Field(
        description="True if the participant took part in the event; false if only mentioned."
    )


class Position(_Strict):
    """One party's stance on an issue."""

    party: str = Field(max_length=SHORT, description="Who holds the position.")
    stance: str = Field(max_length=LONG, description="The position, in one sentence.")


class Issue(_Strict):
    """A topic raised in the talks."""

    topic: str = Field(max_length=SHORT, description="Short label, e.g. 'war in Ukraine'.")
    summary: str = Field(max_length=LONG, description="What was said about it, in one sentence.")
    positions: list[Position] = Field(
        max_length=MAX_POSITIONS, description="Stances of the parties, if the article gives them."
    )


class Outcome(_Strict):
    """A result of the event: an agreement, a disagreement, an announcement, ..."""

    description: str = Field(max_length=LONG, description="What came out of it, in one sentence.")
    status: OutcomeStatus = Field(description="How settled the outcome is.")
    parties: list[str] = Field(
        max_length=MAX_PARTICIPANTS, description="Names of the parties the outcome concerns."
    )


class ModelQuote(_Strict):
    """A direct quote as the model reports it."""

    speaker: str | None = Field(
        max_length=SHORT, description="Who said it, as named in the article; null if unattributed."
    )
    text: str = Field(
        max_length=QUOTE,
        description="The quoted words exactly as they appear in the article, without quote marks.",
    )


class ModelSummary(_Strict):
    """The part of a summary a language model is asked for (the model-facing schema)."""

    headline: str = Field(max_length=LONG, description="One sentence that says what happened.")
    event: Event
    participants: list[Participant] = Field(max_length=MAX_PARTICIPANTS)
    issues: list[Issue] = Field(max_length=MAX_ISSUES)
    outcomes: list[Outcome] = Field(max_length=MAX_OUTCOMES)
    quotes: list[ModelQuote] = Field(
        max_length=MAX_QUOTES, description="Direct quotes only: words inside quotation marks."
    )


# --- What code computes around the model's answer -------------------------------------


MatchKind = Literal["exact", "normalised", "split", "fuzzy", "none"]


class Quote(ModelQuote):
    """A quote after grounding against the article text."""

    span: tuple[int, int] | None = Field(
        description="[start, end) character offsets of the quote in article.text, or null."
    )
    grounded: bool = Field(description="True if the quote was found verbatim in article.text.")
    match: MatchKind = Field(
        description=(
            "How the quote was found in article.text: 'exact' verbatim; 'normalised' after "
            "folding quote marks, dashes, case and whitespace; 'split' as one of the parts "
            "of a quote that runs across an attribution; 'fuzzy' snapped to the source's "
            "own words from a near-verbatim quote; 'none' not found (grounded is false)."
        )
    )


class GroundedParticipant(Participant):
    """A participant after grounding: where the article names them."""

    mentions: list[tuple[int, int]] = Field(
        description=(
            "[start, end) spans in article.text where the text names the participant "
            "(the full name, or the surname alone)."
        )
    )
    attested: bool = Field(description="False when article.text never names the participant.")


class Summary(BaseModel):
    """The structured summary of one article, with quotes grounded."""

    headline: str
    event: Event
    participants: list[GroundedParticipant]
    issues: list[Issue]
    outcomes: list[Outcome]
    quotes: list[Quote]


class Source(BaseModel):
    """Where the article came from."""

    path: str | None = Field(description="Input file path; '-' for stdin; null if unknown.")
    url: str | None = Field(description="URL of the page, when known.")
    sha256: str = Field(description="SHA-256 of the raw input bytes (hex).")


class Article(BaseModel):
    """The article as the model saw it."""

    title: str | None
    published: str | None = Field(description="Publication date, ISO 8601, or null.")
    text: str = Field(description="The cleaned body the model saw; spans index into it.")
    chars_raw: int
    chars_clean: int


class Usage(BaseModel):
    """Token counts reported by the endpoint (zero for the offline backend)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


ReviewItemKind = Literal["quote", "participant"]
Verdict = Literal["accept", "reject", "fix"]


class ReviewedItem(BaseModel):
    """A person's verdict on one quote or participant (``summarise apply``)."""

    item: ReviewItemKind = Field(description="What was reviewed: a quote or a participant.")
    index: int = Field(
        description="Position of the item in summary.quotes or summary.participants of the "
        "record the corrections were made against (before any item was removed)."
    )
    text: str = Field(description="The quote's text, or the participant's name, as reviewed.")
    verdict: Verdict = Field(
        description="'accept': right as it is; 'reject': wrong, removed from the summary (kept "
        "in review.rejected_*); 'fix': the quote's speaker was corrected."
    )
    speaker_was: str | None = Field(
        description="The quote's speaker before a fix; null for other verdicts."
    )
    reviewed_at: str = Field(description="UTC time of the verdict, ISO 8601.")


class Review(BaseModel):
    """What a person's review changed in a record: verdicts, and the items rejected."""

    corrections_sha256: str = Field(
        description="SHA-256 (hex) of the corrections file applied last."
    )
    applied_at: str = Field(description="UTC time the corrections were applied last, ISO 8601.")
    complete: bool = Field(
        description="True when every quote and participant left in the summary has an "
        "'accept' or 'fix' verdict in items."
    )
    items: list[ReviewedItem] = Field(
        description="Every verdict, earlier reviews' first, in the order applied."
    )
    rejected_quotes: list[Quote] = Field(
        description="Quotes rejected by a reviewer: removed from summary.quotes, kept here."
    )
    rejected_participants: list[GroundedParticipant] = Field(
        description="Participants rejected by a reviewer: removed from summary.participants, "
        "kept here."
    )


class Provenance(BaseModel):
    """How the record was produced."""

    backend: str = Field(description="'openai' (any OpenAI-compatible endpoint), 'offline', ...")
    model: str | None
    endpoint: str | None = Field(description="Host of the endpoint only; never a key.")
    prompt_version: str = Field(description="Content hash of the prompt files and schema.")
    attempts: int = Field(description="Model calls made for this article, re-asks included.")
    usage: Usage
    latency_s: float
    finish_reason: str | None
    created_at: str = Field(description="UTC time the record was made, ISO 8601.")
    batch_id: str | None = Field(
        default=None,
        description="The Batch API batch that answered (summarise batch collect); null for "
        "records made by summarise run, and for batch results read from local files.",
    )
    review: Review | None = Field(
        default=None,
        description="Set by summarise apply: a person's verdicts on the quotes and "
        "participants, and the items rejected; null for a record nobody reviewed.",
    )


class WarningCode(StrEnum):
    """Stable codes of what a record's producers changed or doubt.

    ======================  ===========  ==================================================
    code                    raised by    meaning
    ======================  ===========  ==================================================
    quote_snapped           grounding    a near-verbatim quote was replaced by the source's
                                         own words (``match: fuzzy``)
    quote_split             grounding    a quote running across an attribution was kept as
                                         its grounded parts (``match: split``)
    quote_ungrounded        grounding    a quote is not in the article; kept, grounded false
    quote_dropped           grounding    a quote was dropped (empty, or not found and strict)
    quote_duplicate         grounding    the same source words were quoted twice; kept once
    quote_unmarked          grounding    the words are in the article but not between
                                         quotation marks
    speaker_mismatch        grounding    the source attributes the quote to someone else
    name_unattested         grounding    a participant or speaker the article never names
    country_normalised      grounding    a country was rewritten as its ISO alpha-3 code
    country_invalid         grounding    a country that is no ISO alpha-3 code; set to null
    country_contradicted    grounding    a participant's country is not the one the
                                         article's own title gives ("Russian Defense
                                         Minister Shoigu"); kept as given
    date_resolved           grounding    a relative or written-out date made ISO 8601
    date_unresolved         grounding    an event date that cannot be read; set to null
    reasked                 client       the model was asked again after an invalid answer
    truncated_retry         client       an answer hit the token limit and was retried
    article_truncated       backends     the article was cut to fit the backend's input
    article_split           backends     the article was longer than the model's context:
                                         summarised in parts, their answers merged
    extractive              backends     issues and outcomes are source sentences chosen by
                                         the offline extractor, not a model's summary
    language_unsupported    backends     the offline extractor reads English and French;
                                         the article looks like another language
    ======================  ===========  ==================================================
    """

    quote_snapped = "quote_snapped"
    quote_split = "quote_split"
    quote_ungrounded = "quote_ungrounded"
    quote_dropped = "quote_dropped"
    quote_duplicate = "quote_duplicate"
    quote_unmarked = "quote_unmarked"
    speaker_mismatch = "speaker_mismatch"
    name_unattested = "name_unattested"
    country_normalised = "country_normalised"
    country_invalid = "country_invalid"
    country_contradicted = "country_contradicted"
    date_resolved = "date_resolved"
    date_unresolved = "date_unresolved"
    reasked = "reasked"
    truncated_retry = "truncated_retry"
    article_truncated = "article_truncated"
    article_split = "article_split"
    extractive = "extractive"
    language_unsupported = "language_unsupported"


class RecordWarning(BaseModel):
    """Something a stage changed or doubts about a record: a stable code and a message."""

    code: WarningCode = Field(description="Stable code; see WarningCode for the list.")
    message: str = Field(description="What happened, for a person.")


class Superseded(BaseModel):
    """The record a feed line replaces: made for the same id by another model or prompt."""

    model: str | None
    prompt_version: str | None


class Record(BaseModel):
    """One line of the feed: a summarised article.

    The feed holds one current record per id: the last line for an id is the current one,
    and a line that replaces a record of another model or prompt says so in ``supersedes``.
    """

    schema_version: Literal["2", "3"] = Field(
        default=SCHEMA_VERSION,
        description="'3' for lines written now; a '2' line (no coding) is still a valid record.",
    )
    id: str
    source: Source
    article: Article
    summary: Summary
    provenance: Provenance
    warnings: list[RecordWarning] = Field(default_factory=list)
    supersedes: Superseded | None = Field(
        default=None,
        description="Set when this line replaces the id's earlier record made by another "
        "model or prompt version (run with --supersede); null otherwise.",
    )
    coding: Coding | None = Field(
        default=None,
        description="Standard event codes (PLOVER, CAMEO) computed from the record's fields "
        "and the article's cues (summarise/events/coding.py); null in version 2 lines.",
    )


Stage = Literal["ingest", "clean", "prompt", "model", "validate", "ground", "write"]


class ErrorRecord(BaseModel):
    """One line of the errors file: an article that could not be summarised."""

    id: str
    source: Source
    stage: Stage = Field(description="Pipeline stage that failed.")
    error: str = Field(description="Stable error code, e.g. 'rate_limited', 'schema_invalid'.")
    message: str = Field(description="What went wrong, for a person.")
    attempts: int = 0
    backend: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    last_response_id: str | None = Field(
        default=None, description="Id of the last raw model response, for debugging."
    )
    usage: Usage = Field(
        default_factory=Usage, description="Tokens spent on the article before it failed."
    )


def _drop_titles(node: Any, *, in_properties: bool = False) -> Any:
    """Remove pydantic's generated ``title`` keys: tokens that tell a model nothing."""
    if isinstance(node, dict):
        return {
            key: _drop_titles(value, in_properties=key == "properties" and not in_properties)
            for key, value in node.items()
            if in_properties or not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_drop_titles(value) for value in node]
    return node


def model_facing_schema() -> dict[str, Any]:
    """JSON Schema of what the model must return (valid for OpenAI strict outputs)."""
    schema: dict[str, Any] = _drop_titles(ModelSummary.model_json_schema())
    return schema


def feed_schema() -> dict[str, Any]:
    """JSON Schema that every feed line validates against."""
    return Record.model_json_schema()


def errors_schema() -> dict[str, Any]:
    """JSON Schema of the errors file lines."""
    return ErrorRecord.model_json_schema()


# --- Events: coding, linking (summarise link, summarise export) ------------------------
# Feed-side only: computed by code (summarise/events/), never asked of a model.

EventMode = Literal["visit", "third_party", "multilateral", "phone", "unknown"]
EventStatus = Literal["happened", "planned", "proposed"]
ActorType = Literal["government", "military", "international_organisation"]


class ActorCode(BaseModel):
    """One side of a coded event: a country and, where the role tells it, an actor type."""

    country: str | None = Field(description="ISO 3166-1 alpha-3 code, or null if unknown.")
    type: ActorType | None = Field(
        description="What the role or affiliation says the actor is; null if it does not."
    )
    code: str | None = Field(
        description="CAMEO-style actor code: the country and the type's code (RUSMIL, USAGOV, "
        "FRA), or null with no country."
    )
    name: str | None = Field(description="The participant's name as the record gives it.")


class PloverCoding(BaseModel):
    """PLOVER (POLECAT) coding of the event."""

    event_type: Literal["CONSULT", "AGREE"] = Field(
        description="CONSULT for meetings, visits and calls that happened; AGREE for a meeting "
        "planned or proposed (PLOVER codes future-tense cooperation as AGREE)."
    )
    mode: str | None = Field(
        description="PLOVER CONSULT mode: visit, third-party, multilateral, phone, unspecified; "
        "null for AGREE."
    )
    context: list[str] = Field(description="PLOVER context: 'future' for planned or proposed.")
    actors: list[ActorCode] = Field(description="Who acts (for a visit, the visitor).")
    recipients: list[ActorCode] = Field(description="Who it is done with (for a visit, the host).")


class CameoCoding(BaseModel):
    """One CAMEO-coded direction of the event (a visit gives two: 042 and 043)."""

    code: str = Field(description="CAMEO event code: 036, 040-046.")
    label: str = Field(description="The code's label in the CAMEO codebook.")
    goldstein: float = Field(description="Goldstein scale value of the code.")
    source: ActorCode
    target: ActorCode


class Coding(BaseModel):
    """Standard event codes for a record or an event (summarise/events/coding.py)."""

    mode: EventMode = Field(
        description="visit (one side travels to the other's country), third_party (they meet "
        "elsewhere), multilateral (at or on the margins of a summit or an organisation's "
        "meeting), phone (call or video call), unknown."
    )
    host: str | None = Field(description="The participant whose country hosts, or null.")
    status: EventStatus = Field(description="happened, planned or proposed.")
    location_country: str | None = Field(description="ISO alpha-3 of the event's location.")
    plover: PloverCoding
    cameo: list[CameoCoding] = Field(
        description="CAMEO codings, the main one first; a visit has 042 (visitor) and 043 (host)."
    )


class EventParticipant(BaseModel):
    """A participant of an event, merged across its articles."""

    name: str = Field(description="The longest form of the name the articles give.")
    aliases: list[str] = Field(description="Every other form the articles give, sorted.")
    country: str | None = Field(description="ISO alpha-3, the most frequent in the articles.")
    role: str | None = Field(description="The most frequent role given.")
    records: int = Field(description="How many of the event's records name them as present.")


class EventSource(BaseModel):
    """One article that reports the event."""

    record_id: str
    outlet: str | None = Field(description="Host of the URL (www. dropped), when known.")
    url: str | None
    title: str | None
    published: str | None
    date: str | None = Field(description="The event date this record gives, after resolution.")


class EventQuote(BaseModel):
    """A grounded quote from one of the event's articles, with where it comes from."""

    record_id: str
    speaker: str | None
    text: str = Field(description="article.text[span[0]:span[1]] of that record.")
    span: tuple[int, int]


class EventLine(BaseModel):
    """One line of an events file (``summarise link``): one event, from all its reports."""

    event_id: str = Field(
        description="Stable id: 'ev_' + a hash of the key fields of the record that founded "
        "the event; kept when a new feed is linked against an events file."
    )
    date: str | None = Field(description="Earliest date the records give (ISO), or null.")
    date_end: str | None = Field(description="Latest date, when the records span days.")
    location: str | None = Field(description="The most frequent location the records give.")
    location_country: str | None
    mode: EventMode
    status: EventStatus
    host: str | None
    participants: list[EventParticipant]
    coding: Coding
    sources: list[EventSource]
    quotes: list[EventQuote]


def events_schema() -> dict[str, Any]:
    """JSON Schema of the lines of an events file (``summarise link``)."""
    return EventLine.model_json_schema()


Record.model_rebuild()  # Coding is defined after Record
