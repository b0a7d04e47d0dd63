"""Shared fixtures: a tiny hand-written fleet, the simulator serving it, a client for it, and
validators from the vendored OpenAPI contract (``data/openapi-tunnels.json``)."""

from __future__ import annotations

import contextlib
import copy
import functools
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tunnelframe.client import Client
from tunnelframe.simulator import SimulatedApi, serve

ACCOUNT = "0123456789abcdef0123456789abcdef"
# The whole contract, copied verbatim from ../shared/cloudflare/openapi-tunnels.json so the tests
# run anywhere: "operations" (responses per endpoint) and "components_resolved" ($refs inlined).
OPENAPI_SPEC = Path(__file__).resolve().parent / "data" / "openapi-tunnels.json"


def _conns(connector_id: str, colos: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{connector_id}-x{i}",
            "client_id": connector_id,
            "colo_name": colo,
            "is_pending_reconnect": False,
            "opened_at": "2026-08-01T10:00:00Z",
            "origin_ip": "203.0.113.7",
        }
        for i, colo in enumerate(colos)
    ]


_TINY_FLEET: dict[str, Any] = {
    "tunnels": [
        {
            "id": "t1",
            "account_tag": ACCOUNT,
            "name": "web-prod",
            "status": "healthy",
            "tun_type": "cfd_tunnel",
            "created_at": "2024-01-01T00:00:00Z",
            "conns_active_at": "2025-05-01T00:00:00Z",
            "connectors": [
                {
                    "id": "c1",
                    "version": "2026.8.2",
                    "conns": _conns("c1", ["DFW"] * 2 + ["IAH"] * 2),
                },
                {
                    "id": "c2",
                    "version": "2025.10.1",
                    "conns": _conns("c2", ["LAX"] * 2 + ["SJC"] * 2),
                },
            ],
        },
        {
            "id": "t2",
            "account_tag": ACCOUNT,
            "name": "web-stage",
            "status": "degraded",
            "tun_type": "cfd_tunnel",
            "created_at": "2024-06-01T00:00:00Z",
            "conns_active_at": "2026-06-01T00:00:00Z",
            "connectors": [
                {"id": "c3", "version": "2024.2.1", "conns": _conns("c3", ["AMS", "FRA"])}
            ],
        },
        {
            "id": "t3",
            "account_tag": ACCOUNT,
            "name": "db-main",
            "status": "down",
            "tun_type": "cfd_tunnel",
            "created_at": "2024-09-01T00:00:00Z",
            "conns_active_at": "2025-01-01T00:00:00Z",
            "conns_inactive_at": "2026-03-01T00:00:00Z",
            "connectors": [],
        },
        {
            "id": "t4",
            "account_tag": ACCOUNT,
            "name": "new-one",
            "status": "inactive",
            "tun_type": "cfd_tunnel",
            "created_at": "2026-08-10T00:00:00Z",
        },
        {
            "id": "t5",
            "account_tag": ACCOUNT,
            "name": "old-gone",
            "status": "down",
            "tun_type": "cfd_tunnel",
            "created_at": "2023-01-01T00:00:00Z",
            "deleted_at": "2026-02-01T00:00:00Z",
            "conns_active_at": "2023-02-01T00:00:00Z",
            "conns_inactive_at": "2026-01-15T00:00:00Z",
            "connectors": [],
        },
    ]
}


def tiny_fleet() -> dict[str, Any]:
    """Five tunnels: t1 healthy (c1, c2: 4 conns each), t2 degraded (c3: 2 conns), t3 down,
    t4 inactive, t5 deleted."""
    return copy.deepcopy(_TINY_FLEET)


def numbered_fleet(n: int, *, account: str = ACCOUNT, prefix: str = "t") -> dict[str, Any]:
    """``n`` healthy tunnels, each with one connector holding one connection."""
    return {
        "tunnels": [
            {
                "id": f"{prefix}{i:05d}",
                "account_tag": account,
                "name": f"{prefix}-{i}",
                "status": "healthy",
                "connectors": [
                    {"id": f"{prefix}{i:05d}-c", "conns": _conns(f"{prefix}{i}", ["DFW"])}
                ],
            }
            for i in range(n)
        ]
    }


def make_client(api: SimulatedApi, **kwargs: Any) -> Client:
    """A client for the simulator with fast retries."""
    options: dict[str, Any] = {
        "token": api.token,
        "account_id": api.account_id,
        "base_url": api.url,
        "backoff_base": 0.01,
    }
    options.update(kwargs)
    return Client(**options)


@pytest.fixture
def api() -> Iterator[SimulatedApi]:
    with serve(tiny_fleet()) as running:
        yield running


@pytest.fixture
def client(api: SimulatedApi) -> Iterator[Client]:
    with make_client(api) as running:
        yield running


# -- the OpenAPI contract -------------------------------------------------------------------------


@functools.cache
def openapi_spec() -> dict[str, Any]:
    """The vendored OpenAPI contract (read once; do not modify the returned dict)."""
    spec: dict[str, Any] = json.loads(OPENAPI_SPEC.read_text(encoding="utf-8"))
    return spec


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 schema to JSON Schema: ``nullable`` becomes a "null" type, and the
    OpenAPI-only keywords go."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _openapi_to_jsonschema(value)
        for key, value in node.items()
        if not key.startswith("x-") and key not in ("nullable", "example", "readOnly", "deprecated")
    }
    if node.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def spec_validator(schema: Any) -> jsonschema.Draft7Validator:
    """A JSON Schema validator for one schema of the OpenAPI contract, formats checked."""
    return jsonschema.Draft7Validator(
        _openapi_to_jsonschema(schema), format_checker=jsonschema.FormatChecker()
    )


@contextlib.contextmanager
def hostile(answer: Callable[[http.server.BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """A loopback server whose every GET is answered by ``answer(handler)``; yields its base URL.

    For replies the simulator never gives (redirects, drips, bombs, lying pages). ``answer``
    writes the whole response itself; a client that hangs up early is not an error.
    """

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with contextlib.suppress(ConnectionError):
                answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def reply(
    handler: http.server.BaseHTTPRequestHandler,
    status: int,
    body: object,
    headers: dict[str, str] | None = None,
) -> None:
    """Write one response: ``body`` as JSON unless it is bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(data)), **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
