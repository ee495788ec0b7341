"""Fault injection for the mock: which fault a request gets, and what that fault looks like.

A script (``MockConfig.faults``) hands out one fault per matching request, in order; where
no script applies, ``fault_rate`` draws one at random, seeded by the request itself so that
the same requests fail the same way whatever order concurrency delivers them in.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from summarise.backends.openai.replay import exchange_key
from summarise.mock.answers import (
    REFUSAL_TEXT,
    default_content,
    error_body,
    schema_invalid_summary,
    user_texts,
)
from summarise.mock.config import MATCH_ANY, MODELS_FAULTS, Body, MockConfig
from summarise.mock.wire import Answer, json_answer, seconds_headers

Completer = Callable[..., dict[str, Any]]
"""The server's ``chat.completion`` builder: ``complete(body, content, *, finish_reason=,
refusal=, empty=)``, so that a fault's answer is numbered and counted like any other."""


class FaultPicker:
    """Which fault, if any, the next request gets: its script first, else a random draw."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[str]] = {}
        self._seen: Counter[str] = Counter()

    def load_scripts(self) -> None:
        """(Re)start every fault script from its first fault."""
        with self._lock:
            self._scripts = {m: deque(script) for m, script in self.config.faults.items()}

    def next_fault(self, body: Body) -> str | None:
        """The scripted fault for this request, else a random one (``fault_rate``)."""
        cfg = self.config
        if self._scripts:
            joined = "\n".join(user_texts(body))
            with self._lock:
                for marker, script in self._scripts.items():
                    if script and (marker == MATCH_ANY or marker in joined):
                        return script.popleft()
        if cfg.fault_rate > 0 and (
            cfg.fault_marker is None or any(cfg.fault_marker in t for t in user_texts(body))
        ):
            # Seeded by the request itself and how often it was seen, so the same requests
            # fail the same way whatever order concurrency delivers them in.
            key = exchange_key("POST", "/chat/completions", body)
            with self._lock:
                self._seen[key] += 1
                seen = self._seen[key]
            rng = random.Random(f"{cfg.seed}:{key}:{seen}")
            if rng.random() < cfg.fault_rate:
                return rng.choice(cfg.fault_choices)
        return None


def route_fault_answer(fault: str, normal: Answer, config: MockConfig) -> Answer:
    """What a fault that works on any route (``MODELS_FAULTS``, or an HTTP status) makes of
    the ``normal`` answer of that route."""
    if fault == "hang":
        return Answer(0, b"", action="silent")
    if fault == "trickle":
        return replace(normal, action="trickle", interval_s=config.trickle_interval_s)
    if fault == "huge_body":
        prefix = normal.body[: max(1, len(normal.body) // 2)]
        return Answer(200, prefix, normal.headers, action="endless", size=config.huge_body_bytes)
    if fault == "truncated_json":
        return Answer(normal.status, normal.body[: len(normal.body) // 2], normal.headers)
    status = int(fault)
    return json_answer(status, error_body(status, config.error_message))


def fault_answer(fault: str, body: Body, complete: Completer, config: MockConfig) -> Answer:
    """What ``fault`` sends back for ``body`` (``timeout`` is the server's: it hangs)."""
    texts = user_texts(body)
    article = texts[0] if texts else ""
    if fault == "429":
        return json_answer(
            429, error_body(429, config.error_message), seconds_headers(config.retry_after_s)
        )
    if fault in MODELS_FAULTS:
        normal = json_answer(200, complete(body, default_content(body)))
        return route_fault_answer(fault, normal, config)
    if fault == "malformed_json":
        whole = json.dumps(complete(body, default_content(body))).encode()
        return Answer(200, whole[: len(whole) // 2] + b'",,]', {})
    if fault == "reset":
        whole = json.dumps(complete(body, default_content(body))).encode()
        return Answer(200, whole, {}, action="reset")
    if fault == "schema_invalid":
        content = json.dumps(schema_invalid_summary(article), ensure_ascii=False)
        return json_answer(200, complete(body, content))
    if fault == "invalid_json_content":
        content = "Here is the summary you asked for: {headline: 'mock', event: kind=other"
        return json_answer(200, complete(body, content))
    if fault == "length":
        content = default_content(body)
        return json_answer(
            200, complete(body, content[: len(content) // 2], finish_reason="length")
        )
    if fault == "refusal":
        return json_answer(200, complete(body, None, refusal=REFUSAL_TEXT))
    if fault == "empty_choices":
        return json_answer(200, complete(body, default_content(body), empty=True))
    return route_fault_answer(fault, Answer(500, b""), config)
