"""The command line end to end, on the sample articles, with the offline default."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pytest

from summarise.schema import ModelQuote, Participant, Record, Summary, model_facing_schema
from tests.helpers import EXAMPLES, SEED_004, printed_schema, read_jsonl, run_cli, schema_validator

CLI = [sys.executable, "-m", "summarise"]


@pytest.mark.usefixtures("no_endpoint_env")
def test_main_job_writes_a_feed_that_the_printed_schema_validates(tmp_path: Path) -> None:
    feed = tmp_path / "summaries.jsonl"
    result = run_cli("run", str(EXAMPLES), "-o", str(feed), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "no model endpoint configured: using the offline extractor" in result.stderr
    records = read_jsonl(feed)
    assert len(records) == 5
    schema = printed_schema()
    for record in records:
        jsonschema.validate(record, schema)
        assert record["provenance"]["backend"] == "offline"
        for quote in record["summary"]["quotes"]:
            assert quote["grounded"] and quote["span"] is not None
    assert json.loads((tmp_path / "run-stats.json").read_text())["ok"] == 5


@pytest.mark.usefixtures("no_endpoint_env")
def test_every_input_lands_in_exactly_one_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "batch.jsonl").write_text(
        json.dumps({"id": "from-jsonl", "text": SEED_004.read_text(encoding="utf-8")})
        + "\n{not json\n",
        encoding="utf-8",
    )
    feed = tmp_path / "out" / "feed.jsonl"
    inputs = [
        str(SEED_004),
        str(tmp_path / "empty.txt"),
        str(tmp_path / "binary.txt"),
        str(tmp_path / "batch.jsonl"),
    ]
    result = run_cli("run", *inputs, "-o", str(feed), "--no-progress")
    assert result.exit_code == 1  # some articles failed, the batch went on
    ok = {r["id"] for r in read_jsonl(feed)}
    failed = {
        r["id"]: (r["stage"], r["error"])
        for r in read_jsonl(tmp_path / "out" / "feed.errors.jsonl")
    }
    assert ok == {"004_8546a322da682372", "from-jsonl"}
    assert failed == {
        "empty": ("clean", "empty"),
        "binary": ("clean", "binary"),
        "batch:2": ("ingest", "invalid_jsonl"),
    }


@pytest.mark.usefixtures("no_endpoint_env")
def test_rerun_skips_what_is_done(tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    args = ["run", str(EXAMPLES), "-o", str(feed), "--no-progress"]
    assert run_cli(*args).exit_code == 0
    again = run_cli(*args)
    assert again.exit_code == 0 and "0 ok, 0 failed, 5 already done" in again.stderr
    assert len(read_jsonl(feed)) == 5


def test_stdin_to_stdout_pipes_data_only(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [*CLI, "run", "-", "-o", "-", "--no-progress"],
        input=SEED_004.read_bytes(),
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    [record] = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert record["id"] == "stdin"
    assert b"offline extractor" in done.stderr


def test_missing_input_is_a_clear_error_exit_2(tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "f.jsonl"))
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr
    assert not (tmp_path / "f.jsonl").exists()


def test_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("run", str(SEED_004), "--shard", "5/4")
    assert result.exit_code == 2 and "--shard" in result.stderr


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """A real offline run: the five seeds as records, an empty file as an error record."""
    folder = tmp_path_factory.mktemp("offline-run")
    (folder / "empty.txt").write_bytes(b"")
    feed = folder / "out" / "feed.jsonl"
    inputs = [str(EXAMPLES), str(folder / "empty.txt")]
    with pytest.MonkeyPatch.context() as env:
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUMMARISE_MODEL"):
            env.delenv(var, raising=False)
        result = run_cli("run", *inputs, "-o", str(feed), "--no-progress")
    assert result.exit_code == 1, result.output  # 1: the empty file failed
    records, errors = read_jsonl(feed), read_jsonl(feed.with_name("feed.errors.jsonl"))
    assert len(records) == 5 and [e["id"] for e in errors] == ["empty"]
    return {"records": records, "errors": errors}


def item_fields(field: str) -> set[str]:
    """The fields of one item of a feed summary's list ``field`` (quotes, participants)."""
    [item] = get_args(Summary.model_fields[field].annotation)
    return set(item.model_fields)


# Where a feed record differs from what the model is asked for: computed by code.
FEED_ONLY_TOP = set(Record.model_fields) - {"summary"}
FEED_ONLY_QUOTE = item_fields("quotes") - set(ModelQuote.model_fields)
FEED_ONLY_PARTICIPANT = item_fields("participants") - set(Participant.model_fields)


def property_names(schema: Any) -> set[str]:
    """Every property name anywhere in a JSON Schema (definitions included)."""
    if isinstance(schema, list):
        return set().union(*(property_names(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    found = set(schema.get("properties") or {})
    return found.union(*(property_names(value) for value in schema.values()))


def quoting(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The first record with a quote and a participant (so that both can be broken)."""
    return next(r for r in records if r["summary"]["quotes"] and r["summary"]["participants"])


def test_schema_feed_validates_a_real_record_and_rejects_a_broken_one(
    offline_run: dict[str, list[dict[str, Any]]],
) -> None:
    validator = schema_validator("feed")
    for record in offline_run["records"]:
        validator.validate(record)
    record = quoting(offline_run["records"])
    no_id = {k: v for k, v in record.items() if k != "id"}
    bad_type = copy.deepcopy(record)
    bad_type["provenance"]["attempts"] = "two"
    bad_span = copy.deepcopy(record)
    bad_span["summary"]["quotes"][0]["span"] = "0-10"
    bad_kind = copy.deepcopy(record)
    bad_kind["summary"]["event"]["kind"] = "banquet"
    for broken in (no_id, bad_type, bad_span, bad_kind):
        assert not validator.is_valid(broken)


def test_schema_model_is_the_model_facing_schema_without_feed_only_fields(
    offline_run: dict[str, list[dict[str, Any]]],
) -> None:
    printed = printed_schema("model")
    assert printed == model_facing_schema()
    assert set(printed["properties"]) == {
        "headline",
        "event",
        "participants",
        "issues",
        "outcomes",
        "quotes",
    }
    assert {"span", "grounded"} <= FEED_ONLY_QUOTE and {"id", "provenance"} <= FEED_ONLY_TOP
    names = property_names(printed)
    assert not names & (FEED_ONLY_TOP | FEED_ONLY_QUOTE | FEED_ONLY_PARTICIPANT)
    assert property_names(printed_schema("feed")) >= FEED_ONLY_QUOTE | FEED_ONLY_PARTICIPANT
    # A record's summary, less what grounding added, is an answer the model could give...
    validator = schema_validator("model")
    record = quoting(offline_run["records"])
    summary = copy.deepcopy(record["summary"])
    for quote in summary["quotes"]:
        for name in FEED_ONLY_QUOTE:
            del quote[name]
    for participant in summary["participants"]:
        for name in FEED_ONLY_PARTICIPANT:
            del participant[name]
    validator.validate(summary)
    # ...and the model may not send the fields code computes.
    assert not validator.is_valid({**summary, "id": "x"})
    assert not validator.is_valid(record["summary"])


def test_schema_errors_validates_a_real_error_record(
    offline_run: dict[str, list[dict[str, Any]]],
) -> None:
    validator = schema_validator("errors")
    [error] = offline_run["errors"]
    validator.validate(error)
    assert (error["stage"], error["error"]) == ("clean", "empty")
    assert not validator.is_valid({**error, "stage": "somewhere"})
    assert not validator.is_valid({k: v for k, v in error.items() if k != "message"})
    assert not schema_validator("feed").is_valid(error)  # an error is not a feed record
