"""summarise: structured, grounded summaries of diplomatic news.

>>> from summarise import summarise_article
>>> record = summarise_article("Blinken met Lavrov in New Delhi on Thursday.")
"""

from summarise.client import EndpointConfig
from summarise.ingest import RawArticle
from summarise.pipeline import (
    ArticleFailed,
    OfflineBackend,
    OpenAIBackend,
    asummarise_article,
    summarise_article,
)
from summarise.schema import ErrorRecord, ModelSummary, Record

__all__ = [
    "ArticleFailed",
    "EndpointConfig",
    "ErrorRecord",
    "ModelSummary",
    "OfflineBackend",
    "OpenAIBackend",
    "RawArticle",
    "Record",
    "asummarise_article",
    "summarise_article",
]
