"""Receivers and the notifier: deliver alert changes, retry inside a deadline, keep the rest.

A receiver is made from a URL (:func:`receiver`): ``alertmanager://host:port`` (or
``alertmanager+https://``) posts to Prometheus Alertmanager's v2 API, ``http(s)://`` posts the
generic JSON payload (:data:`WEBHOOK_SCHEMA`), any other scheme goes to chat services through
apprise (``slack://``, ``ntfy://``, ``json://``, ...). :class:`Notifier` ties them to an
:class:`~tunnelframe.alerts.AlertState`. A receiver's name (scheme, host and port) is all that
is ever logged or kept of its URL: paths, user info and query strings often hold tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import pandas as pd

from tunnelframe.alerts._state import Alert, AlertState

__all__ = [
    "WEBHOOK_SCHEMA",
    "AlertmanagerReceiver",
    "AppriseReceiver",
    "Delivery",
    "DeliveryError",
    "Notifier",
    "NotifyResult",
    "Receiver",
    "WebhookReceiver",
    "markdown_escape",
    "receiver",
]

logger = logging.getLogger("tunnelframe.alerts")

#: The JSON Schema of the generic webhook's payload (``schema`` and ``version`` say which).
WEBHOOK_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "tunnelframe.alerts.webhook version 1",
    "type": "object",
    "required": ["schema", "version", "sent_at", "alerts"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "tunnelframe.alerts.webhook"},
        "version": {"const": 1},
        "sent_at": {"type": "string", "format": "date-time"},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "status",
                    "rule",
                    "severity",
                    "title",
                    "account_id",
                    "tunnel_id",
                    "tunnel_name",
                    "connector_id",
                    "message",
                    "advice",
                    "starts_at",
                    "ends_at",
                ],
                "properties": {
                    "status": {"enum": ["firing", "resolved"]},
                    "rule": {"type": "string"},
                    "severity": {"enum": ["high", "warn", "info"]},
                    "title": {"type": "string"},
                    "account_id": {"type": "string"},
                    "tunnel_id": {"type": "string"},
                    "tunnel_name": {"type": "string"},
                    "connector_id": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                    "advice": {"type": "array", "items": {"type": "string"}},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
        },
    },
}


class DeliveryError(Exception):
    """A receiver did not take the alerts (HTTP error, refused, timed out).

    Raised by a receiver's ``deliver``; :class:`Notifier` retries it and keeps the alerts.

    Examples
    --------
    >>> from tunnelframe.alerts import DeliveryError
    >>> str(DeliveryError("HTTP 503"))
    'HTTP 503'
    """


@dataclass(frozen=True)
class Delivery:
    """How hard to try a receiver: attempts, backoff and a deadline (settings are data).

    Attributes
    ----------
    attempts : int
        Tries per receiver and run.
    backoff : float
        Seconds before the second try, doubled after each (capped at ``max_backoff``).
    max_backoff : float
        The longest wait between tries.
    timeout : float
        Seconds one try may take (less when the deadline is nearer).
    deadline : float
        Seconds all tries of one receiver may take together; what is left undelivered is
        kept for the next run.

    Examples
    --------
    >>> from tunnelframe.alerts import Delivery
    >>> Delivery(deadline=5).attempts
    4
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    timeout: float = 10.0
    deadline: float = 30.0


class Receiver(Protocol):
    """Where alerts go. ``name`` is safe to log; ``id`` keys its outbox in the state file.

    Any object with these attributes and ``deliver`` is a receiver.

    Examples
    --------
    >>> from tunnelframe.alerts import Receiver, receiver
    >>> r: Receiver = receiver("https://hooks.example/x")
    >>> r.refresh
    False
    """

    name: str
    id: str
    #: True when the receiver wants the still-firing alerts on every run (Alertmanager
    #: expires an alert nobody repeats)
    refresh: bool

    def deliver(self, alerts: Sequence[Alert], *, timeout: float, now: datetime) -> None:
        """Send ``alerts`` in one try; raise :class:`DeliveryError` when not taken."""
        ...


def _safe_name(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _url_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _post_json(url: str, payload: Any, *, timeout: float) -> None:
    """POST JSON with urllib; user info in the URL becomes a Basic Authorization header."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Type": "application/json", "User-Agent": "tunnelframe-alerts"}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port:
            netloc += f":{parts.port}"
        url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(reason).__name__}: {reason}") from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AlertmanagerReceiver:
    """Prometheus Alertmanager, through its v2 API (``POST /api/v2/alerts``).

    Every alert carries labels (``alertname``, ``rule``, ``severity``, ``account``,
    ``tunnel_id``, ``tunnel_name``, ``connector_id``) and annotations saying what
    (``summary``, ``description``), since when (``since``) and what to do (``action``).
    Firing alerts are repeated on every run with ``endsAt`` = the run's time + ``expires``
    (Alertmanager resolves an alert nobody repeats; it notifies people once, as for
    Prometheus' own alerts); a resolved one is sent with ``endsAt`` = when it ended.

    Examples
    --------
    >>> from tunnelframe.alerts import AlertmanagerReceiver
    >>> AlertmanagerReceiver("http://127.0.0.1:9093").name
    'alertmanager+http://127.0.0.1:9093'
    """

    url: str
    expires: timedelta = timedelta(hours=2)
    refresh: bool = True
    name: str = field(init=False)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = "alertmanager+" + _safe_name(self.url)
        self.id = _url_id("alertmanager+" + self.url)

    def payload(self, alerts: Sequence[Alert], *, now: datetime) -> list[dict[str, Any]]:
        """The v2 API's postable alerts."""
        out = []
        for a in alerts:
            labels = {
                "alertname": "tunnelframe_" + a.rule.replace("-", "_"),
                "rule": a.rule,
                "severity": a.severity,
                "account": a.account_id,
                "tunnel_id": a.tunnel_id,
                "tunnel_name": a.tunnel_name,
            }
            if a.connector_id:
                labels["connector_id"] = a.connector_id
            where = a.tunnel_name or a.tunnel_id
            annotations = {
                "summary": f"{a.title}: {where}",
                "description": a.message,
                "since": a.starts_at,
                "action": "; ".join(a.advice),
            }
            if a.status == "resolved":
                # Never in the future: Alertmanager keeps the later endsAt of a firing alert
                # over a resolution it does not see as resolved yet (clock skew, a fast run).
                ends = min(str(a.ends_at), _iso(now))  # same ISO format: text order is time
            else:
                ends = _iso(now + self.expires)
            out.append(
                {
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": a.starts_at,
                    "endsAt": ends,
                }
            )
        return out

    def deliver(self, alerts: Sequence[Alert], *, timeout: float, now: datetime) -> None:
        base = self.url.rstrip("/")
        _post_json(f"{base}/api/v2/alerts", self.payload(alerts, now=now), timeout=timeout)


@dataclass
class WebhookReceiver:
    """A generic JSON webhook: one POST per run of :data:`WEBHOOK_SCHEMA`'s payload.

    Examples
    --------
    >>> from tunnelframe.alerts import WebhookReceiver
    >>> WebhookReceiver("https://user:secret@hooks.example/x?token=1").name
    'https://hooks.example'
    """

    url: str
    refresh: bool = False
    name: str = field(init=False)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = _safe_name(self.url)
        self.id = _url_id(self.url)

    def payload(self, alerts: Sequence[Alert], *, now: datetime) -> dict[str, Any]:
        """The webhook's payload (see :data:`WEBHOOK_SCHEMA`)."""
        return {
            "schema": WEBHOOK_SCHEMA["properties"]["schema"]["const"],
            "version": WEBHOOK_SCHEMA["properties"]["version"]["const"],
            "sent_at": _iso(now),
            "alerts": [a.to_json() for a in alerts],
        }

    def deliver(self, alerts: Sequence[Alert], *, timeout: float, now: datetime) -> None:
        _post_json(self.url, self.payload(alerts, now=now), timeout=timeout)


_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_escape(text: str) -> str:
    """Backslash-escape Markdown's special characters, so a tunnel name stays plain text.

    Examples
    --------
    >>> from tunnelframe.alerts import markdown_escape
    >>> markdown_escape("prod_*web*[x](http://evil)")
    'prod\\\\_\\\\*web\\\\*\\\\[x\\\\]\\\\(http://evil\\\\)'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@dataclass
class AppriseReceiver:
    """Chat and push services through apprise (Slack, ntfy, Discord, email, ``json://``...).

    One message per run in Markdown: every alert says what, where, since when and what to do;
    tunnel names and hosts are escaped so they cannot add links or formatting.

    Examples
    --------
    >>> from tunnelframe.alerts import AppriseReceiver
    >>> AppriseReceiver("ntfy://127.0.0.1:8080/tunnels").name
    'ntfy://127.0.0.1:8080'
    >>> AppriseReceiver("slack://TokenA/TokenB/TokenC").name
    'slack://…'
    """

    url: str
    refresh: bool = False
    name: str = field(init=False)
    id: str = field(init=False)

    def __post_init__(self) -> None:
        import apprise

        # Many services put a token where a host would be (slack://TokenA/TokenB/TokenC):
        # name the host only when it looks like one.
        host = urllib.parse.urlsplit(self.url).hostname or ""
        looks_like_host = "." in host or ":" in host or host == "localhost"
        self.name = _safe_name(self.url) if looks_like_host else self.url.split("://")[0] + "://…"
        self.id = _url_id(self.url)
        self._apprise = apprise.Apprise()
        if not self._apprise.add(self.url):
            raise ValueError(
                f"apprise does not know the notification URL {self.name}/...: see "
                "https://github.com/caronc/apprise/wiki for the services and their URLs"
            )

    def message(self, alerts: Sequence[Alert]) -> tuple[str, str]:
        """(title, Markdown body) of one message for ``alerts``."""
        firing = sum(a.status == "firing" for a in alerts)
        resolved = len(alerts) - firing
        parts = [f"{firing} firing"] if firing else []
        parts += [f"{resolved} resolved"] if resolved else []
        lines = []
        for a in alerts:
            head = "**FIRING**" if a.status == "firing" else "**RESOLVED**"
            when = f"since {a.starts_at}" + (f", ended {a.ends_at}" if a.ends_at else "")
            lines.append(
                f"- {head} \\[{a.severity}\\] {markdown_escape(a.title)}: "
                f"{markdown_escape(a.message)} ({when})"
            )
            if a.status == "firing" and a.advice:
                lines.append(f"  - to do: {markdown_escape('; '.join(a.advice))}")
        return f"tunnelframe: {', '.join(parts)}", "\n".join(lines)

    def deliver(self, alerts: Sequence[Alert], *, timeout: float, now: datetime) -> None:
        import apprise

        title, body = self.message(alerts)
        kind = apprise.NotifyType.FAILURE
        if all(a.status == "resolved" for a in alerts):
            kind = apprise.NotifyType.SUCCESS
        ok = self._apprise.notify(
            body=body,
            title=title,
            notify_type=kind,
            body_format=apprise.NotifyFormat.MARKDOWN,
            timeout=timeout,
        )
        if not ok:
            raise DeliveryError("the service did not accept the message")


def receiver(url: str) -> Receiver:
    """The receiver a ``--notify`` URL names.

    ``alertmanager://host:port`` (``alertmanager+https://`` for TLS) is Alertmanager's v2 API,
    ``http://`` and ``https://`` the generic JSON webhook, anything else an apprise URL.

    Raises
    ------
    ValueError
        A URL apprise does not know (the message names its scheme and host only).

    Examples
    --------
    >>> from tunnelframe.alerts import receiver
    >>> type(receiver("alertmanager://127.0.0.1:9093")).__name__
    'AlertmanagerReceiver'
    >>> type(receiver("https://hooks.example/x")).__name__
    'WebhookReceiver'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("a notification URL needs a scheme, e.g. alertmanager://host:9093")
    if scheme in ("alertmanager", "alertmanager+http"):
        return AlertmanagerReceiver(f"http://{rest}")
    if scheme == "alertmanager+https":
        return AlertmanagerReceiver(f"https://{rest}")
    if scheme in ("http", "https"):
        return WebhookReceiver(url)
    return AppriseReceiver(url)


@dataclass
class NotifyResult:
    """What a run sent and kept.

    Attributes
    ----------
    changes : list of Alert
        The changes of this run (what started or ended).
    sent : dict of str to int
        Alerts delivered per receiver name (kept ones from earlier runs included).
    kept : dict of str to int
        Alerts a receiver did not take, kept in the state for the next run.
    errors : dict of str to str
        Why, per receiver that failed.

    Examples
    --------
    >>> from tunnelframe.alerts import NotifyResult
    >>> NotifyResult().ok
    True
    """

    changes: list[Alert] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every receiver took everything."""
        return not self.kept


class Notifier:
    """Send what changed since the last run to receivers, with state in a file.

    Parameters
    ----------
    receivers : iterable of Receiver or str
        Receivers, or ``--notify`` URLs (see :func:`receiver`).
    state : str, path-like or AlertState
        The state file, shared by every run (keep it beside the snapshots or the store).
    hold : datetime.timedelta, default 5 minutes
        How long a change must hold before it is sent (see :meth:`AlertState.observe`).
    delivery : Delivery, optional
        Attempts, backoff and deadline per receiver.

    Examples
    --------
    >>> import tempfile, tunnelframe as tf
    >>> from tunnelframe.alerts import Notifier
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web", "status": "down",
    ...                       "connectors": []}]}
    >>> notifier = Notifier([], tempfile.mkdtemp() + "/alerts.json")
    >>> result = notifier.notify(tf.findings(fleet, as_of="2026-08-20T12:00Z"),
    ...                          at="2026-08-20T12:00Z")
    >>> result.changes
    []
    """

    def __init__(
        self,
        receivers: Iterable[Receiver | str],
        state: str | Path | AlertState,
        *,
        hold: timedelta = timedelta(minutes=5),
        delivery: Delivery | None = None,
    ) -> None:
        self.receivers: list[Receiver] = [
            receiver(r) if isinstance(r, str) else r for r in receivers
        ]
        self.state = state if isinstance(state, AlertState) else AlertState(state)
        self.hold = hold
        self.delivery = delivery or Delivery()
        self._worker: ThreadPoolExecutor | None = None

    def start(self, violations: pd.DataFrame, *, at: Any) -> Future[NotifyResult]:
        """:meth:`notify` in a background thread, so a refresh loop never waits for a
        receiver; runs one at a time in the order started (they share the state file).

        Returns
        -------
        concurrent.futures.Future
            Its ``result()`` is the :class:`NotifyResult`.
        """
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tf-notify")
        return self._worker.submit(self.notify, violations.copy(), at=at)

    def close(self) -> None:
        """Wait for the runs :meth:`start` began, then stop its thread."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    def notify(self, violations: pd.DataFrame, *, at: Any) -> NotifyResult:
        """Observe one view's violations, send what changed, save the state.

        Parameters
        ----------
        violations : pandas.DataFrame
            The view's findings (:func:`tunnelframe.findings`, ``CheckResult.violations``).
        at : datetime-like
            The view's time (the snapshot's fetch time).

        Returns
        -------
        NotifyResult
        """
        changes = self.state.observe(violations, at=at, hold=self.hold)
        return self.send(changes)

    def send(self, changes: Sequence[Alert]) -> NotifyResult:
        """Deliver ``changes`` (and what earlier runs kept) to every receiver, in parallel,
        each inside the delivery deadline; keep what is not delivered; save the state.
        """
        now = datetime.now(UTC)
        result = NotifyResult(changes=list(changes))
        firing = self.state.firing()
        firing_keys = {a.key for a in firing if a.status == "firing"}
        jobs = []
        for r in self.receivers:
            batch = self.state.take(r.id) + list(changes)
            if r.refresh:
                keys = {a.key for a in batch}
                batch += [a for a in firing if a.key not in keys]
            jobs.append((r, batch))
        with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
            outcomes = list(pool.map(lambda job: self._try(*job, now=now), jobs))
        for (r, batch), error in zip(jobs, outcomes, strict=True):
            if not batch:
                continue
            if error is None:
                result.sent[r.name] = len(batch)
                continue
            # A receiver that wants refreshes gets every still-firing alert next run anyway.
            keep = [a for a in batch if not (r.refresh and a.key in firing_keys)]
            self.state.queue(r.id, keep)
            result.kept[r.name] = len(keep)
            result.errors[r.name] = error
            logger.info(
                "alert receiver %s failed (%s): %d alerts kept for the next run",
                r.name,
                error,
                len(keep),
            )
        self.state.save()
        return result

    def _try(self, r: Receiver, batch: list[Alert], *, now: datetime) -> str | None:
        """Deliver with retries and backoff inside the deadline: None, or the last error."""
        if not batch:
            return None
        policy = self.delivery
        deadline = time.monotonic() + policy.deadline
        wait = policy.backoff
        error = "no attempt made"
        for attempt in range(policy.attempts):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                r.deliver(batch, timeout=min(policy.timeout, left), now=now)
                return None
            except DeliveryError as exc:
                error = str(exc)
            if attempt + 1 < policy.attempts:
                time.sleep(max(0.0, min(wait, deadline - time.monotonic())))
                wait = min(wait * 2, policy.max_backoff)
        return error
