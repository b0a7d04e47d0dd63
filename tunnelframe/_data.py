"""Where the bundled data files live.

The repository keeps them in ``data/``; the wheel ships the same files as ``tunnelframe/data/``.
An editable install reads them from the repository. Nothing here touches the network.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__: list[str] = []


def _data_path(name: str) -> Path:
    """Return the path of the bundled data file ``name``, installed or in the repository."""
    installed = Path(str(resources.files("tunnelframe"))) / "data" / name
    if installed.exists():
        return installed
    in_repo = Path(__file__).resolve().parent.parent / "data" / name
    if in_repo.exists():
        return in_repo
    raise FileNotFoundError(
        f"bundled data file {name!r} is missing from {installed.parent} and {in_repo.parent}: "
        "reinstall tunnelframe"
    )
