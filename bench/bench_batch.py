"""Benchmark batch runs against the mock OpenAI-compatible server (loopback only).

    python bench/bench_batch.py [--articles 2000] [--rss-articles 200000] [--json FILE]

Four measurements, side by side in one run (the mock runs as a separate process, so its
CPU is not charged to the pipeline; on a 2-core machine they still share the cores):

1. Throughput: ``--articles`` distinct articles (the five seeds, each copy made unique)
   at ``--concurrency 64`` against the mock at 200 ms latency, as a ratio of the ideal
   64 / 0.2 s = 320 articles/s, beside a plain sequential loop (the instructor-style
   baseline: one ``chat.completions.create`` and one ``model_validate_json`` at a time).
2. Rate limits: the mock answers 429 + ``Retry-After`` above R requests/s; achieved
   articles/s as a ratio of R, and how many articles were lost (must be zero).
3. Pipeline overhead per article without a model: clean + prompt + validate + ground +
   write, with the model's answers replayed from files (``--replay``), on the seeds.
4. Peak RSS of ``summarise run`` streaming a ``--rss-articles``-line JSONL input through
   the mock (a child process; its own peak, from ``getrusage``).

Everything the mock says is synthetic; these figures measure the pipeline, not a model.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai

from summarise import prompt
from summarise.backends.base import Extraction
from summarise.backends.openai import OpenAIBackend
from summarise.batch import Job, RunOptions, RunStats, run_job
from summarise.clean import clean
from summarise.config import EndpointConfig
from summarise.feed import FeedWriter
from summarise.ingest import RawArticle
from summarise.mock import serve_in_process
from summarise.pipeline import process
from summarise.schema import ModelSummary

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "examples").glob("*.txt"))
MODEL = "mock-model"


@contextlib.contextmanager
def mock_server(*flags: str) -> Iterator[str]:
    with serve_in_process(*flags) as (base_url, _):
        yield base_url


def unique_text(index: int) -> str:
    """Seed ``index % 5`` made distinct (so that de-duplication does not merge copies)."""
    text = SEEDS[index % len(SEEDS)].read_text(encoding="utf-8")
    return text.replace(" said", f" said (copy {index})", 1)


def write_jsonl(path: Path, count: int, *, short: bool = False) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            text = (
                f"Foreign Minister Anna Lind met Ambassador Jon Berg in Oslo on day {i}. "
                f'"We agreed to keep talking," Lind said after the meeting.'
                if short
                else unique_text(i)
            )
            fh.write(json.dumps({"id": f"a{i:07d}", "text": text}) + "\n")


def endpoint(url: str, **extra: Any) -> EndpointConfig:
    return EndpointConfig(model=MODEL, base_url=url, api_key="mock-key", **extra)


def run_pipeline(
    url: str, source: Path, out: Path, concurrency: int, rpm: int | None = None
) -> tuple[RunStats, float]:
    job = Job(inputs=[str(source)], output=str(out), options=RunOptions(concurrency=concurrency))
    backend = OpenAIBackend(endpoint(url, rpm=rpm))
    started = time.perf_counter()
    stats = asyncio.run(run_job(job, backend))
    return stats, time.perf_counter() - started


def sequential_baseline(url: str, count: int) -> float:
    """Articles/s of a plain loop: one request, one validation, one article at a time."""
    client = openai.OpenAI(base_url=url, api_key="mock-key", max_retries=0)
    schema = ModelSummary.model_json_schema()
    started = time.perf_counter()
    for i in range(count):
        messages: Any = prompt.build_messages(unique_text(i))
        completion = client.chat.completions.create(
            model=MODEL,
            messages=messages,
            response_format={"type": "json_object", "schema": schema},  # type: ignore[typeddict-unknown-key]
        )
        ModelSummary.model_validate_json(completion.choices[0].message.content or "")
    client.close()
    return count / (time.perf_counter() - started)


LATENCY_S, CONCURRENCY = 0.2, 64
IDEAL_PER_S = CONCURRENCY / LATENCY_S


def client_run(source: Path, out: Path, url: str, workers: int) -> dict[str, Any]:
    """``run_job`` in a child process; its CPU (and its workers', reaped by it) from
    ``wait4``, less what it spent before the run began (interpreter and imports)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "_client", str(source), str(out), url, str(workers)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    report = json.loads(child.stdout.read().strip().splitlines()[-1])
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the client run failed"
    report["cpu_s"] = usage.ru_utime + usage.ru_stime - report.pop("cpu_before_s")
    return report


def client_child(source: str, out: str, url: str, workers: str) -> None:
    """Runs in a child process (``client_run``)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    job = Job(
        inputs=[source],
        output=out,
        options=RunOptions(concurrency=CONCURRENCY, workers=int(workers)),
    )
    started = time.perf_counter()
    stats = asyncio.run(run_job(job, OpenAIBackend(endpoint(url))))
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "done": stats.done,
                "failed": stats.failed,
                "in_workers": stats.in_workers,
                "wall_s": wall,
                "cpu_before_s": before.ru_utime + before.ru_stime,
            }
        )
    )


def worker_startup_cpu_s() -> float:
    """CPU a worker process spends starting (imports) and stopping, with no article."""
    child = subprocess.Popen(
        [sys.executable, "-m", "summarise.workers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdin is not None
    child.stdin.close()  # no setup: it exits as it does at the end of a run
    _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_utime + usage.ru_stime


def bare_transport(url: str, bodies: list[bytes]) -> dict[str, float]:
    """The floor: aiohttp posting bodies encoded in advance, ``CONCURRENCY`` at a time, and
    reading each answer as JSON; nothing else (no SDK, no pipeline)."""
    import aiohttp
    import orjson

    async def drive() -> tuple[float, float]:
        slots = asyncio.Semaphore(CONCURRENCY)
        headers = {"Content-Type": "application/json", "Authorization": "Bearer mock-key"}
        async with aiohttp.ClientSession() as session:

            async def one(body: bytes) -> None:
                async with (
                    slots,
                    session.post(f"{url}/chat/completions", data=body, headers=headers) as response,
                ):
                    orjson.loads(await response.read())

            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(one(body) for body in bodies))
            return time.process_time() - cpu, time.perf_counter() - wall

    cpu, wall = asyncio.run(drive())
    return {"per_s": len(bodies) / wall, "cpu_ms": cpu / len(bodies) * 1000}


def recorded_bodies(work: Path, url: str, count: int) -> tuple[Path, list[bytes]]:
    """A one-process run of ``count`` articles recorded: the exchanges (for the per-stage
    figures) and the request bodies (for the bare-transport loop)."""
    import orjson

    source, recorded = work / "stages.jsonl", work / "recorded-stages"
    write_jsonl(source, count)
    job = Job(inputs=[str(source)], output=str(work / "stages-feed.jsonl"))
    asyncio.run(run_job(job, OpenAIBackend(endpoint(url, record_dir=recorded))))
    bodies = []
    for path in sorted(recorded.glob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        if exchange["request"]["path"].endswith("/chat/completions"):
            bodies.append(orjson.dumps(exchange["request"]["body"]))
    return recorded, bodies


def stage_costs(work: Path, recorded: Path) -> dict[str, float]:
    """CPU ms per article of each CPU stage, timed one by one on the recorded articles and
    answers (what the model interface costs is the rest of a run's CPU)."""
    from summarise.backends.openai.answers import parse_completion
    from summarise.backends.openai.attempts import Attempts
    from summarise.backends.openai.client import chat_body, encode_body
    from summarise.feed import encode_line
    from summarise.pipeline import ArticleInfo, make_record

    backend = OpenAIBackend(endpoint("http://replay.invalid/v1"))
    raws = [
        RawArticle(id=line["id"], path="stages.jsonl", data=line["text"].encode("utf-8"))
        for line in map(json.loads, (work / "stages.jsonl").read_text("utf-8").splitlines())
    ]
    answers = {}
    for path in recorded.glob("*.json"):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        if exchange["request"]["path"].endswith("/chat/completions"):
            user = exchange["request"]["body"]["messages"][-1]["content"]
            answers[user] = exchange["response"]["body"].encode("utf-8")
    spent: dict[str, float] = dict.fromkeys(
        (
            "clean",
            "prompt",
            "request_body",
            "response_parse_validate",
            "ground_record",
            "encode_line",
        ),
        0.0,
    )

    @contextlib.contextmanager
    def timed(stage: str) -> Iterator[None]:
        started = time.process_time()
        yield
        spent[stage] += time.process_time() - started

    for raw in raws:
        with timed("clean"):
            article = clean(raw)
        with timed("prompt"):
            messages = prompt.build_messages(
                article.text, title=article.title, published=article.published
            )
        with timed("request_body"):
            encode_body(chat_body(backend.config, messages, {"type": "json_object"}))
        answer = answers[messages[-1]["content"]]
        state = Attempts.start(list(messages))
        with timed("response_parse_validate"):
            summary = state.judge(parse_completion(answer))
        assert summary is not None, "the mock's answers are valid"
        extraction = Extraction(
            summary=summary,
            attempts=1,
            usage=state.usage,
            finish_reason="stop",
            latency_s=0.2,
            response_id=None,
        )
        with timed("ground_record"):
            record = make_record(ArticleInfo.of(raw, article), backend, article.text, extraction)
        with timed("encode_line"):
            encode_line(record)
    return {stage: round(seconds / len(raws) * 1000, 3) for stage, seconds in spent.items()}


def worst_quotes() -> dict[str, float]:
    """The slowest single quote to ground (ms): every quote of the real SmolLM2 answers
    in tests/recorded against its seed, and adversarial ones (300 words paraphrased, a
    phrase repeated, an unbalanced quote mark) against a 60 KB text of real articles."""
    import random

    from summarise.ground import find_quote
    from summarise.text.reader import analyse

    def slowest(quotes: list[str], text: str) -> float:
        doc = analyse(text)
        worst = 0.0
        for quote in quotes:
            started = time.process_time()
            find_quote(quote, doc)
            worst = max(worst, time.process_time() - started)
        return round(worst * 1000, 2)

    texts = {p.stem: clean(RawArticle(p.stem, str(p), p.read_bytes())).text for p in SEEDS}
    real = 0.0
    for path in sorted((ROOT / "tests" / "recorded").glob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        body = exchange["response"]["body"]
        request = exchange["request"]["body"] or {}
        user = " ".join(m["content"] for m in request.get("messages", []))
        seed = next((stem for stem, text in texts.items() if text[:200] in user), None)
        try:
            content = json.loads(body)["choices"][0]["message"]["content"]
            quotes = [q["text"] for q in json.loads(content).get("quotes", [])]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            continue  # not a chat completion, or an answer that is not JSON
        if seed is not None:
            real = max(real, slowest([q for q in quotes if isinstance(q, str)], texts[seed]))
    big = "\n\n".join(texts.values())
    while len(big) < 60_000:
        big += "\n\n" + big
    words = big.split()
    rng = random.Random(0)
    adversarial = []
    for _ in range(20):
        start = rng.randrange(len(words) - 300)
        chunk = words[start : start + 300]
        spans = [chunk[i : i + 5] for i in range(0, 300, 5)]
        rng.shuffle(spans)  # paraphrase: the article's words, in another order
        adversarial.append(" ".join(w for span in spans for w in span))
    adversarial.append(" ".join(["the talks were constructive"] * 75))  # one phrase, repeated
    adversarial.append('"' + " ".join(words[:200]) + ' and then "he said')  # marks unbalanced
    return {"real_smollm2_ms": real, "adversarial_60kb_ms": slowest(adversarial, big[:60_000])}


def bench_throughput(work: Path, articles: int, baseline: int) -> dict[str, Any]:
    """Client CPU per article and articles/s, one process and two workers, at a fixed and a
    jittered latency (same mean), beside the bare-transport floor measured in the same run."""
    source = work / "throughput.jsonl"
    write_jsonl(source, articles)
    startup = worker_startup_cpu_s()
    rows: dict[str, Any] = {"worker_startup_cpu_s": round(startup, 3)}
    with mock_server() as url:
        recorded, bodies = recorded_bodies(work, url, 200)
    rows["stages_cpu_ms"] = stage_costs(work, recorded)
    rows["worst_quote"] = worst_quotes()
    print("  worst quote", json.dumps(rows["worst_quote"]), flush=True)
    for label, jitter in (("fixed", 0.0), ("jittered", LATENCY_S / 2)):
        flags = ("--latency", str(LATENCY_S), "--latency-jitter", str(jitter))
        with mock_server(*flags) as url:
            bare = bare_transport(url, (bodies * (articles // len(bodies) + 1))[:articles])
            rows[f"{label}_bare_transport"] = {
                "per_s": round(bare["per_s"], 1),
                "ratio_of_ideal": round(bare["per_s"] / IDEAL_PER_S, 3),
                "cpu_ms": round(bare["cpu_ms"], 3),
            }
            for workers in (1, 2):
                out = work / f"feed-{label}-{workers}.jsonl"
                run = client_run(source, out, url, workers)
                cpu = run["cpu_s"] - (startup * workers if workers > 1 else 0.0)
                rate = run["done"] / run["wall_s"]
                rows[f"{label}_workers_{workers}"] = {
                    "done": run["done"],
                    "failed": run["failed"],
                    "in_workers": run["in_workers"],
                    "per_s": round(rate, 1),
                    "ratio_of_ideal": round(rate / IDEAL_PER_S, 3),
                    "ratio_of_bare_transport": round(rate / bare["per_s"], 3),
                    "client_cpu_ms_per_article": round(cpu / run["done"] * 1000, 3),
                }
                print(
                    f"  {label:8} workers={workers}",
                    json.dumps(rows[f"{label}_workers_{workers}"]),
                    flush=True,
                )
        if label == "fixed":
            with mock_server(*flags) as url:
                rows["sequential_per_s"] = round(sequential_baseline(url, baseline), 2)
    return rows


def bench_rate_limit(
    work: Path, articles: int, rate: float, hint: str, rpm: int | None = None
) -> dict[str, Any]:
    """``hint``: the mock's ``Retry-After`` style (``reserve``: a booked slot per rejected
    request; ``next_token``: everyone told the same moment, like most servers). ``rpm``:
    the client-side limit (``--rpm``), if any."""
    name = f"ratelimit-{hint}-{rpm}"
    source = work / f"{name}.jsonl"
    write_jsonl(source, articles)
    out = work / f"{name}-feed.jsonl"
    flags = ("--latency", "0.05", "--rate", str(rate), "--retry-after-hint", hint)
    with mock_server(*flags) as url:
        stats, wall = run_pipeline(url, source, out, concurrency=64, rpm=rpm)
    written = len(out.read_text(encoding="utf-8").splitlines())
    achieved = stats.done / wall
    return {
        "articles": articles,
        "retry_after": hint,
        "client_rpm": rpm,
        "limit_per_s": rate,
        "achieved_per_s": round(achieved, 1),
        "ratio_of_limit": round(achieved / rate, 3),
        "lost": articles - written,
        "failed": stats.failed,
    }


def bench_overhead(work: Path, rounds: int) -> dict[str, Any]:
    """Per-article milliseconds of the whole pipeline with the model replayed from files."""
    recorded = work / "recorded"
    raws = [RawArticle(id=p.stem, path=str(p), data=p.read_bytes()) for p in SEEDS]

    async def run_all(backend: OpenAIBackend, writer: FeedWriter | None) -> list[float]:
        await backend.start()
        timings = []
        for raw in raws:
            started = time.perf_counter()
            result = await process(raw, backend)
            if writer is not None:
                writer.write(result)
            timings.append(time.perf_counter() - started)
        await backend.aclose()
        return timings

    with mock_server() as url:  # record once: the mock's (synthetic) answers to the seeds
        asyncio.run(run_all(OpenAIBackend(endpoint(url, record_dir=recorded)), None))
    per_article: list[float] = []
    clean_only: list[float] = []
    with FeedWriter(str(work / "overhead.jsonl"), work / "overhead.errors.jsonl") as writer:
        for _ in range(rounds):
            replay = OpenAIBackend(endpoint("http://replay.invalid/v1", replay_dir=recorded))
            per_article += asyncio.run(run_all(replay, writer))
            for raw in raws:
                started = time.perf_counter()
                clean(raw)
                clean_only.append(time.perf_counter() - started)
    return {
        "articles": len(per_article),
        "median_ms": round(statistics.median(per_article) * 1000, 2),
        "p90_ms": round(statistics.quantiles(per_article, n=10)[-1] * 1000, 2),
        "clean_median_ms": round(statistics.median(clean_only) * 1000, 2),
    }


def bench_rss(work: Path, articles: int) -> dict[str, Any]:
    source = work / "rss.jsonl"
    write_jsonl(source, articles, short=True)
    with mock_server() as url:
        started = time.perf_counter()
        feed = work / "rss-feed.jsonl"
        child = subprocess.run(
            [sys.executable, __file__, "_rss_child", str(source), str(feed), url],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(articles=articles, input_mb=round(source.stat().st_size / 2**20, 1))
    result["wall_s"] = round(wall, 1)
    return result


def rss_child(source: str, out: str, url: str) -> None:
    """Runs in a child process, so that its peak RSS is the pipeline's own."""
    stats, _ = run_pipeline(url, Path(source), Path(out), concurrency=64)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"peak_rss_mb": round(peak_mb, 1), "ok": stats.ok, "failed": stats.failed}))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "_rss_child":
        rss_child(*sys.argv[2:])
        return
    if len(sys.argv) == 6 and sys.argv[1] == "_client":
        client_child(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="throughput run size")
    parser.add_argument("--baseline", type=int, default=25, help="sequential loop size")
    parser.add_argument("--rate", type=float, default=50.0, help="mock's rate limit (req/s)")
    parser.add_argument("--rate-articles", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20, help="overhead: passes over seeds")
    parser.add_argument("--rss-articles", type=int, default=200_000, help="0 skips it")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only-throughput", action="store_true", help="skip the other parts")
    args = parser.parse_args()
    os.environ.pop("OPENAI_API_KEY", None)  # the mock needs none; never send a real one
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["throughput"] = bench_throughput(work, args.articles, args.baseline)
        print("throughput ", json.dumps(results["throughput"]), flush=True)
        rpm = int(args.rate * 60 * 0.97)  # what a user who knows the limit would pass
        for hint, client_rpm in (("reserve", None), ("next_token", None), ("next_token", rpm)):
            if args.only_throughput:
                break
            key = f"rate_limit_{hint}" + ("_rpm" if client_rpm else "")
            results[key] = bench_rate_limit(work, args.rate_articles, args.rate, hint, client_rpm)
            print("rate limit ", json.dumps(results[key]), flush=True)
        if not args.only_throughput:
            results["overhead"] = bench_overhead(work, args.rounds)
            print("overhead   ", json.dumps(results["overhead"]), flush=True)
        if args.rss_articles and not args.only_throughput:
            results["rss"] = bench_rss(work, args.rss_articles)
            print("peak RSS   ", json.dumps(results["rss"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
