"""Shared test helpers: sample paths, hand-written (synthetic) answers, CLI runs, JSONL files.

Plain functions and constants, imported as ``from tests.helpers import ...``; fixtures live
in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

if TYPE_CHECKING:  # imported when used, so that conftest.py can import this module cheaply
    from click.testing import Result

    from summarise.ingest import RawArticle
    from summarise.mock import MockServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SYNTHETIC = Path(__file__).resolve().parent / "synthetic"
SEED_004 = EXAMPLES / "004_8546a322da682372.txt"
SEED_IDS = sorted(p.stem for p in EXAMPLES.glob("*.txt"))

MOCK_MODEL = "mock-model"
MOCK_ENV = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "", "SUMMARISE_MODEL": ""}
"""A key for the mock, and nothing from the developer's environment."""


def synthetic(name: str) -> dict[str, Any]:
    """A hand-written model answer from tests/synthetic/ (never a real model's)."""
    value: dict[str, Any] = json.loads((SYNTHETIC / name).read_text(encoding="utf-8"))
    return value


def raw_seed(path: Path) -> RawArticle:
    """A sample article file as ``RawArticle`` (id: the file's stem), before cleaning."""
    from summarise.ingest import RawArticle

    return RawArticle(path.stem, str(path), path.read_bytes())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The lines of a feed or errors file, parsed; ``[]`` if the file was never written."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def warning_codes(warnings: Iterable[Any]) -> list[str]:
    """The codes of a record's warnings: a feed line's ``{"code", "message"}`` objects or the
    ``RecordWarning`` models the API returns."""
    return [str(w["code"] if isinstance(w, dict) else w.code) for w in warnings]


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """``summarise ARGS`` in this process (typer's runner: stdout and stderr kept apart)."""
    from typer.testing import CliRunner

    from summarise.cli import app

    return CliRunner().invoke(app, list(args), env=env)


def run_against(server: MockServer, *args: str, env: dict[str, str] | None = None) -> Result:
    """``summarise run ARGS`` against the mock ``server``, without a progress bar."""
    endpoint = ["--base-url", server.base_url, "--model", MOCK_MODEL, "--no-progress"]
    return run_cli("run", *args, *endpoint, env=MOCK_ENV if env is None else env)


def printed_schema(which: str = "feed") -> dict[str, Any]:
    """What ``summarise schema WHICH`` prints (``feed``, ``model`` or ``errors``), parsed."""
    result = run_cli("schema", which)
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def schema_validator(which: str = "feed") -> jsonschema.Draft202012Validator:
    """A validator for the printed ``which`` schema (checked to be a valid schema itself)."""
    schema = printed_schema(which)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
