"""Linking, measured: B-cubed on the real articles of tests/events, and 200,000 records.

    python bench/bench_link.py            # both
    python bench/bench_link.py --bcubed   # the real articles only

The real articles go through the offline extractor as a JSONL input carrying what a scraper
knows (URL, title, publication date when the page gives it, from manifest.jsonl); the
records are linked and the clusters scored against each article's gold ``event`` key.
The 200,000 records are copies of real ones (the seeds and tests/events) with dates shifted
by a multiple of 5 days and surnames suffixed per copy, so that copies make events of their
own; time and peak memory (the process's max RSS) are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarise.events.link import Item, bcubed, item_of, iter_events, link  # noqa: E402
from summarise.schema import Record  # noqa: E402

EVENTS = ROOT / "tests" / "events"


def offline_records(tmp: Path) -> list[Record]:
    """The tests/events articles (+ manifest metadata) through `summarise run` offline."""
    lines = []
    for raw in (EVENTS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(raw)
        text = (EVENTS / "articles" / f"{meta['id']}.txt").read_text(encoding="utf-8")
        keep = {k: meta[k] for k in ("id", "url", "title", "published") if meta.get(k)}
        lines.append(json.dumps({**keep, "text": text}, ensure_ascii=False))
    inputs = tmp / "articles.jsonl"
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    feed = tmp / "feed.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "summarise",
            "run",
            str(inputs),
            "-o",
            str(feed),
            "--no-progress",
            "--backend",
            "offline",
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return [Record.model_validate_json(line) for line in feed.read_text("utf-8").splitlines()]


def measure_bcubed(records: list[Record]) -> tuple[float, float, int, int]:
    gold = {}
    for raw in (EVENTS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(raw)
        gold[meta["id"]] = meta["event"]
    events = link(item_of(r) for r in records)
    predicted = {s.record_id: e.event_id for e in events for s in e.sources}
    p, r = bcubed(predicted, gold)
    return p, r, len(events), len(set(gold.values()))


def measure_coding(records: list[Record]) -> tuple[int, int, int]:
    """Records whose CAMEO codes include the gold event's, and whose mode is the gold's."""
    event_of = {}
    for raw in (EVENTS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(raw)
        event_of[meta["id"]] = meta["event"]
    gold = {}
    for raw in (EVENTS / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(raw)
        gold[event["event"]] = event
    codes = modes = 0
    for record in records:
        want = gold[event_of[record.id]]
        coding = record.coding
        codes += coding is not None and want["cameo"] in [c.code for c in coding.cameo]
        modes += coding is not None and coding.mode == want["mode"]
    return codes, modes, len(records)


def shifted(item: Item, copy: int) -> Item:
    """A copy of an item: dates moved by 5 days a copy, surnames suffixed per copy."""
    delta = timedelta(days=5 * copy)
    day = (item.day or date(2020, 1, 1)) + delta
    tag = f"{copy % 997}"
    names = tuple(n + tag for n in item.names)
    rid = f"{item.record_id}#{copy}"
    words = frozenset(w for w in item.words if w not in item.names) | frozenset(names)
    return Item(
        record_id=rid, day=day, year=day.year, month=day.month, names=names, words=words,
        mode=item.mode, status=item.status, location=item.location,
        location_country=item.location_country, coding=item.coding,
        actors_known=item.actors_known,
        participants=[(f"{n} {tag}", c, r) for n, c, r in item.participants],
        source=item.source._replace(record_id=rid, date=day.isoformat()),
        quotes=item.quotes,
    )  # fmt: skip


def bench(records: list[Record], n: int) -> None:
    base = [item_of(r) for r in records]
    items = [shifted(base[i % len(base)], i // len(base)) for i in range(n)]
    start = time.perf_counter()
    events = 0
    with open(os.devnull, "wb") as sink:  # the lines are made and written, as by the command
        for event in iter_events(items):
            sink.write(orjson.dumps(event) + b"\n")
            events += 1
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"linked {n:,} records into {events:,} events in {elapsed:.1f} s "
        f"({n / elapsed:,.0f} records/s); peak RSS {peak:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bcubed", action="store_true", help="only the real articles")
    parser.add_argument("-n", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        real = offline_records(Path(tmp))
        seeds = Path(tmp) / "seeds.jsonl"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "summarise",
                "run",
                str(ROOT / "examples"),
                "-o",
                str(seeds),
                "--no-progress",
                "--backend",
                "offline",
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        seed_records = [Record.model_validate_json(x) for x in seeds.read_text().splitlines()]
    p, r, n_pred, n_gold = measure_bcubed(real)
    print(
        f"B-cubed on {len(real)} real articles: precision {p:.3f}, recall {r:.3f} "
        f"({n_pred} events found, {n_gold} gold)"
    )
    codes, modes, total = measure_coding(real)
    print(f"coding against the gold events: CAMEO code {codes}/{total}, mode {modes}/{total}")
    if not args.bcubed:
        bench(real + seed_records, args.n)


if __name__ == "__main__":
    main()
