"""Redaction of origin IPs: exact pseudonyms, one per address however it is written."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import _report_fleet as rf
import pandas as pd
import pytest

from tunnelframe.report import write_report
from tunnelframe.report._redact import Redactor

LONG_V6 = "2001:0DB8:0000:0000:0000:0000:0000:0001"


def _pseudonym(key: str, ip: str) -> str:
    # The documented format: "ip-" + the first 12 hex digits of HMAC-SHA256(key, ip).
    return "ip-" + hmac.new(key.encode(), ip.encode(), hashlib.sha256).hexdigest()[:12]


def test_one_ipv6_address_written_two_ways_gets_one_pseudonym() -> None:
    redactor = Redactor("k")
    assert redactor.pseudonym(LONG_V6) == redactor.pseudonym("2001:db8::1")
    assert redactor.pseudonym("2001:db8::1") == _pseudonym("k", "2001:db8::1")


def test_scrub_known_finds_a_known_address_in_any_spelling() -> None:
    redactor = Redactor("k")
    redactor.learn(pd.Series(["2001:db8::1"]))
    text = redactor.scrub_known(f"a {LONG_V6} b 2001:DB8::1 c")
    assert text == f"a {_pseudonym('k', '2001:db8::1')} b {_pseudonym('k', '2001:db8::1')} c"


def test_a_known_ip_is_not_found_inside_a_longer_one() -> None:
    redactor = Redactor("k")
    redactor.learn(pd.Series(["10.0.0.1"]))
    assert redactor.scrub_known("10.0.0.10 and 10.0.0.1") == (
        f"10.0.0.10 and {_pseudonym('k', '10.0.0.1')}"
    )
    assert redactor.scrub("10.0.0.10") == _pseudonym("k", "10.0.0.10")


@pytest.mark.parametrize("ip", ["fe80::1", "::1", "2001:db8::1", "fd00::a:1"])
def test_scrub_replaces_any_ipv6_address_in_free_text(ip: str) -> None:
    assert Redactor("k").scrub(f"dial {ip} failed") == f"dial {_pseudonym('k', ip)} failed"


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_a_redacted_report_names_each_address_once_and_no_raw_ip(
    tmp_path: Path, suffix: str
) -> None:
    fleet = rf.fleet()
    alpha, beta = fleet["tunnels"][0], fleet["tunnels"][1]
    origins = {
        alpha["connectors"][0]["id"]: "fe80::1",
        alpha["connectors"][1]["id"]: "2001:db8::1",
        beta["connectors"][0]["id"]: LONG_V6,
    }
    for tunnel in fleet["tunnels"]:
        for connector in tunnel["connectors"]:
            ip = origins.get(connector["id"], "10.0.0.1")
            for conn in connector["conns"]:
                conn["origin_ip"] = ip
    beta["name"] = "beta 10.0.0.10"  # a different address beside a known prefix of it
    alpha["name"] = "alpha fe80::2"  # a link-local address nobody connects from
    plain = write_report(fleet, tmp_path / f"plain{suffix}", as_of=rf.AS_OF).read_text()
    assert "fe80::1" in plain and LONG_V6 in plain  # the control: the IPs are there unredacted
    text = write_report(
        fleet, tmp_path / f"r{suffix}", as_of=rf.AS_OF, redact_ips=True, redact_key="k"
    ).read_text()
    for raw in ("fe80::1", "fe80::2", "2001:db8::1", LONG_V6, LONG_V6.lower(), "10.0.0.1"):
        assert raw not in text
    for ip in ("fe80::1", "2001:db8::1", "10.0.0.1"):
        assert _pseudonym("k", ip) in text
    assert _pseudonym("k", LONG_V6) not in text  # one pseudonym for both spellings
    assert f"beta {_pseudonym('k', '10.0.0.10')}" in text
    assert f"alpha {_pseudonym('k', 'fe80::2')}" in text


def _net_pseudonym(key: str, network: str) -> str:
    # The documented format: "net-" + the first 12 hex digits of HMAC-SHA256(key, network).
    return "net-" + hmac.new(key.encode(), network.encode(), hashlib.sha256).hexdigest()[:12]


def test_a_network_gets_one_pseudonym_however_written_and_is_scrubbed_anywhere() -> None:
    redactor = Redactor("k")
    v4, v6 = _net_pseudonym("k", "10.20.0.0/16"), _net_pseudonym("k", "fd00:20::/48")
    assert redactor.network("10.20.0.0/16") == v4
    assert redactor.scrub("to 10.20.0.0/16 and FD00:20:0::/48") == f"to {v4} and {v6}"
    assert redactor.scrub_known("a fd00:0020::/48 b 10.20.0.0/16") == f"a {v6} b {v4}"
    assert redactor.scrub("dial 10.20.0.1 or 10.0.0.1/99") == (
        f"dial {_pseudonym('k', '10.20.0.1')} or {_pseudonym('k', '10.0.0.1')}/99"
    )


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_a_redacted_report_hides_route_networks_and_ingress_ips(
    tmp_path: Path, suffix: str
) -> None:
    fleet = rf.fleet()
    down, alpha = "44444444-4444-4444-8444-444444444444", "11111111-1111-4111-8111-111111111111"
    fleet["tunnels"][0]["config_src"] = "cloudflare"
    rules = [{"hostname": "app.example.com", "service": "http://10.20.3.4:8080"}, {"service": "x"}]
    fleet["routing"] = {
        "read": ["configurations", "routes"],
        "notes": [],
        "configurations": {alpha: {"tunnel_id": alpha, "config": {"ingress": rules}}},
        "routes": [
            {"id": "r1", "network": "10.20.0.0/16", "tunnel_id": down, "tunnel_name": "gone"},
            {"id": "r2", "network": "fd00:20::/48", "tunnel_id": alpha, "tunnel_name": "alpha"},
        ],
    }
    plain = write_report(fleet, tmp_path / f"plain{suffix}", as_of=rf.AS_OF).read_text()
    assert "10.20.0.0/16" in plain and "fd00:20::/48" in plain and "10.20.3.4" in plain
    text = write_report(
        fleet, tmp_path / f"r{suffix}", as_of=rf.AS_OF, redact_ips=True, redact_key="k"
    ).read_text()
    for raw in ("10.20.0.0", "fd00:20::", "10.20.3.4"):
        assert raw not in text
    v4 = _net_pseudonym("k", "10.20.0.0/16")
    # the route table, the down tunnel's finding and its detail all name the same pseudonym
    assert text.count(v4) >= 3 and _net_pseudonym("k", "fd00:20::/48") in text
    assert f"serves 1 route: {v4}" in text
    assert f"{_pseudonym('k', '10.20.3.4')}:8080" in text  # the ingress service's origin
