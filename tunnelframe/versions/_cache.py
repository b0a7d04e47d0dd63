"""Where tunnelframe caches what :func:`tunnelframe.refresh_releases` reads (no I/O here)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__: list[str] = []


def _cache_dir() -> Path:
    env = os.environ.get("TUNNELFRAME_CACHE_DIR")
    if env:
        return Path(env)
    system = platform.system()
    if system == "Windows":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "tunnelframe"
    if system == "Darwin":
        return Path.home() / "Library" / "Caches" / "tunnelframe"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tunnelframe"
