"""The command line end to end, on the sample articles, with the offline default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from summarise.cli import app
from tests.conftest import EXAMPLES, SEED_004

runner = CliRunner()
CLI = [sys.executable, "-m", "summarise"]


def lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.usefixtures("no_endpoint_env")
def test_main_job_writes_a_feed_that_the_printed_schema_validates(tmp_path: Path) -> None:
    feed = tmp_path / "summaries.jsonl"
    result = runner.invoke(app, ["run", str(EXAMPLES), "-o", str(feed), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "no model endpoint configured: using the offline extractor" in result.stderr
    records = lines(feed)
    assert len(records) == 5
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    for record in records:
        jsonschema.validate(record, schema)
        assert record["provenance"]["backend"] == "offline"  # type: ignore[index]
        for quote in record["summary"]["quotes"]:  # type: ignore[index]
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
    result = runner.invoke(app, ["run", *inputs, "-o", str(feed), "--no-progress"])
    assert result.exit_code == 1  # some articles failed, the batch went on
    ok = {r["id"] for r in lines(feed)}
    failed = {
        r["id"]: (r["stage"], r["error"]) for r in lines(tmp_path / "out" / "feed.errors.jsonl")
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
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "0 ok, 0 failed, 5 already done" in again.stderr
    assert len(lines(feed)) == 5


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
    result = runner.invoke(
        app, ["run", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "f.jsonl")]
    )
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr
    assert not (tmp_path / "f.jsonl").exists()


def test_bad_shard_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(SEED_004), "--shard", "5/4"])
    assert result.exit_code == 2 and "--shard" in result.stderr


def test_schema_commands_print_json_schemas() -> None:
    for which in ("feed", "model", "errors"):
        result = runner.invoke(app, ["schema", which])
        assert result.exit_code == 0
        assert json.loads(result.stdout)["type"] == "object"
