"""Alerts with state: send what changed since the last run, once, where operators look.

:class:`AlertState` (a JSON file beside the snapshots) turns each view's violations into
changes: a violation that held for the hold time fires, one gone for the hold time resolves,
a shorter flap is never sent. :class:`Notifier` delivers the changes to receivers made from
URLs (:func:`receiver`): Prometheus Alertmanager's v2 API, a generic JSON webhook
(:data:`WEBHOOK_SCHEMA`) and chat services through apprise. A failing receiver is retried with
backoff inside a deadline; what it did not take is kept in the state and sent on the next run.
Only a receiver's scheme, host and port are ever logged or stored, never its full URL.
"""

from __future__ import annotations

from tunnelframe.alerts._send import (
    WEBHOOK_SCHEMA,
    AlertmanagerReceiver,
    AppriseReceiver,
    Delivery,
    DeliveryError,
    Notifier,
    NotifyResult,
    Receiver,
    WebhookReceiver,
    markdown_escape,
    receiver,
)
from tunnelframe.alerts._state import STATE_FORMAT, Alert, AlertState

__all__ = [
    "STATE_FORMAT",
    "WEBHOOK_SCHEMA",
    "Alert",
    "AlertState",
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
