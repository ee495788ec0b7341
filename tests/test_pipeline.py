"""The pipeline's promises: nothing lost by construction, settings resolved once, a light import,
version-1 feeds still resumed, and a tree that reads as the pipeline."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from summarise import pipeline
from summarise.config import BACKEND_DEFAULTS, ENDPOINT_DEFAULTS, resolve_settings
from summarise.feed import FeedWriter
from summarise.schema import GroundedParticipant, ModelSummary, Summary
from tests.helpers import EXAMPLES, ROOT, SEED_IDS, read_jsonl, run_cli

HTTP_AND_MODEL_CLIENTS = ("openai", "httpx2", "httpx", "tenacity", "aiolimiter", "llama_cpp")


def offline_run(tmp_path: Path, *flags: str) -> tuple[Any, Path, Path]:
    feed = tmp_path / "feed.jsonl"
    result = run_cli("run", str(EXAMPLES), "-o", str(feed), "--no-progress", *flags, env={})
    return result, feed, tmp_path / "feed.errors.jsonl"


@pytest.mark.usefixtures("no_endpoint_env")
def test_a_bug_in_one_stage_becomes_an_internal_error_record_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.ground_summary
    calls: list[str] = []

    def buggy(summary: ModelSummary, text: str, **kwargs: Any) -> tuple[Summary, list[Any]]:
        calls.append(text)
        if len(calls) == 1:  # one article meets the bug
            raise KeyError("span")
        return real(summary, text, **kwargs)

    monkeypatch.setattr(pipeline, "ground_summary", buggy)
    result, feed, errors = offline_run(tmp_path)
    assert result.exit_code == 1, result.output
    done, failed = read_jsonl(feed), read_jsonl(errors)
    assert sorted(line["id"] for line in done + failed) == SEED_IDS  # every input, once
    [error] = failed
    assert (error["error"], error["stage"]) == ("internal_error", "ground")
    assert error["message"].startswith("KeyError in the ground stage")
    assert "4 ok, 1 failed" in result.stderr


@pytest.mark.usefixtures("no_endpoint_env")
def test_a_bug_past_the_pipeline_stops_the_run_with_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FeedWriter, to_feed: bool, line: bytes) -> None:
        raise RuntimeError("writer bug")

    monkeypatch.setattr(FeedWriter, "append", broken)
    result, _, _ = offline_run(tmp_path)
    assert result.exit_code == 2
    assert result.stderr.count("internal error: RuntimeError: writer bug") == 1
    assert "Traceback" not in result.stderr


def test_settings_defaults_depend_on_the_backend_and_flags_win() -> None:
    local = resolve_settings(backend="local", env={})
    remote = resolve_settings(base_url="http://127.0.0.1:9/v1", env={})
    assert (local.concurrency, local.endpoint.timeout_s) == (1, 600.0)
    assert remote.backend == "openai"
    assert remote.concurrency == BACKEND_DEFAULTS["openai"].concurrency
    assert remote.endpoint.max_attempts == ENDPOINT_DEFAULTS.max_attempts
    chosen = resolve_settings(
        backend="local", concurrency=3, timeout_s=5.0, max_attempts=1, env={"SUMMARISE_MODEL": "m"}
    )
    assert (chosen.concurrency, chosen.endpoint.timeout_s, chosen.endpoint.max_attempts) == (
        3,
        5.0,
        1,
    )
    assert chosen.endpoint.model == "m"
    assert resolve_settings(env={}).backend == "offline"
    assert resolve_settings(env={"OPENAI_API_KEY": "sk-x"}).backend == "openai"


@pytest.mark.parametrize(
    "code",
    [
        "import summarise",
        # the whole offline job, as `summarise run examples/` runs it
        "import sys, tempfile\n"
        "from typer.testing import CliRunner\n"
        "from summarise.cli import app\n"
        "out = tempfile.mkdtemp() + '/f.jsonl'\n"
        "r = CliRunner().invoke(app, ['run', 'examples/', '-o', out, '--no-progress'])\n"
        "assert r.exit_code == 0, r.output",
    ],
    ids=["import", "offline-run"],
)
def test_the_offline_path_loads_no_http_or_model_client(code: str) -> None:
    probe = (
        f"{code}\nimport sys\nprint([m for m in {HTTP_AND_MODEL_CLIENTS!r} if m in sys.modules])"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def as_version_1(line: dict[str, Any]) -> dict[str, Any]:
    """A feed line as version 1 wrote it: string warnings, no match kinds or mentions."""
    old = json.loads(json.dumps(line))
    old["schema_version"] = "1"
    old["warnings"] = [f"{w['code']}: {w['message']}" for w in line["warnings"]]
    for quote in old["summary"]["quotes"]:
        del quote["match"]
    extra = set(GroundedParticipant.model_fields) - {"name", "role", "affiliation"}
    extra -= {"country", "present"}
    for participant in old["summary"]["participants"]:
        for key in extra:
            del participant[key]
    return old


@pytest.mark.usefixtures("no_endpoint_env")
def test_a_version_1_feed_is_still_read_for_resume(tmp_path: Path) -> None:
    result, feed, _ = offline_run(tmp_path)
    assert result.exit_code == 0
    old = [as_version_1(line) for line in read_jsonl(feed)]
    feed.write_text("".join(json.dumps(line) + "\n" for line in old), encoding="utf-8")
    again, _, _ = offline_run(tmp_path)
    assert again.exit_code == 0
    assert "0 ok, 0 failed, 5 already done" in again.stderr
    assert read_jsonl(feed) == old


def package_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "summarise").rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_what_it_is_for_and_stays_small(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(source)), f"{path} has no module docstring"
    assert source.count("\n") <= 650, f"{path} has grown past ~600 lines"
