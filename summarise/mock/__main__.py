"""The mock server's command line: ``python -m summarise.mock --port 0 --latency 0.2``.

Prints the base URL on the first stdout line, serves until SIGTERM/SIGINT, and with
``--stats`` prints its counters as JSON to stderr at exit. ``--help`` lists the flags.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from summarise.mock.config import MATCH_ANY, MODELS_FAULTS, SOAK_FAULTS, MockConfig
from summarise.mock.server import MockServer


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m summarise.mock",
        description="Mock OpenAI-compatible server; prints its base URL on the first line.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--latency", type=float, default=0.0, help="seconds per chat completion")
    p.add_argument(
        "--latency-jitter", type=float, default=0.0, help="each latency +/- up to this (uniform)"
    )
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--overload", choices=("queue", "503"), default="queue")
    p.add_argument("--rate", type=float, default=None, help="requests/s before 429")
    p.add_argument("--burst", type=float, default=1.0, help="token bucket size")
    p.add_argument("--retry-after-hint", choices=("reserve", "next_token"), default="reserve")
    p.add_argument("--retry-after", type=float, default=0.1, help="for scripted 429 faults")
    p.add_argument("--hang", type=float, default=30.0, help="seconds the timeout fault hangs")
    p.add_argument(
        "--trickle-interval", type=float, default=1.0, help="seconds a byte for the trickle fault"
    )
    p.add_argument(
        "--huge-body-bytes", type=int, default=2**30, help="size of the huge_body fault's answer"
    )
    p.add_argument("--error-message", default=None, help="message of HTTP-status faults' bodies")
    p.add_argument(
        "--models-fault",
        default=None,
        metavar="FAULT",
        help=f"for every GET /models: {', '.join(MODELS_FAULTS)} or an HTTP status",
    )
    p.add_argument("--reject-json-schema", action="store_true")
    p.add_argument("--ignore-schema", action="store_true")
    p.add_argument("--api-key", default=None, help="require this bearer key (else 401)")
    p.add_argument("--unknown-model", action="store_true")
    p.add_argument("--model", action="append", default=None, help="listed in /models")
    p.add_argument("--context-length", type=int, default=None)
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="MARKER=F1,F2",
        help=f"fault script for requests containing MARKER ('{MATCH_ANY}': any request)",
    )
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--fault-choices", default=",".join(SOAK_FAULTS))
    p.add_argument("--fault-marker", default=None, help="random faults only where this occurs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--replay-dir", type=Path, default=None)
    p.add_argument("--replay-any", action="store_true")
    batches = p.add_argument_group("batches", "the Files and Batches API (no clocks: polls)")
    batches.add_argument(
        "--batch-polls-per-step",
        type=int,
        default=1,
        help="GET /batches/{id} calls per step of a batch (0: to its end on the first)",
    )
    batches.add_argument(
        "--batch-requests-per-step",
        type=int,
        default=None,
        help="requests run per in_progress step (default: all at once)",
    )
    batches.add_argument(
        "--batch-expire-after",
        type=int,
        default=None,
        help="a batch expires after running this many requests (the rest never run)",
    )
    batches.add_argument(
        "--batch-status-zero-rate",
        type=float,
        default=0.0,
        help="fraction of error-file lines written with status_code 0",
    )
    batches.add_argument(
        "--batch-in-order",
        action="store_true",
        help="write batch results in the order they ran (default: shuffled, seeded)",
    )
    batches.add_argument(
        "--batch-max-requests", type=int, default=50_000, help="more fail as too_many_tasks"
    )
    p.add_argument("--stats", action="store_true", help="print counters as JSON to stderr at exit")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> MockConfig:
    """The ``MockConfig`` the command-line flags describe."""
    faults: dict[str, list[str]] = {}
    for item in args.fault:
        marker, sep, names = item.partition("=")
        if not sep:
            raise SystemExit(f"--fault expects MARKER=F1,F2, got {item!r}")
        faults.setdefault(marker, []).extend(n for n in names.split(",") if n)
    return MockConfig(
        host=args.host,
        port=args.port,
        latency_s=args.latency,
        latency_jitter_s=args.latency_jitter,
        max_concurrency=args.max_concurrency,
        overload=args.overload,
        rate_limit_rps=args.rate,
        rate_burst=args.burst,
        retry_after_hint=args.retry_after_hint,
        retry_after_s=args.retry_after,
        hang_s=args.hang,
        trickle_interval_s=args.trickle_interval,
        huge_body_bytes=args.huge_body_bytes,
        error_message=args.error_message,
        models_fault=args.models_fault,
        reject_json_schema=args.reject_json_schema,
        ignore_schema=args.ignore_schema,
        require_api_key=args.api_key,
        unknown_model=args.unknown_model,
        models=tuple(args.model) if args.model else ("mock-model",),
        context_length=args.context_length,
        faults=faults,
        fault_rate=args.fault_rate,
        fault_choices=tuple(n for n in args.fault_choices.split(",") if n),
        fault_marker=args.fault_marker,
        seed=args.seed,
        replay_dir=args.replay_dir,
        replay_any=args.replay_any,
        keep_requests=False,
        batch_polls_per_step=args.batch_polls_per_step,
        batch_requests_per_step=args.batch_requests_per_step,
        batch_expire_after=args.batch_expire_after,
        batch_status_zero_rate=args.batch_status_zero_rate,
        batch_shuffle=not args.batch_in_order,
        batch_max_requests=args.batch_max_requests,
    )


async def _serve_forever(config: MockConfig, print_stats: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with MockServer(config) as server:
        print(server.base_url, flush=True)
        await stop.wait()
    if print_stats:
        stats = server.stats
        snapshot = {
            **stats.__dict__,
            "statuses": dict(stats.statuses),
            "faults": dict(stats.faults),
        }
        print(json.dumps(snapshot), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mock until SIGTERM/SIGINT; the first stdout line is the base URL."""
    args = _parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"summarise.mock: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_serve_forever(config, args.stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
