"""Local models: a GGUF file served by llama.cpp for the run (``--backend local``).

``summarise`` talks to every model through one code path, the ``openai`` client, so a local
model is an OpenAI-compatible server on a loopback port: ``LocalBackend`` checks the file
(``gguf``), that llama-cpp-python is installed (``install``), runs the server as a child
process (``server``) for exactly as long as the run, and stops the run at once, saying why
and how to rebuild, if the server dies under it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from summarise.backends.base import BackendRecipe
from summarise.backends.local.gguf import check_gguf, choose_n_ctx, find_smollm2_gguf
from summarise.backends.local.install import require_llama_cpp
from summarise.backends.local.server import STARTUP_TIMEOUT_S, LocalServer, free_port
from summarise.backends.openai import OpenAIBackend
from summarise.backends.openai.client import ModelClient
from summarise.config import EndpointConfig
from summarise.errors import LocalModelError

__all__ = ["LocalBackend", "LocalServer", "check_gguf", "find_smollm2_gguf"]


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


class LocalBackend(OpenAIBackend):
    """``gguf`` served by llama.cpp on a free loopback port while the backend is started.

    Everything a user must fix (no ``--gguf``, a bad file, the extra not installed) is a
    ``LocalModelError`` from the constructor, before anything starts. The config's
    ``context_length`` (or the file's trained length, capped) sizes llama.cpp's context;
    the instructions move into the user turn when the chat template drops system messages.
    """

    def __init__(
        self,
        gguf: Path | None,
        config: EndpointConfig,
        *,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        if gguf is None:
            raise LocalModelError(missing_gguf_message())
        info = check_gguf(gguf)
        require_llama_cpp()
        context = config.context_length or choose_n_ctx(info)
        host = "127.0.0.1"
        self.server = LocalServer(
            info.path,
            n_ctx=context,
            host=host,
            port=free_port(host),
            startup_timeout_s=startup_timeout_s,
        )
        served = dataclasses.replace(
            config,
            base_url=self.server.base_url,
            model=self.server.model,
            api_key="local",
            context_length=context,
            system_in_user=config.system_in_user or info.system_role_supported is False,
        )
        super().__init__(
            served,
            ModelClient(served, liveness=self.server.ensure_alive),
            name="local",
        )

    async def start(self) -> None:
        # In the calling (main) thread: the parent-death signal is tied to the thread that
        # starts the child, and signal handlers can only be set from the main thread.
        self.server.start()
        await super().start()

    def worker_recipe(self, workers: int) -> BackendRecipe | None:
        return None  # the llama.cpp server is this process's; one model, one queue

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            self.server.stop()
