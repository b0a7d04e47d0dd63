"""One atomic file write, shared by every module that writes a file (snapshots, reports, the
history store, the release calendar): a reader sees the old file or the whole new one, never half.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "fsync_dir"]


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
