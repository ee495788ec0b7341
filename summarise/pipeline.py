"""Pipeline: one raw article -> a ``Record`` or an ``ErrorRecord``, never nothing.

ingest -> clean -> prompt -> backend (model or offline extractor) -> validate -> ground.
The backend hides where the ``ModelSummary`` comes from; everything after it (grounding,
provenance, the record) is the same code for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from summarise.backends.base import Backend, Extraction
from summarise.clean import CleanArticle, clean
from summarise.errors import ArticleError, FatalError
from summarise.events.coding import code_record
from summarise.ground import ground_summary
from summarise.ingest import RawArticle
from summarise.schema import (
    Article,
    ErrorRecord,
    Provenance,
    Record,
    Source,
    Stage,
)


def source_of(raw: RawArticle) -> Source:
    return Source(path=raw.path, url=raw.url, sha256=raw.sha256)


class Producer(Protocol):
    """Who made a record: a ``Backend``, or a Batch API run standing in for one."""

    @property
    def name(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def endpoint(self) -> str | None: ...
    @property
    def prompt_version(self) -> str: ...


@dataclass(frozen=True)
class ArticleInfo:
    """What a record says about its article besides the text the model saw."""

    id: str
    source: Source
    title: str | None
    published: str | None
    chars_raw: int

    @classmethod
    def of(cls, raw: RawArticle, article: CleanArticle) -> ArticleInfo:
        return cls(raw.id, source_of(raw), article.title, article.published, len(raw.data))


def error_record(raw: RawArticle, backend: Producer, error: ArticleError) -> ErrorRecord:
    """The errors-file line for an article that failed with ``error``."""
    return error_line(raw.id, source_of(raw), backend, error)


def error_line(
    article_id: str, source: Source, producer: Producer, error: ArticleError
) -> ErrorRecord:
    """The errors-file line for the article ``article_id`` (``error_record`` without a
    ``RawArticle``: the Batch API path keeps only its id and source)."""
    return ErrorRecord(
        id=article_id,
        source=source,
        stage=error.stage,
        error=error.code,
        message=error.message,
        attempts=error.attempts,
        backend=producer.name,
        model=producer.model,
        prompt_version=producer.prompt_version,
        last_response_id=error.last_response_id,
        usage=error.usage,
    )


async def process(
    raw: RawArticle, backend: Backend, *, strict: bool = False
) -> Record | ErrorRecord:
    """Run one article through every stage; it always ends as a record or an error record.

    ``FatalError`` (the run cannot go on) propagates. Any other exception, a bug included,
    becomes an ``internal_error`` record naming the stage it came from: never a lost article.
    """
    stage: Stage = "ingest"
    try:
        if raw.error:
            raise ArticleError(raw.error, raw.message or raw.error, stage="ingest")
        stage = "clean"
        article = clean(raw)
        if not article.text.strip():
            raise ArticleError("no_article", "no article text left after cleaning", stage="clean")
        stage = "model"
        extraction, text = await backend.summarise(article)
        stage = "ground"
        return make_record(ArticleInfo.of(raw, article), backend, text, extraction, strict=strict)
    except FatalError:
        raise
    except ArticleError as exc:
        return error_record(raw, backend, exc)
    except Exception as exc:
        bug = ArticleError(
            "internal_error",
            f"{type(exc).__name__} in the {stage} stage: {exc}"[:2000],
            stage=stage,
        )
        return error_record(raw, backend, bug)


def make_record(
    info: ArticleInfo,
    producer: Producer,
    text: str,
    extraction: Extraction,
    *,
    strict: bool = False,
    batch_id: str | None = None,
) -> Record:
    """Ground ``extraction`` against ``text`` (what the model saw) and build the record:
    the one code path of ``process`` and of the Batch API's ``collect``."""
    summary, ground_warnings = ground_summary(
        extraction.summary, text, published=info.published, strict=strict
    )
    record = Record(
        id=info.id,
        source=info.source,
        article=Article(
            title=info.title,
            published=info.published,
            text=text,
            chars_raw=info.chars_raw,
            chars_clean=len(text),
        ),
        summary=summary,
        provenance=Provenance(
            backend=producer.name,
            model=producer.model,
            endpoint=producer.endpoint,
            prompt_version=producer.prompt_version,
            attempts=extraction.attempts,
            usage=extraction.usage,
            latency_s=extraction.latency_s,
            finish_reason=extraction.finish_reason,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            batch_id=batch_id,
        ),
        warnings=[*extraction.warnings, *ground_warnings],
    )
    record.coding = code_record(record)  # from the grounded fields: what the text supports
    return record
