"""Alert state: which violations are pending, firing or ending, kept in a file between runs.

:class:`AlertState` turns the violations of each view (the rows of
:func:`tunnelframe.findings`) into the changes worth sending: a violation that has held for
``hold`` becomes *firing* (sent once), one gone for ``hold`` becomes *resolved* (its end sent
once), and a flap shorter than ``hold`` is never sent. Time is the view's (the snapshot's
fetch time), not the wall clock, so cron runs and replays agree. The state also keeps each
receiver's undelivered alerts (its outbox) until they are delivered. It never sends anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd

from tunnelframe._io import atomic_write
from tunnelframe.engine import RULES

__all__ = ["STATE_FORMAT", "Alert", "AlertState"]

#: (format, version) of the state file.
STATE_FORMAT: Final = ("tunnelframe.alerts.state", 1)

_ADVICE: Final = {rule.id: rule.advice for rule in RULES}
_KEY_COLUMNS: Final = ("rule", "account_id", "tunnel_id", "connector_id")


@dataclass(frozen=True)
class Alert:
    """One change to send: a violation that started (``firing``) or ended (``resolved``).

    Attributes
    ----------
    status : {"firing", "resolved"}
        What happened.
    rule, severity, title : str
        The finding rule (``tunnelframe check``'s rule id), its severity and title.
    account_id, tunnel_id, tunnel_name : str
        Where.
    connector_id : str or None
        The connector, for a connector-level finding.
    message : str
        What, in one line, as ``tunnelframe check`` prints it.
    advice : tuple of str
        What to do.
    starts_at : str
        Since when (ISO 8601 UTC): the first view the violation was seen in.
    ends_at : str or None
        For ``resolved``: the first view it was gone from.

    Examples
    --------
    >>> from tunnelframe.alerts import Alert
    >>> Alert("firing", "down", "high", "Tunnels down", "a", "t1", "web", None,
    ...       "web is down", ("check egress",), "2026-08-20T12:00:00Z", None).key
    'down|a|t1|'
    """

    status: Literal["firing", "resolved"]
    rule: str
    severity: str
    title: str
    account_id: str
    tunnel_id: str
    tunnel_name: str
    connector_id: str | None
    message: str
    advice: tuple[str, ...]
    starts_at: str
    ends_at: str | None

    @property
    def key(self) -> str:
        """What identifies the violation across runs: rule, account, tunnel and connector."""
        return "|".join([self.rule, self.account_id, self.tunnel_id, self.connector_id or ""])

    def to_json(self) -> dict[str, Any]:
        """The alert as a JSON object (the webhook payload's ``alerts`` items)."""
        data = asdict(self)
        data["advice"] = list(self.advice)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        """The alert :meth:`to_json` wrote."""
        return cls(**{**data, "advice": tuple(data["advice"])})


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


class AlertState:
    """What was seen and sent so far, read from and written to a JSON file.

    Parameters
    ----------
    path : str or path-like
        The state file (created on the first :meth:`save`). Keep one per fleet, beside its
        snapshots or history store, so every run shares it.

    Examples
    --------
    >>> import tempfile, pandas as pd, tunnelframe as tf
    >>> from tunnelframe.alerts import AlertState
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web", "status": "down",
    ...                       "connectors": []}]}
    >>> found = tf.findings(fleet, as_of="2026-08-20T12:00Z")
    >>> state = AlertState(tempfile.mkdtemp() + "/alerts.json")
    >>> [a.status for a in state.observe(found, at="2026-08-20T12:00Z")]
    ['firing']
    >>> state.observe(found, at="2026-08-20T12:05Z")
    []
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.active: dict[str, dict[str, Any]] = {}
        self.outbox: dict[str, list[dict[str, Any]]] = {}
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"alert state {self.path} is not readable JSON ({exc}): move it aside to start "
                "over (every current violation is then sent again)"
            ) from exc
        if [data.get("format"), data.get("version")] != list(STATE_FORMAT):
            raise ValueError(
                f"{self.path} is not a tunnelframe alert state file (format "
                f"{data.get('format')!r} version {data.get('version')!r}, expected "
                f"{STATE_FORMAT[0]} {STATE_FORMAT[1]})"
            )
        self.active = dict(data["active"])
        self.outbox = {k: list(v) for k, v in data["outbox"].items()}

    def save(self) -> Path:
        """Write the state atomically; returns its path."""
        document = {
            "format": STATE_FORMAT[0],
            "version": STATE_FORMAT[1],
            "active": self.active,
            "outbox": {k: v for k, v in self.outbox.items() if v},
        }
        text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        return atomic_write(self.path, text.encode("utf-8"))

    def observe(
        self, violations: pd.DataFrame, *, at: Any, hold: timedelta = timedelta(0)
    ) -> list[Alert]:
        """Take the violations of one view and return the changes to send.

        Parameters
        ----------
        violations : pandas.DataFrame
            The rows of :func:`tunnelframe.findings` (or ``CheckResult.violations``) of the
            view.
        at : datetime-like
            The view's time (its snapshot's fetch time).
        hold : datetime.timedelta, default 0
            How long a violation must be seen, and an ended one be gone, before it is sent:
            a change shorter than this (a 30-second reconnect) is never sent.

        Returns
        -------
        list of Alert
            The violations that now fire and those that now end, each returned once.
        """
        now = pd.Timestamp(at)
        now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
        seen: dict[str, dict[str, Any]] = {}
        for row in violations.astype(object).to_dict("records"):
            entry = {k: _text(row.get(k)) for k in (*_KEY_COLUMNS, "severity", "title")}
            entry["tunnel_name"] = _text(row.get("tunnel_name"))
            entry["message"] = _text(row.get("message"))
            seen["|".join(entry[k] for k in _KEY_COLUMNS)] = entry
        changes: list[Alert] = []
        for key, entry in seen.items():
            known = self.active.get(key)
            if known is None:
                known = self.active[key] = {**entry, "first_seen": _iso(now), "phase": "pending"}
            known.update(entry)  # the newest message, name and severity
            known.pop("gone_since", None)
            if known["phase"] == "ending":
                known["phase"] = "firing"  # back within the hold: its end was never sent
            if known["phase"] == "pending" and now - pd.Timestamp(known["first_seen"]) >= hold:
                known["phase"] = "firing"
                changes.append(self._alert(known, "firing"))
        for key in [k for k in self.active if k not in seen]:
            known = self.active[key]
            if known["phase"] == "pending":
                del self.active[key]  # a flap shorter than the hold: never sent
                continue
            if known["phase"] == "firing":
                known["phase"], known["gone_since"] = "ending", _iso(now)
            if now - pd.Timestamp(known["gone_since"]) >= hold:
                changes.append(self._alert(known, "resolved", ends_at=known["gone_since"]))
                del self.active[key]
        return changes

    @staticmethod
    def _alert(known: dict[str, Any], status: str, *, ends_at: str | None = None) -> Alert:
        return Alert(
            status=status,  # type: ignore[arg-type]
            rule=known["rule"],
            severity=known["severity"],
            title=known["title"],
            account_id=known["account_id"],
            tunnel_id=known["tunnel_id"],
            tunnel_name=known["tunnel_name"],
            connector_id=known["connector_id"] or None,
            message=known["message"],
            advice=tuple(_ADVICE.get(known["rule"], ())),
            starts_at=known["first_seen"],
            ends_at=ends_at,
        )

    def firing(self) -> list[Alert]:
        """The violations sent as firing and not resolved yet (ending ones included)."""
        return [self._alert(v, "firing") for v in self.active.values() if v["phase"] != "pending"]

    def queue(self, receiver: str, alerts: Iterable[Alert]) -> None:
        """Keep alerts a receiver did not take, to send on the next run."""
        self.outbox.setdefault(receiver, []).extend(a.to_json() for a in alerts)

    def take(self, receiver: str) -> list[Alert]:
        """The alerts kept for a receiver (removed from the outbox)."""
        return [Alert.from_json(a) for a in self.outbox.pop(receiver, [])]
