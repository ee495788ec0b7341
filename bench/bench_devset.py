"""Score the offline extractor on the hand-annotated development set, per language and split.

    python bench/bench_devset.py [--devset tests/devset] [--json FILE]

``tests/devset/manifest-*.jsonl`` lists each real article (outlet, date, language, source,
licence) and its split: ``dev`` articles may be looked at while improving the extractor,
``test`` ones are kept for measuring it. Each group is run through ``summarise run`` (no
endpoint: the offline extractor) and scored by ``summarise eval``'s code against the gold
in ``tests/devset/gold/``; the seeds (in-sample: the extractor was tuned on them) come
first for comparison. Prints one row per group and the issue's target row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from summarise.evaluate import Gold, evaluate, load_gold, read_feed

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = (
    ("core_participant_recall", "core participants"),
    ("participant_precision", "participant precision"),
    ("quote_recall", "quote recall"),
    ("speaker_accuracy", "speaker accuracy"),
    ("issue_recall", "issue recall"),
    ("outcome_recall", "outcome recall"),
)
TARGET = ">= 0.95 | >= 0.92 | >= 0.95 | >= 0.90 | >= 0.70 | >= 0.60"


def run_offline(files: list[Path], feed: Path) -> None:
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "SUMMARISE_WORKERS": "1"}
    command = [sys.executable, "-m", "summarise", "run", *map(str, files), "-o", str(feed)]
    subprocess.run([*command, "--no-progress"], env=env, check=False, capture_output=True)


def score(files: list[Path], gold: dict[str, Gold], work: Path, name: str) -> dict[str, object]:
    feed = work / f"{name}.jsonl"
    run_offline(files, feed)
    report = evaluate(read_feed(feed) if feed.is_file() else [], gold)
    values = report.summary()
    counts = {key: getattr(report.overall, key).model_dump() for key, _ in COLUMNS}
    return {"articles": len(gold), "missing": report.missing, "values": values, "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devset", type=Path, default=ROOT / "tests" / "devset")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    entries = [
        json.loads(line)
        for manifest in sorted(args.devset.glob("manifest*.jsonl"))
        for line in manifest.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    gold = load_gold(args.devset / "gold")
    articles = {p.stem: p for p in (args.devset / "articles").iterdir() if p.is_file()}
    groups: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        if entry["id"] in gold and entry["id"] in articles:
            groups[f"{entry['language']} {entry['split']}"].append(entry["id"])
            groups[f"{entry['language']} all"].append(entry["id"])
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seeds = sorted((ROOT / "examples").glob("*.txt"))
        results["seeds (in-sample)"] = score(seeds, load_gold(ROOT / "tests" / "gold"), work, "s")
        for name in sorted(groups):
            ids = groups[name]
            files = [articles[i] for i in ids]
            results[name] = score(files, {i: gold[i] for i in ids}, work, name.replace(" ", "-"))
    print("| set | articles | " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name, result in results.items():
        values = result["values"]
        assert isinstance(values, dict)
        cells = ["-" if values[k] is None else f"{values[k]:.2f}" for k, _ in COLUMNS]
        print(f"| {name} | {result['articles']} | " + " | ".join(cells) + " |")
    print(f"| target | | {TARGET} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
