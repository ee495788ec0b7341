"""``--shard K/N`` as the unit of a cluster job: a Slurm array task or a Kubernetes Indexed
Job pod is one ``summarise run`` with its own feed, and the shard feeds together hold every
input exactly once (docs/corpus-scale.md).

Each test starts N real processes through ``bash -c`` with the environment variable set the
way the scheduler sets it, and the ``--shard`` arithmetic written as a job script would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from summarise.batch import in_shard
from tests.helpers import EXAMPLES, SEED_IDS, read_jsonl

PYTHON = sys.executable
EXTRA_LINES = 24  # JSONL articles beside the five sample files: enough for no shard to be empty


def corpus(tmp_path: Path) -> tuple[list[str], set[str]]:
    """The sample articles, a JSONL export of more (one line broken), and every input id."""
    texts = sorted(EXAMPLES.glob("*.txt"))
    export = tmp_path / "inputs" / "export.jsonl"
    export.parent.mkdir()
    lines = [
        json.dumps({"id": f"wire-{n:03d}", "text": texts[n % len(texts)].read_text("utf-8")})
        for n in range(EXTRA_LINES)
    ]
    lines.insert(7, "{not json")  # line 8: an error record, id export:8, sharded like the rest
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids = set(SEED_IDS) | {f"wire-{n:03d}" for n in range(EXTRA_LINES)} | {"export:8"}
    return [str(EXAMPLES), str(export)], ids


def clean_env(**scheduler: str) -> dict[str, str]:
    """This environment with no model endpoint (offline backend) and the scheduler's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SLURM_"))}
    env.pop("JOB_COMPLETION_INDEX", None)
    env.pop("SUMMARISE_MODEL", None)
    return env | scheduler


def job_script(inputs: list[str], shard: str, out: Path, folder: str) -> str:
    """The line of a job script: one run, its own output folder (its own run-stats.json)."""
    quoted = " ".join(f"'{p}'" for p in inputs)
    return (
        f"'{PYTHON}' -m summarise run {quoted} --shard {shard} "
        f"-o '{out}'/{folder}/summaries.jsonl --no-progress"
    )


def run_tasks(scripts: list[tuple[str, dict[str, str]]]) -> list[subprocess.CompletedProcess[str]]:
    """Start every task at once (as a scheduler would), then wait for all of them."""
    procs = [
        subprocess.Popen(
            ["bash", "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script, env in scripts
    ]
    done = []
    for proc, (script, _) in zip(procs, scripts, strict=True):
        stdout, stderr = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(script, proc.returncode, stdout, stderr))
    return done


def shard_outputs(out: Path) -> dict[str, tuple[list[str], list[str]]]:
    """For each shard folder: the ids in its feed and in its errors file."""
    found = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        feed = [r["id"] for r in read_jsonl(folder / "summaries.jsonl")]
        errors = [r["id"] for r in read_jsonl(folder / "summaries.errors.jsonl")]
        found[folder.name] = (feed, errors)
    return found


def assert_exactly_once(out: Path, ids: set[str], n: int) -> None:
    shards = shard_outputs(out)
    assert len(shards) == n
    every = [i for feed, errors in shards.values() for i in feed + errors]
    assert Counter(every) == Counter(ids), "every input in exactly one line of one shard"
    assert all(feed or errors for feed, errors in shards.values()), "no shard was empty"
    merged = [i for feed, _ in shards.values() for i in feed]  # `cat shard-*/summaries.jsonl`
    assert len(merged) == len(set(merged)) == len(ids) - 1  # all but the broken line
    for folder in out.iterdir():
        stats = json.loads((folder / "run-stats.json").read_text())
        assert stats["ok"] + stats["failed"] == len(shards[folder.name][0] + shards[folder.name][1])


# How each scheduler numbers its tasks, and the --shard a job script derives from it. N is
# written out, not read from SLURM_ARRAY_TASK_COUNT: resubmitting only the failed tasks
# (--array=1,3) would change that count and with it every task's shard.
SCHEDULERS = {
    # sbatch --array=0-3: SLURM_ARRAY_TASK_ID is 0..3.
    "slurm-array-0-based": ("SLURM_ARRAY_TASK_ID", 0, "$((SLURM_ARRAY_TASK_ID + 1))/4"),
    # sbatch --array=1-4: SLURM_ARRAY_TASK_ID is already 1..4.
    "slurm-array-1-based": ("SLURM_ARRAY_TASK_ID", 1, "$SLURM_ARRAY_TASK_ID/4"),
    # Kubernetes Job with completionMode: Indexed, completions: 4: JOB_COMPLETION_INDEX is 0..3.
    "k8s-indexed-job": ("JOB_COMPLETION_INDEX", 0, "$((JOB_COMPLETION_INDEX + 1))/4"),
}


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_shard_tasks_together_write_every_input_exactly_once(
    tmp_path: Path, scheduler: str
) -> None:
    variable, first, shard = SCHEDULERS[scheduler]
    inputs, ids = corpus(tmp_path)
    out, n = tmp_path / "out", 4
    tasks = []
    for index in range(first, first + n):
        env = clean_env(**{variable: str(index)})
        if variable.startswith("SLURM_"):  # what Slurm sets beside the task id
            env |= {"SLURM_ARRAY_TASK_COUNT": str(n), "SLURM_ARRAY_TASK_MIN": str(first)}
            env |= {"SLURM_ARRAY_TASK_MAX": str(first + n - 1), "SLURM_ARRAY_JOB_ID": "4242"}
        tasks.append((job_script(inputs, shard, out, f"shard-${variable}"), env))
    results = run_tasks(tasks)
    for k, done in enumerate(results, start=1):
        broken = in_shard("export:8", (k, n))  # its error record makes that task exit 1
        assert done.returncode == (1 if broken else 0), done.stderr
    assert_exactly_once(out, ids, n)
    # Each task took the shard the arithmetic names: the id -> shard map is the documented one.
    for index in range(first, first + n):
        feed, errors = shard_outputs(out)[f"shard-{index}"]
        k = index + 1 - first
        assert all(in_shard(i, (k, n)) for i in feed + errors)


def test_a_requeued_shard_task_adds_nothing(tmp_path: Path) -> None:
    """Slurm's --requeue (or a pod restarted by its Job) runs the same shard again: it resumes
    from its own feed and writes no line twice."""
    inputs, _ = corpus(tmp_path)
    out = tmp_path / "out"
    env = clean_env(JOB_COMPLETION_INDEX="2")
    script = job_script(inputs, "$((JOB_COMPLETION_INDEX + 1))/4", out, "shard-2")
    first, again = run_tasks([(script, env)]), run_tasks([(script, env)])
    assert first[0].returncode in (0, 1), first[0].stderr
    assert again[0].returncode == 0, again[0].stderr  # nothing left to do, nothing failed
    feed, errors = shard_outputs(out)["shard-2"]
    assert len(feed) == len(set(feed)) and len(errors) == len(set(errors))
    stats = json.loads((out / "shard-2" / "run-stats.json").read_text())
    assert stats["ok"] == 0 and stats["skipped"] == len(feed) + len(errors)


def test_a_zero_based_index_passed_as_it_is_is_refused(tmp_path: Path) -> None:
    """``--shard $JOB_COMPLETION_INDEX/4`` (forgetting the +1) fails loudly on pod 0 instead of
    silently never processing shard 4."""
    inputs, _ = corpus(tmp_path)
    script = job_script(inputs, "$JOB_COMPLETION_INDEX/4", tmp_path / "out", "shard-0")
    done = run_tasks([(script, clean_env(JOB_COMPLETION_INDEX="0"))])[0]
    assert done.returncode == 2
    assert "K must be between 1 and N" in done.stderr
