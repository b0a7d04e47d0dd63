"""tunnelframe.client against the simulator (and a canned loopback server) over real HTTP."""

from __future__ import annotations

import gzip
import http.server
import json
import logging
import pickle
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from conftest import ACCOUNT, hostile, make_client, numbered_fleet, reply, tiny_fleet

import tunnelframe as tf
from tunnelframe import ApiError, AuthError, NotFoundError, Policy, RateLimitError, SchemaError
from tunnelframe._ratelimit import ratelimit
from tunnelframe.client import Client
from tunnelframe.simulator import Faults, SimulatedApi, serve

TOKEN = "canned-token-0123456789abcdef"

# -- construction and credentials ---------------------------------------------------------------


def test_credentials_and_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "env-token-0123456789abcdef")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acc-from-env")
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "https://api.example.test/client/v4/")
    client = Client()
    assert client.account_id == "acc-from-env"
    assert client.base_url == "https://api.example.test/client/v4"
    assert "env-token-0123456789abcdef" not in repr(client)
    client.close()


def test_default_base_url_is_cloudflare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_BASE_URL", raising=False)
    with Client(TOKEN) as client:
        assert client.base_url == "https://api.cloudflare.com/client/v4"


def test_missing_credentials_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        AuthError, match=r"set CLOUDFLARE_API_TOKEN .*CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"
    ):
        Client()
    with pytest.raises(AuthError, match=r"CLOUDFLARE_API_KEY is not set"):
        Client(email="me@example.com")


def test_missing_account_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, api: SimulatedApi
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    with (
        Client(api.token, base_url=api.url) as client,
        pytest.raises(ValueError, match="CLOUDFLARE_ACCOUNT_ID"),
    ):
        client.list_tunnels()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8787/client/v4", True),
        ("http://localhost/client/v4", True),
        ("http://[::1]:9/client/v4", True),
        ("https://api.example.test/client/v4", True),
        ("http://api.example.test/client/v4", False),
        ("http://10.0.0.5/client/v4", False),
    ],
)
def test_plain_http_only_to_loopback(url: str, allowed: bool) -> None:
    if allowed:
        Client(TOKEN, base_url=url).close()
    else:
        with pytest.raises(ValueError, match="refusing plain http://"):
            Client(TOKEN, base_url=url)


def test_legacy_email_and_key(api: SimulatedApi) -> None:
    with serve(tiny_fleet(), email="me@example.com", api_key="legacy-key-0123456789") as legacy:
        with Client(
            email="me@example.com", api_key="legacy-key-0123456789", base_url=legacy.url
        ) as client:
            assert [t["id"] for t in client.list_tunnels(account_id=ACCOUNT)] == [
                "t1",
                "t2",
                "t3",
                "t4",
                "t5",
            ]
        wrong = Client(email="me@example.com", api_key="wrong-key-0123456789", base_url=legacy.url)
        with (
            wrong,
            pytest.raises(AuthError, match="check that CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY"),
        ):
            wrong.list_tunnels(account_id=ACCOUNT)


# -- the four endpoints -------------------------------------------------------------------------


def test_get_tunnel_connectors_and_connector_return_the_raw_objects(client: Client) -> None:
    fleet = tiny_fleet()
    t1 = fleet["tunnels"][0]
    assert client.get_tunnel("t1") == {k: v for k, v in t1.items() if k != "connectors"}
    assert client.list_connectors("t1") == t1["connectors"]
    assert client.get_connector("t1", "c2") == t1["connectors"][1]
    assert client.list_connectors("t3") == []
    assert (client.n_calls, client.n_requests) == (4, 4)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["t1", "t2", "t3", "t4", "t5"]),
        ({"name": "web-prod"}, ["t1"]),
        ({"uuid": "t2"}, ["t2"]),
        ({"include_prefix": "web-"}, ["t1", "t2"]),
        ({"exclude_prefix": "web-"}, ["t3", "t4", "t5"]),
        ({"status": "down"}, ["t3", "t5"]),
        ({"is_deleted": True}, ["t5"]),
        ({"is_deleted": False}, ["t1", "t2", "t3", "t4"]),
        ({"existed_at": datetime(2026, 3, 1, tzinfo=UTC)}, ["t1", "t2", "t3"]),
        ({"was_active_at": "2026-04-01T00:00:00Z"}, ["t1"]),
        ({"was_inactive_at": datetime(2026, 4, 1, tzinfo=UTC)}, ["t2", "t3"]),
        ({"include_prefix": "web-", "status": "healthy"}, ["t1"]),
    ],
)
def test_every_list_filter(client: Client, filters: dict[str, Any], expected: list[str]) -> None:
    assert [t["id"] for t in client.list_tunnels(**filters)] == expected


def test_list_filters_are_declared_once(client: Client) -> None:
    # One table: the typed keywords, what is sent and what the simulator applies.
    from tunnelframe._listfilters import TUNNEL_FILTERS, FleetFilters, TunnelFilters

    names = [f.name for f in TUNNEL_FILTERS]
    assert len(names) == 9
    assert set(names) == TunnelFilters.__optional_keys__
    assert FleetFilters.__optional_keys__ == set(names) - {"is_deleted"}
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        client.list_tunnels(colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"fetch_fleet\(\) got an unexpected .*'is_deleted'"):
        tf.fetch_fleet(client=client, is_deleted=True, progress=False)  # type: ignore[call-arg]
    assert client.n_requests == 0


def test_tun_types_uses_the_all_types_endpoint() -> None:
    fleet = tiny_fleet()
    fleet["tunnels"][1]["tun_type"] = "warp_connector"
    with serve(fleet) as api, make_client(api) as client:
        assert [t["id"] for t in client.list_tunnels()] == ["t1", "t3", "t4", "t5"]
        assert [t["id"] for t in client.list_tunnels(tun_types=["warp_connector"])] == ["t2"]
        assert len(client.list_tunnels(all_types=True)) == 5
        assert "/tunnels?" in api.request_log[-1][1]


def test_bad_filters_are_caller_errors(client: Client) -> None:
    with pytest.raises(ValueError, match="per_page must be between 1 and 1000"):
        client.list_tunnels(per_page=1001)
    with pytest.raises(ValueError, match="status must be one of"):
        client.list_tunnels(status="sleepy")
    with pytest.raises(ValueError, match="timezone-aware"):
        client.list_tunnels(existed_at=datetime(2026, 1, 1))
    assert client.n_requests == 0


# -- pagination ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "pages"), [(0, 1), (1, 1), (1000, 1), (1001, 2)])
def test_pagination_reads_every_tunnel_without_an_empty_page(n: int, pages: int) -> None:
    with serve(numbered_fleet(n)) as api, make_client(api) as client:
        tunnels = client.list_tunnels()
        assert len(tunnels) == n
        assert len({t["id"] for t in tunnels}) == n
        assert client.n_requests == pages
        assert [status for _, _, status in api.request_log] == [200] * pages


def test_pagination_with_a_small_page_and_a_filter() -> None:
    # 7 tunnels, "t-1", "t-2"... include_prefix "t-" keeps all; per_page 3: pages of 3, 3, 1.
    with serve(numbered_fleet(7)) as api, make_client(api) as client:
        assert len(client.list_tunnels(per_page=3, include_prefix="t-")) == 7
        assert [path.split("?")[1] for _, path, _ in api.request_log] == [
            f"include_prefix=t-&page={page}&per_page=3" for page in (1, 2, 3)
        ]


# -- errors -------------------------------------------------------------------------------------


def test_unknown_tunnel_is_not_found(client: Client, api: SimulatedApi) -> None:
    with pytest.raises(
        NotFoundError, match=r"GET /accounts/.*/cfd_tunnel/nope failed: HTTP 404, code 7003"
    ) as info:
        client.get_tunnel("nope")
    assert info.value.status == 404
    assert info.value.codes == [7003]
    assert info.value.url == f"{api.url}/accounts/{ACCOUNT}/cfd_tunnel/nope"
    with pytest.raises(NotFoundError):
        client.get_connector("t1", "c9")


def test_auth_failure_message(api: SimulatedApi) -> None:
    expected = (
        r'HTTP 403, code 10000 "Authentication error": check that the API token '
        r"\(CLOUDFLARE_API_TOKEN\) is valid and has the Cloudflare Tunnel Read permission"
    )
    with (
        make_client(api, token="not-the-token-0123456789") as client,
        pytest.raises(AuthError, match=expected) as info,
    ):
        client.list_tunnels()
    assert (info.value.status, info.value.codes) == (403, [10000])
    assert client.n_requests == 1  # an auth failure is not retried


def test_persistent_5xx_is_retried_then_raised() -> None:
    with (
        serve(tiny_fleet(), faults={"error_rate": 1.0}) as api,
        make_client(api, max_retries=2) as client,
        pytest.raises(ApiError, match=r"HTTP 50[023]") as info,
    ):
        client.get_tunnel("t1")
    assert info.value.status in (500, 502, 503)
    assert api.n_requests == client.n_requests == 3


def test_dropped_connections_are_retried_then_raised() -> None:
    with (
        serve(tiny_fleet(), faults={"drop_rate": 1.0}) as api,
        make_client(api, max_retries=2) as client,
        pytest.raises(ApiError, match="failed: no response") as info,
    ):
        client.get_tunnel("t1")
    assert info.value.status is None
    assert api.n_requests == 3


def test_truncated_body_is_retried_then_quoted() -> None:
    expected = r"HTTP 200, body truncated after \d+ bytes: b'\{\"success\": true"
    with (
        serve(tiny_fleet(), faults={"truncate_rate": 1.0}) as api,
        make_client(api, max_retries=1) as client,
        pytest.raises(ApiError, match=expected) as info,
    ):
        client.get_tunnel("t1")
    assert info.value.status == 200
    assert api.n_requests == 2


def test_timeouts_are_retried_then_raised() -> None:
    with (
        serve(tiny_fleet(), latency=0.4) as api,
        make_client(api, timeout=0.1, max_retries=1) as client,
        pytest.raises(ApiError, match=r"failed: no response \(ReadTimeout") as info,
    ):
        client.get_tunnel("t1")
    assert info.value.status is None
    assert client.n_requests == 2


def test_a_given_session_is_used_for_every_request(api: SimulatedApi) -> None:
    seen: list[int] = []
    with requests.Session() as session:
        session.hooks["response"].append(lambda response, **_: seen.append(response.status_code))
        with make_client(api, session=session) as client:
            client.list_tunnels()
            client.list_connectors("t1")
            with pytest.raises(NotFoundError):
                client.get_tunnel("nope")
        assert seen == [200, 200, 404]


def test_retries_recover_from_5xx_and_dropped_connections() -> None:
    faults = Faults(error_rate=0.25, drop_rate=0.25, seed=11)
    with serve(tiny_fleet(), faults=faults) as api, make_client(api, max_retries=10) as client:
        for tunnel in tiny_fleet()["tunnels"][:3]:
            assert client.list_connectors(tunnel["id"]) == tunnel["connectors"]
            assert client.get_tunnel(tunnel["id"])["name"] == tunnel["name"]
        statuses = [status for _, _, status in api.request_log]
    assert client.n_calls == 6
    assert client.n_requests == len(statuses) > 6
    assert statuses.count(200) == 6
    assert 0 in statuses  # some connections were dropped
    assert {500, 502, 503} & set(statuses)  # and some answers were 5xx


# -- a canned loopback server for replies the simulator never gives ------------------------------


@pytest.fixture
def canned() -> Iterator[tuple[str, list[tuple[int, dict[str, str], bytes]]]]:
    """A loopback server answering each request with the next canned (status, headers, body)."""
    replies: list[tuple[int, dict[str, str], bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, headers, body = replies.pop(0) if replies else (500, {}, b"no reply left")
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/client/v4", replies
    server.shutdown()
    server.server_close()
    thread.join()


def test_success_false_on_http_200_raises(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    body = b'{"success": false, "errors": [{"code": 1234, "message": "odd"}], "result": null}'
    replies.append((200, {"Content-Type": "application/json"}, body))
    expected = r'HTTP 200, success is false, code 1234 "odd"'
    with (
        Client(TOKEN, account_id="a", base_url=url) as client,
        pytest.raises(ApiError, match=expected) as info,
    ):
        client.get_tunnel("t1")
    assert (info.value.status, info.value.codes, info.value.messages) == (200, [1234], ["odd"])


def test_error_chain_and_codeless_errors_are_reported(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    body = {
        "success": False,
        "errors": [
            {"code": 1000, "message": "outer", "error_chain": [{"code": 1001, "message": "inner"}]},
            {"message": "no code"},
        ],
        "result": None,
    }
    replies.append((400, {}, json.dumps(body).encode()))
    expected = r'HTTP 400, code 1000 "outer", "no code", code 1001 "inner": retry later'
    with (
        Client(TOKEN, account_id="a", base_url=url) as client,
        pytest.raises(ApiError, match=expected) as info,
    ):
        client.get_tunnel("t1")
    assert type(info.value) is ApiError
    assert info.value.codes == [1000, 1001]
    assert info.value.messages == ["outer", "no code", "inner"]


def test_code_7003_on_http_400_is_not_found(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    body = b'{"success": false, "errors": [{"code": 7003, "message": "No route"}], "result": null}'
    replies.append((400, {}, body))
    with Client(TOKEN, account_id="a", base_url=url) as client, pytest.raises(NotFoundError):
        client.get_tunnel("t1")


def test_non_json_body_quotes_status_and_first_bytes(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    replies.append((200, {"Content-Type": "text/html"}, b"<html>captive portal</html>"))
    with Client(TOKEN, account_id="a", base_url=url) as client:
        with pytest.raises(
            ApiError, match=r"HTTP 200, the body is not JSON: b'<html>captive portal</html>'"
        ):
            client.get_tunnel("t1")
        assert client.n_requests == 1  # not retried: it would not change


def test_a_non_list_result_is_a_schema_error(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    replies.append(
        (200, {}, b'{"success": true, "errors": [], "messages": [], "result": {"id": 1}}')
    )
    with (
        Client(TOKEN, account_id="a", base_url=url) as client,
        pytest.raises(SchemaError, match="expected an array"),
    ):
        client.list_connectors("t1")


def test_retry_after_http_date_is_honoured(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    replies.append((429, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, b"{}"))
    replies.append((200, {}, b'{"success": true, "errors": [], "messages": [], "result": []}'))
    with Client(TOKEN, account_id="a", base_url=url) as client:
        assert client.list_connectors("t1") == []
        assert client.n_requests == 2


# -- rate budget --------------------------------------------------------------------------------


def test_429_after_the_retries_is_a_rate_limit_error() -> None:
    expected = r'HTTP 429, code 10429 "More than 1 requests per 30 seconds.*request budget is spent'
    with serve(tiny_fleet(), budget=(1, 30)) as api, make_client(api, max_retries=0) as client:
        api.exhaust_budget()
        with pytest.raises(RateLimitError, match=expected) as info:
            client.get_tunnel("t2")
    assert info.value.status == 429


def test_retry_after_pauses_then_succeeds() -> None:
    # The window (2 requests per 1 s) is spent by someone else: the next call gets a 429 with
    # Retry-After: 1, waits it out and succeeds.
    with serve(tiny_fleet(), budget=(2, 1)) as api, make_client(api) as client:
        api.exhaust_budget()
        started = time.monotonic()
        assert client.get_tunnel("t1")["name"] == "web-prod"
        assert time.monotonic() - started >= 0.9
    assert [status for _, _, status in api.request_log] == [429, 200]


def test_ratelimit_header_slows_down_before_a_429() -> None:
    # The server allows 3 requests per 1 s and says so in its Ratelimit header; the client
    # allows itself 1200 per 300 s. It must still never see a 429: after 3 calls it waits for
    # the window to reset.
    with serve(tiny_fleet(), budget=(3, 1)) as api, make_client(api) as client:
        started = time.monotonic()
        for _ in range(6):
            client.get_tunnel("t1")
        elapsed = time.monotonic() - started
    assert [status for _, _, status in api.request_log] == [200] * 6
    assert elapsed >= 0.9


def test_client_budget_spreads_requests_over_the_window(api: SimulatedApi) -> None:
    with make_client(api, requests_per_window=2, window_s=0.5) as client:
        started = time.monotonic()
        for _ in range(5):  # requests 3-4 wait for the first window, 5 for the second
            client.get_tunnel("t1")
        assert time.monotonic() - started >= 1.0


# -- the token stays secret ---------------------------------------------------------------------


def test_token_never_appears_in_repr_logs_or_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    token = "sekrit-token-4f9c2e"
    caplog.set_level(logging.DEBUG)
    with serve(tiny_fleet(), token=token, faults={"drop_rate": 0.3, "error_rate": 0.2}) as api:
        with make_client(api, max_retries=8) as client:
            client.list_tunnels()
            client.list_connectors("t1")
            errors: list[BaseException] = []
            for call in (
                lambda: client.get_tunnel("nope"),
                lambda: client.get_connector("t1", "x"),
            ):
                with pytest.raises(NotFoundError) as info:
                    call()
                errors.append(info.value)
            texts = [repr(client), str(client)]
        with make_client(api, token="wrong-token-0123456789", max_retries=0) as bad:
            with pytest.raises(AuthError) as auth:
                bad.get_tunnel("t1")
            errors.append(auth.value)
            texts += [repr(bad), str(bad)]
        texts += [path for _, path, _ in api.request_log]  # the URLs the server saw
        with serve(tiny_fleet(), token=token, faults={"drop_rate": 1.0}) as dropping:
            with (
                make_client(dropping, max_retries=1) as client2,
                pytest.raises(ApiError) as dropped,
            ):
                client2.get_tunnel("t1")
            errors.append(dropped.value)
    for error in errors:
        texts += ["".join(traceback.format_exception(error)), repr(error), str(error.url)]
        texts += [repr(getattr(error, name)) for name in ("messages", "codes", "status")]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    texts.append(caplog.text)  # formatted records, tracebacks included
    assert any("GET /accounts/" in record.getMessage() for record in caplog.records)
    assert len(errors) == 4
    assert all(token not in text and "wrong-token-0123456789" not in text for text in texts)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)


def test_legacy_api_key_never_appears(caplog: pytest.LogCaptureFixture) -> None:
    key = "legacy-key-5d2a91"
    caplog.set_level(logging.DEBUG)
    with serve(tiny_fleet(), email="me@example.com", api_key=key) as api:
        client = Client(email="me@example.com", api_key=key, account_id=ACCOUNT, base_url=api.url)
        with client, pytest.raises(NotFoundError) as missing:
            client.get_tunnel("nope")
        wrong = Client(email="me@example.com", api_key="other-key-770123456789", base_url=api.url)
        with wrong, pytest.raises(AuthError) as denied:
            wrong.list_tunnels(account_id=ACCOUNT)
    texts = [repr(client), str(client), repr(wrong), caplog.text]
    for error in (missing.value, denied.value):
        texts += ["".join(traceback.format_exception(error)), repr(error.messages), str(error.url)]
    assert "auth=email+api_key" in repr(client)
    assert all(key not in text and "other-key-770123456789" not in text for text in texts)


# -- hardening: a hostile server on loopback (issue #12) ------------------------------------------

SECRET = "sekrit-token-0123456789-abcdefghij"


def _envelope(result: object, **info: int | float) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info:
        body["result_info"] = info
    return body


def test_a_token_read_with_its_newline_is_cleaned_before_any_request() -> None:
    with (
        serve(tiny_fleet(), token=SECRET) as api,
        Client(SECRET + "\n", account_id=ACCOUNT, base_url=api.url) as client,
    ):
        assert client.get_tunnel("t1")["id"] == "t1"
        legacy = Client(email=" me@example.com ", api_key=" " + SECRET + "\r\n", base_url=api.url)
        assert legacy._headers()["X-Auth-Key"] == SECRET


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token": "sekrit-token\n-0123456789"},
        {"token": "sekrit-token-0123456789\x00"},
        {"token": "sekrit-tokén-0123456789"},
        {"email": "me@example.com", "api_key": "legacy key 0123456789"},
        {"email": "me@exam\nple.com", "api_key": "legacy-key-0123456789"},
    ],
)
def test_header_unsafe_credentials_are_refused_without_echoing_them(
    kwargs: dict[str, str], canned: tuple[str, list[Any]]
) -> None:
    url, _ = canned
    with pytest.raises(AuthError, match="cannot be sent in an HTTP header") as info:
        Client(**kwargs, account_id="a", base_url=url)
    text = "".join(traceback.format_exception(info.value))
    assert all(value.strip() not in text for value in kwargs.values() if "@" not in value)
    assert "sekrit" not in text and "legacy" not in text


@pytest.mark.parametrize("kwargs", [{"token": "x"}, {"email": "a@b.c", "api_key": "k3y"}])
def test_implausibly_short_credentials_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(AuthError, match=r"only \d characters long, too short"):
        Client(**kwargs, base_url="http://127.0.0.1:9")


def test_redirects_are_not_followed_and_keep_the_legacy_key_home() -> None:
    seen: list[dict[str, str]] = []

    def elsewhere(handler: http.server.BaseHTTPRequestHandler) -> None:
        seen.append(dict(handler.headers))
        reply(handler, 200, _envelope({"id": "t1"}))

    with hostile(elsewhere) as other:

        def redirecting(handler: http.server.BaseHTTPRequestHandler) -> None:
            reply(handler, 302, b"", {"Location": other + handler.path[len("/client/v4") :]})

        with hostile(redirecting) as url:
            client = Client(email="me@example.com", api_key=SECRET, account_id="a", base_url=url)
            with client, pytest.raises(ApiError, match=r"HTTP 302, a redirect to .* not followed"):
                client.get_tunnel("t1")
    assert seen == []


def test_an_echoed_header_is_scrubbed_before_the_body_is_cut() -> None:
    # The token straddles the 120-byte quote: cut first, its head would escape the scrub.
    def echoing(handler: http.server.BaseHTTPRequestHandler) -> None:
        body = ("x" * 87 + " Authorization: " + handler.headers["Authorization"]).encode()
        reply(handler, 400, body, {"Content-Type": "text/plain"})

    with (
        hostile(echoing) as url,
        Client(SECRET, account_id="a", base_url=url) as client,
        pytest.raises(ApiError, match="the body is not JSON") as info,
    ):
        client.get_tunnel("t1")
    assert SECRET[:8] not in str(info.value)
    assert "Authorization: Bearer <secret>" in str(info.value)


def _pages(
    total: int,
    *,
    cap: int = 1000,
    announce: Callable[[int, int], int] | None = None,
    items: Callable[[int, int], list[object]] | None = None,
    info: Callable[[int], dict[str, Any]] | None = None,
    pages_served: list[int] | None = None,
) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """A list endpoint that caps pages at ``cap``; the hooks make it lie."""

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        page = int(query.get("page", "1"))
        if pages_served is not None:
            pages_served.append(page)
        if page > 20:  # the hostile server's own end: a client that loops fails on this
            reply(handler, 404, {"success": False, "errors": [{"code": 7003}], "result": None})
            return
        size = min(cap, int(query.get("per_page", "20")))
        if items is not None:
            result = items(page, size)
        else:
            result = [{"id": f"t{i}"} for i in range((page - 1) * size, min(total, page * size))]
        count = announce(page, size) if announce is not None else total
        extra = info(page) if info is not None else {"per_page": size}
        reply(handler, 200, _envelope(result, page=page, total_count=count, **extra))

    return answer


def test_pagination_goes_on_past_a_capped_short_page() -> None:
    with hostile(_pages(250, cap=100)) as url, Client(SECRET, base_url=url) as client:
        tunnels = client.list_tunnels(account_id="a")
    assert [t["id"] for t in tunnels] == [f"t{i}" for i in range(250)]


def test_pagination_the_same_full_page_forever_is_an_error() -> None:
    served: list[int] = []
    answer = _pages(
        5000, items=lambda page, size: [{"id": f"t{i}"} for i in range(size)], pages_served=served
    )
    with (
        hostile(answer) as url,
        Client(SECRET, base_url=url) as client,
        pytest.raises(ApiError, match="page 2 lists only tunnels already listed: the server"),
    ):
        client.list_tunnels(account_id="a", per_page=10)
    assert served == [1, 2]


def test_pagination_a_count_always_one_page_ahead_is_bounded() -> None:
    served: list[int] = []
    answer = _pages(0, announce=lambda page, size: (page + 1) * size, pages_served=served)

    def fresh(page: int, size: int) -> list[object]:
        return [{"id": f"p{page}-{i}"} for i in range(size)]

    answer = _pages(
        0, announce=lambda page, size: (page + 1) * size, items=fresh, pages_served=served
    )
    with (
        hostile(answer) as url,
        Client(SECRET, base_url=url) as client,
        pytest.raises(ApiError, match=r"count changed during each of 3 listings \(20 -> 30, "),
    ):
        client.list_tunnels(account_id="a", per_page=10)
    assert served == [1, 2] * 3


@pytest.mark.parametrize("per_page", [0, -1, float("nan"), "ten", None])
def test_pagination_an_absurd_served_per_page_does_not_loop(per_page: object) -> None:
    # No total_count: the listing ends on the first short page, whatever per_page claims.
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        page = int(query["page"])
        result = [{"id": f"t{i}"} for i in range((page - 1) * 10, min(25, page * 10))]
        if page > 20:
            result = [{"id": "x"}]
        body = _envelope(result)
        body["result_info"] = {"page": page, "per_page": per_page}
        data = json.dumps(body, allow_nan=True).encode()
        reply(handler, 200, data, {"Content-Type": "application/json"})

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        tunnels = client.list_tunnels(account_id="a", per_page=10)
    assert len(tunnels) == 25


@pytest.mark.parametrize("per_page", [0, -1, 1001, 2.0, float("nan"), True])
def test_pagination_per_page_is_validated(per_page: Any) -> None:
    with (
        Client(SECRET, base_url="http://127.0.0.1:9") as client,
        pytest.raises(ValueError, match="per_page must be between 1 and 1000"),
    ):
        client.list_tunnels(account_id="a", per_page=per_page)


def test_pagination_a_tunnel_on_two_pages_is_kept_once(caplog: pytest.LogCaptureFixture) -> None:
    def shifted(page: int, size: int) -> list[object]:
        start = (page - 1) * size - (1 if page > 1 else 0)  # page 2 repeats page 1's last
        return [{"id": f"t{i}"} for i in range(start, min(20, start + size))]

    with hostile(_pages(20, items=shifted)) as url, Client(SECRET, base_url=url) as client:
        tunnels = client.list_tunnels(account_id="a", per_page=10)
    assert [t["id"] for t in tunnels] == [f"t{i}" for i in range(20)]
    assert "1 tunnel(s) listed on more than one page were kept once" in caplog.text


def test_pagination_a_non_object_item_is_a_schema_error() -> None:
    answer = _pages(3, items=lambda page, size: [{"id": "t0"}, 7, {"id": "t2"}])
    with (
        hostile(answer) as url,
        Client(SECRET, base_url=url) as client,
        pytest.raises(SchemaError, match=r"result\[1\]: .* must be an object, got int"),
    ):
        client.list_tunnels(account_id="a")


@pytest.mark.parametrize("retry_after", ["86400", "1e10", "inf", "-inf"])
def test_a_huge_retry_after_is_capped(retry_after: str) -> None:
    answers = iter([429, 200])

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        status = next(answers, 200)
        body: object = _envelope({"id": "t1"})
        if status == 429:
            body = {"success": False, "errors": [{"code": 10429}], "result": None}
        reply(handler, status, body, {"Retry-After": retry_after})

    policy = Policy(max_wait=0.05)
    with hostile(answer) as url, Client(SECRET, base_url=url, policy=policy) as client:
        assert client.get_tunnel("t1", account_id="a")["id"] == "t1"


def test_a_huge_ratelimit_reset_is_capped() -> None:
    header = '"default";r=0;t=99999999999999999999999'

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        reply(handler, 200, _envelope({"id": "t1"}), {"Ratelimit": header})

    policy = Policy(max_wait=0.05)
    with hostile(answer) as url, Client(SECRET, base_url=url, policy=policy) as client:
        for _ in range(3):  # every call after the first waits out the (capped) reset
            assert client.get_tunnel("t1", account_id="a")["id"] == "t1"


def test_the_most_restrictive_ratelimit_item_is_honoured() -> None:
    header = '"default";r=900;t=300, "burst";r=0;t=60'

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        reply(handler, 200, _envelope({"id": "t1"}), {"Ratelimit": header})

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        client.get_tunnel("t1", account_id="a")
        with client.limit(deadline=30), pytest.raises(ApiError, match="request budget"):
            client.get_tunnel("t1", account_id="a")  # the burst item says: not for 60 s
    assert ratelimit(header) == (0, 60)


def test_a_body_that_drips_stops_at_the_request_deadline() -> None:
    def drip(handler: http.server.BaseHTTPRequestHandler) -> None:
        body = json.dumps(_envelope({"id": "t1"})).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:  # one byte at a time, never slower than the read timeout
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.05)

    policy = Policy(timeout=5, request_deadline=0.3, max_retries=0)
    with (
        hostile(drip) as url,
        Client(SECRET, base_url=url, policy=policy) as client,
        pytest.raises(ApiError, match=r"the body took longer than 0 s \(\d+ bytes so far\)"),
    ):
        client.get_tunnel("t1", account_id="a")


def test_a_decompression_bomb_is_refused() -> None:
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of white space in ~50 kB

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        reply(handler, 200, bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"})

    policy = Policy(max_response_bytes=1_000_000)
    with (
        hostile(answer) as url,
        Client(SECRET, base_url=url, policy=policy) as client,
        pytest.raises(ApiError, match="larger than 1000000 bytes decompressed: refused"),
    ):
        client.get_tunnel("t1", account_id="a")


@pytest.mark.parametrize("bad", [".", "..", "t 1", "t1\n", "\x00"])
def test_ids_that_would_change_the_path_are_refused(bad: str, client: Client) -> None:
    with pytest.raises(ValueError, match="is not an id: it would change the request's path"):
        client.get_connector("t1", bad)
    with pytest.raises(ValueError, match="is not an id"):
        client.list_connectors(bad)


def test_6003_with_a_6111_chain_gets_the_credentials_hint(canned: tuple[str, list[Any]]) -> None:
    url, replies = canned
    body = {
        "success": False,
        "errors": [
            {
                "code": 6003,
                "message": "Invalid request headers",
                "error_chain": [
                    {"code": 6111, "message": "Invalid format for Authorization header"}
                ],
            }
        ],
        "result": None,
    }
    replies.append((400, {"Content-Type": "application/json"}, json.dumps(body).encode()))
    with (
        Client(TOKEN, account_id="a", base_url=url) as client,
        pytest.raises(AuthError, match=r"code 6111 .*: check that the API token") as info,
    ):
        client.get_tunnel("t1")
    assert info.value.codes == [6003, 6111]


def test_headers_sent_a_byte_at_a_time_stop_at_the_request_deadline() -> None:
    # Every byte comes well within the read timeout, so only a total deadline ends it.
    def drip(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(600):  # 30 s of header lines unless the client hangs up
            for byte in b"X-Slow: 1\r\n":
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.005)

    policy = Policy(timeout=5, request_deadline=0.5, max_retries=0)
    started = time.monotonic()
    with (
        hostile(drip) as url,
        Client(SECRET, base_url=url, policy=policy) as client,
        pytest.raises(ApiError, match=r"no complete response within 0 s .*headers included"),
    ):
        client.get_tunnel("t1", account_id="a")
    assert time.monotonic() - started < 10


def test_cancel_ends_a_read_stuck_in_the_headers() -> None:
    def drip(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(3000):
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.01)

    policy = Policy(timeout=5, request_deadline=100, max_retries=0)
    started = time.monotonic()
    with hostile(drip) as url, Client(SECRET, base_url=url, policy=policy) as client:
        threading.Timer(0.5, client.cancel).start()
        with client.limit(), pytest.raises(ApiError, match="cancelled"):
            client.get_tunnel("t1", account_id="a")
    assert time.monotonic() - started < 10


def test_pagination_endless_full_pages_of_new_ids_stop_at_the_page_cap() -> None:
    served: list[int] = []

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        page = int(query["page"])
        served.append(page)
        size = int(query["per_page"])
        body = {"success": True, "errors": [], "messages": []}
        body["result"] = [{"id": f"p{page}-{i}"} for i in range(size)]  # no result_info
        reply(handler, 200, body)

    policy = Policy(max_pages=7)
    with (
        hostile(endless) as url,
        Client(SECRET, base_url=url, policy=policy) as client,
        pytest.raises(ApiError, match=r"stopped at Policy.max_pages \(7\)"),
    ):
        client.list_tunnels(account_id="a", per_page=10)
    assert served == list(range(1, 8))
    assert Policy().max_pages == 100


def test_pagination_a_tunnel_deleted_while_listing_does_not_hide_a_live_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Page-number paging: t3 is deleted after page 1 is served, so every later tunnel moves
    # up one place and t10 would fall between pages 1 and 2 unseen.
    live = [f"t{i}" for i in range(25)]
    pages: list[int] = []

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        page, size = int(query["page"]), int(query["per_page"])
        pages.append(page)
        if len(pages) == 2:
            live.remove("t3")
        result = [{"id": tid} for tid in live[(page - 1) * size : page * size]]
        reply(handler, 200, _envelope(result, page=page, per_page=size, total_count=len(live)))

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        tunnels = client.list_tunnels(account_id="a", per_page=10)
    ids = [t["id"] for t in tunnels]
    assert len(ids) == len(set(ids)) == 25  # every live one once, t10 included
    assert set(live) <= set(ids) and "t10" in ids
    assert "t3" in ids  # listed (page 1) before it was deleted: its /connections will say
    assert "the tunnel count changed while listing (25 -> 24): listing again" in caplog.text


def test_pagination_a_total_count_lower_than_served_is_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = _pages(8, announce=lambda page, size: 5)
    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        tunnels = client.list_tunnels(account_id="a", per_page=10)
    assert len(tunnels) == 8
    assert "8 tunnels served, more than the total_count of 5 announced" in caplog.text


# -- the routing reads page as the tunnel list does (one pager) ---------------------------------

#: Each paginated routing read, by the noun its messages use; the server caps its pages at 10.
_LISTINGS: dict[str, Callable[[Client], list[dict[str, Any]]]] = {
    "route": lambda client: client.list_routes(account_id="a"),
    "zone": lambda client: client.list_zones(account_id="a"),
    "DNS record": lambda client: client.list_tunnel_dns_records("z1"),
}


@pytest.mark.parametrize("noun", list(_LISTINGS))
def test_routing_reads_endless_pages_of_new_ids_stop_at_the_page_cap(noun: str) -> None:
    served: list[int] = []

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))
        page = int(query["page"])
        served.append(page)
        result = [{"id": f"p{page}-{i}"} for i in range(10)]  # no total_count: never ends
        reply(handler, 200, _envelope(result, page=page, per_page=10))

    with (
        hostile(endless) as url,
        Client(SECRET, base_url=url, policy=Policy(max_pages=7)) as client,
        pytest.raises(ApiError, match=rf"7 pages of {noun}s \(70 {noun}s\) .*Policy.max_pages"),
    ):
        _LISTINGS[noun](client)
    assert served == list(range(1, 8))


@pytest.mark.parametrize("noun", list(_LISTINGS))
def test_routing_reads_an_item_deleted_while_listing_does_not_hide_another(
    noun: str, caplog: pytest.LogCaptureFixture
) -> None:
    live = [f"r{i}" for i in range(25)]
    pages: list[int] = []

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        page = int(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query))["page"])
        pages.append(page)
        if len(pages) == 2:
            live.remove("r3")  # r10 moves up onto page 1, already served
        result = [{"id": rid} for rid in live[(page - 1) * 10 : page * 10]]
        reply(handler, 200, _envelope(result, page=page, per_page=10, total_count=len(live)))

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        ids = [item["id"] for item in _LISTINGS[noun](client)]
    assert len(ids) == len(set(ids)) == 25 and "r10" in ids
    assert f"the {noun} count changed while listing (25 -> 24): listing again" in caplog.text


@pytest.mark.parametrize("noun", list(_LISTINGS))
def test_routing_reads_a_count_that_always_moves_is_an_error(noun: str) -> None:
    served: list[int] = []
    answer = _pages(
        0,
        cap=10,
        announce=lambda page, size: (page + 1) * size,
        items=lambda page, size: [{"id": f"p{page}-{i}"} for i in range(size)],
        pages_served=served,
    )
    with (
        hostile(answer) as url,
        Client(SECRET, base_url=url) as client,
        pytest.raises(ApiError, match=rf"{noun} count changed during each of 3 listings"),
    ):
        _LISTINGS[noun](client)
    assert served == [1, 2] * 3


@pytest.mark.parametrize("noun", [*_LISTINGS, "tunnel"])
def test_pagination_a_count_that_stays_above_what_is_served_is_bounded(noun: str) -> None:
    served: list[int] = []
    answer = _pages(
        0,
        cap=10,
        announce=lambda page, size: 45,  # a full first page, then a trickle of one a page
        items=lambda page, size: [{"id": f"p{page}-{i}"} for i in range(size if page == 1 else 1)],
        pages_served=served,
    )
    listing = _LISTINGS.get(noun, lambda client: client.list_tunnels(account_id="a"))
    with (
        hostile(answer) as url,
        Client(SECRET, base_url=url) as client,
        pytest.raises(ApiError, match=rf"6 pages gave 15 of the 45 {noun}s announced"),
    ):
        listing(client)
    assert served == list(range(1, 7))


@pytest.mark.parametrize("noun", list(_LISTINGS))
def test_routing_reads_repeats_and_a_low_count_are_logged(
    noun: str, caplog: pytest.LogCaptureFixture
) -> None:
    def shifted(page: int, size: int) -> list[object]:
        start = (page - 1) * size - (1 if page > 1 else 0)  # page 2 repeats page 1's last
        return [{"id": f"r{i}"} for i in range(start, min(20, start + size))]

    with hostile(_pages(20, cap=10, items=shifted)) as url, Client(SECRET, base_url=url) as c:
        assert [item["id"] for item in _LISTINGS[noun](c)] == [f"r{i}" for i in range(20)]
    assert f"1 {noun}(s) listed on more than one page were kept once" in caplog.text
    with hostile(_pages(8, announce=lambda p, s: 5)) as url, Client(SECRET, base_url=url) as c:
        assert len(_LISTINGS[noun](c)) == 8
    assert f"8 {noun}s served, more than the total_count of 5 announced" in caplog.text


def test_routing_reads_keep_each_endpoints_page_size() -> None:
    asked: list[tuple[str, str]] = []

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        asked.append(
            (split.path.rsplit("/", 1)[-1], dict(urllib.parse.parse_qsl(split.query))["per_page"])
        )
        reply(handler, 200, _envelope([], page=1, total_count=0))

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        for listing in [*_LISTINGS.values(), lambda c: c.list_tunnels(account_id="a")]:
            listing(client)
    assert asked == [
        ("routes", "1000"),
        ("zones", "50"),
        ("dns_records", "5000"),
        ("cfd_tunnel", "1000"),
    ]
    for bad, call in [
        (1001, lambda c, n: c.list_routes(account_id="a", per_page=n)),
        (0, lambda c, n: c.list_tunnel_dns_records("z1", per_page=n)),
    ]:
        with pytest.raises(ValueError, match="per_page must be between 1 and"):
            call(Client(SECRET, base_url="http://127.0.0.1:9"), bad)


def test_the_older_ratelimit_draft_syntax_is_read() -> None:
    # draft-ietf-httpapi-ratelimit-headers before -05: one policy, parameters comma-separated.
    assert ratelimit("limit=100, remaining=0, reset=40") == (0, 40)
    assert ratelimit("limit=1200, remaining=900, reset=300") == (900, 300)
    header = "limit=100, remaining=0, reset=60"

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        reply(handler, 200, _envelope({"id": "t1"}), {"Ratelimit": header})

    with hostile(answer) as url, Client(SECRET, base_url=url) as client:
        client.get_tunnel("t1", account_id="a")
        with client.limit(deadline=30), pytest.raises(ApiError, match="request budget"):
            client.get_tunnel("t1", account_id="a")  # none left for 60 s: not within 30
