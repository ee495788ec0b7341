"""The seeds replayed from a real local model's answers (tests/recorded/, see its README).

SmolLM2-135M-Instruct answered these requests through llama-cpp-python's server; the
exchanges were captured by ``summarise run --record``. Replaying them exercises the
failure path of real weak-model output: answers cut off at the token limit and retried,
invented quotes and speakers, codes that are not countries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from summarise.clean import clean
from summarise.schema import feed_schema
from tests.helpers import EXAMPLES, raw_seed, read_jsonl, run_cli, warning_codes

RECORDED = Path(__file__).resolve().parent / "recorded"
SEEDS = sorted(EXAMPLES.glob("*.txt"))
# Port 9 (discard) on loopback: nothing answers there, so a request not served from the
# recordings would fail the run instead of reaching a server.
REPLAY_ARGS = [
    "--replay",
    str(RECORDED),
    "--model",
    "SmolLM2-135M-Instruct.Q4_1",
    "--base-url",
    "http://127.0.0.1:9/v1",
    "--context-length",
    "8192",
    "--no-progress",
]


def exchanges() -> list[dict[str, Any]]:
    """The recorded chat completions that got an answer: request and response bodies."""
    found = []
    for path in sorted(RECORDED.glob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        response = exchange["response"]["body"]
        body = json.loads(response) if isinstance(response, str) else response
        if isinstance(body, dict) and body.get("choices"):  # not /models, not an HTTP error
            found.append({"request": exchange["request"]["body"], "response": body})
    return found


def seed_of(request: dict[str, Any]) -> str | None:
    """Which seed a request was about (its cleaned text is inside the user message)."""
    user = " ".join(m["content"] for m in request["messages"] if m["role"] == "user")
    for path in SEEDS:
        article = clean(raw_seed(path))
        if article.text[:200] in user:
            return path.stem
    return None


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("replay")
    feed = out / "feed.jsonl"
    result = run_cli("run", str(EXAMPLES), "-o", str(feed), *REPLAY_ARGS)
    failed = read_jsonl(out / "feed.errors.jsonl")
    return {"result": result, "records": read_jsonl(feed), "errors": failed}


def test_every_seed_is_answered_from_the_recordings(replayed: dict[str, Any]) -> None:
    result = replayed["result"]
    assert result.exit_code in (0, 1), result.stderr
    assert "replay_miss" not in json.dumps(replayed["errors"]), "re-record: see the README"
    ids = [r["id"] for r in replayed["records"]] + [e["id"] for e in replayed["errors"]]
    assert sorted(ids) == [p.stem for p in SEEDS]
    assert result.exit_code == (1 if replayed["errors"] else 0)


def test_replayed_records_validate_against_the_feed_schema(replayed: dict[str, Any]) -> None:
    assert replayed["records"]
    for record in replayed["records"]:
        jsonschema.validate(record, feed_schema())
        assert record["provenance"]["backend"] == "openai"
        assert record["provenance"]["model"] == "SmolLM2-135M-Instruct.Q4_1"


def test_every_quote_is_grounded_in_the_text_or_flagged(replayed: dict[str, Any]) -> None:
    ungrounded = 0
    for record in replayed["records"]:
        text = record["article"]["text"]
        flags = [w for w in record["warnings"] if w["code"] == "quote_ungrounded"]
        for quote in record["summary"]["quotes"]:
            if quote["grounded"]:
                start, end = quote["span"]
                assert text[start:end] == quote["text"]
            else:
                assert quote["span"] is None
                ungrounded += 1
        assert len(flags) == sum(not q["grounded"] for q in record["summary"]["quotes"])
    assert ungrounded > 0  # the model invents quotes: the recordings must show them caught


def test_invented_speakers_are_flagged(replayed: dict[str, Any]) -> None:
    unattested = [
        w for r in replayed["records"] for w in r["warnings"] if w["code"] == "name_unattested"
    ]
    assert unattested
    for record in replayed["records"]:
        text = record["article"]["text"]
        for warning in record["warnings"]:
            if warning["code"] == "name_unattested":
                name = warning["message"].split("'")[1]
                assert name.split()[-1] not in text


def test_answers_cut_off_at_the_token_limit_are_retried_not_parsed(
    replayed: dict[str, Any],
) -> None:
    cut = {
        seed_of(x["request"])
        for x in exchanges()
        if x["response"]["choices"][0]["finish_reason"] == "length"
        and x["request"]["max_tokens"] == 4096  # the default run, replayed by the fixture
    }
    assert cut, "the recordings include real length stops"
    outcome = {r["id"]: r for r in replayed["records"]} | {e["id"]: e for e in replayed["errors"]}
    for seed in cut:
        assert seed is not None
        ended = outcome[seed]
        if "summary" in ended:
            assert "truncated_retry" in warning_codes(ended["warnings"])
            assert ended["provenance"]["attempts"] >= 2
            assert ended["provenance"]["finish_reason"] == "stop"
        else:
            assert ended["error"] == "truncated"


def test_answers_that_miss_the_schema_are_reasked_then_kept_as_errors(tmp_path: Path) -> None:
    """Recorded with ``--response-format json_object --max-tokens 1024``: JSON forced, the
    schema not, so the model's real answers miss it. Each is re-asked with the validation
    errors; after ``--max-attempts`` the article is an error record, its tokens counted."""
    feed = tmp_path / "feed.jsonl"
    seeds = [str(p) for p in SEEDS if p.name.startswith(("003", "004"))]
    unenforced = ["--response-format", "json_object", "--max-tokens", "1024"]
    result = run_cli("run", *seeds, "-o", str(feed), *REPLAY_ARGS, *unenforced)
    assert result.exit_code == 1, result.stderr
    assert feed.read_text() == ""
    failed = read_jsonl(tmp_path / "feed.errors.jsonl")
    assert sorted(e["id"] for e in failed) == sorted(Path(s).stem for s in seeds)
    for error in failed:
        assert (error["stage"], error["error"], error["attempts"]) == (
            "validate",
            "schema_invalid",
            3,
        )
        assert error["usage"]["completion_tokens"] > 0
    retries = [
        x["request"]["messages"]
        for x in exchanges()
        if x["request"].get("response_format") == {"type": "json_object"}
        and len(x["request"]["messages"]) > 2
    ]
    reasks = [m for m in retries if m[-2]["role"] == "assistant"]  # its own invalid answer,
    assert reasks and all("Field required" in m[-1]["content"] for m in reasks)  # then why
    cut_off = [m for m in retries if m[-2]["role"] == "user"]  # a length stop, not parsed
    assert cut_off and all("cut off" in m[-1]["content"] for m in cut_off)
