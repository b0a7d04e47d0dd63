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
