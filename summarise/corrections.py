"""Corrections: a person's verdicts on a feed's quotes and participants, applied back to it.

The review page (``summarise view``) exports a corrections file, one ``Correction`` per
line: ``accept``, ``reject`` or ``fix`` (a quote's speaker) for one quote or participant of
one record. ``apply_corrections`` applies them: a rejected item leaves the summary for
``provenance.review.rejected_*`` (nothing is lost), a fixed quote gets its new speaker, and
every verdict is kept in ``provenance.review.items``. A correction names its record by id
and source hash and its item by position and text, so corrections made against another
feed are found out (stale) instead of landing on the wrong item.

``apply_feed`` is what ``summarise apply FEED CORRECTIONS -o FEED2`` runs: it reads FEED's
current records (the last line of each id), applies, and writes FEED2 atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from summarise.errors import CorrectionsError, UsageError
from summarise.feed import current, encode_line, write_atomically
from summarise.schema import (
    SHORT,
    Record,
    Review,
    ReviewedItem,
    ReviewItemKind,
    Summary,
    Verdict,
)

_KINDS: tuple[ReviewItemKind, ...] = ("quote", "participant")

STALE_LISTED = 20
"""Stale corrections named one by one in a message; the others are counted."""


class Correction(BaseModel):
    """One line of a corrections file: a verdict on one item of one record."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, description="The record's id.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The record's source.sha256: the article the verdict is about.",
    )
    item: ReviewItemKind = Field(
        description="'quote' (in summary.quotes) or 'participant' (in summary.participants)."
    )
    index: int = Field(
        ge=0,
        description="Position of the item in that list, in the feed the review page was made from.",
    )
    text: str = Field(
        description="The quote's text, or the participant's name, as in that feed: a guard "
        "against applying the verdict to another item."
    )
    verdict: Verdict = Field(description="'accept', 'reject', or 'fix' (a quote's speaker).")
    speaker: str | None = Field(
        default=None,
        max_length=SHORT,
        validate_default=True,
        description="The quote's new speaker: required, not blank, for 'fix' (whitespace "
        "around it is dropped); null otherwise.",
    )
    reviewed_at: str = Field(description="UTC time of the verdict, ISO 8601 (Z or +00:00).")

    @field_validator("speaker")
    @classmethod
    def _speaker_only_for_a_fix(cls, value: str | None, info: ValidationInfo) -> str | None:
        verdict = info.data.get("verdict")
        if verdict == "fix":
            if info.data.get("item") == "participant":
                raise ValueError("'fix' corrects a quote's speaker; item must be 'quote'")
            if value is None or not value.strip():
                raise ValueError("'fix' needs the new speaker")
            return value.strip()
        if value is not None and verdict is not None:
            raise ValueError(f"only a 'fix' has a speaker; null for '{verdict}'")
        return value

    @field_validator("reviewed_at")
    @classmethod
    def _utc(cls, value: str) -> str:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 time") from None
        if when.utcoffset() != timedelta(0):
            raise ValueError("not a UTC time (end it with Z or +00:00)")
        return value

    @property
    def key(self) -> tuple[str, str, int]:
        """What a later correction of the same item replaces."""
        return self.id, self.item, self.index


def read_corrections(path: str | Path) -> list[Correction]:
    """The corrections in a file; ``CorrectionsError`` names the line of one that is not."""
    return parse_corrections(_read_bytes(path), str(path))


def parse_corrections(data: bytes, name: str) -> list[Correction]:
    """The corrections in the JSONL ``data`` (of file ``name``): blank lines skipped, and of
    several lines for one item (id, item, index), the last one kept."""
    latest: dict[tuple[str, str, int], Correction] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            correction = Correction.model_validate_json(line)
        except ValidationError as exc:
            raise CorrectionsError(f"{name}:{number}: {_problem(exc, 'correction')}") from exc
        latest.pop(correction.key, None)  # the item's verdict moves to where it was given last
        latest[correction.key] = correction
    return list(latest.values())


def _problem(exc: ValidationError, what: str) -> str:
    """The first thing wrong with a line, naming the field."""
    problem = exc.errors()[0]
    if problem["type"] == "json_invalid":
        return f"not JSON ({problem['msg']})"
    where = ".".join(str(part) for part in problem["loc"])
    if problem["type"] == "extra_forbidden":
        return f"not a {what}: unknown field {where!r}"
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"not a {what}: {where}: {message}" if where else f"not a {what}: {message}"


# --- Applying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stale:
    """A correction that does not match the feed it is applied to, and why."""

    correction: Correction
    why: str

    def __str__(self) -> str:
        c = self.correction
        return f"id {c.id!r}, {c.item} {c.index}: {self.why}"


@dataclass
class ApplyResult:
    """What applying corrections did."""

    records: dict[str, Record] = field(default_factory=dict)
    """The corrected records, by id (records without a correction are not here)."""
    applied: list[Correction] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    """Corrections left out (``skip_stale``) because they do not match the feed."""

    def count(self, verdict: Verdict) -> int:
        return sum(c.verdict == verdict for c in self.applied)

    @property
    def complete(self) -> int:
        """Corrected records whose review is complete."""
        return sum(
            bool(r.provenance.review and r.provenance.review.complete)
            for r in self.records.values()
        )


def apply_corrections(
    records: Iterable[Record],
    corrections: Iterable[Correction],
    *,
    corrections_sha256: str,
    skip_stale: bool = False,
    applied_at: str | None = None,
) -> ApplyResult:
    """Apply ``corrections`` to the feed's current ``records`` (at least those they name).

    A correction whose record, article or item is not in ``records`` is stale: it raises
    ``CorrectionsError`` (``corrections_stale``, listing them) before anything is applied,
    or with ``skip_stale`` is left out and listed in the result. ``applied_at`` (ISO 8601)
    defaults to now.
    """
    by_id = {record.id: record for record in records}
    result = ApplyResult()
    todo: dict[str, list[Correction]] = {}
    for correction in {c.key: c for c in corrections}.values():
        why = _stale(correction, by_id.get(correction.id))
        if why:
            result.stale.append(Stale(correction, why))
        else:
            todo.setdefault(correction.id, []).append(correction)
            result.applied.append(correction)
    if result.stale and not skip_stale:
        raise CorrectionsError(
            f"{len(result.stale)} of the corrections do not match the feed (made from another "
            "version of it?); nothing was applied (--skip-stale applies the others):\n"
            + describe_stale(result.stale),
            code="corrections_stale",
        )
    when = applied_at or datetime.now(UTC).isoformat(timespec="seconds")
    for record_id, verdicts in todo.items():
        result.records[record_id] = _corrected(
            by_id[record_id], verdicts, corrections_sha256=corrections_sha256, applied_at=when
        )
    return result


def describe_stale(stale: Sequence[Stale]) -> str:
    """One line per stale correction, the first ``STALE_LISTED`` of them, then a count."""
    lines = [f"  {s}" for s in stale[:STALE_LISTED]]
    if len(stale) > STALE_LISTED:
        lines.append(f"  ... and {len(stale) - STALE_LISTED} more")
    return "\n".join(lines)


def _texts(summary: Summary, item: ReviewItemKind) -> list[str]:
    if item == "quote":
        return [quote.text for quote in summary.quotes]
    return [participant.name for participant in summary.participants]


def _stale(correction: Correction, record: Record | None) -> str | None:
    """Why ``correction`` cannot be applied to ``record``, or None when it can."""
    if record is None:
        return "no record with this id in the feed"
    if correction.sha256 != record.source.sha256:
        return "the article changed (source.sha256 differs)"
    texts = _texts(record.summary, correction.item)
    if correction.index >= len(texts):
        return f"out of range: the record has {len(texts)} {correction.item}s"
    if texts[correction.index] != correction.text:
        found = texts[correction.index]
        return f"the {correction.item} there is another one: {found[:60]!r}"
    return None


def _corrected(
    record: Record, corrections: list[Correction], *, corrections_sha256: str, applied_at: str
) -> Record:
    """``record`` with its verdicts applied, merged into any earlier review of it."""
    earlier = record.provenance.review
    items = list(earlier.items) if earlier else []
    quotes = list(record.summary.quotes)
    rejected: dict[ReviewItemKind, set[int]] = {"quote": set(), "participant": set()}
    for c in corrections:
        speaker_was = None
        if c.verdict == "fix":
            speaker_was = quotes[c.index].speaker
            quotes[c.index] = quotes[c.index].model_copy(update={"speaker": c.speaker})
        elif c.verdict == "reject":
            rejected[c.item].add(c.index)
        items.append(
            ReviewedItem(
                item=c.item,
                index=c.index,
                text=c.text,
                verdict=c.verdict,
                speaker_was=speaker_was,
                reviewed_at=c.reviewed_at,
            )
        )
    # Indexes refer to the record before any removal: split the lists once, at the end.
    participants = record.summary.participants
    summary = record.summary.model_copy(
        update={
            "quotes": [q for i, q in enumerate(quotes) if i not in rejected["quote"]],
            "participants": [
                p for i, p in enumerate(participants) if i not in rejected["participant"]
            ],
        }
    )
    review = Review(
        corrections_sha256=corrections_sha256,
        applied_at=applied_at,
        complete=_complete(summary, items),
        items=items,
        rejected_quotes=[
            *(earlier.rejected_quotes if earlier else []),
            *(q for i, q in enumerate(quotes) if i in rejected["quote"]),
        ],
        rejected_participants=[
            *(earlier.rejected_participants if earlier else []),
            *(p for i, p in enumerate(participants) if i in rejected["participant"]),
        ],
    )
    provenance = record.provenance.model_copy(update={"review": review})
    return record.model_copy(update={"summary": summary, "provenance": provenance})


def _complete(summary: Summary, items: Sequence[ReviewedItem]) -> bool:
    """Every quote and participant left has an accept or fix verdict.

    Told by text, not index: an earlier review's indexes refer to the record as it was then.
    """
    kept = {(i.item, i.text) for i in items if i.verdict != "reject"}
    return all((kind, text) in kept for kind in _KINDS for text in _texts(summary, kind))


# --- Files ------------------------------------------------------------------------------


def apply_feed(
    feed: Path, corrections: Path, output: Path, *, skip_stale: bool = False
) -> ApplyResult:
    """Apply the corrections file to FEED's current records and write them all to ``output``
    (one line per id, in feed order; records without corrections byte for byte as read).

    Nothing is written when a line of either file is invalid or, without ``skip_stale``,
    when a correction is stale. ``output`` is replaced atomically.
    """
    for path, what in ((feed, "feed"), (corrections, "corrections file")):
        if not path.is_file():
            raise UsageError(f"{what} not found: {path}")
        if _same_file(output, path):
            raise UsageError(f"-o {output} is the {what}: write the corrected feed elsewhere")
    if output.is_dir():
        raise UsageError(f"-o {output} is a folder: name the file to write")
    data = _read_bytes(corrections)
    wanted = parse_corrections(data, str(corrections))
    named = {c.id for c in wanted}
    current: dict[str, int] = {}  # id -> line number of its current record
    records: dict[str, Record] = {}
    for number, line in _lines(feed):
        record = _record(line, f"{feed}:{number}")
        current[record.id] = number
        if record.id in named:
            records[record.id] = record
    result = apply_corrections(
        records.values(),
        wanted,
        corrections_sha256=hashlib.sha256(data).hexdigest(),
        skip_stale=skip_stale,
    )
    corrected = {current[record_id]: record for record_id, record in result.records.items()}
    keep = set(current.values())

    def lines() -> Iterator[bytes]:
        for number, line in _lines(feed):
            if number in corrected:
                yield encode_line(corrected[number])
            elif number in keep:
                yield line if line.endswith(b"\n") else line + b"\n"

    write_atomically(output, lines())
    return result


def current_records(path: Path) -> list[Record]:
    """FEED's current records (the last line of each id), in feed order."""
    records = (_record(line, f"{path}:{number}") for number, line in _lines(path))
    return current(records, lambda record: record.id)


def _read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CorrectionsError(f"cannot read the corrections file {path}: {exc}") from exc


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each non-blank line of a feed."""
    try:
        with open(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield number, line
    except OSError as exc:
        raise CorrectionsError(f"cannot read the feed {path}: {exc}", code="feed_invalid") from exc


def _record(line: bytes, where: str) -> Record:
    try:
        return Record.model_validate_json(line)
    except ValidationError as exc:
        raise CorrectionsError(
            f"{where}: {_problem(exc, 'feed record')}", code="feed_invalid"
        ) from exc


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return a.resolve() == b.resolve() or (a.exists() and a.samefile(b))
    return False
