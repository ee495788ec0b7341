"""The feed's promise under hostile conditions: nothing lost, nothing doubled, a run that
cannot write stops at once. Each test is named for the behaviour; all traffic is loopback,
every wait bounded. (Issue 12: items 1, 3, 4, 6, 9, 11, 12 and 14.)"""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from summarise import batch
from summarise.errors import WriteError
from summarise.feed import _LineFile
from summarise.mock import MockConfig, MockServer
from tests.helpers import (
    EXAMPLES,
    MOCK_ENV,
    MOCK_MODEL,
    ROOT,
    SEED_IDS,
    read_jsonl,
    run_against,
    run_cli,
)

pytestmark = pytest.mark.usefixtures("no_endpoint_env")


def many_articles(path: Path, count: int) -> Path:
    """``count`` distinct articles (the seeds, numbered) as one JSONL file."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    lines = [
        json.dumps({"id": f"a{n:04d}", "title": f"Copy {n}", "text": texts[n % len(texts)]})
        for n in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def offline(*args: str) -> Any:
    return run_cli("run", *args, "--no-progress", env={})


def cli_process(*args: str, **popen: Any) -> subprocess.Popen[bytes]:
    """``summarise ARGS`` as a real process (signals, pipes and locks are per process)."""
    env = {**os.environ, **MOCK_ENV, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "summarise", *args, "--no-progress"], cwd=ROOT, env=env, **popen
    )


@pytest.fixture
def slow_mock() -> Iterator[MockServer]:
    with MockServer(MockConfig(latency_s=0.5)) as server:
        yield server


# --- 1: outputs checked before anything runs ------------------------------------------------


@pytest.mark.parametrize("retry", [[], ["--retry-errors"]])
def test_an_errors_file_that_is_the_feed_is_refused_and_the_feed_kept(
    tmp_path: Path, retry: list[str]
) -> None:
    feed = tmp_path / "f.jsonl"
    assert offline(str(EXAMPLES), "-o", str(feed)).exit_code == 0
    before = feed.read_bytes()
    result = offline(str(EXAMPLES), "-o", str(feed), "--errors", str(feed), *retry)
    assert result.exit_code == 2
    assert "must be three different files" in result.stderr
    assert feed.read_bytes() == before


def test_an_output_that_is_an_input_or_a_folder_is_refused(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_bytes((EXAMPLES / "000_5132f6c47e1c0e2b.txt").read_bytes())
    as_input = offline(str(article), "-o", str(article))
    assert as_input.exit_code == 2 and "both an input and an output" in as_input.stderr
    assert article.read_bytes() == (EXAMPLES / "000_5132f6c47e1c0e2b.txt").read_bytes()
    folder = offline(str(article), "-o", str(tmp_path))
    assert folder.exit_code == 2 and "names a folder" in folder.stderr


def test_outputs_inside_an_input_folder_are_never_read_back(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in EXAMPLES.glob("*.txt"):
        (corpus / seed.name).write_bytes(seed.read_bytes())
    feed = corpus / "out" / "feed.jsonl"
    for _ in range(2):
        assert offline(str(corpus), "-o", str(feed)).exit_code == 0
    assert sorted(line["id"] for line in read_jsonl(feed)) == SEED_IDS


# --- 3: a run that cannot write stops at once ------------------------------------------------


def test_a_full_disk_stops_the_run_at_once_with_one_message(tmp_path: Path) -> None:
    articles = many_articles(tmp_path / "in.jsonl", 40)
    with MockServer(MockConfig(latency_s=0.05)) as server:
        result = run_against(
            server,
            str(articles),
            "-o",
            "/dev/full",
            "--errors",
            str(tmp_path / "e.jsonl"),
            "--concurrency",
            "4",
        )
        asked = server.stats.chat_requests
    assert result.exit_code == 4, result.output
    assert result.stderr.count("No space left on device") == 1
    assert "Traceback" not in result.stderr
    assert asked <= 4 + 4 + 4  # the probe, the first answers, what was in flight: not 40
    stats = json.loads((tmp_path / "run-stats.json").read_text())
    assert stats["ok"] == 0 and "cannot write" in stats["stopped"]


class _FullDisk(io.BytesIO):
    """A file that takes the first half of a write, then fails with ENOSPC."""

    def write(self, data: Any) -> int:
        super().write(bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_that_fails_half_way_leaves_no_half_line() -> None:
    fh = _FullDisk(b'{"id":"a"}\n')
    with pytest.raises(WriteError, match="No space left"):
        _LineFile(fh, "feed").append(b'{"id":"b","summary":"..."}\n')
    assert fh.getvalue() == b'{"id":"a"}\n'


def test_a_closed_stdout_ends_the_run_quietly_with_no_further_requests(tmp_path: Path) -> None:
    articles = many_articles(tmp_path / "in.jsonl", 200)
    with MockServer(MockConfig(latency_s=0.02)) as server:
        run = cli_process(
            "run", str(articles), "-o", "-", "--errors", str(tmp_path / "e.jsonl"),
            "--base-url", server.base_url, "--model", MOCK_MODEL, "--concurrency", "4",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert run.stdout is not None and run.stderr is not None
        first = run.stdout.readline()
        run.stdout.close()  # what `| head -1` does
        code = run.wait(timeout=60)
        stderr = run.stderr.read().decode()
        asked = server.stats.chat_requests
    assert json.loads(first)["id"].startswith("a")
    assert code == 141, stderr
    assert "Traceback" not in stderr and "error" not in stderr.lower()
    assert asked < 30  # not 201


# --- 4: one writer per feed ------------------------------------------------------------------


def test_a_second_run_on_the_same_feed_is_refused_while_the_first_writes(
    tmp_path: Path, slow_mock: MockServer
) -> None:
    # 40 answers of 0.5 s, two at a time: the first run writes for 10 s, long enough for the
    # second to start on a loaded machine.
    articles = many_articles(tmp_path / "in.jsonl", 40)
    feed = tmp_path / "feed.jsonl"
    flags = ["-o", str(feed), "--base-url", slow_mock.base_url, "--model", MOCK_MODEL]
    first = cli_process("run", str(articles), *flags, "--concurrency", "2")
    deadline = time.monotonic() + 30
    while not read_jsonl(feed) and time.monotonic() < deadline:  # the first run is writing
        time.sleep(0.05)
    second = cli_process("run", str(articles), *flags, stderr=subprocess.PIPE)
    assert second.wait(timeout=60) == 2
    assert second.stderr is not None
    assert f"another summarise run (pid {first.pid})" in second.stderr.read().decode()
    assert first.wait(timeout=120) == 0
    assert sorted(line["id"] for line in read_jsonl(feed)) == [f"a{n:04d}" for n in range(40)]


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(
    tmp_path: Path, slow_mock: MockServer
) -> None:
    articles = many_articles(tmp_path / "in.jsonl", 12)
    feed = tmp_path / "feed.jsonl"
    flags = ["-o", str(feed), "--base-url", slow_mock.base_url, "--model", MOCK_MODEL]
    killed = cli_process("run", str(articles), *flags)
    deadline = time.monotonic() + 30
    while not feed.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    again = run_against(slow_mock, str(articles), "-o", str(feed))
    assert again.exit_code == 0, again.stderr
    assert sorted(line["id"] for line in read_jsonl(feed)) == [f"a{n:04d}" for n in range(12)]


# --- 9: text that users or servers control is printed as text --------------------------------


def test_paths_with_markup_are_printed_verbatim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = offline(str(EXAMPLES), "-o", "[bold]x[/].jsonl")
    assert result.exit_code == 0
    assert "[bold]x[/].jsonl" in result.stderr
    missing = offline("[/]nothing.txt", "-o", "[bold]x[/].jsonl")
    assert missing.exit_code == 2 and "[/]nothing.txt" in missing.stderr


def test_eval_of_a_feed_that_is_not_utf8_or_of_broken_gold_is_a_clear_error(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_bytes(b'{"id": "\xff\xfe"}\n')
    bad_feed = run_cli("eval", str(feed), "--gold", str(ROOT / "tests" / "gold"))
    assert bad_feed.exit_code == 2 and "Traceback" not in bad_feed.output
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "x.json").write_text("{not json")
    assert offline(str(EXAMPLES), "-o", str(tmp_path / "ok.jsonl")).exit_code == 0
    bad_gold = run_cli("eval", str(tmp_path / "ok.jsonl"), "--gold", str(gold))
    assert bad_gold.exit_code == 2 and "x.json" in bad_gold.stderr


# --- 11: SIGTERM and reconciling the two files -------------------------------------------------


def test_sigterm_keeps_finished_articles_writes_the_stats_and_exits_143(
    tmp_path: Path, slow_mock: MockServer
) -> None:
    articles = many_articles(tmp_path / "in.jsonl", 40)
    feed = tmp_path / "feed.jsonl"
    run = cli_process(
        "run", str(articles), "-o", str(feed), "--base-url", slow_mock.base_url,
        "--model", MOCK_MODEL, "--concurrency", "2", stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(read_jsonl(feed)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=30) == 143
    assert run.stderr is not None and "terminated" in run.stderr.read().decode()
    stats = json.loads((tmp_path / "run-stats.json").read_text())
    done = read_jsonl(feed)
    assert stats["ok"] == len(done) >= 2
    again = run_against(slow_mock, str(articles), "-o", str(feed), "--concurrency", "8")
    assert again.exit_code == 0
    assert sorted(line["id"] for line in read_jsonl(feed)) == [f"a{n:04d}" for n in range(40)]


def test_a_resume_removes_from_the_errors_file_what_the_feed_holds(tmp_path: Path) -> None:
    feed, errors = tmp_path / "f.jsonl", tmp_path / "f.errors.jsonl"
    assert offline(str(EXAMPLES), "-o", str(feed)).exit_code == 0
    # what a kill -9 in the middle of --retry-errors leaves: an id in both files
    [line] = read_jsonl(feed)[:1]
    stale = {"id": line["id"], "source": line["source"], "stage": "model", "error": "timeout"}
    stale |= {"message": "x", "model": "offline-extractor", "prompt_version": "offline-1"}
    errors.write_text(json.dumps(stale) + "\n")
    assert offline(str(EXAMPLES), "-o", str(feed)).exit_code == 0
    assert read_jsonl(errors) == []
    assert len(read_jsonl(feed)) == 5


# --- 12: values that make no sense are refused -----------------------------------------------


@pytest.mark.parametrize(
    "flag", [["--timeout", "-1"], ["--max-tokens", "-5"], ["--concurrency", "0"],
             ["--max-tokens-per-run", "0"], ["--rpm", "0"], ["--max-attempts", "0"]],
)  # fmt: skip
def test_negative_or_zero_limits_are_refused(tmp_path: Path, flag: list[str]) -> None:
    result = offline(str(EXAMPLES), "-o", str(tmp_path / "f.jsonl"), *flag)
    assert result.exit_code == 2
    assert not (tmp_path / "f.jsonl").exists()


# --- 7 (the run's side): a waiting run says so -------------------------------------------------


def test_a_waiting_run_says_what_it_waits_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "HEARTBEAT_S", 0.2)
    with MockServer(MockConfig(latency_s=1.0)) as server:
        result = run_against(server, str(EXAMPLES), "-o", str(tmp_path / "f.jsonl"))
    assert result.exit_code == 0
    assert "waiting for the endpoint: 5 requests in flight, oldest" in result.stderr


# --- 14: one feed, one current record per id -------------------------------------------------


def test_a_run_with_another_model_refuses_to_mix_records_into_the_feed(tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    assert offline(str(EXAMPLES), "-o", str(feed)).exit_code == 0
    with MockServer(MockConfig()) as server:
        refused = run_against(server, str(EXAMPLES), "-o", str(feed))
        assert server.stats.chat_requests == 0  # refused before any request
        replaced = run_against(server, str(EXAMPLES), "-o", str(feed), "--supersede")
    assert refused.exit_code == 2
    assert "already holds records" in refused.stderr and "--supersede" in refused.stderr
    assert replaced.exit_code == 0
    lines = read_jsonl(feed)
    current = {line["id"]: line for line in lines}  # the rule: the last line for an id
    assert sorted(current) == SEED_IDS and len(lines) == 10
    for line in current.values():
        assert line["provenance"]["model"] == MOCK_MODEL
        assert line["supersedes"] == {"model": "offline-extractor", "prompt_version": "offline-1"}
