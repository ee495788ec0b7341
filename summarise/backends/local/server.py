"""The llama.cpp server as a child process: started on a free loopback port, watched, stopped.

``LocalServer`` runs ``python -m llama_cpp.server`` in its own process group, waits until it
answers, and always stops it: on normal exit, on exceptions, on Ctrl-C, on SIGTERM or
SIGHUP, at interpreter exit, and (Linux) when this process is killed outright. While a run
uses it, ``ensure_alive`` tells a server that died (a crash is a signal, e.g. SIGSEGV from a
llama.cpp built for another CPU) apart from one that is only slow, so the run stops at once
with the reason instead of retrying against a dead port.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

import httpx2

from summarise.backends.local.gguf import FALLBACK_CTX
from summarise.backends.local.install import INSTALL_HINT, rebuild_command
from summarise.errors import LocalModelError, LocalServerDied

STARTUP_TIMEOUT_S = 180.0
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 30
LOG_LINE_CHARS = 240  # llama.cpp logs whole grammars on one line
DEATH_WAIT_S = 2.0
# Signals of a crash inside llama.cpp (as opposed to being stopped or killed from outside).
_CRASH_SIGNALS = frozenset(
    {signal.SIGSEGV, signal.SIGILL, signal.SIGBUS, signal.SIGFPE, signal.SIGABRT}
)

# What llama.cpp's log says -> what the user should do about it (first match wins).
LOG_HINTS: tuple[tuple[str, str], ...] = (
    (
        "failed to parse grammar",
        "llama.cpp could not build the grammar for the JSON schema (its parser recurses "
        "once per allowed character and crashes above about maxLength 1000); use "
        "--response-format json_object",
    ),
    (
        "unknown model architecture",
        "this llama-cpp-python is too old for the model's architecture; "
        "upgrade it: pip install -U llama-cpp-python",
    ),
    (
        "failed to load model",
        "llama.cpp could not load the model: the file may be corrupt or incomplete "
        "(download it again), or its format is newer than this llama-cpp-python",
    ),
    ("address already in use", "the port was taken between choosing and binding it; rerun"),
    ("no module named", INSTALL_HINT),
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free now on ``host`` (another process may take it before us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def llama_server_command(
    gguf: Path,
    *,
    host: str,
    port: int,
    n_ctx: int,
    n_threads: int | None = None,
    model_alias: str | None = None,
    chat_format: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line that starts llama-cpp-python's OpenAI-compatible server.

    Threads default as in llama.cpp: half the CPUs for generation (memory-bound, and
    hyperthreads do not help), all of them for reading the prompt (compute-bound).
    """
    threads = n_threads or max(1, cpu_count() // 2)
    batch_threads = n_threads or cpu_count()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--host", host, "--port", str(port), "--n_ctx", str(n_ctx)]
    command += ["--n_threads", str(threads), "--n_threads_batch", str(batch_threads)]
    command += ["--model_alias", model_alias or gguf.stem]
    if chat_format:
        command += ["--chat_format", chat_format]
    return command + list(extra_args)


# --- The server as a child process -----------------------------------------------------

CommandFactory = Callable[[str, int], Sequence[str]]
"""(host, port) -> the argv of a process that serves an OpenAI-compatible API there."""

_LIVE: set[LocalServer] = set()
_LIVE_LOCK = threading.Lock()


def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        server.stop()


@cache
def _register_exit_hook() -> None:
    """Stop servers still running at interpreter exit; registered when the first starts."""
    atexit.register(_stop_all_at_exit)


class LocalServer:
    """A child process serving an OpenAI-compatible API on a free loopback port.

    >>> with LocalServer(Path("model.gguf"), n_ctx=4096) as server:  # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="local")

    The child runs in its own process group (so Ctrl-C reaches only us, and we stop it in
    order) with its output in a log file whose tail goes into any error. It is stopped with
    SIGTERM, then SIGKILL after ``stop_grace_s``, whenever the ``with`` block ends. Pass
    ``command`` to run something else than llama-cpp-python (tests use a fake server).
    """

    def __init__(
        self,
        gguf: Path | None = None,
        *,
        n_ctx: int = FALLBACK_CTX,
        n_threads: int | None = None,
        model_alias: str | None = None,
        chat_format: str | None = None,
        extra_args: Sequence[str] = (),
        command: CommandFactory | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
        stop_grace_s: float = STOP_GRACE_S,
        handle_signals: bool = True,
    ) -> None:
        if command is None and gguf is None:
            raise ValueError("LocalServer needs a gguf path or a command")
        self.gguf = gguf
        self.n_ctx = n_ctx
        self.host = host
        self.port = port or 0
        self.startup_timeout_s = startup_timeout_s
        self.stop_grace_s = stop_grace_s
        self.handle_signals = handle_signals
        self.model: str = model_alias or (gguf.stem if gguf else "local")
        self.log_path: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._command: CommandFactory = command or self._llama_command
        self._llama_options: dict[str, Any] = {
            "n_threads": n_threads,
            "chat_format": chat_format,
            "extra_args": extra_args,
        }
        self._log_dir: Path | None = None
        self._log: IO[bytes] | None = None
        self._old_handlers: dict[int, Any] = {}

    def _llama_command(self, host: str, port: int) -> list[str]:
        assert self.gguf is not None
        return llama_server_command(
            self.gguf,
            host=host,
            port=port,
            n_ctx=self.n_ctx,
            model_alias=self.model,
            **self._llama_options,
        )

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, e.g. ``http://127.0.0.1:8123/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the child and wait until it answers ``GET /v1/models``; stop it on failure."""
        if self.process is not None:
            raise RuntimeError("LocalServer already started")
        try:
            self._spawn()
            self._wait_ready()
        except BaseException:  # Ctrl-C while loading included: never leave the child behind
            self.stop()
            raise

    def _spawn(self) -> None:
        if not self.port:
            self.port = free_port(self.host)
        self._log_dir = Path(tempfile.mkdtemp(prefix="summarise-local-"))
        self.log_path = self._log_dir / "server.log"
        self._log = self.log_path.open("wb")
        argv = list(self._command(self.host, self.port))
        self._install_signal_handlers()
        _register_exit_hook()
        with _LIVE_LOCK:
            _LIVE.add(self)
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(),  # prctl only: safe after fork
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        with httpx2.Client(timeout=2.0, trust_env=False) as http:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise LocalModelError(self._death_message(code, "did not start"))
                try:
                    response = http.get(f"{self.base_url}/models")
                except httpx2.HTTPError:
                    response = None
                if response is not None and response.status_code == 200:
                    self._read_model_name(response)
                    return
                if time.monotonic() > deadline:
                    raise LocalModelError(
                        self._failure(
                            f"the model server did not answer within {self.startup_timeout_s:.0f}s"
                        )
                    )
                time.sleep(0.2)

    def _read_model_name(self, response: httpx2.Response) -> None:
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            model_id = response.json()["data"][0]["id"]
            if isinstance(model_id, str) and model_id:
                self.model = model_id

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the child wrote (stdout and stderr)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_bytes()[-256_000:].decode("utf-8", errors="replace")
        return "\n".join(
            line if len(line) <= LOG_LINE_CHARS else line[:LOG_LINE_CHARS] + " …"
            for line in text.splitlines()[-lines:]
        )

    def _failure(self, what: str) -> str:
        tail = self.log_tail()
        lowered = self.log_tail(200).lower()
        hint = next((hint for needle, hint in LOG_HINTS if needle in lowered), None)
        message = what + (f": {hint}" if hint else "")
        if tail:
            message += f"\n--- last lines of the server log ---\n{tail}"
        return message

    def check(self) -> None:
        """Raise ``LocalServerDied`` (with the reason and the log tail) if the server has died."""
        code = self.process.poll() if self.process is not None else None
        if code is not None:
            raise LocalServerDied(self._death_message(code))

    async def ensure_alive(self, wait_s: float = DEATH_WAIT_S) -> None:
        """After a failed connection: raise ``LocalServerDied`` if the server is dying or dead.

        A crashing process closes its sockets a moment before it can be reaped, so this waits
        up to ``wait_s`` for it to exit; a server that is still running is only slow.
        """
        process = self.process
        if process is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, wait_s)  # also reaps it: no zombie
        self.check()

    def _death_message(self, code: int, what: str = "died during the run") -> str:
        message = f"the local model server (llama.cpp) {what}: {_exit_text(code)}"
        signum = -code if code < 0 else None
        if signum in _CRASH_SIGNALS:
            message += (
                ". llama.cpp crashing like this usually means it was built for another CPU "
                "(a native build, or a wheel cached on another machine; AVX-512/AMX kernels "
                "crash in some VMs). Rebuild it portable:\n  "
                + rebuild_command()
                + "\n(or: make local-rebuild, in a checkout of summarise)"
            )
        elif signum == signal.SIGKILL:
            message += ": the kernel's out-of-memory killer sends SIGKILL; try a smaller model"
        return self._failure(message)

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after the grace period); safe to repeat."""
        process, self.process = self.process, None
        if process is not None:
            _terminate_group(process, self.stop_grace_s)
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self._restore_signal_handlers()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None
            self.log_path = None

    # SIGTERM and SIGHUP would end Python without running ``finally`` or atexit, leaving
    # the server behind: while it runs, they raise SystemExit instead.
    def _install_signal_handlers(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is None:
                continue
            previous = signal.getsignal(signum)
            if previous is signal.SIG_DFL:
                self._old_handlers[signum] = previous
                signal.signal(signum, _exit_on_signal)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in self._old_handlers.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, previous)
        self._old_handlers.clear()


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name} (signal {-code})"
    return f"exit status {code}"


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _terminate_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the child's process group, SIGKILL it if still there after ``grace_s``."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the group is gone already
            break
        except PermissionError:
            process.send_signal(sig)
        try:
            process.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    # Reap it in any case, and take down anything left in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5.0)


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: have the kernel SIGKILL the child if this process dies without cleaning up.

    The signal fires when the *thread* that started the child ends, so it is only set up
    from the main thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def setup() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return setup
