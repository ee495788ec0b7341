"""The fault matrix of issue 5: every injected fault ends as exactly one line, never zero or two.

Each run has three articles: ``calm`` (no fault), ``once`` (the fault on its first request
only: it must end as a record, after a retry or a re-ask) and ``always`` (the fault on every
request: it must end as one error record with a meaningful ``stage`` and ``error`` code,
after no more requests than allowed). The other articles must be unaffected.
Loopback only; retry counts and timeouts are small so that the file runs in seconds.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from summarise.mock import MockConfig, MockReply, MockServer, user_texts
from tests.helpers import read_jsonl, run_against, schema_validator, warning_codes

# Transient failures: 1 + MAX_RETRIES requests per call. One retry shows the bound; more
# would only add backoff (up to 0.5 s, then 1 s, ... when the server sends no Retry-After).
MAX_RETRIES = 1
MAX_ATTEMPTS = 3  # model calls per article, re-asks included
# Each article names its own minister, so that a fault script can single it out.
MARKERS = {"calm": "Aldor", "once": "Brevik", "always": "Castell"}


def article(name: str) -> str:
    return (
        f"Foreign Minister {name} met his counterpart in Geneva on Tuesday to discuss trade "
        "and security.\n\n"
        "The two ministers spoke for two hours about tariffs, border crossings and a planned "
        "summit next spring, officials said.\n\n"
        f'"We agreed to keep talking about the border and the tariffs," {name} told reporters '
        "after the meeting.\n"
    )


def write_articles(folder: Path, markers: dict[str, str]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, name in markers.items():
        path = folder / f"{stem}.txt"
        path.write_text(article(name), encoding="utf-8")
        paths.append(str(path))
    return paths


def requests_for(server: MockServer, marker: str) -> int:
    """Chat completions that carried this article (retries and re-asks included)."""
    return sum(any(marker in text for text in user_texts(body)) for body in server.requests)


@dataclass(frozen=True)
class Case:
    """What one fault must come to."""

    fault: str
    stage: str
    error: str
    says: str
    """Part of the error record's message: what a person reading it learns."""
    always_requests: tuple[int, int]
    """Requests (at least, at most) the always-faulty article may cost: bounded."""
    once_attempts: int = 1
    """``provenance.attempts`` of the article that saw the fault once (2: it was re-asked)."""
    once_warning: str | None = None
    once_recovers: bool = True
    args: tuple[str, ...] = ()


TRANSIENT = (1 + MAX_RETRIES, 1 + MAX_RETRIES)
REASKED = (MAX_ATTEMPTS, MAX_ATTEMPTS)
RATE_LIMIT_PATIENCE_S = 0.2
RETRY_AFTER_S = 0.05
RETRIED = f"after {MAX_RETRIES} retries"
CASES = [
    # 429s are retried for --rate-limit-patience seconds (as Retry-After says), not counted
    # against --max-retries: how many fit in that time depends on the machine's speed.
    Case(
        "429",
        "model",
        "rate_limited",
        "--rate-limit-patience",
        (2, int(RATE_LIMIT_PATIENCE_S / RETRY_AFTER_S) + 2),
        args=("--rate-limit-patience", str(RATE_LIMIT_PATIENCE_S)),
    ),
    Case("500", "model", "server_error", RETRIED, TRANSIENT),
    Case("503", "model", "server_error", RETRIED, TRANSIENT),
    Case("timeout", "model", "timeout", RETRIED, TRANSIENT),
    Case("reset", "model", "connection_error", RETRIED, TRANSIENT),
    Case("malformed_json", "model", "bad_response", "unparseable response body", TRANSIENT),
    Case(
        "schema_invalid",
        "validate",
        "schema_invalid",
        "does not match the schema",
        REASKED,
        once_attempts=2,
        once_warning="reasked",
    ),
    Case(
        "invalid_json_content",
        "validate",
        "invalid_json",
        "not valid JSON",
        REASKED,
        once_attempts=2,
        once_warning="reasked",
    ),
    Case(
        "length",
        "model",
        "truncated",
        "cut off at the token limit",
        REASKED,
        once_attempts=2,
        once_warning="truncated_retry",
    ),
    # A refusal is final: asking the same question again at temperature 0 rarely helps.
    Case("refusal", "model", "refused", "the model refused", (1, 1), once_recovers=False),
    Case(
        "empty_choices",
        "model",
        "empty_response",
        "no choices",
        REASKED,
        once_attempts=2,
        once_warning="reasked",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.fault for c in CASES])
def test_fault_ends_as_one_record_or_one_error_record(tmp_path: Path, case: Case) -> None:
    inputs = write_articles(tmp_path / "in", MARKERS)
    feed = tmp_path / "feed.jsonl"
    config = MockConfig(
        faults={MARKERS["once"]: [case.fault], MARKERS["always"]: [case.fault] * 10},
        retry_after_s=RETRY_AFTER_S,
        hang_s=3.0,  # longer than --timeout: the client gives up first
    )
    timeout = "1" if case.fault == "timeout" else "10"
    with MockServer(config) as server:
        result = run_against(
            server,
            *inputs,
            "-o",
            str(feed),
            "--max-retries",
            str(MAX_RETRIES),
            "--max-attempts",
            str(MAX_ATTEMPTS),
            "--timeout",
            timeout,
            *case.args,
        )
        sent = {stem: requests_for(server, marker) for stem, marker in MARKERS.items()}

    assert result.exit_code == 1, result.stderr  # 1: some articles failed
    records = {r["id"]: r for r in read_jsonl(feed)}
    errors = read_jsonl(tmp_path / "feed.errors.jsonl")
    ids = sorted([*records, *(e["id"] for e in errors)])
    assert ids == sorted(MARKERS), "every article exactly once, in one of the two files"

    # Unaffected: one request, one attempt, no retry warnings.
    calm = records["calm"]
    assert sent["calm"] == 1 and calm["provenance"]["attempts"] == 1
    assert not {"reasked", "truncated_retry"} & set(warning_codes(calm["warnings"]))

    # Faulty once: a record after one retry or re-ask.
    assert sent["once"] == (2 if case.once_recovers else 1)
    if case.once_recovers:
        once = records["once"]
        assert once["provenance"]["attempts"] == case.once_attempts
        if case.once_warning:
            assert case.once_warning in warning_codes(once["warnings"])
        assert once["summary"]["headline"].startswith("Synthetic mock summary")

    # Faulty always: one error record, after no more than the allowed requests.
    least, most = case.always_requests
    assert least <= sent["always"] <= most
    failed = [e for e in errors if e["id"] == "always"]
    assert len(failed) == 1
    [error] = failed
    assert (error["stage"], error["error"]) == (case.stage, case.error)
    assert case.says in error["message"] and error["attempts"] >= 1
    assert error["source"]["path"].endswith("always.txt")
    validator = schema_validator("errors")
    for line in errors:
        validator.validate(line)
    expected_failures = 1 if case.once_recovers else 2
    assert len(errors) == expected_failures
    assert f"{case.error}: {expected_failures}" in result.stderr  # the final summary says why


def test_transient_errors_say_how_many_retries_were_made(tmp_path: Path) -> None:
    inputs = write_articles(tmp_path / "in", {"always": "Castell"})
    feed = tmp_path / "feed.jsonl"
    with MockServer(MockConfig(faults={"Castell": ["503"] * 10})) as server:
        result = run_against(server, *inputs, "-o", str(feed), "--max-retries", "0")
        sent = requests_for(server, "Castell")
    assert result.exit_code == 1
    assert sent == 1  # --max-retries 0: no retry at all
    [error] = read_jsonl(tmp_path / "feed.errors.jsonl")
    assert error["error"] == "server_error" and "after 0 retries" in error["message"]
    assert "503" in error["message"]


def test_429s_do_not_use_up_max_retries(tmp_path: Path) -> None:
    """A rate limit slows a run down; within --rate-limit-patience it fails no article."""
    inputs = write_articles(tmp_path / "in", {"limited": "Brevik"})
    config = MockConfig(faults={"Brevik": ["429"] * 3}, retry_after_s=0.01)
    with MockServer(config) as server:
        result = run_against(
            server, *inputs, "-o", str(tmp_path / "feed.jsonl"), "--max-retries", "0"
        )
        sent = requests_for(server, "Brevik")
    assert result.exit_code == 0, result.stderr
    assert sent == 4
    [record] = read_jsonl(tmp_path / "feed.jsonl")
    assert record["id"] == "limited"


def test_429_honours_retry_after(tmp_path: Path) -> None:
    """The wait before a retry is the server's Retry-After (plus a little jitter), not the
    exponential backoff used when the server gives no hint."""
    inputs = write_articles(tmp_path / "in", {"limited": "Brevik"})
    arrivals: list[float] = []
    # Longer than the backoff without a hint could be (at most 0.5 s, then 1 s), so that
    # only honouring the hint explains gaps this long; a busy machine only lengthens them.
    retry_after = 1.0

    def responder(body: dict[str, Any]) -> MockReply | None:
        if not any("Brevik" in text for text in user_texts(body)):
            return None
        arrivals.append(time.monotonic())
        return MockReply(fault="429") if len(arrivals) <= 2 else None

    config = MockConfig(responder=responder, retry_after_s=retry_after)
    with MockServer(config) as server:
        result = run_against(server, *inputs, "-o", str(tmp_path / "feed.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert len(arrivals) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # client: hint * uniform(1.0, 1.2) + 0.01; the upper bound (no wait far beyond the hint)
    # leaves seconds of room for a busy machine
    assert all(retry_after <= gap < retry_after * 1.2 + 3.0 for gap in gaps), gaps
    [record] = read_jsonl(tmp_path / "feed.jsonl")
    assert record["provenance"]["attempts"] == 1  # a retry is not a re-ask


def test_401_stops_a_concurrent_run_after_the_first_request(tmp_path: Path) -> None:
    markers = {f"art-{i:02d}": f"Minister{i:02d}" for i in range(20)}
    inputs = write_articles(tmp_path / "in", markers)
    feed = tmp_path / "feed.jsonl"
    with MockServer(MockConfig(require_api_key="sk-right")) as server:
        result = run_against(server, *inputs, "-o", str(feed), "--concurrency", "8")
        received = server.stats.received
    assert result.exit_code == 2, result.stderr  # 2: the run could not go on
    assert received == 1  # the start-up request; no article was ever sent
    assert result.stderr.count("authentication failed") == 1
    assert "--api-key-env" in result.stderr
    assert read_jsonl(feed) == [] and read_jsonl(tmp_path / "feed.errors.jsonl") == []
    assert "sk-test" not in result.stderr + result.stdout
