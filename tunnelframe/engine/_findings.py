"""The analyses a report shows, computed once, and the rules its findings (and ``check``) apply.

:class:`Analysis` runs the library's analysis functions (``versions``, ``colos``) on a
:class:`~tunnelframe.engine._source.FleetData` lazily, each at most once, and turns the
warnings they raise about the data (versions newer than the release calendar, unknown colo
codes) into notes for the report instead of letting them escape. :data:`RULES` defines every
finding in one place: which rows break it, which columns show them, and the one-line message
``tunnelframe check`` prints. This module decides nothing about layout and never fetches.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol, cast

import pandas as pd
import pyarrow as pa

from tunnelframe._deprecate import renamed
from tunnelframe._text import one_line
from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.colos import (
    colo_distribution,
    colo_info,
    connection_ages,
    ha_report,
    pair_ha_report,
)
from tunnelframe.engine._releases import (
    Calendar,
    calendar_view,
    choose_calendar,
    choose_fixes,
    warn_if_stale,
)
from tunnelframe.engine._serving import (
    Serving,
    orphan_dns_message,
    orphan_dns_rows,
    route_to_down_message,
    route_to_down_rows,
    single_origin_message,
    single_origin_rows,
    unrouted_message,
    unrouted_rows,
)
from tunnelframe.engine._source import FleetData, resolve, tunnel_ha
from tunnelframe.history import HistorySummary
from tunnelframe.versions import (
    config_drift,
    deprecated_platforms,
    load_platform_deprecations,
    parse_version,
    security_exposure,
    version_drift,
    version_summary,
)

__all__ = [
    "FINDINGS_COLUMNS",
    "RULES",
    "Analysis",
    "ColumnKind",
    "FrameRedactor",
    "Rule",
    "Severity",
    "Show",
    "calendar_notes",
    "findings",
    "findings_frame",
    "judge",
    "rule_rows",
]


#: How a table column is shown: ``text`` (plain), ``wide`` (sentences: kept wide enough to
#: read on a phone), ``mono`` (ids, versions, IPs), ``num`` (right-aligned), ``status`` (a
#: coloured badge).
ColumnKind = Literal["text", "wide", "mono", "num", "status"]

#: How much a finding matters: ``high`` (act now), ``warn`` (fix soon), ``info`` (worth a look).
Severity = Literal["high", "warn", "info"]


class FrameRedactor(Protocol):
    """What the engine asks of a redactor (the report's): a frame with its IPs hidden.

    Examples
    --------
    >>> import pandas as pd
    >>> class Hide:
    ...     def frame(self, frame, *, ip_columns=()):
    ...         return frame.assign(**{c: "ip-…" for c in ip_columns})
    >>> Hide().frame(pd.DataFrame({"host": ["192.0.2.1"]}), ip_columns=("host",))["host"][0]
    'ip-…'
    """

    def frame(self, frame: pd.DataFrame, *, ip_columns: tuple[str, ...] = ()) -> pd.DataFrame: ...


class Analysis:
    """The analyses of one fleet, each computed on first use, and the rows each rule flags.

    Examples
    --------
    >>> from tunnelframe.engine import RULES, Analysis, resolve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> analysis = Analysis(resolve(fleet, as_of="2026-08-20"))
    >>> single_colo = next(rule for rule in RULES if rule.id == "single-colo")
    >>> list(analysis.rows_of(single_colo)["tunnel_name"])
    ['web']
    """

    def __init__(
        self,
        data: FleetData,
        *,
        max_releases_behind: int | None = None,
        history: HistorySummary | None = None,
        redactor: FrameRedactor | None = None,
        expected_connections: int = 4,
        releases: pd.DataFrame | str | os.PathLike[str] | None = None,
        previous_diff: pd.DataFrame | None = None,
        previous_fetched_at: pd.Timestamp | None = None,
    ) -> None:
        if max_releases_behind is not None and (
            isinstance(max_releases_behind, bool)
            or not isinstance(max_releases_behind, int)
            or max_releases_behind < 0
        ):
            raise ValueError(
                f"max_releases_behind must be a whole number of 0 or more, "
                f"not {max_releases_behind!r}"
            )
        if (
            isinstance(expected_connections, bool)
            or not isinstance(expected_connections, int)
            or expected_connections < 1
        ):
            raise ValueError(
                f"expected_connections must be a whole number of 1 or more, "
                f"not {expected_connections!r}"
            )
        self.data = data
        self.max_releases_behind = max_releases_behind
        #: the active connections a healthy connector holds (cloudflared opens 4)
        self.expected_connections = expected_connections
        #: the release calendar asked for (None: the newest of bundled and refreshed)
        self.releases = releases
        #: what changed since the previous snapshot (``write_report(previous=...)``)
        self.previous_diff = previous_diff
        self.previous_fetched_at = previous_fetched_at
        self._rows: dict[str, pd.DataFrame | None] = {}
        #: what the analyses warned about, as sentences for the report
        self.notes: list[str] = []
        #: the history summary for the history section (``write_report(history=...)``)
        self.history = history
        #: hides the origin IPs the history section reads from the store (None: no redaction)
        self.redactor = redactor

    def quietly(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = func(*args, **kwargs)
        for warning in caught:
            note = str(warning.message)
            if note not in self.notes:
                self.notes.append(note)
        return result

    @cached_property
    def calendar(self) -> Calendar:
        """The release calendar in use; its notes (stale, fleet ahead of it) join the report's."""
        view = calendar_view(choose_calendar(self.releases), self.connections, self.data.as_of)
        self.notes.extend(n for n in view.notes if n not in self.notes)
        return view

    @property
    def connections(self) -> pd.DataFrame:
        return self.data.connections

    @cached_property
    def hosts(self) -> dict[str, dict[Any, str]]:
        """``"connector"``: (account, tunnel, connector) -> "IPs (arch)"; ``"tunnel"``: the
        hosts of each (account, tunnel), joined."""
        c = self.data.connectors
        per_connector: dict[Any, str] = {}
        per_tunnel: dict[Any, list[str]] = {}
        for acc, tid, cid, ips, arch in zip(
            c["account_id"].astype(str),
            c["tunnel_id"].astype(str),
            c["connector_id"].astype(str),
            c["origin_ips"].astype(object),
            c["arch"].astype(object),
            strict=True,
        ):
            ip = "unknown IP" if ips is None or pd.isna(ips) or not str(ips) else str(ips)
            host = ip if arch is None or pd.isna(arch) else f"{ip} ({arch})"
            per_connector[(acc, tid, cid)] = host
            seen = per_tunnel.setdefault((acc, tid), [])
            if host not in seen:
                seen.append(host)
        return {
            "connector": per_connector,
            "tunnel": {k: ", ".join(v) for k, v in per_tunnel.items()},
        }

    @cached_property
    def serving(self) -> Serving:
        """The routing's frames and each tunnel's impact (what it serves)."""
        return Serving(self.data.tunnels, self.data.routing)

    def rows_of(self, rule: Rule) -> pd.DataFrame | None:
        """The rows that break ``rule``, with their host, sorted by tunnel (cached)."""
        if rule.id not in self._rows:
            rows = rule.rows(self)
            self._rows[rule.id] = None if rows is None else _sorted_with_host(self, rows)
        return self._rows[rule.id]

    @cached_property
    def live_tunnels(self) -> pd.DataFrame:
        """The tunnels frame without deleted tunnels."""
        tunnels = self.data.tunnels
        return tunnels[tunnels["deleted_at"].isna()].reset_index(drop=True)

    @cached_property
    def fixes(self) -> pd.DataFrame:
        """The security fixes per release in use (bundled, or refreshed and cached)."""
        return choose_fixes()

    @cached_property
    def fix_releases(self) -> dict[str, str]:
        """Advisory id -> the oldest release (not reverted) whose notes name it as fixed."""
        live = self.fixes[self.fixes["reverted_in"] == ""]
        out: dict[str, str] = {}
        for version, ids in zip(live["version"], live["advisory_ids"], strict=True):
            for one in filter(None, str(ids).split(", ")):
                if one not in out or parse_version(version) < parse_version(out[one]):
                    out[one] = str(version)
        return out

    @cached_property
    def drift(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.quietly(
            version_drift,
            self.connections,
            as_of=self.data.as_of,
            releases=self.calendar.frame,
            latest=self.calendar.latest,
            fixes=self.fixes,
        )
        return frame

    @cached_property
    def versions(self) -> Any:
        return self.quietly(
            version_summary,
            self.connections,
            as_of=self.data.as_of,
            releases=self.calendar.frame,
            latest=self.calendar.latest,
            fixes=self.fixes,
        )

    @cached_property
    def exposure(self) -> pd.DataFrame:
        """Per security fix: the connectors lacking it, and those one upgrade to it clears."""
        frame: pd.DataFrame = security_exposure(self.drift, fixes=self.fixes)
        return frame

    @cached_property
    def platforms(self) -> pd.DataFrame:
        """Connectors on a platform that stops getting cloudflared releases."""
        frame: pd.DataFrame = deprecated_platforms(self.connections, as_of=self.data.as_of)
        return frame

    @cached_property
    def config(self) -> pd.DataFrame:
        tunnels = self.data.tunnels if self.data.tunnels_complete else None
        frame: pd.DataFrame = config_drift(self.connections, tunnels=tunnels)
        return frame

    @cached_property
    def ha_connectors(self) -> pd.DataFrame:
        frame: pd.DataFrame = ha_report(
            self.connections, level="connector", expected_connections=self.expected_connections
        )
        return frame

    @cached_property
    def ha_tunnels(self) -> pd.DataFrame:
        return tunnel_ha(self.connections, expected_connections=self.expected_connections)

    @cached_property
    def pair_ha(self) -> pd.DataFrame:
        """WARP Connector tunnels judged as active/passive pairs (empty without any)."""
        frame: pd.DataFrame = pair_ha_report(self.connections)
        return frame

    @cached_property
    def colos(self) -> pd.DataFrame:
        frame: pd.DataFrame = colo_distribution(self.connections)
        return frame

    @cached_property
    def metros(self) -> pd.DataFrame:
        frame: pd.DataFrame = colo_distribution(self.connections, by="metro")
        return frame

    @cached_property
    def metro_info(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.quietly(colo_info, self.metros["metro"].astype(str))
        return frame

    @cached_property
    def colos_by_tunnel(self) -> pd.DataFrame:
        frame: pd.DataFrame = colo_distribution(self.connections, by="tunnel")
        return frame

    @cached_property
    def colo_info(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.quietly(colo_info, self.colos["colo_name"].astype(str))
        return frame

    @cached_property
    def regions(self) -> pd.DataFrame:
        frame: pd.DataFrame = self.quietly(colo_distribution, self.connections, by="region")
        return frame

    @cached_property
    def connector_times(self) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
        """(account, tunnel, connector) -> run_at; -> oldest opened_at of a pending
        reconnect; (account, tunnel) -> newest run_at of its connectors holding an active
        connection: the times a rule's "since" is read from."""
        c = self.connections
        keys = ["account_id", "tunnel_id", "connector_id"]
        frame = pd.DataFrame({k: c[k].astype(object).astype(str) for k in keys}).assign(
            run_at=c["run_at"],
            opened_at=c["opened_at"],
            pending=c["is_pending_reconnect"].fillna(False).astype(bool),
            known=c["connector_id"].notna().to_numpy(),
        )
        frame = frame[frame["known"]]
        run = frame.groupby(keys)["run_at"].min().dropna().to_dict()
        pending = frame[frame["pending"]].groupby(keys)["opened_at"].min().dropna().to_dict()
        active = frame[~frame["pending"] & frame["opened_at"].notna()]
        newest = active.groupby(keys[:2])["run_at"].max().dropna().to_dict()
        return run, pending, newest

    @cached_property
    def ages(self) -> pd.DataFrame:
        frame: pd.DataFrame = connection_ages(
            self.connections, as_of=self.data.as_of, level="connector"
        )
        return frame


# --------------------------------------------------------------------------------------------
# rules


@dataclass(frozen=True)
class Show:
    """A column of a finding's table: heading, source column and how it is shown.

    Examples
    --------
    >>> from tunnelframe.engine import RULES
    >>> RULES[0].show[0]
    Show(title='Tunnel', column='tunnel_name', kind='text')
    """

    title: str
    column: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Rule:
    """One finding: what breaks it (``rows``), how it is shown, what ``check`` prints.

    Examples
    --------
    >>> from tunnelframe.engine import RULES
    >>> rule = next(rule for rule in RULES if rule.id == "single-colo")
    >>> rule.severity, rule.title
    ('warn', 'single-colo tunnels')
    """

    id: str
    title: str
    severity: Severity
    description: str
    rows: Callable[[Analysis], pd.DataFrame | None]
    show: Sequence[Show]
    message: Callable[[Analysis, dict[str, Any]], str]
    #: said when ``rows`` returns None (the source cannot tell)
    unavailable: str = ""
    #: what to do about a row, for the fix-first block: one action each, worded once (the
    #: ``_UPGRADE``-style constants) so a row breaking several rules says each action once
    advice: tuple[str, ...] = ()
    #: a column of the rows giving each row's own severity, more or less severe than
    #: ``severity`` (a deprecated platform past its cutoff is high, a lone connector on one
    #: origin IP information); rows without it, or rules without the column, are ``severity``
    row_severity: str | None = None
    #: what a row's "Since" time is, in the fix-first block ("down since"): the earliest time
    #: the API lets us date the problem from (it keeps no history, so most are lower bounds)
    since: str = "since"
    #: where that time comes from: ``(time or None, other wording or None)`` of a row
    since_at: Callable[[Analysis, Mapping[Any, Any]], Dated] = field(
        default_factory=lambda: connector_started
    )
    #: the one thing to do about a tunnel whose worst problem is this rule (fix-first block);
    #: default the ``advice``, joined
    action: str = ""

    def severity_of(self, row: Mapping[Any, Any]) -> Severity:
        """The severity of one row: its ``row_severity`` column, else ``severity``."""
        if self.row_severity is not None:
            level = row.get(self.row_severity)
            if level in ("high", "warn", "info"):
                return cast(Severity, level)
        return self.severity


#: A row's "since": the time (None when unknown) and, when it differs from the rule's
#: ``since``, what that time is.
Dated = tuple[Any, str | None]


def _keys(row: Mapping[Any, Any]) -> tuple[tuple[str, str], tuple[str, str, str]]:
    tunnel = (str(row.get("account_id")), str(row.get("tunnel_id")))
    return tunnel, (*tunnel, str(row.get("connector_id")))


def connector_started(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """Since the row's connector started (its ``run_at``): a version, a platform, a config."""
    return a.connector_times[0].get(_keys(row)[1]), None


def tunnel_since(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """Since the newest start among the tunnel's connectors holding an active connection:
    the tunnel has been like this at least since then."""
    return a.connector_times[2].get(_keys(row)[0]), None


def reconnect_since(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """Since the oldest pending reconnect (the API does not say when a connection dropped),
    else since the connector started."""
    run, pending, _ = a.connector_times
    connector = _keys(row)[1]
    value = pending.get(connector)
    if value is None or pd.isna(value):
        return run.get(connector), "connector up since"
    return value, None


def down_since(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """Since the tunnel lost its last connection (the row's ``conns_inactive_at``)."""
    return row.get("conns_inactive_at"), None


def tunnel_down_since(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """Since the row's tunnel lost its last connection (its ``conns_inactive_at``)."""
    tunnels = a.data.tunnels
    match = tunnels["tunnel_id"].astype(str) == str(row.get("tunnel_id"))
    found = tunnels.loc[match.to_numpy(bool), "conns_inactive_at"]
    return (found.iloc[0] if len(found) else None), None


def fetched_since(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """The moment of the fetch (a failed read dates from it)."""
    return (a.data.as_of if a.data.fetched_at is None else a.data.fetched_at), None


def undated(a: Analysis, row: Mapping[Any, Any]) -> Dated:
    """No date: the API does not say (a DNS record's tunnel went long ago)."""
    return None, None


def _name(row: dict[str, Any]) -> str:
    name = row.get("tunnel_name")
    return "(unnamed)" if name is None or pd.isna(name) else str(name)


def _tunnel(row: dict[str, Any]) -> str:
    return f'tunnel "{_name(row)}" ({row.get("tunnel_id")})'


def _date(value: Any) -> str:
    return "an unknown date" if value is None or pd.isna(value) else f"{value:%Y-%m-%d}"


def _unsupported(a: Analysis) -> pd.DataFrame:
    drift = a.drift
    return drift[drift["status"] == "unsupported"].reset_index(drop=True)


def _unsupported_message(a: Analysis, r: dict[str, Any]) -> str:
    behind = r["releases_behind"]
    lag = "" if pd.isna(behind) else f", {behind} releases behind {r['latest_version']}"
    return (
        f"unsupported: connector {r['connector_id']} of {_tunnel(r)} runs cloudflared "
        f"{r['version']}, released {_date(r['released_on'])}{lag}"
    )


def _vulnerable(a: Analysis) -> pd.DataFrame:
    drift = a.drift
    lacking = drift["n_missing_fixes"].fillna(0).astype("int64") > 0
    return drift[lacking.to_numpy(bool)].reset_index(drop=True)


def _vulnerable_message(a: Analysis, r: dict[str, Any]) -> str:
    ids = [one for one in str(r["missing_fix_ids"] or "").split(", ") if one]
    by_release: dict[str, list[str]] = {}
    for one in ids:
        by_release.setdefault(a.fix_releases.get(one, "a later release"), []).append(one)
    said = [f"{release} fixes {', '.join(named)}" for release, named in by_release.items()]
    unnamed = int(r["n_missing_fixes"]) - len(ids)
    if unnamed:
        said.append(
            f"{'and ' if said else ''}{unnamed} more security "
            f"{'fix names' if unnamed == 1 else 'fixes name'} no advisory id"
        )
    return (
        f"vulnerable: connector {r['connector_id']} of {_tunnel(r)} runs cloudflared "
        f"{r['version']}; {'; '.join(said)}; upgrade to {r['fixed_in']} or later"
    )


def _deprecated_platform(a: Analysis) -> pd.DataFrame:
    rows = a.platforms
    past = rows["past_cutoff"].fillna(False).to_numpy(bool)
    # a warning before the cutoff, high after it (the rule's row_severity column)
    return rows.assign(severity=pd.Series("warn", index=rows.index).mask(past, "high"))


def _deprecated_platform_message(a: Analysis, r: dict[str, Any]) -> str:
    cutoff = _date(r["deprecated_from"])
    when = (
        f"has not got cloudflared releases since {cutoff}"
        if r["past_cutoff"] is True
        else f"stops getting cloudflared releases on {cutoff}"
    )
    return (
        f"deprecated-platform: connector {r['connector_id']} of {_tunnel(r)} runs on "
        f"{r['platform']} ({r['arch']}), which {when}; move it to {r['replaced_by']}"
    )


def _platforms_said() -> str:
    table = load_platform_deprecations()
    return "; ".join(
        f"{p} ({arch}) from {d:%Y-%m-%d}, replaced by {rep}"
        for p, arch, d, rep in zip(
            table["platform"],
            table["arch"],
            table["deprecated_from"],
            table["replaced_by"],
            strict=True,
        )
    )


def _too_far_behind(a: Analysis) -> pd.DataFrame | None:
    if a.max_releases_behind is None:
        return None
    drift = a.drift
    behind = drift["releases_behind"].fillna(-1).astype("int64") > a.max_releases_behind
    return drift[behind].reset_index(drop=True)


def _too_far_message(a: Analysis, r: dict[str, Any]) -> str:
    return (
        f"releases-behind: connector {r['connector_id']} of {_tunnel(r)} runs cloudflared "
        f"{r['version']}, {r['releases_behind']} releases behind {r['latest_version']} "
        f"(the limit is {a.max_releases_behind})"
    )


def _up_tunnels(a: Analysis) -> pd.DataFrame:
    ha = a.ha_tunnels
    return ha[ha["n_active"] > 0]


def _single_colo(a: Analysis) -> pd.DataFrame:
    ha = _up_tunnels(a)
    return ha[(ha["n_colos"] == 1) & (ha["n_active"] > 1)].reset_index(drop=True)


def _single_colo_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"single-colo: {_tunnel(r)}: {r['reason']}"


def _single_connector(a: Analysis) -> pd.DataFrame:
    ha = _up_tunnels(a)
    return ha[ha["n_active_connectors"] == 1].reset_index(drop=True)


def _single_connector_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"single-connector: {_tunnel(r)}: {r['reason']}"


def _reconnecting_mask(a: Analysis, ha: pd.DataFrame) -> pd.Series:
    """One connection short and that one pending reconnect: transient, not an outage."""
    return (ha["n_active"] == a.expected_connections - 1) & (ha["n_pending"] >= 1)


def _connector_problems(a: Analysis) -> pd.DataFrame:
    ha = a.ha_connectors
    bad = ha[ha["status"].isin(["degraded", "down"]) & ~ha["replaced"]]
    return bad.assign(status=bad["status"].astype(str))


def _degraded(a: Analysis) -> pd.DataFrame:
    bad = _connector_problems(a)
    return bad[~_reconnecting_mask(a, bad)].reset_index(drop=True)


def _degraded_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"{r['status']}: connector {r['connector_id']} of {_tunnel(r)}: {r['reason']}"


def _reconnecting(a: Analysis) -> pd.DataFrame:
    bad = _connector_problems(a)
    return bad[_reconnecting_mask(a, bad)].reset_index(drop=True)


def _reconnecting_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"reconnecting: connector {r['connector_id']} of {_tunnel(r)}: {r['reason']}"


def _down(a: Analysis) -> pd.DataFrame:
    """Tunnels the API reports down, or with connectors of which none holds a connection.

    WARP Connector tunnels run active/passive pairs and are judged by ``pair-ha`` instead.
    """
    tunnels = a.live_tunnels
    tunnels = tunnels[(tunnels["tun_type"].astype(object) != "warp_connector").to_numpy(bool)]
    ha = a.ha_tunnels
    up = set(ha.loc[ha["n_active"] > 0, "tunnel_id"].astype(str))
    has_connectors = set(a.data.connectors["tunnel_id"].astype(str))
    ids = tunnels["tunnel_id"].astype(str)
    status = tunnels["tunnel_status"].astype(object)
    down = tunnels[(status == "down") | (ids.isin(has_connectors) & ~ids.isin(up))]
    n = down["n_connectors"].fillna(0).astype("int64")
    reasons = [
        "the API reports the tunnel down and lists no connector"
        if k == 0
        else f"{k} connector(s) listed, none holds an active connection"
        for k in n
    ]
    inactive = down["conns_inactive_at"]
    age = (a.data.as_of - inactive).dt.total_seconds() / 86400
    return pd.DataFrame(
        {
            "account_id": down["account_id"].astype(str).to_numpy(),
            "tunnel_id": down["tunnel_id"].astype(str).to_numpy(),
            "tunnel_name": down["tunnel_name"].astype(object).to_numpy(),
            "connector_id": None,
            "tunnel_status": down["tunnel_status"].astype(object).to_numpy(),
            "n_connectors": n.to_numpy(),
            "conns_inactive_at": inactive.to_numpy(),
            "down_days": age.round(1).to_numpy(),
            "reason": reasons,
        }
    )


def _down_message(a: Analysis, r: dict[str, Any]) -> str:
    since = r.get("conns_inactive_at")
    when = (
        ""
        if since is None or pd.isna(since)
        else f" (down since {pd.Timestamp(since):%Y-%m-%d %H:%M} UTC)"
    )
    return f"down: {_tunnel(r)}: {r['reason']}{when}"


def _route_to_down(a: Analysis) -> pd.DataFrame | None:
    return route_to_down_rows(a, _down(a))


def _pair_ha(a: Analysis) -> pd.DataFrame:
    pairs = a.pair_ha
    bad = pairs[pairs["status"] != "ok"]
    return bad.assign(status=bad["status"].astype(str)).reset_index(drop=True)


def _pair_ha_message(a: Analysis, r: dict[str, Any]) -> str:
    return f"pair-ha: WARP Connector {_tunnel(r)} is {r['status']}: {r['reason']}"


def _config(a: Analysis) -> pd.DataFrame:
    return a.config


def _config_message(a: Analysis, r: dict[str, Any]) -> str:
    return (
        f"config-drift: connector {r['connector_id']} of {_tunnel(r)} runs configuration "
        f"version {r['config_version']}, the tunnel's newest is {r['tunnel_config_version']}"
    )


def _fetch_errors(a: Analysis) -> pd.DataFrame | None:
    return a.data.errors


def _fetch_error_message(a: Analysis, r: dict[str, Any]) -> str:
    status = r.get("status")
    http = "" if status is None or pd.isna(status) else f"HTTP {status}: "
    return f"fetch-error: {_tunnel(r)} could not be read: {http}{r.get('message')}"


_UPGRADE = "upgrade cloudflared on these hosts"
_EGRESS = "check the hosts' egress to the edge (outbound 7844, QUIC or HTTP/2)"

_TUNNEL = Show("Tunnel", "tunnel_name")
_CONNECTOR = Show("Connector", "connector_id", "mono")
_HOST = Show("Host", "host", "mono")

RULES: tuple[Rule, ...] = (
    Rule(
        id="unsupported",
        title="unsupported connectors",
        severity="high",
        description=(
            "Connectors on a cloudflared version released more than a year before the newest "
            "release: Cloudflare no longer supports them and they may break without notice. "
            "Update cloudflared on these hosts."
        ),
        rows=_unsupported,
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Version", "version", "mono"),
            Show("Released", "released_on"),
            Show("Releases behind", "releases_behind", "num"),
            Show("Latest", "latest_version", "mono"),
        ),
        message=_unsupported_message,
        advice=(_UPGRADE,),
        since="on this version since",
        action="upgrade cloudflared on these hosts: this version is out of support",
    ),
    Rule(
        id="vulnerable",
        title="connectors missing security fixes",
        severity="high",
        description=(
            "Connectors on a cloudflared release that a later release fixed a vulnerability "
            "in: cloudflared's release notes mark the fix (a CVE, GHSA, GO or VULN advisory, "
            "or a fix said to be for a vulnerability). Upgrade to the release shown, or later. "
            "The versions section lists the advisories each release fixes."
        ),
        rows=_vulnerable,
        # The advisory ids follow from the version: listed once per release in the versions
        # section, not on every connector's row (at 3,000 tunnels they were a quarter of the
        # report's size).
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Version", "version", "mono"),
            Show("Fixes missing", "n_missing_fixes", "num"),
            Show("Upgrade to", "fixed_in", "mono"),
        ),
        message=_vulnerable_message,
        advice=(_UPGRADE,),
        since="on this version since",
        action="upgrade cloudflared on these hosts: this version lacks security fixes",
    ),
    Rule(
        id="deprecated-platform",
        title="connectors on a platform that stops getting releases",
        severity="warn",
        description=(
            "Connectors running a cloudflared build for a platform Cloudflare has deprecated "
            f"({_platforms_said()}; Cloudflare changelog, 2026-09-18): a warning before the "
            "cutoff, high after it, when they no longer get releases or security fixes."
        ),
        rows=_deprecated_platform,
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Platform", "platform"),
            Show("Arch", "arch", "mono"),
            Show("No releases from", "deprecated_from"),
            Show("Move to", "replaced_by", "mono"),
        ),
        message=_deprecated_platform_message,
        advice=("move cloudflared to a supported platform (64-bit Windows, Apple silicon)",),
        row_severity="severity",
        since="on this platform since",
        action="move cloudflared to a supported platform (64-bit Windows, Apple silicon)",
    ),
    Rule(
        id="releases-behind",
        title="connectors too far behind",
        severity="warn",
        description="Connectors more releases behind the newest cloudflared than allowed.",
        rows=_too_far_behind,
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Version", "version", "mono"),
            Show("Releases behind", "releases_behind", "num"),
            Show("Latest", "latest_version", "mono"),
        ),
        message=_too_far_message,
        advice=(_UPGRADE,),
        since="on this version since",
        action=_UPGRADE,
    ),
    Rule(
        id="degraded",
        title="degraded or down connectors",
        severity="high",
        description=(
            "Connectors holding fewer active connections than expected (cloudflared opens 4), "
            "or none; connectors that merely linger after a restart are left out, and so are "
            "connectors one connection short with that one reconnecting (see below)."
        ),
        rows=_degraded,
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Status", "status", "status"),
            Show("Active", "n_active", "num"),
            Show("Pending", "n_pending", "num"),
            Show("Why", "reason", "wide"),
        ),
        message=_degraded_message,
        advice=(_EGRESS,),
        since="reconnect pending since",
        since_at=reconnect_since,
        action=f"{_EGRESS}, then restart cloudflared if connections do not come back",
    ),
    Rule(
        id="down",
        title="down tunnels",
        severity="high",
        description=(
            "Tunnels the API reports down, or whose connectors hold no active connection: "
            "nothing reaches the services behind them. Down for long, a tunnel is a cleanup "
            "candidate; down for minutes, an incident."
        ),
        rows=_down,
        show=(
            _TUNNEL,
            Show("API status", "tunnel_status", "status"),
            Show("Down since", "conns_inactive_at"),
            Show("Days", "down_days", "num"),
            Show("Connectors", "n_connectors", "num"),
            Show("Why", "reason", "wide"),
        ),
        message=_down_message,
        advice=(
            "restart cloudflared on its hosts",
            _EGRESS,
            "delete the tunnel if it is no longer used",
        ),
        since="down since",
        since_at=down_since,
    ),
    Rule(
        id="route-to-down",
        title="hostnames and routes served by a down tunnel",
        severity="high",
        description=(
            "Published hostnames and private network routes whose tunnel is down or never "
            "ran: they are unreachable now. Bring the tunnel back, or move them to a healthy "
            "tunnel. Needs the routing read (tunnelframe fetch --routing)."
        ),
        rows=_route_to_down,
        show=(
            _TUNNEL,
            Show("State", "state", "status"),
            Show("Hostnames", "hostnames", "wide"),
            Show("Routes", "routes", "wide"),
        ),
        message=route_to_down_message,
        advice=("restart cloudflared on its hosts", "or move its hostnames and routes"),
        unavailable="The routing was not read (tunnelframe fetch --routing).",
        since="down since",
        since_at=tunnel_down_since,
        action="bring the tunnel back, or move its hostnames and routes to a healthy one",
    ),
    Rule(
        id="reconnecting",
        title="connectors reconnecting",
        severity="warn",
        description=(
            "Connectors one connection short of the expected count with that connection "
            "pending a reconnect: usually transient. Look again if it persists."
        ),
        rows=_reconnecting,
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Active", "n_active", "num"),
            Show("Pending", "n_pending", "num"),
            Show("Why", "reason", "wide"),
        ),
        message=_reconnecting_message,
        advice=("look again in a few minutes: usually transient", _EGRESS),
        since="reconnect pending since",
        since_at=reconnect_since,
        action="look again in a few minutes: a reconnect is usually transient",
    ),
    Rule(
        id="single-connector",
        title="single-connector tunnels",
        severity="warn",
        description=(
            "Tunnels served by one connector only: if that host goes down, so does the "
            "tunnel. Run a second replica of cloudflared on another host."
        ),
        rows=_single_connector,
        show=(
            _TUNNEL,
            _HOST,
            Show("API status", "tunnel_status", "status"),
            Show("Connectors", "n_connectors", "num"),
            Show("Active conns", "n_active", "num"),
            Show("Why", "reason", "wide"),
        ),
        message=_single_connector_message,
        advice=("run a second replica of cloudflared on another host",),
        since="like this since",
        since_at=tunnel_since,
        action="run a second replica of cloudflared on another host",
    ),
    Rule(
        id="single-origin",
        title="tunnels reaching Cloudflare from one origin IP",
        severity="warn",
        description=(
            "Tunnels whose every active connection comes from one origin IP: their replicas "
            "sit on one host, behind one NAT or on one site, and fail together. A warning for "
            "several connectors (replicas that look redundant and are not), information for a "
            "single connector (see single-connector)."
        ),
        rows=single_origin_rows,
        show=(
            _TUNNEL,
            Show("Origin IP", "origin_ip", "mono"),
            Show("Connectors up", "n_active_connectors", "num"),
            Show("Severity", "severity", "status"),
            Show("Why", "reason", "wide"),
        ),
        message=single_origin_message,
        advice=("run a replica on another host, network or site",),
        row_severity="severity",
        since="like this since",
        since_at=tunnel_since,
        action="run a replica on another host, network or site",
    ),
    Rule(
        id="single-colo",
        title="single-colo tunnels",
        severity="warn",
        description=(
            "Tunnels whose active connections all land in one Cloudflare colo site (one "
            "data centre, e.g. ord12): an incident there takes the whole tunnel down. "
            "cloudflared normally spreads its 4 connections over two edge regions, usually "
            "two or more sites of the metro nearest to the host."
        ),
        rows=_single_colo,
        show=(
            _TUNNEL,
            _HOST,
            Show("API status", "tunnel_status", "status"),
            Show("Connectors up", "n_active_connectors", "num"),
            Show("Active conns", "n_active", "num"),
            Show("Why", "reason", "wide"),
        ),
        message=_single_colo_message,
        advice=(_EGRESS, "cloudflared spreads over two regions when it can reach both"),
        since="like this since",
        since_at=tunnel_since,
        action=f"{_EGRESS}: cloudflared spreads over two regions when it reaches both",
    ),
    Rule(
        id="pair-ha",
        title="tunnels without a working WARP Connector pair",
        severity="high",
        description=(
            "WARP Connector (Cloudflare Mesh) tunnels run one active member and keep at least "
            "one passive member ready to take over. Listed: tunnels with no active member "
            "(down), more than one (multiple_active), or no passive one left (no_standby: a "
            "single member, or its partner offline after a failover)."
        ),
        rows=_pair_ha,
        show=(
            _TUNNEL,
            Show("Status", "status", "status"),
            Show("Members", "n_members", "num"),
            Show("Active", "n_active", "num"),
            Show("Passive", "n_passive", "num"),
            Show("Offline", "n_offline", "num"),
            Show("Why", "reason", "wide"),
        ),
        message=_pair_ha_message,
        since="like this since",
        since_at=tunnel_since,
        action="bring a second WARP Connector member up so that one stays active, one passive",
    ),
    Rule(
        id="config-drift",
        title="connectors behind their tunnel's configuration",
        severity="info",
        description=(
            "Connectors of remotely managed tunnels that run an older configuration version "
            "than another connector of the same tunnel: they have not applied the newest "
            "configuration yet (or cannot)."
        ),
        rows=_config,
        show=(
            _TUNNEL,
            _CONNECTOR,
            _HOST,
            Show("Version", "version", "mono"),
            Show("Config version", "config_version", "num"),
            Show("Tunnel's newest", "tunnel_config_version", "num"),
            Show("Started", "run_at"),
        ),
        message=_config_message,
        advice=("restart the connector so it applies the newest configuration",),
        since="connector up since",
        action="restart the connector so it applies the tunnel's newest configuration",
    ),
    Rule(
        id="orphan-dns",
        title="DNS records pointing at no tunnel",
        severity="warn",
        description=(
            "CNAME records to <tunnel-id>.cfargotunnel.com whose tunnel is deleted or not in "
            "the account: the hostname answers with an error (Cloudflare's 1033). Delete the "
            "record or point it at a live tunnel. Needs DNS Read and Zone Read."
        ),
        rows=orphan_dns_rows,
        show=(
            Show("Hostname", "hostname", "mono"),
            Show("Zone", "zone_name"),
            Show("Tunnel ID", "tunnel_id", "mono"),
            Show("Why", "reason", "wide"),
        ),
        message=orphan_dns_message,
        advice=("delete the DNS record or point it at a live tunnel",),
        unavailable="The DNS records were not read (tunnelframe fetch --routing).",
        since_at=undated,
        action="delete the DNS record or point it at a live tunnel",
    ),
    Rule(
        id="unrouted-tunnel",
        title="healthy tunnels serving nothing",
        severity="info",
        description=(
            "Healthy tunnels that publish no hostname and carry no private route: cleanup "
            "candidates (a locally managed tunnel may still serve hostnames whose DNS lives "
            "elsewhere)."
        ),
        rows=unrouted_rows,
        show=(
            _TUNNEL,
            Show("Managed", "config_src"),
            Show("Serves", "reason", "wide"),
        ),
        message=unrouted_message,
        advice=("delete the tunnel if it is no longer used",),
        unavailable="The routing was not read completely (tunnelframe fetch --routing).",
        since="like this since",
        action="delete the tunnel if it is no longer used",
    ),
    Rule(
        id="fetch-errors",
        title="tunnels that could not be fetched",
        severity="high",
        description=(
            "Tunnels whose connectors could not be read: the report (and any check) is "
            "incomplete for them."
        ),
        rows=_fetch_errors,
        show=(
            _TUNNEL,
            Show("Tunnel ID", "tunnel_id", "mono"),
            Show("HTTP", "status", "num"),
            Show("Codes", "codes", "mono"),
            Show("Message", "message", "wide"),
        ),
        message=_fetch_error_message,
        advice=("fetch again", "check the token's permissions if it persists"),
        unavailable="Only a snapshot records fetch errors; this source does not say.",
        since="fetch failed at",
        since_at=fetched_since,
        action="fetch again; if it persists, check the token's Cloudflare Tunnel Read access",
    ),
)

#: Columns of :func:`tunnelframe.findings`.
FINDINGS_COLUMNS = (
    "rule",
    "severity",
    "title",
    "account_id",
    "tunnel_id",
    "tunnel_name",
    "connector_id",
    "host",
    "message",
    "impact",
    "serves",
)


def rule_rows(analysis: Analysis, rules: Sequence[Rule] = RULES) -> list[tuple[Rule, Any]]:
    """Every rule with its rows (None when the rule cannot be evaluated on this source).

    Rows carry ``host`` (the connector's origin IPs and architecture; for a tunnel-level row,
    its connectors' hosts) and are sorted by tunnel name, tunnel id and connector id, never
    left in payload order. Computed once per analysis.
    """
    return [(rule, analysis.rows_of(rule)) for rule in rules]


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _sorted_with_host(a: Analysis, rows: pd.DataFrame) -> pd.DataFrame:
    hosts = a.hosts
    keys = list(zip(rows["account_id"].astype(str), rows["tunnel_id"].astype(str), strict=True))
    if "connector_id" in rows.columns:
        cids = [
            None if c is None or pd.isna(c) else str(c) for c in rows["connector_id"].astype(object)
        ]
    else:
        cids = [None] * len(rows)
    host = [
        hosts["connector"].get((*k, c)) if c is not None else hosts["tunnel"].get(k)
        for k, c in zip(keys, cids, strict=True)
    ]
    out = rows.assign(host=pd.array(host, dtype="string"))
    name = (
        out["tunnel_name"].astype(object).map(lambda v: "" if v is None or pd.isna(v) else str(v))
    )
    order = (
        pd.DataFrame(
            {
                "n": name.str.casefold(),
                "t": out["tunnel_id"].astype(str),
                "c": pd.Series([c or "" for c in cids], index=out.index),
            }
        )
        .sort_values(["n", "t", "c"], kind="stable")
        .index
    )
    return out.loc[order].reset_index(drop=True)


def findings_frame(analysis: Analysis, rules: Sequence[Rule]) -> pd.DataFrame:
    """One row per violation of ``rules``, in rule order, with a one-line message each."""
    records: list[dict[str, Any]] = []
    for rule, rows in rule_rows(analysis, rules):
        if rows is None:
            continue
        for row in rows.to_dict("records"):
            impact, serves = analysis.serving.of(row.get("tunnel_id"))
            message = rule.message(analysis, row)
            if impact and rule.id != "route-to-down":  # route-to-down names them already
                message += f"; it serves {serves}"
            records.append(
                {
                    "rule": rule.id,
                    "severity": rule.severity_of(row),
                    "title": rule.title,
                    **{k: _text(row.get(k)) for k in FINDINGS_COLUMNS[3:8]},
                    "message": one_line(message),
                    "impact": impact if serves is not None else None,
                    "serves": serves,
                }
            )
    frame = pd.DataFrame(records, columns=list(FINDINGS_COLUMNS))
    frame = frame.astype(
        {
            "rule": pd.CategoricalDtype([r.id for r in RULES]),
            "severity": pd.CategoricalDtype(["high", "warn", "info"]),
            **dict.fromkeys(FINDINGS_COLUMNS[2:9], "string"),
            "impact": "Int64",
            "serves": "string",
        }
    )
    # Ids and names are categories over pyarrow strings, as in every other frame, so a merge
    # with the connections frame keeps its dtype.
    for column in ("account_id", "tunnel_id", "tunnel_name", "connector_id"):
        frame[column] = frame[column].astype(pd.ArrowDtype(pa.string())).astype("category")
    return frame


def judge(
    data: FleetData,
    *,
    rules: Iterable[str] | None = None,
    max_releases_behind: int | None = None,
    expected_connections: int = 4,
    releases: Any = None,
) -> tuple[Analysis, list[Rule], pd.DataFrame]:
    """The one judging path of :func:`findings` and :func:`~tunnelframe.check_fleet`: the
    analysis of ``data``, the rules applied (in rule order) and their violations."""
    known = [r.id for r in RULES]
    wanted = known if rules is None else list(rules)
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise ValueError(
            f"unknown rule(s) {', '.join(map(repr, unknown))}: choose from {', '.join(known)}"
        )
    analysis = Analysis(
        data,
        max_releases_behind=max_releases_behind,
        expected_connections=expected_connections,
        releases=releases,
    )
    chosen = [r for r in RULES if r.id in wanted]
    analysis.calendar  # noqa: B018 -- its notes (a stale calendar) belong in every judgement
    return analysis, chosen, findings_frame(analysis, chosen)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


@renamed(kind="tun_type")
def findings(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    max_releases_behind: int | None = None,
    rules: Iterable[str] | None = None,
    expected_connections: int = 4,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    tun_type: str | None = None,
) -> pd.DataFrame:
    """One row per rule violation in a fleet: the report's findings as data.

    Rules (ids): ``unsupported`` (cloudflared released more than a year before the newest
    release), ``releases-behind`` (more than ``max_releases_behind`` releases behind; only
    when that is given), ``degraded`` (a connector with fewer than 4 active connections, or
    none, unless it is only lingering after a restart; a tunnel the API reports down with no
    connector), ``single-connector``, ``single-colo`` (every active connection in one colo),
    ``pair-ha`` (a WARP Connector tunnel without exactly one active and at least one passive
    member), ``config-drift`` (a connector behind its tunnel's remote configuration) and
    ``fetch-errors`` (a tunnel whose connectors could not be read). The cloudflared rules
    (``degraded``, ``single-connector``, ``single-colo``) leave WARP Connector tunnels to
    ``pair-ha``, and ``unsupported`` never flags a WARP Connector (its version is not
    cloudflared's). ``vulnerable``: a connector lacking security fixes a later release (up to
    the latest) carries, with the release that has them all; ``deprecated-platform``: a
    connector on a platform (``arch``) that stops getting releases, a warning before the
    cutoff and high after it.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`write_report`.
    as_of : datetime-like, optional
        As in :func:`write_report`.
    max_releases_behind : int, optional
        Turns on the ``releases-behind`` rule with this limit.
    rules : iterable of str, optional
        The rule ids to apply; default all.
    expected_connections : int, default 4
        The active connections a healthy connector holds (cloudflared opens 4).
    releases : DataFrame or path, optional
        The cloudflared release calendar (:func:`tunnelframe.load_releases`); default the
        newest of the bundled one and the one :func:`tunnelframe.refresh_releases` cached.
    tun_type : {"cfd_tunnel", "warp_connector"}, optional
        Only the tunnels of this type, as in :func:`write_report`.

    Returns
    -------
    pandas.DataFrame
        ``rule`` (category, rule order), ``severity`` (category: high, warn, info),
        ``title``, ``account_id``, ``tunnel_id``, ``tunnel_name``, ``connector_id`` (NA for a
        tunnel-level finding) and ``message`` (one line, as ``tunnelframe check`` prints it);
        strings are pandas ``string`` dtype. Empty when the fleet is clean.

    Raises
    ------
    ValueError
        An unknown rule id, or a negative ``max_releases_behind``.

    Warns
    -----
    StaleReleasesWarning
        When the release calendar in use ends more than 60 days before ``as_of``.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> found = tf.findings(fleet, as_of="2026-08-20")
    >>> list(found["rule"])
    ['unsupported', 'vulnerable', 'single-connector', 'single-colo']
    >>> print(found["message"][2])  # doctest: +NORMALIZE_WHITESPACE
    single-connector: tunnel "web" (t1): 1 connector up (no host redundancy);
    all 4 active connections in DFW
    """
    data = resolve(source, as_of=as_of, tun_type=tun_type)
    _, _, found = judge(
        data,
        rules=rules,
        max_releases_behind=max_releases_behind,
        expected_connections=expected_connections,
        releases=releases,
    )
    warn_if_stale(releases, data.as_of, stacklevel=3)
    return found


def calendar_notes(
    source: FleetSource,
    *,
    as_of: TimeLike | None = None,
    releases: pd.DataFrame | str | os.PathLike[str] | None = None,
    tun_type: str | None = None,
) -> list[str]:
    """What a report of ``source`` will say about its release calendar, as sentences.

    Empty when the calendar is current; else a note that it ends long before ``as_of``
    (with what to do about it) and/or that the fleet runs releases newer than it knows
    (the latest release is then taken from the fleet). The CLI prints these on stderr.

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "connectors": [{"id": "c1", "version": "2026.8.2",
    ...     "conns": [{"id": "x1", "colo_name": "DFW"}]}]}]}
    >>> calendar_notes(fleet, as_of="2026-08-20")
    []
    >>> print(calendar_notes(fleet, as_of="2027-01-01")[0][:78])
    The release calendar ends at 2026.8.2 (2026-08-14), 140 days before 2027-01-01
    """
    analysis = Analysis(resolve(source, as_of=as_of, tun_type=tun_type), releases=releases)
    return list(analysis.calendar.notes)
