"""Pipeline: one raw article -> a ``Record`` or an ``ErrorRecord``, never nothing.

ingest -> clean -> prompt -> backend (model or offline extractor) -> validate -> ground.
The backend hides where the ``ModelSummary`` comes from; everything after it (grounding,
provenance, the record) is the same code for all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from summarise.backends.base import Backend, Extraction
from summarise.clean import CleanArticle, clean
from summarise.errors import ArticleError, FatalError
from summarise.ground import ground_summary
from summarise.ingest import RawArticle
from summarise.schema import (
    Article,
    ErrorRecord,
    Provenance,
    Record,
    RecordWarning,
    Source,
    Stage,
    Summary,
)


def source_of(raw: RawArticle) -> Source:
    return Source(path=raw.path, url=raw.url, sha256=raw.sha256)


def error_record(raw: RawArticle, backend: Backend, error: ArticleError) -> ErrorRecord:
    """The errors-file line for an article that failed with ``error``."""
    return ErrorRecord(
        id=raw.id,
        source=source_of(raw),
        stage=error.stage,
        error=error.code,
        message=error.message,
        attempts=error.attempts,
        backend=backend.name,
        model=backend.model,
        prompt_version=backend.prompt_version,
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
        summary, ground_warnings = ground_summary(
            extraction.summary, text, published=article.published, strict=strict
        )
        return _record(raw, backend, article, text, summary, extraction, ground_warnings)
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


def _record(
    raw: RawArticle,
    backend: Backend,
    article: CleanArticle,
    text: str,
    summary: Summary,
    extraction: Extraction,
    ground_warnings: list[RecordWarning],
) -> Record:
    return Record(
        id=raw.id,
        source=source_of(raw),
        article=Article(
            title=article.title,
            published=article.published,
            text=text,
            chars_raw=len(raw.data),
            chars_clean=len(text),
        ),
        summary=summary,
        provenance=Provenance(
            backend=backend.name,
            model=backend.model,
            endpoint=backend.endpoint,
            prompt_version=backend.prompt_version,
            attempts=extraction.attempts,
            usage=extraction.usage,
            latency_s=extraction.latency_s,
            finish_reason=extraction.finish_reason,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
        warnings=[*extraction.warnings, *ground_warnings],
    )
