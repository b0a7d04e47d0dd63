"""One atomic file write, shared by every module that writes a file (snapshots, reports, the
history store, the release calendar): a reader sees the old file or the whole new one, never half.
And one guarded read of a (gzipped) JSON file, shared by every reader of a saved snapshot.
"""

from __future__ import annotations

import json
import os
import secrets
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Final

from tunnelframe._errors import SchemaError

__all__ = ["MAX_INFLATED_BYTES", "atomic_write", "fsync_dir", "read_json"]

#: Largest JSON file accepted once a ``.json.gz`` file is inflated (the client's cap on one
#: response is 64 MiB; a whole fleet's snapshot may hold many responses).
MAX_INFLATED_BYTES: Final = 256 * 2**20
_CHUNK_BYTES: Final = 2**20


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes | Callable[[BinaryIO], None],
    *,
    temp_name: str | None = None,
) -> Path:
    """Write ``data`` (bytes, or a function that writes to a binary file) to ``path`` atomically.

    The data goes to a temporary file beside ``path`` (``temp_name``, or ``.<name>.<random>.tmp``),
    is flushed and fsynced, renamed over ``path``, and the folder is fsynced so the rename
    survives a crash. The temporary file is removed if anything fails. ``open(..., "x")`` rather
    than ``mkstemp``: the file gets the usual umask permissions, not 0600.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(target, b"hello").read_text()
    'hello'
    """
    path = Path(path)
    temp = path.with_name(temp_name or f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temp, "xb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                data(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def read_json(path: str | os.PathLike[str], *, max_inflated_bytes: int = MAX_INFLATED_BYTES) -> Any:
    """The JSON document in ``path`` (``.json``, or gzipped: inflated up to
    ``max_inflated_bytes``); damaged or non-JSON content is a :class:`SchemaError` naming it."""
    source = Path(path)
    raw = source.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = _inflate(raw, source, max_inflated_bytes)
    try:
        return json.loads(raw)
    except RecursionError:
        raise SchemaError(
            str(source), "JSON nested too deeply: not a tunnelframe snapshot"
        ) from None
    except ValueError as exc:
        raise SchemaError(str(source), f"not JSON ({exc}): is it a tunnelframe snapshot?") from exc


def _inflate(raw: bytes, source: Path, max_bytes: int) -> bytes:
    """The gzip file ``raw`` inflated, refused past ``max_bytes`` (as the client caps a
    response): a small file that inflates to gigabytes is a bomb, not a snapshot."""
    out: list[bytes] = []
    size = 0
    data = raw
    try:
        while data:  # a gzip file may hold several members, one after another
            inflater = zlib.decompressobj(wbits=31)
            chunk = inflater.decompress(data, _CHUNK_BYTES)
            while True:
                size += len(chunk)
                if size > max_bytes:
                    raise SchemaError(
                        str(source),
                        f"inflates to more than {max_bytes:,} bytes: refused (a "
                        "decompression bomb, or a snapshot far larger than any fleet's)",
                    )
                out.append(chunk)
                if inflater.eof or (not inflater.unconsumed_tail and not chunk):
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK_BYTES)
            if not inflater.eof:
                raise EOFError("the compressed data ends before its end marker")
            data = inflater.unused_data
    except (OSError, EOFError, zlib.error) as exc:
        raise SchemaError(
            str(source), f"a damaged gzip file ({exc}): was it copied or written whole?"
        ) from None
    return b"".join(out)
