"""The mock's Files API store: uploaded and generated files, and ``multipart/form-data``.

``client.files.create(file=..., purpose="batch")`` sends ``POST /v1/files`` as
``multipart/form-data`` with two fields, ``purpose`` (text) and ``file`` (with a filename);
``parse_multipart`` reads just that much of RFC 7578. Files live in memory, numbered in
order (``file-mock00000001``, ...), and answer as the SDK's ``FileObject``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.message import Message
from typing import Any

FILE_PURPOSES = frozenset(
    {
        "assistants",
        "assistants_output",
        "batch",
        "batch_output",
        "fine-tune",
        "fine-tune-results",
        "vision",
        "user_data",
    }
)
"""The ``purpose`` values the SDK's ``FileObject`` knows."""


@dataclass(frozen=True)
class StoredFile:
    """One file: what was uploaded (or what a batch wrote) and when."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def as_object(self) -> dict[str, Any]:
        """The file as the API's ``file`` object (``openai.types.FileObject``)."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


class FileStore:
    """Files by id, in memory; safe to read from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self._count = 0

    def add(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        """Store ``data`` under a new id."""
        with self._lock:
            self._count += 1
            stored = StoredFile(
                f"file-mock{self._count:08d}", filename, purpose, data, int(time.time())
            )
            self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """The file with this id, if any."""
        with self._lock:
            return self._files.get(file_id)

    def delete(self, file_id: str) -> bool:
        """Forget a file; whether it was there."""
        with self._lock:
            return self._files.pop(file_id, None) is not None

    def all(self, purpose: str | None = None) -> list[StoredFile]:
        """Every file (of ``purpose``, when given), newest first."""
        with self._lock:
            files = list(self._files.values())
        return [f for f in reversed(files) if purpose is None or f.purpose == purpose]


class MultipartError(ValueError):
    """A ``multipart/form-data`` body the mock cannot read."""


@dataclass(frozen=True)
class FormField:
    """One field of a form: its value, and its filename when it is a file."""

    value: bytes
    filename: str | None = None


def _params(header_value: str, header: str) -> Message:
    message = Message()
    message[header] = header_value
    return message


def parse_multipart(content_type: str, raw: bytes) -> dict[str, FormField]:
    """The fields of a ``multipart/form-data`` body, by name (the first of each name)."""
    boundary = _params(content_type, "content-type").get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("multipart/form-data without a boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    segments = raw.split(delimiter)
    if len(segments) < 3:
        raise MultipartError("no parts in the multipart/form-data body")
    fields: dict[str, FormField] = {}
    for segment in segments[1:]:
        if segment.startswith(b"--"):  # the closing delimiter
            break
        part = segment.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep:
            raise MultipartError("a part without headers")
        disposition = ""
        for line in head.decode("latin-1").split("\r\n"):
            name, _, rest = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = rest.strip()
        params = _params(disposition, "content-disposition")
        field_name = params.get_param("name", header="content-disposition")
        if not isinstance(field_name, str):
            raise MultipartError("a part without a name")
        filename = params.get_filename()
        fields.setdefault(field_name, FormField(value, filename))
    return fields
