"""Whole runs over real HTTP against the mock OpenAI-compatible server (loopback only).

The mock's answers are synthetic: generated from the request, or the hand-written
answers in tests/synthetic/. None of them is a real model's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from summarise import EndpointConfig, OfflineBackend, OpenAIBackend, Record, summarise_article
from summarise.mock import MockConfig, MockReply, MockServer
from tests.helpers import EXAMPLES, SEED_004, read_jsonl, run_against, synthetic, warning_codes


def test_run_falls_back_when_the_server_rejects_json_schema(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    with MockServer(MockConfig(reject_json_schema=True)) as server:
        result = run_against(server, str(EXAMPLES), "-o", str(feed), "-v")
        formats = [body.get("response_format", {}) for body in server.requests]
    assert result.exit_code == 0, result.stderr
    assert "json_schema: rejected" in result.stderr and "using json_object_schema" in result.stderr
    assert len(read_jsonl(feed)) == 5
    # one rejected json_schema probe, then every article asked with json_object + schema
    assert sum(f.get("type") == "json_schema" for f in formats) == 1
    article_formats = formats[-5:]
    assert all(f["type"] == "json_object" and "schema" in f for f in article_formats)


def test_faulty_answers_replayed_are_caught_by_grounding(tmp_path: Path) -> None:
    faulty = json.dumps(synthetic("summary_004_faults.json"))

    def responder(body: dict[str, Any]) -> MockReply | None:
        is_article = "<article>" in json.dumps(body["messages"])
        return MockReply(content=faulty) if is_article else None

    recorded, feed = tmp_path / "recorded", tmp_path / "feed.jsonl"
    with MockServer(MockConfig(responder=responder)) as server:
        live = run_against(
            server, str(SEED_004), "-o", str(tmp_path / "live.jsonl"), "--record", str(recorded)
        )
        # replay: same requests, answered from the files; the server is not needed
        replayed = run_against(server, str(SEED_004), "-o", str(feed), "--replay", str(recorded))
        served = server.stats.chat_requests
    assert live.exit_code == 0 and replayed.exit_code == 0, replayed.stderr
    assert served == 2  # the probe and the article, while recording only
    [record] = read_jsonl(feed)
    quotes = record["summary"]["quotes"]
    text = record["article"]["text"]
    paraphrased, invented, misattributed = quotes
    assert paraphrased["grounded"] and paraphrased["text"] == text[slice(*paraphrased["span"])]
    assert not invented["grounded"] and invented["span"] is None
    assert misattributed["grounded"]
    codes = warning_codes(record["warnings"])
    assert {"quote_snapped", "quote_ungrounded", "speaker_mismatch"} <= set(codes)
    assert "Lecornu" in " ".join(w["message"] for w in record["warnings"])


def test_python_api_with_an_endpoint_and_offline() -> None:
    text = SEED_004.read_text(encoding="utf-8")
    offline = summarise_article(text, id="x", backend=OfflineBackend())
    assert isinstance(offline, Record) and offline.provenance.backend == "offline"
    with MockServer(MockConfig()) as server:
        config = EndpointConfig(model="mock-model", base_url=server.base_url, api_key="k")
        record = summarise_article(text, id="x", backend=OpenAIBackend(config))
    assert record.provenance.backend == "openai" and record.provenance.attempts == 1
    assert record.provenance.endpoint == server.base_url.split("//")[1].split("/")[0]
    assert record.article.text == offline.article.text


@pytest.mark.parametrize("fault", ["invalid_json_content", "schema_invalid"])
def test_invalid_answers_are_reasked_end_to_end(tmp_path: Path, fault: str) -> None:
    feed = tmp_path / "feed.jsonl"
    with MockServer(MockConfig(faults={"Shoigu": [fault]})) as server:
        result = run_against(server, str(SEED_004), "-o", str(feed))
    assert result.exit_code == 0, result.stderr
    [record] = read_jsonl(feed)
    assert record["provenance"]["attempts"] == 2
    assert "reasked" in warning_codes(record["warnings"])
