"""Which tunnels to fix first: one entry per tunnel that breaks a rule, most urgent first.

Built from the rows of every rule (:meth:`~tunnelframe.engine.Analysis.rows_of`,
computed once and shared with the Findings section): a tunnel's row says what is wrong, since
when (for a down tunnel the time its last connection went, telling a long-dead tunnel, a
cleanup candidate, from a fresh incident), on which hosts (origin IPs and architecture) and
what to do. Rows are ranked by severity, then by impact (how many rules and rows the tunnel
breaks), then by name.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tunnelframe._text import plural
from tunnelframe.engine._findings import RULES, Analysis

__all__ = ["LONG_DEAD_DAYS", "SINCE", "fix_first_tunnels"]

#: A tunnel down for at least this many days is a cleanup candidate, not an incident.
LONG_DEAD_DAYS = 30

_STARTED = "the connector's start (run_at)"
_SET_UP = "the newest start (run_at) of its active connectors: its connectors have run as now since"
#: What the "Since" column means per rule: the earliest time the API lets us date the problem
#: from. The API keeps no history, so most are lower bounds of how long the state has held.
SINCE: dict[str, str] = {
    "unsupported": f"{_STARTED}: it has run this version since",
    "releases-behind": f"{_STARTED}: it has run this version since",
    "degraded": "the oldest opened_at of its connections pending reconnect, else "
    f"{_STARTED}; the API does not say when a connection dropped",
    "reconnecting": f"the oldest opened_at of its connections pending reconnect, else {_STARTED}",
    "down": "when its last connection went (conns_inactive_at)",
    "single-connector": _SET_UP,
    "single-colo": _SET_UP,
    "pair-ha": _SET_UP,
    "config-drift": f"{_STARTED}; it may have fallen behind later",
    "fetch-errors": "when the snapshot was fetched",
}

_RANK = {"high": 0, "warn": 1, "info": 2}


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _down_words(days: Any) -> str:
    if _missing(days):
        return "down (since an unknown time)"
    if days >= LONG_DEAD_DAYS:
        return f"down for {plural(round(days), 'day')}: long dead, a cleanup candidate"
    if days < 1:
        minutes = days * 24 * 60
        span = (
            plural(round(minutes), "minute") if minutes < 120 else plural(round(days * 24), "hour")
        )
        return f"down for {span}: a fresh incident"
    return f"down for {plural(round(days), 'day')}"


def _connector_times(a: Analysis) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    """(account, tunnel, connector) -> run_at; -> oldest opened_at pending reconnect;
    (account, tunnel) -> newest run_at of its connectors holding an active connection."""
    c = a.connections
    keys = ["account_id", "tunnel_id", "connector_id"]
    frame = pd.DataFrame(
        {k: c[k].astype(object).map(lambda v: None if _missing(v) else str(v)) for k in keys}
    ).assign(
        run_at=c["run_at"],
        opened_at=c["opened_at"],
        pending=c["is_pending_reconnect"].fillna(False).astype(bool),
    )
    frame = frame[frame["connector_id"].notna()]
    run = frame.groupby(keys)["run_at"].min().dropna().to_dict()
    pending = frame[frame["pending"]].groupby(keys)["opened_at"].min().dropna().to_dict()
    active = frame[~frame["pending"] & frame["opened_at"].notna()]
    newest = active.groupby(keys[:2])["run_at"].max().dropna().to_dict()
    return run, pending, newest


def _since(a: Analysis, rule_id: str, row: dict[Any, Any], times: tuple[Any, ...]) -> Any:
    """When ``row`` of rule ``rule_id`` began, as :data:`SINCE` says; None when unknown."""
    run, pending, newest = times
    tunnel = (str(row.get("account_id")), str(row.get("tunnel_id")))
    connector = (*tunnel, str(row.get("connector_id")))
    value: Any
    if rule_id == "down":
        value = row.get("conns_inactive_at")
    elif rule_id == "fetch-errors":
        value = a.data.as_of if a.data.fetched_at is None else a.data.fetched_at
    elif rule_id in ("degraded", "reconnecting"):
        value = pending.get(connector, run.get(connector))
    elif rule_id in ("single-connector", "single-colo", "pair-ha"):
        value = newest.get(tunnel)
    else:
        value = run.get(connector)
    return None if _missing(value) else pd.Timestamp(value)


def fix_first_tunnels(a: Analysis) -> list[dict[str, Any]]:
    """One entry per tunnel with a finding, most urgent first: by severity, then impact.

    Each entry holds the tunnel's ``name`` and ``tunnel_id``, ``rank`` (0 high, 1 warn,
    2 info), the ``rules`` it breaks (ids, rule order), ``n_rows``, ``hosts``, ``advice``
    (each action once), ``since`` (its most severe finding's oldest row, as :data:`SINCE`
    says; None when unknown) and ``what`` (one phrase per rule).

    Examples
    --------
    >>> from tunnelframe.engine import Analysis, resolve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> [(t["name"], t["rules"]) for t in fix_first_tunnels(Analysis(resolve(fleet)))]
    [('web', ['unsupported', 'single-connector', 'single-colo'])]
    """
    times = _connector_times(a)
    tunnels: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in RULES:
        found = a.rows_of(rule)
        if found is None or found.empty:
            continue
        for row in found.to_dict("records"):
            key = (str(row.get("account_id")), str(row.get("tunnel_id")))
            t = tunnels.setdefault(
                key,
                {
                    "name": row.get("tunnel_name"),
                    "tunnel_id": row.get("tunnel_id"),
                    "rank": 9,
                    "rules": [],
                    "n_rows": 0,
                    "hosts": [],
                    "advice": [],
                    "since": None,
                    "since_rank": 9,
                    "what": [],
                },
            )
            t["rank"] = min(t["rank"], _RANK[rule.severity])
            # the row dates its most severe finding, from the oldest of that finding's rows
            since = _since(a, rule.id, row, times)
            if since is not None and (
                _RANK[rule.severity] < t["since_rank"]
                or (_RANK[rule.severity] == t["since_rank"] and since < t["since"])
            ):
                t["since"], t["since_rank"] = since, _RANK[rule.severity]
            t["n_rows"] += 1
            if rule.id not in t["rules"]:
                t["rules"].append(rule.id)
                what = rule.title
                if rule.id == "down":
                    inactive: Any = row.get("conns_inactive_at")
                    days = (
                        None
                        if _missing(inactive)
                        else (a.data.as_of - pd.Timestamp(inactive)).total_seconds() / 86400
                    )
                    what = _down_words(days)
                t["what"].append(what)
                # each action once per row, however many rules ask for it
                given = {one.casefold() for one in t["advice"]}
                t["advice"].extend(x for x in rule.advice if x.casefold() not in given)
            for host in str(row.get("host") or "").split(", "):
                if host and host not in t["hosts"]:
                    t["hosts"].append(host)
    ranked = sorted(
        tunnels.values(),
        key=lambda t: (t["rank"], -len(t["rules"]), -t["n_rows"], _sort_name(t["name"])),
    )
    return ranked


def _sort_name(name: Any) -> str:
    return ("(unnamed)" if _missing(name) or str(name) == "" else str(name)).casefold()
