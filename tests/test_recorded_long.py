"""A long real text through the model path, replayed from a real local model's answers.

tests/long/valdai-2016-final-plenary.txt is far longer than what a 6,144-token context
leaves for the article, so it goes to the model in parts; SmolLM2-135M-Instruct answered
each part through llama-cpp-python's server, captured by ``summarise run --record``
(tests/recorded-long/, see its README). Replaying them checks the whole path: the split,
one record of the merged answers, spans exact in the whole text, usage summed.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from summarise import prompt
from summarise.backends.base import article_char_budget
from summarise.backends.split import part_spans
from summarise.clean import clean
from summarise.text.names import same_person
from tests.helpers import raw_seed, read_jsonl, run_cli, warning_codes

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "recorded-long"
LONG = HERE / "long" / "valdai-2016-final-plenary.txt"
CONTEXT, ANSWER = 6144, 1024
# Port 9 (discard) on loopback: nothing answers there, so a request not served from the
# recordings fails the run instead of reaching a server.
REPLAY_ARGS = [
    "--replay",
    str(RECORDED),
    "--model",
    "SmolLM2-135M-Instruct.Q4_1",
    "--base-url",
    "http://127.0.0.1:9/v1",
    "--context-length",
    str(CONTEXT),
    "--max-tokens",
    str(ANSWER),
    "--no-progress",
]


def article_exchanges() -> list[dict[str, Any]]:
    """The recorded chat completions about a part of the text (not the start-up probe):
    request and parsed response bodies."""
    found = []
    for path in sorted(RECORDED.glob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        request, body = exchange["request"]["body"], json.loads(exchange["response"]["body"])
        about = request and any("<article>" in m["content"] for m in request["messages"])
        if about and isinstance(body, dict) and body.get("choices"):
            found.append({"request": request, "response": body})
    return found


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("replay-long")
    feed = out / "feed.jsonl"
    result = run_cli("run", str(LONG), "-o", str(feed), *REPLAY_ARGS)
    return {
        "result": result,
        "records": read_jsonl(feed),
        "errors": read_jsonl(out / "feed.errors.jsonl"),
    }


@pytest.fixture(scope="module")
def record(replayed: dict[str, Any]) -> dict[str, Any]:
    assert replayed["result"].exit_code == 0, replayed["result"].stderr
    assert replayed["errors"] == []
    [one] = replayed["records"]
    return one


def expected_parts() -> int:
    text = clean(raw_seed(LONG)).text
    budget = article_char_budget(CONTEXT, ANSWER, len(prompt.load_prompts().system))
    return len(part_spans(text, budget))


def test_the_long_text_is_one_record_made_in_parts(record: dict[str, Any]) -> None:
    parts = expected_parts()
    assert parts == 3  # see tests/recorded-long/README.md
    assert record["id"] == LONG.stem
    [split] = [w for w in record["warnings"] if w["code"] == "article_split"]
    assert f"into {parts} parts" in split["message"]
    assert "article_truncated" not in warning_codes(record["warnings"])
    assert record["article"]["text"] == clean(raw_seed(LONG)).text  # the whole text
    # Every part went to the model: its first request ends with the part (re-asks do not).
    firsts = [
        x for x in article_exchanges() if "<article>" in x["request"]["messages"][-1]["content"]
    ]
    assert len(firsts) == parts


def test_usage_and_attempts_add_up_every_part(record: dict[str, Any]) -> None:
    answers = [x["response"] for x in article_exchanges()]
    usage = record["provenance"]["usage"]
    assert usage["prompt_tokens"] == sum(a["usage"]["prompt_tokens"] for a in answers)
    assert usage["completion_tokens"] == sum(a["usage"]["completion_tokens"] for a in answers)
    assert record["provenance"]["attempts"] == len(answers)
    # Some parts' first answers ran to the token limit and were asked again: counted too.
    assert len(answers) > expected_parts()
    assert "truncated_retry" in warning_codes(record["warnings"])


def test_every_grounded_quote_is_exact_in_the_whole_text(record: dict[str, Any]) -> None:
    text = record["article"]["text"]
    quotes = record["summary"]["quotes"]
    assert quotes
    flagged = [w for w in record["warnings"] if w["code"] == "quote_ungrounded"]
    assert len(flagged) == sum(not q["grounded"] for q in quotes)  # the model invents them
    for quote in quotes:
        if quote["grounded"]:
            start, end = quote["span"]
            assert text[start:end] == quote["text"]
        else:
            assert quote["span"] is None
    spans = [tuple(q["span"]) for q in quotes if q["grounded"]]
    assert len(spans) == len(set(spans))
    assert len({q["text"] for q in quotes}) == len(quotes)


def test_no_participant_is_listed_twice(record: dict[str, Any]) -> None:
    names = [p["name"] for p in record["summary"]["participants"]]
    assert names
    assert not [(a, b) for a, b in combinations(names, 2) if same_person(a, b)]
