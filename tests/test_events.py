"""Events: coding (PLOVER, CAMEO) on the seeds and hand-written cases, linking, export."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from summarise.events.coding import code_record
from summarise.events.link import bcubed, item_of, link, same_surname, skeleton
from summarise.schema import EventLine, Record
from tests.helpers import EXAMPLES, SYNTHETIC, run_cli

CASES = json.loads((SYNTHETIC / "events_cases.json").read_text(encoding="utf-8"))


def case_record(case: dict[str, Any], *, rid: str | None = None, **over: Any) -> Record:
    """A hand-written record (tests/synthetic/events_cases.json): text, title, participants."""
    text = case["text"]
    people = []
    for name, country, role in case["participants"]:
        at = text.find(name.split()[-1])
        people.append({
            "name": name, "role": role, "affiliation": None, "country": country,
            "present": True, "mentions": [[at, at + len(name.split()[-1])]] if at >= 0 else [],
            "attested": at >= 0,
        })  # fmt: skip
    data: dict[str, Any] = {
        "id": rid or case["name"],
        "source": {"path": None, "url": over.get("url"), "sha256": "0" * 64},
        "article": {"title": case["title"], "published": over.get("published"), "text": text,
                    "chars_raw": len(text), "chars_clean": len(text)},
        "summary": {"headline": case["title"], "event": {"kind": case["kind"],
                    "date": over.get("date"), "location": case["location"]},
                    "participants": people, "issues": [], "outcomes": [],
                    "quotes": over.get("quotes", [])},
        "provenance": {"backend": "offline", "model": None, "endpoint": None,
                       "prompt_version": "x", "attempts": 0, "usage": {}, "latency_s": 0.0,
                       "finish_reason": None, "created_at": "2026-12-03T00:00:00Z"},
    }  # fmt: skip
    return Record.model_validate(data)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Record]:
    feed = tmp_path_factory.mktemp("seeds") / "feed.jsonl"
    result = run_cli("run", str(EXAMPLES), "-o", str(feed), "--no-progress", "--backend", "offline")
    assert result.exit_code == 0, result.output
    records = [Record.model_validate_json(x) for x in feed.read_text("utf-8").splitlines()]
    return {r.id[:3]: r for r in records}


def test_seed_call_is_041(seeds: dict[str, Record]) -> None:
    coding = code_record(seeds["004"])
    assert (coding.mode, coding.cameo[0].code, coding.plover.event_type) == (
        "phone",
        "041",
        "CONSULT",
    )
    assert coding.cameo[0].goldstein == 1.0
    assert {coding.cameo[0].source.country, coding.cameo[0].target.country} == {"RUS", "FRA"}


def test_seed_blinken_in_beijing_is_a_visit_from_both_sides(seeds: dict[str, Record]) -> None:
    coding = code_record(seeds["001"])
    assert coding.mode == "visit" and coding.location_country == "CHN"
    assert [(c.code, c.source.country, c.target.country) for c in coding.cameo] == [
        ("042", "USA", "CHN"), ("043", "CHN", "USA")]  # fmt: skip
    assert [c.goldstein for c in coding.cameo] == [1.9, 2.8]
    assert coding.plover.mode == "visit"


def test_seed_dion_lavrov_at_asean_is_044_multilateral(seeds: dict[str, Record]) -> None:
    coding = code_record(seeds["003"])
    assert (coding.mode, coding.cameo[0].code, coding.location_country) == (
        "multilateral",
        "044",
        "LAO",
    )
    assert coding.plover.mode == "multilateral"


def test_seed_new_delhi_and_invitation(seeds: dict[str, Record]) -> None:
    assert code_record(seeds["000"]).cameo[0].code == "044"
    joly = code_record(seeds["002"])  # an "open invitation" to visit Moscow
    assert (joly.status, joly.cameo[0].code, joly.plover.event_type) == ("proposed", "036", "AGREE")
    assert joly.plover.context == ["future"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hand_written_case_codes(case: dict[str, Any]) -> None:
    coding = code_record(case_record(case))
    assert (coding.mode, coding.status) == (case["mode"], case["status"])
    assert [c.code for c in coding.cameo] == case["codes"]
    if "host" in case:
        assert coding.host == case["host"]
    if "plover" in case:
        assert coding.plover.event_type == case["plover"]
    if "source" in case:
        assert coding.cameo[0].source.code == case["source"]


def test_every_cameo_code_is_covered() -> None:
    codes = {code for case in CASES for code in case["codes"]}
    assert codes >= {"036", "040", "041", "042", "043", "044", "045", "046"}


def test_aliases_fold_across_transliterations() -> None:
    assert skeleton("Putin") == skeleton("Poutine") == skeleton("Путин")
    assert same_surname("Lavrov", "Лавров") and same_surname("Erdoğan", "Erdogan")
    assert not same_surname("Lavrov", "Blinken")


def _reports() -> list[Record]:
    dion = next(c for c in CASES if c["name"] == "multilateral")
    call = next(c for c in CASES if c["name"] == "phone")
    other = dict(
        dion,
        participants=[["Stéphane Dion", "CAN", None], ["Sergei Lavrov", "RUS", None]],
        text=dion["text"].replace("Stephane", "Stéphane").replace("Sergey", "Sergei"),
    )
    quote = {
        "speaker": "Lavrov",
        "text": "met",
        "span": [39, 42],
        "grounded": True,
        "match": "exact",
    }
    return [
        case_record(dion, rid="a1", date="2016-07-25", url="https://www.cbc.ca/news/x"),
        case_record(other, rid="a2", date="2016-07-26", url="https://tass.com/y", quotes=[quote]),
        case_record(dion, rid="a3", date="2016-11-02"),  # the same pair months later
        case_record(call, rid="a4", date="2016-07-25"),
    ]


def test_link_groups_reports_and_folds_aliases() -> None:
    events = link(item_of(r) for r in _reports())
    by_record = {s.record_id: e for e in events for s in e.sources}
    assert by_record["a1"] is by_record["a2"] and by_record["a3"] is not by_record["a1"]
    assert by_record["a4"] is not by_record["a1"]
    dion = by_record["a1"]
    names = {p.name: p for p in dion.participants}
    assert "Sergey Lavrov" in names or "Sergei Lavrov" in names
    assert len(dion.participants) == 2
    assert (dion.date, dion.date_end) == ("2016-07-25", "2016-07-26")
    assert [s.outlet for s in dion.sources] == ["cbc.ca", "tass.com"]
    assert [(q.record_id, q.span) for q in dion.quotes] == [("a2", (39, 42))]


def test_link_is_deterministic_and_incremental() -> None:
    reports = _reports()
    first = link(item_of(r) for r in reports)
    again = link(item_of(r) for r in reversed(reports))
    assert sorted(e.model_dump_json() for e in first) == sorted(e.model_dump_json() for e in again)
    old = link(item_of(r) for r in reports[:1] + reports[2:])
    ids = {s.record_id: e.event_id for e in old for s in e.sources}
    new = link([item_of(reports[1])], existing=old)
    ids_after = {s.record_id: e.event_id for e in new for s in e.sources}
    assert ids_after["a2"] == ids_after["a1"] == ids["a1"]
    assert {k: ids_after[k] for k in ids} == ids


def test_bcubed() -> None:
    assert bcubed({"a": "1", "b": "1"}, {"a": "x", "b": "x"}) == (1.0, 1.0)
    p, r = bcubed({"a": "1", "b": "1"}, {"a": "x", "b": "y"})
    assert (p, r) == (0.5, 1.0)


def _feed(tmp_path: Path) -> Path:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(r.model_dump_json() + "\n" for r in _reports()), encoding="utf-8")
    return feed


def test_link_and_export_commands_round_trip(tmp_path: Path) -> None:
    feed, events = _feed(tmp_path), tmp_path / "events.jsonl"
    assert run_cli("link", str(feed), "-o", str(events)).exit_code == 0
    lines = [EventLine.model_validate_json(x) for x in events.read_text().splitlines()]
    assert len(lines) == 3
    result = run_cli("export", str(events), "--table", "events", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["event_id"] for r in table) == sorted(e.event_id for e in lines)
    quotes = run_cli("export", str(feed), "--table", "quotes", "--format", "csv")
    assert next(iter(csv.DictReader(io.StringIO(quotes.stdout))))["text"] == "met"
    gdelt = run_cli("export", str(events), "--format", "gdelt").stdout.splitlines()
    assert gdelt[0].split("\t")[9] == "EventCode" and len(gdelt) >= 4
    plover = [
        json.loads(x)
        for x in run_cli("export", str(feed), "--format", "plover").stdout.splitlines()
    ]
    assert {p["event_type"] for p in plover} == {"CONSULT"}


def test_a_replaced_record_is_exported_and_linked_once(tmp_path: Path) -> None:
    # The feed holds one current record per id: the last line (e.g. a --supersede rerun).
    feed = _feed(tmp_path)
    first = _reports()[0]
    with open(feed, "a", encoding="utf-8") as fh:
        fh.write(first.model_dump_json() + "\n")
    rows = run_cli("export", str(feed), "--table", "articles", "--format", "csv").stdout
    ids = [r["id"] for r in csv.DictReader(io.StringIO(rows))]
    assert sorted(ids) == sorted(r.id for r in _reports())
    events = tmp_path / "events.jsonl"
    assert run_cli("link", str(feed), "-o", str(events)).exit_code == 0
    sources = [
        s.record_id
        for line in events.read_text().splitlines()
        for s in EventLine.model_validate_json(line).sources
    ]
    assert sorted(sources) == sorted(r.id for r in _reports())


def test_export_parquet_round_trip(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "p.parquet"
    result = run_cli(
        "export",
        str(_feed(tmp_path)),
        "--table",
        "participants",
        "--format",
        "parquet",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(str(out)).column("name").to_pylist()[:2] == [
        "Stephane Dion",
        "Sergey Lavrov",
    ]


def test_export_errors_are_clear(tmp_path: Path) -> None:
    feed, events = _feed(tmp_path), tmp_path / "events.jsonl"
    run_cli("link", str(feed), "-o", str(events))
    wrong = run_cli("export", str(events), "--table", "articles")
    assert wrong.exit_code == 2 and "no table 'articles'" in wrong.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(feed.read_text().splitlines()[0] + "\n{not json\n")
    broken = run_cli("export", str(bad), "--table", "articles")
    assert broken.exit_code == 2 and f"{bad}:2:" in broken.stderr


def test_link_command_keeps_ids_of_an_events_file(tmp_path: Path) -> None:
    reports = _reports()
    old_feed, new_feed = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old_feed.write_text("".join(r.model_dump_json() + "\n" for r in reports[:1]), "utf-8")
    new_feed.write_text("".join(r.model_dump_json() + "\n" for r in reports[1:]), "utf-8")
    first, second = tmp_path / "e1.jsonl", tmp_path / "e2.jsonl"
    assert run_cli("link", str(old_feed), "-o", str(first)).exit_code == 0
    (old_id,) = [json.loads(x)["event_id"] for x in first.read_text().splitlines()]
    result = run_cli("link", str(new_feed), "--events", str(first), "-o", str(second))
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in second.read_text().splitlines()]
    kept = next(e for e in lines if e["event_id"] == old_id)
    assert [s["record_id"] for s in kept["sources"]] == ["a1", "a2"]


def test_export_parquet_without_pyarrow_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out = tmp_path / "p.parquet"
    result = run_cli("export", str(_feed(tmp_path)), "--format", "parquet", "-o", str(out))
    assert result.exit_code == 2 and "needs pyarrow" in result.stderr and not out.exists()
