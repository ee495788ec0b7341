"""A mock OpenAI-compatible server for tests and benchmarks; everything it says is synthetic.

``MockServer(MockConfig(...))`` runs in a background thread (``with``) or on the running
loop (``async with``); ``serve_in_process(*flags)`` runs ``python -m summarise.mock`` as a
child process. Modules: ``config`` (what it can be told), ``answers`` (synthetic bodies),
``faults`` (fault injection), ``limits`` (rate limiting), ``recordings`` (replay),
``files`` (the Files store), ``batches`` (batches and their steps), ``batch_lines`` (batch
input, output and error lines), ``batch_api`` (the Files and Batches routes), ``wire``
(HTTP/1.1), ``server`` (the server and its lifecycle), ``__main__`` (the CLI).
"""

from __future__ import annotations

from summarise.mock.answers import (
    REFUSAL_TEXT,
    chat_completion,
    default_content,
    error_body,
    instance_of,
    message_text,
    requested_schema,
    schema_invalid_summary,
    synthetic_summary,
    user_texts,
)
from summarise.mock.batch_api import BATCH_ENDPOINTS
from summarise.mock.batches import MockBatch
from summarise.mock.config import (
    FAULTS,
    MATCH_ANY,
    MODELS_FAULTS,
    SOAK_FAULTS,
    Body,
    MockConfig,
    MockReply,
    MockStats,
    Responder,
)
from summarise.mock.server import CHAT_PATHS, MODELS_PATHS, MockServer, serve_in_process

__all__ = [
    "BATCH_ENDPOINTS",
    "CHAT_PATHS",
    "FAULTS",
    "MATCH_ANY",
    "MODELS_FAULTS",
    "MODELS_PATHS",
    "REFUSAL_TEXT",
    "SOAK_FAULTS",
    "Body",
    "MockBatch",
    "MockConfig",
    "MockReply",
    "MockServer",
    "MockStats",
    "Responder",
    "chat_completion",
    "default_content",
    "error_body",
    "instance_of",
    "message_text",
    "requested_schema",
    "schema_invalid_summary",
    "serve_in_process",
    "synthetic_summary",
    "user_texts",
]
