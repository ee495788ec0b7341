"""Shared fixtures. Plain helpers and paths live in ``tests/helpers.py``."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, no base URL, no model from the developer's environment."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARISE_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs stay in one process unless a test asks for ``--workers``: an endpoint run's
    default (a worker process per core) would start processes in every CLI test."""
    monkeypatch.setenv("SUMMARISE_WORKERS", "1")
