"""``summarise batch``: request files, the ledger, collecting results exactly once.

Answers here are synthetic (``summarise.mock.answers``), never a model's. No network but
127.0.0.1 (the mock's Files and Batches routes, at the end).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from summarise import prompt
from summarise.backends.base import DEFAULT_MAX_ARTICLE_CHARS, fit_text
from summarise.backends.openai.answers import response_format_for
from summarise.backends.openai.client import chat_body
from summarise.batchapi.collect import CollectOptions, collect, local_results
from summarise.batchapi.prepare import PrepareOptions, prepare
from summarise.batchapi.requests import Limits, parse_custom_id
from summarise.clean import clean
from summarise.config import EndpointConfig
from summarise.ingest import check_inputs, read
from summarise.mock import MockConfig, MockReply, MockServer
from summarise.mock.answers import chat_completion, schema_invalid_summary, synthetic_summary
from summarise.schema import model_facing_schema
from tests.helpers import EXAMPLES, MOCK_ENV, MOCK_MODEL, ROOT, read_jsonl, run_cli

CONFIG = EndpointConfig(model=MOCK_MODEL, base_url="http://127.0.0.1:9/v1")
INVALID = "MARK-INVALID"
FAIL = "MARK-FAIL"


def articles(path: Path, n: int, marks: dict[int, str] | None = None) -> Path:
    """``n`` small distinct articles with a quote each, as JSONL (``marks``: text to add)."""
    marks = marks or {}
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            text = (
                f"Foreign Minister Anna Berg met her counterpart Jon Dahl in Oslo on Monday "
                f'for talks number {i} on fishing rights. "We are ready to sign a deal {i}," '
                f"Berg told reporters after the meeting. {marks.get(i, '')}"
            )
            fh.write(json.dumps({"id": f"a{i:05d}", "text": text}) + "\n")
    return path


def options(tmp_path: Path, **changes: Any) -> PrepareOptions:
    return PrepareOptions(feed=str(tmp_path / "out" / "feed.jsonl"), **changes)


def request_lines(folder: Path, pattern: str = "requests-*.jsonl") -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for path in sorted(folder.glob(pattern)):
        lines.extend(read_jsonl(path))
    return lines


def user_text(line: dict[str, Any]) -> str:
    return str(line["body"]["messages"][1]["content"])


Answer = Callable[[dict[str, Any]], dict[str, Any]]


def valid(line: dict[str, Any]) -> dict[str, Any]:
    """A vLLM-shaped result line with a valid synthetic answer to ``line``."""
    content = json.dumps(synthetic_summary(user_text(line)))
    body = chat_completion(content, response_id=f"chatcmpl-{line['custom_id']}", prompt_tokens=9)
    return result(line, 200, body)


def result(line: dict[str, Any], status: int, body: Any, error: Any = None) -> dict[str, Any]:
    return {
        "id": f"vllm-{line['custom_id']}",
        "custom_id": line["custom_id"],
        "response": None
        if status < 0
        else {"status_code": status, "request_id": "r", "body": body},
        "error": error,
    }


def write_results(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def outcome(tmp_path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    out = tmp_path / "out"
    return read_jsonl(out / "feed.jsonl"), read_jsonl(out / "feed.errors.jsonl")


def one_line_each(tmp_path: Path, n: int) -> None:
    feed, errors = outcome(tmp_path)
    ids = Counter(r["id"] for r in [*feed, *errors])
    assert len(ids) == n and set(ids.values()) == {1}, ids


# -- prepare ------------------------------------------------------------------------------


def test_prepare_writes_batch_lines_whose_bodies_are_the_sync_request(tmp_path: Path) -> None:
    stats = prepare([str(EXAMPLES)], tmp_path / "b", CONFIG, options(tmp_path))
    lines = request_lines(tmp_path / "b")
    assert stats.prepared == len(lines) == 5
    fmt = response_format_for("json_schema", model_facing_schema())
    expected = {}
    for raw in read(check_inputs([str(EXAMPLES)])):
        article = clean(raw)
        text, _ = fit_text(article.text, DEFAULT_MAX_ARTICLE_CHARS)
        messages = prompt.build_messages(text, title=article.title, published=article.published)
        expected[article.title] = chat_body(CONFIG, messages, fmt)
    for line in lines:
        assert set(line) == {"custom_id", "method", "url", "body"}
        assert (line["method"], line["url"]) == ("POST", "/v1/chat/completions")
        assert parse_custom_id(line["custom_id"]) is not None
        assert line["body"]["response_format"]["json_schema"]["strict"] is True
        assert line["body"] in expected.values()


def test_prepare_splits_files_at_the_line_limit(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 5)
    stats = prepare([str(src)], tmp_path / "b", CONFIG, options(tmp_path, limits=Limits(2)))
    sizes = [len(read_jsonl(tmp_path / "b" / f)) for f in stats.files]
    assert sizes == [2, 2, 1]


def test_prepare_splits_files_at_the_byte_limit(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 6)
    prepare([str(src)], tmp_path / "probe", CONFIG, options(tmp_path / "p"))
    longest = max(
        len(x)
        for x in (tmp_path / "probe" / "requests-0001.jsonl").read_bytes().splitlines(keepends=True)
    )
    limit = Limits(max_bytes=2 * longest + 1)
    stats = prepare([str(src)], tmp_path / "b", CONFIG, options(tmp_path, limits=limit))
    files = [tmp_path / "b" / f for f in stats.files]
    assert len(files) == 3 and all(f.stat().st_size <= limit.max_bytes for f in files)
    assert sum(len(read_jsonl(f)) for f in files) == 6


def test_preparing_twice_adds_nothing(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 4)
    prepare([str(src)], tmp_path / "b", CONFIG, options(tmp_path))
    again = prepare([str(src)], tmp_path / "b", CONFIG, options(tmp_path))
    assert (again.prepared, again.in_ledger, again.files) == (0, 4, [])
    assert len(request_lines(tmp_path / "b")) == 4


def test_prepare_sends_bad_inputs_to_the_errors_file(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 2)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write("not json\n" + json.dumps({"id": "empty", "text": "   "}) + "\n")
    stats = prepare([str(src)], tmp_path / "b", CONFIG, options(tmp_path))
    assert (stats.prepared, stats.failed) == (2, 2)
    _, errors = outcome(tmp_path)
    assert {e["stage"] for e in errors} == {"ingest", "clean"}


def test_prepare_cli_needs_no_key_and_refuses_another_models_feed_unless_superseding(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "out" / "feed.jsonl"
    ran = run_cli(
        "run",
        str(sorted(EXAMPLES.glob("*.txt"))[0]),
        "-o",
        str(feed),
        "--no-progress",
        env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""},
    )
    assert ran.exit_code == 0, ran.output
    # the offline record has another model: the feed refuses it unless superseding
    result = run_cli(
        "batch",
        "prepare",
        str(EXAMPLES),
        "--dir",
        str(tmp_path / "b"),
        "-o",
        str(feed),
        env={"OPENAI_API_KEY": ""},
    )
    assert result.exit_code == 2 and "already holds records" in result.output
    result = run_cli(
        "batch",
        "prepare",
        str(EXAMPLES),
        "--dir",
        str(tmp_path / "b"),
        "-o",
        str(feed),
        "--supersede",
        "--max-lines",
        "2",
        env={"OPENAI_API_KEY": ""},
    )
    assert result.exit_code == 0, result.output
    assert len(request_lines(tmp_path / "b")) == 5


# -- collect from local result files ----------------------------------------------------


def test_vllm_results_end_with_exactly_one_line_per_article(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 6)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    lines = request_lines(folder)
    answers = [valid(x) for x in lines]
    answers[1] = result(lines[1], 500, {"error": {"message": "engine died", "code": None}})
    answers[2] = result(lines[2], -1, None, {"code": "timeout", "message": "no answer"})
    answers[3] = result(lines[3], 0, None)  # the status_code 0 quirk
    del answers[4]  # missing from the results
    first = collect(
        folder, local_results([write_results(tmp_path / "r1.jsonl", answers)]), CollectOptions()
    )
    assert (first.done, first.requeued, first.failed) == (2, 4, 0)
    assert first.files == ["round-2/requests-0001.jsonl"]
    round2 = request_lines(folder / "round-2")
    assert len(round2) == 4 and {x["custom_id"].rsplit("-", 1)[1] for x in round2} == {"2"}
    second = collect(
        folder,
        local_results([write_results(tmp_path / "r2.jsonl", [valid(x) for x in round2])]),
        CollectOptions(),
    )
    assert (second.done, second.failed) == (4, 0)
    one_line_each(tmp_path, 6)
    feed, _ = outcome(tmp_path)
    assert all(
        r["provenance"]["batch_id"] is None and r["provenance"]["backend"] == "openai" for r in feed
    )


def test_failed_requests_become_error_records_after_max_rounds(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 3)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    lines = request_lines(folder)
    answers = [valid(lines[0]), result(lines[1], 0, None)]
    stats = collect(
        folder,
        local_results([write_results(tmp_path / "r.jsonl", answers)]),
        CollectOptions(max_rounds=1),
    )
    assert (stats.done, stats.failed, stats.files) == (1, 2, [])
    one_line_each(tmp_path, 3)
    _, errors = outcome(tmp_path)
    assert {e["error"] for e in errors} == {"status_code_0", "missing_result"}
    assert all("after 1 rounds" in e["message"] for e in errors)


def test_an_invalid_answer_becomes_a_round_2_reask(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 2)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    lines = request_lines(folder)
    bad = json.dumps(schema_invalid_summary(user_text(lines[0])))
    answers = [result(lines[0], 200, chat_completion(bad)), valid(lines[1])]
    stats = collect(
        folder, local_results([write_results(tmp_path / "r.jsonl", answers)]), CollectOptions()
    )
    assert (stats.done, stats.reasked) == (1, 1)
    (reask,) = request_lines(folder / "round-2")
    messages = reask["body"]["messages"]
    assert messages[:2] == lines[0]["body"]["messages"]
    assert messages[2] == {"role": "assistant", "content": bad}
    assert messages[3]["role"] == "user" and "does not match the schema" in messages[3]["content"]
    assert {k: v for k, v in reask["body"].items() if k != "messages"} == {
        k: v for k, v in lines[0]["body"].items() if k != "messages"
    }
    collect(
        folder,
        local_results([write_results(tmp_path / "r2.jsonl", [valid(reask)])]),
        CollectOptions(),
    )
    feed, _ = outcome(tmp_path)
    fixed = next(r for r in feed if r["id"] == "a00000")
    assert fixed["provenance"]["attempts"] == 2
    assert [w["code"] for w in fixed["warnings"]][:1] == ["reasked"]
    one_line_each(tmp_path, 2)


def test_a_cut_off_answer_is_reasked_and_a_refusal_is_an_error(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 2)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    lines = request_lines(folder)
    answers = [
        result(lines[0], 200, chat_completion('{"headline": "cut', finish_reason="length")),
        result(lines[1], 200, chat_completion(None, refusal="I cannot help with that")),
    ]
    stats = collect(
        folder, local_results([write_results(tmp_path / "r.jsonl", answers)]), CollectOptions()
    )
    assert (stats.reasked, stats.failed) == (1, 1)
    (reask,) = request_lines(folder / "round-2")
    assert reask["body"]["messages"][-1] == prompt.truncated_message()
    _, errors = outcome(tmp_path)
    assert [e["error"] for e in errors] == ["refused"]


def test_collecting_the_same_results_twice_adds_nothing(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 4)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    lines = request_lines(folder)
    answers = [valid(x) for x in lines[:3]] + [result(lines[3], 0, None)]
    results = write_results(tmp_path / "r.jsonl", answers)
    collect(folder, local_results([results]), CollectOptions())
    before = (tmp_path / "out" / "feed.jsonl").read_bytes()
    again = collect(folder, local_results([results]), CollectOptions())
    assert (again.done, again.failed, again.requeued, again.ignored) == (0, 0, 0, 4)
    assert (tmp_path / "out" / "feed.jsonl").read_bytes() == before
    assert len(request_lines(folder / "round-2")) == 1


def test_a_sync_run_on_the_same_feed_counts_as_done(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 3)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    lines = request_lines(folder)
    results = write_results(tmp_path / "r.jsonl", [valid(x) for x in lines])
    collect(folder, local_results([results]), CollectOptions())
    # the mixed case: records already there (as if a sync run wrote them) are never doubled
    (folder / "ledger.sqlite").unlink()
    for extra in folder.glob("ledger.sqlite-*"):
        extra.unlink()
    for f in folder.glob("requests-*.jsonl"):
        f.unlink()
    again = prepare([str(src)], folder, CONFIG, options(tmp_path))
    assert (again.prepared, again.in_feed) == (0, 3)


def test_sigkill_during_collect_then_collect_again_gives_one_line_each(tmp_path: Path) -> None:
    n = 1500
    src = articles(tmp_path / "in.jsonl", n)
    folder = tmp_path / "b"
    prepare([str(src)], folder, CONFIG, options(tmp_path))
    results = write_results(tmp_path / "r.jsonl", [valid(x) for x in request_lines(folder)])
    feed = tmp_path / "out" / "feed.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "summarise",
        "batch",
        "collect",
        str(folder),
        "--results",
        str(results),
    ]
    env = {**os.environ, **MOCK_ENV}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if feed.is_file() and feed.read_bytes().count(b"\n") >= n // 5:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "collect finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = feed.read_bytes().count(b"\n")
    assert 0 < written < n
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    one_line_each(tmp_path, n)


# -- the mock's Files and Batches API ----------------------------------------------------


def responder(body: dict[str, Any]) -> MockReply | None:
    """Invalid first answers for INVALID articles, 500s for FAIL articles (first time)."""
    messages = body.get("messages") or []
    text = str(messages[-1].get("content")) if messages else ""
    reasked = any(m.get("role") == "assistant" for m in messages)
    if INVALID in text and not reasked:
        return MockReply(content=schema_invalid_summary(text))
    if FAIL in str(messages[1].get("content") if len(messages) > 1 else "") and FAIL not in FAILED:
        FAILED.add(FAIL)
        return MockReply(status=500)
    return None


FAILED: set[str] = set()


def batch(server: MockServer, *args: str) -> Any:
    return run_cli("batch", *args, "--base-url", server.base_url, env=MOCK_ENV)


def e2e_prepare(tmp_path: Path, n: int, marks: dict[int, str] | None = None) -> Path:
    src = articles(tmp_path / "in.jsonl", n, marks)
    folder = tmp_path / "b"
    result = run_cli(
        "batch",
        "prepare",
        str(src),
        "--dir",
        str(folder),
        "-o",
        str(tmp_path / "out" / "feed.jsonl"),
        "--model",
        MOCK_MODEL,
        "--max-lines",
        "3",
        env=MOCK_ENV,
    )
    assert result.exit_code == 0, result.output
    return folder


def test_e2e_prepare_submit_status_collect_round_2_collect(tmp_path: Path) -> None:
    FAILED.clear()
    config = MockConfig(responder=responder, batch_polls_per_step=0)
    with MockServer(config) as server:
        folder = e2e_prepare(tmp_path, 7, {1: INVALID, 5: FAIL})
        submitted = batch(server, "submit", str(folder))
        assert submitted.exit_code == 0, submitted.output
        assert len(server.batches) == 3
        again = batch(server, "submit", str(folder))
        assert again.exit_code == 0 and len(server.batches) == 3  # never a second batch
        status = batch(server, "status", str(folder), "--json")
        assert status.exit_code == 0, status.output
        shown = json.loads(status.stdout)
        assert {b["status"] for b in shown["batches"]} == {"completed"}
        assert shown["outstanding"] == 7
        first = batch(server, "collect", str(folder))
        assert first.exit_code == 0, first.output
        feed, errors = outcome(tmp_path)
        assert len(feed) == 5 and not errors
        assert all(r["provenance"]["batch_id"].startswith("batch_") for r in feed)
        round2 = request_lines(folder / "round-2")
        assert len(round2) == 2
        assert batch(server, "submit", str(folder)).exit_code == 0
        second = batch(server, "collect", str(folder))
        assert second.exit_code == 0, second.output
        one_line_each(tmp_path, 7)
        final = json.loads(batch(server, "status", str(folder), "--json").stdout)
        assert final["outstanding"] == 0 and final["articles"] == {"done": 7}
        assert final["usage"]["completion_tokens"] > 0
        shown_text = batch(server, "status", str(folder))
        assert shown_text.exit_code == 0 and "outstanding: 0" in shown_text.output


def test_e2e_expired_batch_requests_are_sent_again(tmp_path: Path) -> None:
    config = MockConfig(batch_polls_per_step=0, batch_expire_after=2)
    with MockServer(config) as server:
        folder = e2e_prepare(tmp_path, 3)
        assert batch(server, "submit", str(folder)).exit_code == 0
        first = batch(server, "collect", str(folder))
        assert first.exit_code == 0, first.output
        assert len(outcome(tmp_path)[0]) == 2
        assert len(request_lines(folder / "round-2")) == 1
        assert batch(server, "submit", str(folder)).exit_code == 0
        assert batch(server, "collect", str(folder)).exit_code == 0
        one_line_each(tmp_path, 3)


def test_e2e_status_code_0_lines_are_sent_again_not_dropped(tmp_path: Path) -> None:
    FAILED.clear()
    config = MockConfig(responder=responder, batch_polls_per_step=0, batch_status_zero_rate=1.0)
    with MockServer(config) as server:
        folder = e2e_prepare(tmp_path, 3, {0: FAIL})
        assert batch(server, "submit", str(folder)).exit_code == 0
        assert batch(server, "collect", str(folder)).exit_code == 0
        errors_file = next((folder / "results").glob("*-errors.jsonl"))
        (line,) = read_jsonl(errors_file)
        assert line["response"]["status_code"] == 0 and line["error"] is None
        assert len(request_lines(folder / "round-2")) == 1
        assert batch(server, "submit", str(folder)).exit_code == 0
        assert batch(server, "collect", str(folder)).exit_code == 0
        one_line_each(tmp_path, 3)


def test_e2e_collect_before_the_batch_ends_waits(tmp_path: Path) -> None:
    config = MockConfig(batch_polls_per_step=100)
    with MockServer(config) as server:
        folder = e2e_prepare(tmp_path, 2)
        assert batch(server, "submit", str(folder)).exit_code == 0
        early = batch(server, "collect", str(folder))
        assert early.exit_code == 0 and "still running" in early.output
        assert not (tmp_path / "out" / "feed.jsonl").read_bytes()
        cancelled = batch(server, "cancel", str(folder))
        assert cancelled.exit_code == 0, cancelled.output
        assert [b["status"] for b in server.batches] == ["cancelling"]


@pytest.mark.parametrize("fixups", [True])
def test_e2e_sync_fixups_answer_reasks_at_once(tmp_path: Path, fixups: bool) -> None:
    config = MockConfig(responder=responder, batch_polls_per_step=0)
    with MockServer(config) as server:
        folder = e2e_prepare(tmp_path, 3, {2: INVALID})
        assert batch(server, "submit", str(folder)).exit_code == 0
        result = batch(server, "collect", str(folder), "--sync-fixups")
        assert result.exit_code == 0, result.output
        assert not (folder / "round-2").exists()
        one_line_each(tmp_path, 3)
        feed, _ = outcome(tmp_path)
        fixed = next(r for r in feed if r["id"] == "a00002")
        assert fixed["provenance"]["attempts"] == 2


def test_e2e_submit_after_a_crash_mid_create_finds_the_batch_by_metadata(tmp_path: Path) -> None:
    with MockServer(MockConfig(batch_polls_per_step=100)) as server:
        folder = e2e_prepare(tmp_path, 2)
        assert batch(server, "submit", str(folder)).exit_code == 0
        # as if killed after batches.create answered but before the ledger recorded it
        with sqlite3.connect(folder / "ledger.sqlite") as db:
            db.execute("UPDATE files SET batch_id = NULL, status = 'prepared'")
            db.execute("UPDATE articles SET state = 'prepared'")
        again = batch(server, "submit", str(folder))
        assert again.exit_code == 0, again.output
        assert "created before an interruption" in again.stdout
        assert len(server.batches) == 1


def test_prepare_after_a_crash_drops_the_unfinished_file(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 3)
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "requests-0001.jsonl.part").write_bytes(b'{"custom_id": "torn')
    stats = prepare([str(src)], folder, CONFIG, options(tmp_path))
    assert stats.prepared == 3 and not list(folder.glob("*.part"))
    assert len(request_lines(folder)) == 3


def test_e2e_a_failed_batch_ends_its_articles_as_error_records_after_max_rounds(
    tmp_path: Path,
) -> None:
    with MockServer(MockConfig(batch_polls_per_step=0, batch_max_requests=1)) as server:
        folder = e2e_prepare(tmp_path, 2)  # one file of two requests: too many for this mock
        assert batch(server, "submit", str(folder)).exit_code == 0
        result = batch(server, "collect", str(folder), "--max-rounds", "1")
        assert result.exit_code == 1, result.output
        one_line_each(tmp_path, 2)
        _, errors = outcome(tmp_path)
        assert {e["error"] for e in errors} == {"batch_failed"}
        assert all("too_many_tasks" in e["message"] for e in errors)


def test_request_files_inside_an_input_folder_are_never_read_as_inputs(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    articles(inputs / "a.jsonl", 2)
    first = prepare([str(inputs)], inputs / "batch", CONFIG, options(tmp_path))
    again = prepare([str(inputs)], inputs / "batch", CONFIG, options(tmp_path))
    assert (first.prepared, again.prepared, again.failed, again.in_ledger) == (2, 0, 0, 2)


def test_shards_split_the_input_without_overlap(tmp_path: Path) -> None:
    src = articles(tmp_path / "in.jsonl", 20)
    seen = []
    for k in (1, 2):
        prepare([str(src)], tmp_path / f"b{k}", CONFIG, options(tmp_path / f"o{k}", shard=(k, 2)))
        seen.append({parse_custom_id(x["custom_id"]) for x in request_lines(tmp_path / f"b{k}")})
    assert not seen[0] & seen[1] and len(seen[0] | seen[1]) == 20
