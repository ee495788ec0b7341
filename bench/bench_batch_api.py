"""Batch API path at corpus scale: prepare throughput and peak memory, collect throughput,
and the cost of 1,000 seed articles synchronous against Batch API, side by side.

    python bench/bench_batch_api.py                       # 1,000,000 articles to prepare
    python bench/bench_batch_api.py --articles 100000     # a quicker look

Inputs are the five sample articles repeated with distinct titles (nothing is
deduplicated). ``prepare`` and ``collect`` run as child processes so their peak RSS is
measured alone (``ru_maxrss`` of the children). The answers collected are synthetic
(the mock's), in the vLLM ``run-batch`` output shape, for the first ``--collect`` articles.
Needs the disk for the request files: about 16 KB an article.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from summarise.cost import estimate, load_prices
from summarise.ingest import check_inputs, read
from summarise.mock import chat_completion, synthetic_summary, user_texts

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "examples").glob("*.txt"))


def write_inputs(path: Path, count: int) -> None:
    texts = [seed.read_text(encoding="utf-8") for seed in SEEDS]
    with path.open("w", encoding="utf-8") as fh:
        for n in range(count):
            line = {"id": f"a{n:07d}", "title": f"Report {n}", "text": texts[n % len(texts)]}
            fh.write(json.dumps(line) + "\n")


def child(*args: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the children so far) of ``summarise ARGS``."""
    started = time.perf_counter()
    argv = [sys.executable, "-m", "summarise", *args]
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - started
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def vllm_results(folder: Path, out: Path, limit: int) -> int:
    """vLLM-shaped results (input order, one file) for the first ``limit`` requests."""
    written = 0
    with out.open("w", encoding="utf-8") as fh:
        for requests in sorted(folder.glob("requests-*.jsonl")):
            for line in requests.open(encoding="utf-8"):
                if written == limit:
                    return written
                request = json.loads(line)
                content = json.dumps(synthetic_summary("\n".join(user_texts(request["body"]))))
                body = chat_completion(content, prompt_tokens=4000)
                result = {"id": f"r{written}", "custom_id": request["custom_id"]}
                result |= {"response": {"status_code": 200, "body": body}, "error": None}
                fh.write(json.dumps(result) + "\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--collect", type=int, default=20_000)
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        inputs = work / "in.jsonl"
        write_inputs(inputs, args.articles)
        folder, feed = work / "batch", work / "out" / "feed.jsonl"
        common = ["--dir", str(folder), "-o", str(feed), "--model", args.model]
        wall, rss = child("batch", "prepare", str(inputs), *common)
        files = sorted(folder.glob("requests-*.jsonl"))
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"prepare: {args.articles:,} articles in {wall:.0f} s = "
              f"{args.articles / wall:,.0f} articles/s; peak RSS {rss:.0f} MB; "
              f"{len(files)} request files, {size:,.0f} MB")  # fmt: skip
        results = work / "results.jsonl"
        answered = vllm_results(folder, results, args.collect)
        wall, rss_after = child("batch", "collect", str(folder), "-o", str(feed),
                                "--results", str(results))  # fmt: skip
        print(f"collect: {answered:,} answers in {wall:.1f} s = {answered / wall:,.0f} "
              f"answers/s; peak RSS of any child so far {rss_after:.0f} MB")  # fmt: skip
        prices = load_prices()
        found = estimate(read(check_inputs([str(s) for s in SEEDS])), prices.price(args.model))
        per_1000 = 1000 / len(SEEDS)
        sync, batch = found.cost()["total"], found.cost(batch=True)["total"]
        print(f"cost per 1,000 seed articles ({args.model}, estimated tokens): "
              f"sync ${sync * per_1000:.2f}, batch ${batch * per_1000:.2f} "
              f"(batch / sync = {batch / sync:.2f})")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
