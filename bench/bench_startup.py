"""Start-up of the offline main job, this tree against an older commit, side by side.

``summarise run examples/`` with the offline default does little work, so its wall time is
mostly imports. Runs both trees alternately with the same interpreter (the older one from a
temporary ``git worktree``) and prints the median of each and their ratio::

    python bench/bench_startup.py --before 966df1e
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_s(tree: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, "-m", "summarise", "run", "examples/", "-o", str(out), "--no-progress"]
    started = time.perf_counter()
    subprocess.run(argv, cwd=tree, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the older commit")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "before"
        add = ["git", "worktree", "add", "-q", str(old), args.before]
        subprocess.run(add, cwd=ROOT, check=True)
        try:
            times: dict[str, list[float]] = {"before": [], "now": []}
            for i in range(args.rounds):
                times["before"].append(run_s(old, Path(scratch) / f"b{i}.jsonl"))
                times["now"].append(run_s(ROOT, Path(scratch) / f"n{i}.jsonl"))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT)
    before, now = (statistics.median(times[k]) for k in ("before", "now"))
    print(f"before ({args.before}): median {before:.2f} s; now: median {now:.2f} s")
    print(f"now / before: {now / before:.2f}")


if __name__ == "__main__":
    main()
