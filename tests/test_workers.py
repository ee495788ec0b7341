"""``--workers N``: articles run in worker processes behind the one writer (summarise.workers).

What must hold: the same lines as a one-process run, every article exactly once, one
run-stats.json, rate limits shared out; a worker that dies stops the run without losing or
doubling anything, and a parent that dies takes its workers with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from summarise.config import BACKEND_DEFAULTS, resolve_settings, usable_cores
from summarise.mock import MockConfig, MockServer, serve_in_process
from tests.helpers import EXAMPLES, MOCK_ENV, MOCK_MODEL, read_jsonl, run_cli, schema_validator

SEEDS = sorted(EXAMPLES.glob("*.txt"))


def write_corpus(path: Path, count: int, marker_at: int | None = None) -> list[str]:
    """``count`` distinct articles made from the seeds (JSONL); ids returned in order."""
    ids = []
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            text = SEEDS[i % len(SEEDS)].read_text(encoding="utf-8")
            mark = " zqxfault" if i == marker_at else ""
            text = text.replace(" said", f" said (copy {i}{mark})", 1)
            ids.append(f"a{i:04d}")
            fh.write(json.dumps({"id": ids[-1], "text": text}) + "\n")
    return ids


def comparable(line: dict[str, Any]) -> dict[str, Any]:
    """A feed line without what differs between any two runs (time, latency) and between
    two mock servers (the port)."""
    for varies in ("created_at", "latency_s", "endpoint"):
        line["provenance"].pop(varies)
    return line


def by_id(path: Path) -> dict[str, dict[str, Any]]:
    return {line["id"]: comparable(line) for line in read_jsonl(path)}


def test_workers_write_the_same_feed_as_one_process(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    ids = write_corpus(source, 96)
    # 1.5 s per answer, 16 in flight: six rounds (9 s), and the workers are up (two or three
    # seconds, more on a loaded machine) long before the last.
    with MockServer(MockConfig(latency_s=1.5)) as slow:
        result = run_cli(
            "run", str(source), "-o", str(tmp_path / "w2" / "f.jsonl"),
            "--base-url", slow.base_url, "--model", MOCK_MODEL, "--no-progress",
            "--workers", "2", "--concurrency", "16",
            env=MOCK_ENV,
        )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "2 processes ran" in result.stderr
    with MockServer() as fast:
        result = run_cli(
            "run", str(source), "-o", str(tmp_path / "w1" / "f.jsonl"),
            "--base-url", fast.base_url, "--model", MOCK_MODEL, "--no-progress",
            "--workers", "1",
            env=MOCK_ENV,
        )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = read_jsonl(tmp_path / "w2" / "f.jsonl")
    assert sorted(line["id"] for line in lines) == ids, "each article exactly once"
    validator = schema_validator("feed")
    for line in lines:
        validator.validate(line)
    assert by_id(tmp_path / "w2" / "f.jsonl") == by_id(tmp_path / "w1" / "f.jsonl")
    stats = json.loads((tmp_path / "w2" / "run-stats.json").read_text(encoding="utf-8"))
    assert stats["ok"] == 96 and stats["workers"] == 2
    assert 0 < stats["in_workers"] <= 96, "the worker processes took part"
    assert stats["prompt_tokens"] > 0
    assert list(psutil.Process().children(recursive=True)) == [], "no worker left behind"


def test_offline_workers_match_one_process(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_corpus(source, 150)
    for workers in ("1", "2"):
        result = run_cli(
            "run", str(source), "-o", str(tmp_path / workers / "f.jsonl"),
            "--backend", "offline", "--workers", workers, "--no-progress",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
    assert by_id(tmp_path / "2" / "f.jsonl") == by_id(tmp_path / "1" / "f.jsonl")
    stats = json.loads((tmp_path / "2" / "run-stats.json").read_text(encoding="utf-8"))
    assert stats["in_workers"] > 0, "the worker processes took part"


def test_default_workers_are_the_cores_for_an_endpoint_and_one_offline() -> None:
    assert usable_cores() >= 1
    endpoint = resolve_settings(base_url="http://127.0.0.1:9/v1", env={})
    assert endpoint.workers == BACKEND_DEFAULTS["openai"].workers == usable_cores()
    assert resolve_settings(env={}).workers == 1  # offline
    assert resolve_settings(base_url="http://x/v1", workers=3, env={}).workers == 3


def test_rate_limits_are_shared_out_between_workers() -> None:
    from summarise.backends.openai import OpenAIBackend
    from summarise.backends.openai.probe import Capabilities
    from summarise.config import EndpointConfig

    backend = OpenAIBackend(EndpointConfig(model="m", base_url="http://x/v1", rpm=601, tpm=10))
    assert backend.worker_recipe(2) is None, "not before the probe"
    backend.capabilities = Capabilities(context_length=None)
    recipe = backend.worker_recipe(2)
    assert recipe is not None
    rebuilt = recipe()
    assert isinstance(rebuilt, OpenAIBackend)
    assert (rebuilt.config.rpm, rebuilt.config.tpm) == (300, 5)


# -- hostile: processes that die ------------------------------------------------------------


def spawn_run(source: Path, out: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, **MOCK_ENV, "SUMMARISE_WORKERS": "2"}
    return subprocess.Popen(
        [sys.executable, "-m", "summarise", "run", str(source), "-o", str(out),
         "--base-url", url, "--model", MOCK_MODEL, "--no-progress", "--concurrency", "16",
         *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_workers(run: subprocess.Popen[str], count: int = 2) -> list[psutil.Process]:
    """The run's worker processes, once each is talking to the endpoint (running articles:
    until then the main process runs them itself)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [
            p for p in psutil.Process(run.pid).children() if "summarise.workers" in p.cmdline()
        ]
        if len(workers) == count and all(p.net_connections(kind="tcp") for p in workers):
            return workers
        time.sleep(0.05)
    raise AssertionError("the worker processes did not start")


def resume_and_check(source: Path, out: Path, url: str, ids: list[str]) -> None:
    again = spawn_run(source, out, url)
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    lines = read_jsonl(out)
    assert sorted(line["id"] for line in lines) == ids, "every article once, none twice"


@pytest.mark.slow
def test_a_worker_killed_mid_run_stops_the_run_and_resume_finishes(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out" / "f.jsonl"
    ids = write_corpus(source, 400)
    with serve_in_process("--latency", "0.3") as (url, _):
        run = spawn_run(source, out, url)
        workers = wait_for_workers(run)
        workers[0].send_signal(signal.SIGKILL)
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 2, stderr
        assert "worker process" in stderr and "killed by signal 9" in stderr
        assert "run again" in stderr
        written = read_jsonl(out)  # every line whole
        assert len(written) < 400
        assert len({line["id"] for line in written}) == len(written)
        assert not psutil.pid_exists(workers[1].pid) or workers[1].status() == "zombie"
        resume_and_check(source, out, url, ids)


@pytest.mark.slow
def test_the_parent_killed_takes_its_workers_and_resume_finishes(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out" / "f.jsonl"
    ids = write_corpus(source, 400)
    with serve_in_process("--latency", "0.3") as (url, _):
        run = spawn_run(source, out, url)
        workers = wait_for_workers(run)
        run.send_signal(signal.SIGKILL)
        run.communicate(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, "workers outlived their parent"
        resume_and_check(source, out, url, ids)


@pytest.mark.slow
def test_a_fatal_error_in_a_worker_stops_the_run_with_its_message(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out" / "f.jsonl"
    write_corpus(source, 200, marker_at=150)  # late: the workers run it
    with serve_in_process("--latency", "0.3", "--fault", "zqxfault=401") as (url, _):
        run = spawn_run(source, out, url)
        _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2, stderr
    assert "authentication failed" in stderr
    assert "a0150" not in {line["id"] for line in read_jsonl(out)}
