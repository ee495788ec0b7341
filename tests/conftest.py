"""Shared test helpers: paths to the sample inputs and the hand-written (synthetic) answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SYNTHETIC = Path(__file__).resolve().parent / "synthetic"
SEED_004 = EXAMPLES / "004_8546a322da682372.txt"


def synthetic(name: str) -> dict[str, Any]:
    """A hand-written model answer from tests/synthetic/ (never a real model's)."""
    value: dict[str, Any] = json.loads((SYNTHETIC / name).read_text(encoding="utf-8"))
    return value


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, no base URL, no model from the developer's environment."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARISE_MODEL"):
        monkeypatch.delenv(var, raising=False)
