"""Type aliases the public entry points share: what a fleet source, a time and a store may be.

Annotations only: nothing here is checked at run time (the functions that take these values
check them and raise ``TypeError``/``ValueError`` with the argument's name).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd

if TYPE_CHECKING:  # annotations only: a leaf must not import the snapshot layer
    from tunnelframe.snapshot import Snapshot

__all__ = ["FleetSource", "HistoryLike", "RoutedSource", "StoreLike", "TimeLike"]

#: A moment: an ISO 8601 string, a date, a datetime or a Timestamp (naive means UTC).
TimeLike: TypeAlias = str | date | datetime | pd.Timestamp

#: A history store directory.
StoreLike: TypeAlias = str | os.PathLike[str]

#: A history store directory or a history frame (:func:`tunnelframe.load_history`).
HistoryLike: TypeAlias = StoreLike | pd.DataFrame

#: Fleet data in any form, what every function that reads a fleet takes as ``source``: a
#: Snapshot, the path of a saved snapshot, a fleet dict (``{"tunnels": [...]}``), an API
#: payload (a connector, a list of them, an envelope, tunnel objects) or a connections frame.
FleetSource: TypeAlias = (
    "Snapshot | str | os.PathLike[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]] "
    "| pd.DataFrame"
)

#: Fleet data that can carry what the tunnels serve (``routing``, :func:`tunnelframe.
#: fetch_routing`): a Snapshot, a saved snapshot's path or a fleet dict; a connections frame
#: cannot.
RoutedSource: TypeAlias = "Snapshot | str | os.PathLike[str] | Mapping[str, Any]"
