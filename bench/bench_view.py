"""Benchmark the review page at scale: generation, file size, first render, filters.

    python bench/bench_view.py [--records 10000] [--small 100] [--repeat 3] [--shots DIR]

Makes a feed of real records (the seeds and ../shared/articles through the offline
extractor, and the SmolLM2 answers replayed from tests/recorded), copied with new ids and
hashes up to ``--records``, writes the page with ``summarise view``'s API, then opens it in
headless Chromium (the system's, driven by playwright) and times, medians of ``--repeat``:

* generation (read the feed, build and write the page) and the page's size;
* first render: from navigation start to the index drawn (``performance.now()`` when the
  page's script is done);
* a filter: typing a search, and choosing an event kind, until the list is redrawn;
* opening a record (decode, highlight, render).

The same measures for a ``--small`` feed in the same run give the ratios: laziness means
the large page's costs grow far slower than its size. ``--shots DIR`` also saves the
README's screenshots (``summarise view --screenshot`` on the real records).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from summarise import view
from summarise.view import browser

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REPLAY = [
    "--replay", str(ROOT / "tests" / "recorded"), "--model", "SmolLM2-135M-Instruct.Q4_1",
    "--base-url", "http://127.0.0.1:9/v1", "--context-length", "8192",
]  # fmt: skip


def summarise(*args: str) -> None:
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "SUMMARISE_WORKERS": "1"}
    subprocess.run([sys.executable, "-m", "summarise", *args], env=env, check=False,
                   capture_output=True)  # fmt: skip


def real_records(work: Path) -> list[dict[str, Any]]:
    """Records of real articles: seeds and shared articles offline, SmolLM2 replayed."""
    quiet = "--no-progress"
    summarise("run", str(ROOT / "examples"), "-o", str(work / "seeds.jsonl"), quiet)
    articles = [
        str(path)
        for path in sorted((SHARED / "articles").glob("*"))
        if path.suffix in (".txt", ".html") and not path.name.endswith(".naive.txt")
    ]
    if articles:
        summarise("run", *articles, "-o", str(work / "articles.jsonl"), quiet)
    summarise("run", str(ROOT / "examples"), "-o", str(work / "smollm2.jsonl"), *REPLAY, quiet)
    records = []
    for name in ("seeds.jsonl", "articles.jsonl", "smollm2.jsonl"):
        path = work / name
        if path.is_file():
            records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return records


def scaled_feed(records: list[dict[str, Any]], n: int, path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            record = json.loads(json.dumps(records[i % len(records)]))
            record["id"] = f"{record['id']}-{i:06d}"
            record["source"]["sha256"] = hashlib.sha256(record["id"].encode()).hexdigest()
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def measure(feed: Path, repeat: int) -> dict[str, float]:
    out = feed.with_suffix(".html")
    generation = []
    for _ in range(repeat):
        start = time.perf_counter()
        _, size = view.make_report(feed, None, out)
        generation.append(time.perf_counter() - start)
    runs: dict[str, list[float]] = {"render": [], "search": [], "kind": [], "open": []}
    with browser.chromium_page() as page:
        url = out.resolve().as_uri()
        for _ in range(repeat):
            page.goto("about:blank")
            page.goto(url)
            browser.wait_ready(page)
            runs["render"].append(float(page.evaluate("document.body.dataset.readyMs")))
            runs["search"].append(timed(page, SEARCH))
            runs["kind"].append(timed(page, CHOOSE_KIND))
            first = json.dumps(page.evaluate("INDEX[filtered[0]].id"))
            opened = "#article-view:not([hidden]) #text"
            runs["open"].append(timed(page, f"location.hash = encodeURIComponent({first})", opened))
    result = {name: statistics.median(values) for name, values in runs.items()}
    return {"generation_s": statistics.median(generation), "size_mb": size / 1e6, **result}


SEARCH = "$('search').value = 'lavrov talks'; $('search').dispatchEvent(new Event('input'))"
CHOOSE_KIND = "$('f-kind').value = 'meeting'; $('f-kind').dispatchEvent(new Event('change'))"
TIMED = """async () => {
  const t = performance.now();
  ACTION;
  while (UNTIL && !document.querySelector(UNTIL)) await new Promise(r => setTimeout(r, 1));
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));  // the frame drawn
  return performance.now() - t;
}"""


def timed(page: Any, action: str, until: str | None = None) -> float:
    """Milliseconds from ``action`` to the next frame after it (and after ``until`` shows)."""
    script = TIMED.replace("ACTION", action).replace("UNTIL", json.dumps(until))
    return float(page.evaluate(script))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shots", type=Path, help="also save the README's screenshots here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        records = real_records(work)
        print(f"{len(records)} real records, scaled to {args.small:,} and {args.records:,}")
        rows = {}
        for n in (args.small, args.records):
            rows[n] = measure(scaled_feed(records, n, work / f"feed-{n}.jsonl"), args.repeat)
        header = ("records", "generate s", "size MB", "first render ms", "search ms",
                  "kind filter ms", "open record ms")  # fmt: skip
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        keys = ("generation_s", "size_mb", "render", "search", "kind", "open")
        for n, row in rows.items():
            print(f"| {n:,} | " + " | ".join(f"{row[k]:.2f}" if k == "generation_s" else
                  f"{row[k]:.1f}" for k in keys) + " |")  # fmt: skip
        big, small = rows[args.records], rows[args.small]
        scale = args.records / args.small
        print(f"ratios {args.records:,} / {args.small:,} records ({scale:.0f}x the records): "
              + ", ".join(f"{k} {big[k] / small[k]:.1f}x" for k in keys if small[k]))  # fmt: skip
        if args.shots:
            real = scaled_feed(records, len(records), work / "real.jsonl")
            summarise(
                "view", str(real), "-o", str(work / "real.html"), "--screenshot", str(args.shots)
            )
            print(f"screenshots of the {len(records)} real records in {args.shots}")


if __name__ == "__main__":
    main()
