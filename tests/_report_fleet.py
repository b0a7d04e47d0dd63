"""A small hand-written fleet whose findings are known by hand, for the report and CLI tests.

As of 2026-08-20 (newest release 2026.8.2 of 2026-08-14, support window back to 2025-08-14):

- ``alpha`` (healthy): c1 and c2 on 2026.8.2, 4 active connections each over two colos: clean.
- ``<script>alert(1)</script>`` (healthy): one connector c3 on 2024.1.0 (unsupported, 66
  releases behind), 4 active connections all in DFW: unsupported, single-connector, single-colo.
- ``pipe|name`` + newline + ``& "quotes"`` (degraded): c4 on 2026.7.3 (3 releases behind) with
  2 active connections in DFW and LAX (degraded), c5 on 2026.8.2 with 4 in AMS and FRA.
- ``gone`` (down): no connector at all: a down tunnel.
- ``idle 192.0.2.99`` (inactive): no connector, and an IP in its name (for redaction).
- one fetch error, tunnel ``flaky`` (HTTP 500).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tunnelframe.snapshot import Snapshot

ACCOUNT = "fedcba9876543210fedcba9876543210"
AS_OF = datetime(2026, 8, 20, 12, 0, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"
PIPE = 'pipe|name\nsecond line & "quotes"'
#: every origin IP in the fleet, and the IP hidden in a tunnel name
IPS = ("203.0.113.10", "203.0.113.11", "198.51.100.7", "192.0.2.44", "2001:db8::5", "192.0.2.99")


def _connector(cid: str, version: str, colos: list[str], ip: str, active: int) -> dict[str, Any]:
    return {
        "id": cid,
        "arch": "linux_amd64",
        "version": version,
        "run_at": "2026-08-10T08:00:00Z",
        "features": ["ha-origin"],
        "conns": [
            {
                "id": f"{cid}-{i}",
                "client_id": cid,
                "client_version": version,
                "colo_name": colo,
                "is_pending_reconnect": i >= active,
                "opened_at": "2026-08-10T08:00:05Z",
                "origin_ip": ip,
            }
            for i, colo in enumerate(colos)
        ],
    }


def _tunnel(tid: str, name: str, status: str, connectors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": tid,
        "account_tag": ACCOUNT,
        "name": name,
        "status": status,
        "tun_type": "cfd_tunnel",
        "created_at": "2025-01-01T00:00:00Z",
        "deleted_at": None,
        "remote_config": False,
        "config_src": "local",
        "metadata": {"owner": "team-a"},
        "connectors": connectors,
    }


def fleet() -> dict[str, Any]:
    """The fleet described in the module docstring (a fresh copy)."""
    return {
        "tunnels": [
            _tunnel(
                "11111111-1111-4111-8111-111111111111",
                "alpha",
                "healthy",
                [
                    _connector("c1", "2026.8.2", ["DFW", "DFW", "LAX", "LAX"], IPS[0], 4),
                    _connector("c2", "2026.8.2", ["ORD", "ORD", "IAD", "IAD"], IPS[1], 4),
                ],
            ),
            _tunnel(
                "22222222-2222-4222-8222-222222222222",
                EVIL,
                "healthy",
                [_connector("c3", "2024.1.0", ["DFW", "DFW", "DFW", "DFW"], IPS[2], 4)],
            ),
            _tunnel(
                "33333333-3333-4333-8333-333333333333",
                PIPE,
                "degraded",
                [
                    _connector("c4", "2026.7.3", ["DFW", "LAX", "DFW", "LAX"], IPS[3], 2),
                    _connector("c5", "2026.8.2", ["AMS", "AMS", "FRA", "FRA"], IPS[4], 4),
                ],
            ),
            _tunnel("44444444-4444-4444-8444-444444444444", "gone", "down", []),
            _tunnel("55555555-5555-4555-8555-555555555555", f"idle {IPS[5]}", "inactive", []),
        ]
    }


ERROR = {
    "account_id": ACCOUNT,
    "tunnel_id": "66666666-6666-4666-8666-666666666666",
    "tunnel_name": "flaky",
    "status": 500,
    "codes": [],
    "message": "GET /connections failed: HTTP 500 after 3 retries",
}


def snapshot() -> Snapshot:
    """The fleet as a snapshot fetched at :data:`AS_OF`, with one fetch error."""
    return Snapshot(
        fetched_at=AS_OF,
        account_ids=[ACCOUNT],
        tunnels=fleet()["tunnels"],
        errors=[ERROR],
        n_requests=6,
    )
