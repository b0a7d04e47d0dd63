"""The package version: one string, read by ``tunnelframe.__version__``, the CLI and hatch."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.3.0.dev0"
