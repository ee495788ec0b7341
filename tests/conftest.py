"""Shared fixtures. Plain helpers and paths live in ``tests/helpers.py``."""

from __future__ import annotations

import pytest

# Re-exported for test modules that still import them from here; import from tests.helpers.
from tests.helpers import EXAMPLES, ROOT, SEED_004, SYNTHETIC, synthetic

__all__ = ["EXAMPLES", "ROOT", "SEED_004", "SYNTHETIC", "synthetic"]


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, no base URL, no model from the developer's environment."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARISE_MODEL"):
        monkeypatch.delenv(var, raising=False)
