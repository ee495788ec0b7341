"""Installing llama-cpp-python, the optional ``[local]`` extra, and rebuilding it portably.

llama-cpp-python is imported only when ``--backend local`` asks for it: importing it loads
libllama, and installing it builds llama.cpp from source (6 to 16 minutes on 2 cores). The
portable build flags live in ``portable-build.txt`` beside this file, the one place that
``make local``, CI and the crash message read them from.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shlex
from functools import cache
from pathlib import Path

from summarise.errors import LocalModelError

BUILD_FLAGS_FILE = Path(__file__).with_name("portable-build.txt")
INSTALL_HINT = (
    "install the local extra: make local (in a checkout), or "
    'CMAKE_ARGS="$(grep -v "^#" summarise/backends/local/portable-build.txt)" '
    'pip install --no-cache-dir "summarise[local]" '
    "(it builds llama.cpp from source: 6 to 16 minutes on 2 cores; needs a C++ compiler "
    "and cmake)"
)


@cache
def portable_cmake_args() -> str:
    """The CMake flags of the portable llama.cpp build, as one ``CMAKE_ARGS`` string."""
    lines = BUILD_FLAGS_FILE.read_text(encoding="utf-8").splitlines()
    return " ".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def rebuild_command() -> str:
    """The exact shell command that rebuilds the installed llama-cpp-python portably.

    ``--no-cache-dir``: pip's wheel cache does not key on ``CMAKE_ARGS``, so without it pip
    would reinstall the very wheel that crashed.
    """
    try:
        version = importlib.metadata.version("llama-cpp-python")
        requirement = f"llama-cpp-python[server]=={version}"
    except importlib.metadata.PackageNotFoundError:
        requirement = "llama-cpp-python[server]"
    return (
        f"CMAKE_ARGS={shlex.quote(portable_cmake_args())} pip install --no-cache-dir "
        f"--force-reinstall --no-deps {shlex.quote(requirement)}"
    )


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
