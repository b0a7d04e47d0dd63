"""What a frame function reads from a fleet source: the payload, and when it was read.

A Snapshot (anything with a ``fleet`` dict: frames know no snapshot class) gives its fleet, a
path the fleet saved there; a payload is taken as it is. Frames are the caller's to handle.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tunnelframe._errors import SchemaError
from tunnelframe._io import read_json
from tunnelframe._types import FleetSource

__all__ = ["payload_of"]


def payload_of(source: FleetSource) -> tuple[Any, datetime | str | None]:
    """The payload in a fleet source and when it was read: a Snapshot (anything with a
    ``fleet`` dict) gives its fleet, a path the fleet of the snapshot (or fleet dict) saved
    there; any other payload is returned as it is. A frame is the caller's to handle."""
    if isinstance(source, str | os.PathLike):
        document = read_json(source)
        if not isinstance(document, Mapping) or not isinstance(document.get("tunnels"), list):
            raise SchemaError(
                str(source), 'no "tunnels" list: not a saved snapshot or a fleet dict'
            )
        saved = {k: document[k] for k in ("tunnels", "routing") if document.get(k) is not None}
        return saved, document.get("fetched_at")
    fleet = getattr(source, "fleet", None)
    if isinstance(fleet, Mapping) and not isinstance(source, Mapping):
        return fleet, getattr(source, "fetched_at", None)
    return source, None
