"""Replay for the mock: answers recorded by ``summarise run --record``, served back.

Each ``DIR/<key>.json`` holds one exchange; a request is matched by its exact key, then by
its route (so recordings made under another base path still match), and with
``replay_any`` by handing out the recorded summaries in turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from summarise.backends.openai.replay import exchange_key
from summarise.schema import ModelSummary


def _route(path: str) -> str:
    """``/api/v1/chat/completions`` -> ``/chat/completions``: recordings made under another
    base path still match."""
    for tail in ("/chat/completions", "/models"):
        if path.endswith(tail):
            return tail
    return path


@dataclass(frozen=True)
class Recorded:
    """One recorded answer, ready to send again."""

    status: int
    headers: dict[str, str]
    body: bytes


class Replay:
    """Recorded exchanges from ``DIR/<key>.json``, loaded once."""

    _DROPPED = frozenset({"content-length", "transfer-encoding", "connection"})

    def __init__(self, directory: Path, *, any_summary: bool) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay folder not found: {directory}")
        self.exact: dict[str, Recorded] = {}
        self.by_route: dict[str, Recorded] = {}
        self.pool: list[Recorded] = []
        self._next = 0
        for file in sorted(directory.glob("*.json")):
            exchange = json.loads(file.read_text(encoding="utf-8"))
            request, response = exchange["request"], exchange["response"]
            recorded = Recorded(
                status=int(response["status"]),
                headers={
                    k: str(v)
                    for k, v in (response.get("headers") or {}).items()
                    if k.lower() not in self._DROPPED
                },
                body=str(response["body"]).encode("utf-8"),
            )
            self.exact[file.stem] = recorded
            route_key = exchange_key(request["method"], _route(request["path"]), request["body"])
            self.by_route[route_key] = recorded
            if _route(request["path"]) == "/chat/completions" and _is_summary(recorded):
                self.pool.append(recorded)
        if any_summary and not self.pool:
            raise ValueError(
                f"replay_any: no recorded chat completion with a summary in {directory}"
            )

    def lookup(self, method: str, path: str, body: Any, *, any_summary: bool) -> Recorded | None:
        found = self.exact.get(exchange_key(method, path, body)) or self.by_route.get(
            exchange_key(method, _route(path), body)
        )
        if found is None and any_summary and _route(path) == "/chat/completions":
            found = self.pool[self._next % len(self.pool)]
            self._next += 1
        return found


def _is_summary(recorded: Recorded) -> bool:
    if recorded.status != 200:
        return False
    try:
        content = json.loads(recorded.body)["choices"][0]["message"]["content"]
        ModelSummary.model_validate_json(content)
    except (ValueError, KeyError, IndexError, TypeError, ValidationError):
        return False
    return True
