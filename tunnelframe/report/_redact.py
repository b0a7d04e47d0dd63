"""Replace origin IPs with stable keyed pseudonyms so a report can leave the team.

An origin IP becomes ``ip-`` plus the first 12 hex digits of HMAC-SHA256(key, ip): the same IP
always gets the same pseudonym under the same key (so one can still see that two connectors
share a host), and without the key nobody can recover the IP by hashing all 2**32 IPv4
addresses. The key comes from the caller, else from the ``TUNNELFRAME_REDACT_KEY`` environment
variable, else it is random for each report (pseudonyms then match only within one report).
Free text from the data (tunnel names, error messages) is scrubbed too: every known origin IP
and anything else that parses as an IP address (dotted, IPv6, or dashed inside a name as in
``ip-198-51-100-7``) is replaced the same way. A network (a private route's CIDR such as
``10.20.0.0/16`` or ``fd00:20::/48``) becomes ``net-`` plus 12 hex digits of
HMAC-SHA256(key, network), prefix length included, wherever it stands: in the routes read,
in free text, and in the final scrub of the rendered page. This module must never log or
return a raw IP once it has been asked to redact.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from tunnelframe.engine import FleetData

__all__: list[str] = []

#: Environment variable holding the redaction key (any text); set it to get pseudonyms that
#: match from one report to the next.
REDACT_KEY_ENV = "TUNNELFRAME_REDACT_KEY"


def _canonical(ip: str) -> str:
    # The same address written two ways (IPv6 zeros, case) must get one pseudonym.
    try:
        return ipaddress.ip_address(ip.strip()).compressed
    except ValueError:
        return ip.strip()


def _canonical_network(cidr: str) -> str | None:
    # 10.20.0.0/16 however written (host bits set, IPv6 zeros, case); None: not a network.
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).compressed
    except ValueError:
        return None


# Anything shaped like an IP address; a match is only replaced when ipaddress accepts it.
_IPV4_LIKE = r"(?<!\d)(?:\d{1,3}\.){3}\d{1,3}(?!\d)"
_IPV6_LIKE = (
    r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9.]+)?(?![0-9A-Fa-f:])"
)
# An IPv4 address written with dashes inside a host or tunnel name (ip-198-51-100-7, as cloud
# providers name hosts); replaced when its dotted form is an address.
_IPV4_DASHED = r"(?<!\d)(?<!\d-)\d{1,3}(?:-\d{1,3}){3}(?!\d)(?!-\d)"
# A network in CIDR notation: tried first, so 10.20.0.0/16 is one network, not an address.
_CIDR_LIKE = rf"(?:{_IPV4_LIKE}|{_IPV6_LIKE})/\d{{1,3}}(?!\d)"
_IP_LIKE = re.compile(f"{_CIDR_LIKE}|{_IPV4_LIKE}|{_IPV4_DASHED}|{_IPV6_LIKE}")


class Redactor:
    """Map origin IPs to keyed pseudonyms and scrub IPs out of any text."""

    def __init__(self, key: str | bytes | None = None) -> None:
        if key is None:
            key = os.environ.get(REDACT_KEY_ENV) or secrets.token_bytes(32)
        self._key = key.encode() if isinstance(key, str) else bytes(key)
        self._ips: set[str] = set()
        self._networks: set[str] = set()  # as written, and canonical
        self._known: re.Pattern[str] | None = None

    def __repr__(self) -> str:
        return (
            f"Redactor(<key hidden>, {len(self._ips)} known IPs, "
            f"{len(self._networks)} known networks)"
        )

    def pseudonym(self, ip: str) -> str:
        """Return the pseudonym of ``ip`` (and remember ``ip`` for :meth:`scrub_known`)."""
        self._remember(ip)
        return f"ip-{self._digest(_canonical(ip))}"

    def network(self, cidr: str) -> str:
        """Return the pseudonym of the network ``cidr`` (``10.20.0.0/16``), remembered for
        :meth:`scrub_known`; text that is no network is scrubbed as free text."""
        canonical = _canonical_network(cidr)
        if canonical is None:
            return self.scrub(cidr)
        cidr = cidr.strip()
        if cidr not in self._networks or canonical not in self._networks:
            self._networks.update((cidr, canonical))
            self._known = None
        return f"net-{self._digest(canonical)}"

    def _digest(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:12]

    def _remember(self, ip: str) -> None:
        ip = ip.strip()
        if ip and ip not in self._ips:
            self._ips.add(ip)
            self._ips.add(_canonical(ip))
            self._known = None

    def _replace(self, found: str, *, known_only: bool) -> str:
        """The pseudonym of one ``_IP_LIKE`` match (a network, an address, a dashed address),
        or ``found`` itself when it is none (or, ``known_only``, not one seen so far)."""
        if "/" in found:
            network = _canonical_network(found)
            if network is not None and (not known_only or network in self._networks):
                return self.network(found)
            address, _, length = found.partition("/")
            return f"{self._replace(address, known_only=known_only)}/{length}"
        ip = found.replace("-", ".") if "-" in found else found
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return found
        if known_only and _canonical(ip) not in self._ips:
            return found
        return self.pseudonym(ip)

    def learn(self, values: pd.Series) -> None:
        """Remember every IP in ``values`` (one IP per value, NA ignored)."""
        for value in values.dropna().astype(str).unique():
            self._remember(value)

    def scrub(self, text: str) -> str:
        """Replace every IP in ``text``: the known ones, and anything else that parses as one.

        For text from the data (tunnel names, error messages). Not for a whole rendered
        page: CSS such as ``::details-content`` parses as an IPv6 address.
        """

        return _IP_LIKE.sub(
            lambda m: self._replace(m.group(0), known_only=False), self.scrub_known(text)
        )

    def scrub_known(self, text: str) -> str:
        """Replace every IP and network seen so far, wherever it stands in ``text``, with its
        pseudonym."""
        if not self._ips and not self._networks:
            return text
        if self._known is None:
            alts = []
            for known in (self._networks, self._ips):  # a network before its first address
                ordered = sorted(known, key=len, reverse=True)
                v4 = [re.escape(ip) for ip in ordered if ":" not in ip]
                v6 = [re.escape(ip) for ip in ordered if ":" in ip]
                if v4:  # 1.2.3.4 must not match inside 11.2.3.45
                    alts.append(r"(?<!\d)(?:" + "|".join(v4) + r")(?!\d)")
                if v6:
                    alts.append(r"(?<![0-9A-Fa-f:])(?:" + "|".join(v6) + r")(?![0-9A-Fa-f:])")
            self._known = re.compile("|".join(alts), re.IGNORECASE)
        text = self._known.sub(lambda m: self._replace(m.group(0), known_only=False), text)
        # A known address or network spelt another way (2001:0DB8:0:0:0:0:0:1 for 2001:db8::1).
        return _IP_LIKE.sub(lambda m: self._replace(m.group(0), known_only=True), text)

    def frame(self, frame: pd.DataFrame, *, ip_columns: tuple[str, ...] = ()) -> pd.DataFrame:
        """Return a copy of ``frame`` with IP columns pseudonymised and other text scrubbed.

        ``ip_columns`` hold one IP per value (``origin_ip``); every other text column (such as
        ``origin_ips``, or a tunnel name that embeds an IP) goes through :meth:`scrub`.
        Dtypes are kept.
        """
        out = frame.copy()
        for col in ip_columns:
            if col in out.columns:
                self.learn(out[col])
        for col in out.columns:
            series = out[col]
            if col in ip_columns:
                out[col] = _map_text(series, self.pseudonym)
            elif isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
                series.dtype
            ):
                out[col] = _map_text(series, self.scrub)
        return out


def _map_text(series: pd.Series, func: Callable[[str], str]) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Map the few categories, not the many rows; the result is categorical again.
        cats = series.cat.categories
        mapping = {c: func(c) for c in cats if isinstance(c, str)}
        return series.map(lambda v: mapping.get(v, v), na_action="ignore").astype("category")
    return series.map(lambda v: func(v) if isinstance(v, str) else v)


def redact(data: FleetData, redactor: Redactor) -> FleetData:
    """Return ``data`` with every origin IP replaced by its pseudonym, in every frame, and
    every route's network (and any IP in the routing's text) by its pseudonym."""
    connections = redactor.frame(data.connections, ip_columns=("origin_ip",))
    # Connectors and tunnels: origin_ips lists and any text that happens to hold a known IP.
    return replace(
        data,
        connections=connections,
        connectors=redactor.frame(data.connectors),
        tunnels=redactor.frame(data.tunnels),
        errors=None if data.errors is None else redactor.frame(data.errors),
        routing=None if data.routing is None else _redact_json(data.routing, redactor),
        redacted=True,
    )


def _redact_json(value: Any, redactor: Redactor) -> Any:
    """A copy of the routing read: ``network`` values (route CIDRs) as network pseudonyms,
    every other text scrubbed (an ingress ``service`` such as ``http://10.0.0.5:8080``)."""
    if isinstance(value, Mapping):
        return {
            key: (
                redactor.network(item)
                if key == "network" and isinstance(item, str)
                else _redact_json(item, redactor)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(item, redactor) for item in value]
    return redactor.scrub(value) if isinstance(value, str) else value
