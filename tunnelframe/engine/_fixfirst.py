"""Which tunnels to fix first: one row per tunnel breaking a rule, one ranking, one action.

:func:`fix_first_tunnels` turns the rows of every rule (computed once, shared with the Findings
section and ``check``) into one row per tunnel: its worst problem, since when (named for what
the time dates), its hosts and the one thing to do about it, worded for its situation. The
order is one function, :func:`urgency`, over the frame's columns; within each group below, a
tunnel serving more (``served``: its published hostnames and private routes, when the routing
was read) comes first, so a down shop outranks a down test tunnel:

1. whole-tunnel outages (no active connection) down for less than :data:`LONG_DEAD_DAYS`,
   the ones that lost most connectors first, then the most recent;
2. the other tunnels by severity (high, warning, info), then by impact (``impact``: the rule
   rows the tunnel breaks), then by name;
3. cleanup candidates: tunnels down for :data:`LONG_DEAD_DAYS` or more, most recent first.

The report shows the head of this order and details every tunnel it lists
(:func:`detailed_tunnels`).
This module decides nothing about layout and never fetches.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import pandas as pd

from tunnelframe._text import plural
from tunnelframe.engine._findings import (
    FINDINGS_COLUMNS,
    RULES,
    Analysis,
    Rule,
    findings_frame,
    rule_rows,
)

__all__ = [
    "ACTED_COLUMNS",
    "FIX_COLUMNS",
    "LONG_DEAD_DAYS",
    "MAX_DETAILED_TUNNELS",
    "acted_findings",
    "detailed_tunnels",
    "fix_first_tunnels",
    "urgency",
]

#: A tunnel down for at least this many days is a cleanup candidate, not an incident.
LONG_DEAD_DAYS = 30
#: A larger fleet has the head of the fix-first order detailed; the rest are one row each.
MAX_DETAILED_TUNNELS = 150

#: Columns of :func:`fix_first_tunnels`, in order.
FIX_COLUMNS = (
    "account_id",
    "tunnel_id",
    "tunnel_name",
    "severity",
    "outage",
    "rule",
    "rules",
    "what",
    "since_at",
    "since",
    "hosts",
    "action",
    "connectors_lost",
    "down_days",
    "impact",
    "served",
    "serves",
)

_SEVERITY = {"high": 0, "warn": 1, "info": 2}
#: Which of a tunnel's problems is its worst, when several are equally severe: the one that
#: takes most away now.
_WORST = (
    "down",
    "route-to-down",
    "fetch-errors",
    "pair-ha",
    "degraded",
    "unsupported",
    "vulnerable",
    "deprecated-platform",
    "reconnecting",
    "single-connector",
    "single-origin",
    "single-colo",
    "orphan-dns",
    "releases-behind",
    "config-drift",
    "unrouted-tunnel",
)
_EGRESS = "check the hosts' egress to the edge (outbound 7844, QUIC or HTTP/2)"


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _span(days: float) -> str:
    if days < 1:
        minutes = days * 24 * 60
        return (
            plural(round(minutes), "minute") if minutes < 120 else plural(round(days * 24), "hour")
        )
    return plural(round(days), "day")


def _outage(days: Any, lost: int) -> tuple[str, str, str]:
    """(outage kind, what is wrong, what to do) for a tunnel with no active connection."""
    unknown = _missing(days)
    if not unknown and days >= LONG_DEAD_DAYS:
        return (
            "cleanup",
            f"down for {_span(days)}: a cleanup candidate",
            "delete the tunnel if nothing uses it any more; else restart cloudflared on its hosts",
        )
    down = "down (since an unknown time)" if unknown else f"down for {_span(days)}"
    if lost == 0:
        return (
            "live",
            f"{down}: no connector is running",
            "start cloudflared for this tunnel on its host: no connector is listed",
        )
    return (
        "live",
        f"{down}: {plural(lost, 'connector')} without a connection",
        f"restart cloudflared on its hosts; {_EGRESS}",
    )


def _down(a: Analysis, row: dict[Any, Any]) -> tuple[int, float | None]:
    """(connectors lost, days down or None when unknown) of a ``down`` rule row."""
    inactive: Any = row.get("conns_inactive_at")
    days = (
        None
        if _missing(inactive)
        else (a.data.as_of - pd.Timestamp(inactive)).total_seconds() / 86400
    )
    return int(row.get("n_connectors") or 0), days


def _since(a: Analysis, rule: Rule, row: dict[Any, Any]) -> tuple[pd.Timestamp | None, str]:
    """When ``row`` of ``rule`` began (None when unknown), and what that time is: the rule's
    ``since_at`` and ``since``."""
    value, said = rule.since_at(a, row)
    return (None if _missing(value) else pd.Timestamp(value)), said or rule.since


_CACHE: weakref.WeakKeyDictionary[Analysis, pd.DataFrame] = weakref.WeakKeyDictionary()


def _tunnel_key(rule: Rule, row: dict[Any, Any]) -> tuple[str, str]:
    """Whose problem a rule row is: its tunnel, or for ``orphan-dns`` (no tunnel of the fleet)
    the DNS record itself."""
    if rule.id == "orphan-dns":
        return ("dns", str(row.get("hostname")))
    return (str(row.get("account_id")), str(row.get("tunnel_id")))


def _action(rule: Rule, down: tuple[int, float | None] | None) -> str:
    """The one thing to do about ``rule``; a down tunnel's (``down``: connectors lost, days
    down) is worded for how long it has been down."""
    if rule.id == "down" and down is not None:
        lost, days = down
        return _outage(days, lost)[2]
    return rule.action or "; ".join(rule.advice)


def fix_first_tunnels(a: Analysis) -> pd.DataFrame:
    """One row per tunnel breaking a rule, in fix-first order (:func:`urgency`); cached.

    ``rule`` is the tunnel's worst problem and ``what`` lists every problem, worst first;
    ``since_at`` dates the worst problem and ``since`` says what that time is ("down since");
    ``action`` is the one thing to do about the worst problem; ``outage`` is ``live`` (no
    active connection for less than :data:`LONG_DEAD_DAYS`), ``cleanup`` or NA;
    ``impact`` counts the rule rows the tunnel breaks; ``served`` counts the hostnames and
    private routes it serves (0 when the routing was not read) and ``serves`` names them.

    Examples
    --------
    >>> from tunnelframe.engine import Analysis, resolve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> fix = fix_first_tunnels(Analysis(resolve(fleet)))
    >>> fix.loc[0, "rules"]
    ['unsupported', 'vulnerable', 'single-connector', 'single-colo']
    >>> fix.loc[0, "action"]
    'upgrade cloudflared on these hosts: this version is out of support'
    """
    if a in _CACHE:
        return _CACHE[a]
    order = {rid: i for i, rid in enumerate(_WORST)}
    tunnels: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in RULES:
        found = a.rows_of(rule)
        if found is None or found.empty:
            continue
        for row in found.to_dict("records"):
            severity = rule.severity_of(row)
            key = _tunnel_key(rule, row)
            name = row.get("tunnel_name")
            if key[0] == "dns":  # no tunnel of the fleet: the record is the thing
                name = f"DNS {row.get('hostname')}"
            t = tunnels.setdefault(
                key,
                {
                    "account_id": key[0],
                    "tunnel_id": key[1],
                    "tunnel_name": name,
                    "found": {},
                    "hosts": [],
                    "impact": 0,
                    "down": None,
                },
            )
            mine = t["found"].setdefault(
                rule.id,
                {
                    "rule": rule,
                    "since": None,
                    "said": rule.since,
                    "severity": severity,
                },
            )
            # the tunnel's problem is as severe as its worst row (a platform past its cutoff
            # is high, a lone connector on one origin IP only information)
            if _SEVERITY[severity] < _SEVERITY[mine["severity"]]:
                mine["severity"] = severity
            since, said = _since(a, rule, row)
            if since is not None and (mine["since"] is None or since < mine["since"]):
                mine["since"], mine["said"] = since, said
            t["impact"] += 1
            if rule.id == "down":
                t["down"] = row
            for host in str(row.get("host") or "").split(", "):
                if host and host not in t["hosts"]:
                    t["hosts"].append(host)
    records = []
    for t in tunnels.values():
        problems: list[dict[str, Any]] = sorted(
            t["found"].values(),
            key=lambda f: (_SEVERITY[f["severity"]], order.get(f["rule"].id, 99)),
        )
        worst = problems[0]["rule"]
        hosts = ", ".join(t["hosts"])
        whats = [f["rule"].title for f in problems]
        outage, lost, days = None, 0, None
        if t["down"] is not None:
            lost, days = _down(a, t["down"])
            outage, said, action = _outage(days, lost)
            ids = [f["rule"].id for f in problems]
            whats[ids.index("down")] = said
            if "degraded" in ids:  # its connectors are down: the same outage, said once
                del whats[ids.index("degraded")]
        else:
            action = _action(worst, None)
        served, serves = (0, None) if t["account_id"] == "dns" else a.serving.of(t["tunnel_id"])
        records.append(
            {
                "account_id": t["account_id"],
                "tunnel_id": t["tunnel_id"],
                "tunnel_name": t["tunnel_name"],
                "severity": problems[0]["severity"],
                "outage": outage,
                "rule": worst.id,
                "rules": [f["rule"].id for f in problems],
                "what": "; ".join(whats),
                "since_at": problems[0]["since"],
                "since": problems[0]["said"],
                "hosts": hosts,
                "action": action,
                "connectors_lost": lost,
                "down_days": days,
                "impact": t["impact"],
                "served": served,
                "serves": serves,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(FIX_COLUMNS))
    frame["since_at"] = pd.to_datetime(frame["since_at"], utc=True)
    frame["down_days"] = pd.to_numeric(frame["down_days"]).astype("float64")
    frame = frame.iloc[urgency(frame)].reset_index(drop=True)
    _CACHE[a] = frame
    return frame


#: Columns of :func:`acted_findings`: the findings' columns, then what a person acts on.
ACTED_COLUMNS = (*FINDINGS_COLUMNS, "since_at", "since", "action", "fix_first")


def acted_findings(a: Analysis, rules: Sequence[Rule] = RULES) -> pd.DataFrame:
    """The findings (one row per rule violation, as ``check`` gives them), each with since when
    and what to do, in fix-first order.

    ``since_at`` dates the row's problem and ``since`` says what that time is ("down since"),
    as the fix-first list does for a tunnel's worst problem; ``action`` is the one thing to do
    about the row's rule, worded for its situation (a fresh outage is not told to delete the
    tunnel); ``fix_first`` is the tunnel's place in :func:`fix_first_tunnels` (1 first). Rows
    come in that order, then by severity, the tunnel's worst problem first.

    Examples
    --------
    >>> from tunnelframe.engine import Analysis, resolve
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...     "status": "healthy", "connectors": [{"id": "c1", "version": "2024.1.0", "conns": [
    ...         {"id": f"x{i}", "colo_name": "DFW"} for i in range(4)]}]}]}
    >>> acted = acted_findings(Analysis(resolve(fleet, as_of="2026-08-20")))
    >>> acted.loc[0, ["rule", "since", "action"]].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['unsupported', 'on this version since',
     'upgrade cloudflared on these hosts: this version is out of support']
    """
    found = findings_frame(a, rules)
    fix = fix_first_tunnels(a)
    ranks = {
        (str(acc), str(tid)): i
        for i, (acc, tid) in enumerate(zip(fix["account_id"], fix["tunnel_id"], strict=True))
    }
    since_at: list[pd.Timestamp | None] = []
    since: list[str] = []
    action: list[str] = []
    place: list[int | None] = []
    # the same rule rows, in the same order, as findings_frame made its rows from
    for rule, rows in rule_rows(a, rules):
        if rows is None:
            continue
        for row in rows.to_dict("records"):
            at, said = _since(a, rule, row)
            since_at.append(at)
            since.append(said)
            action.append(_action(rule, _down(a, row) if rule.id == "down" else None))
            rank = ranks.get(_tunnel_key(rule, row))
            place.append(None if rank is None else rank + 1)
    out = found.assign(
        since_at=pd.to_datetime(pd.Series(since_at, index=found.index, dtype=object), utc=True),
        since=pd.array(since, dtype="string"),
        action=pd.array(action, dtype="string"),
        fix_first=pd.array(place, dtype="Int64"),
    )
    # within a tunnel, its worst problem first, as fix_first_tunnels picks it
    worst = {rid: i for i, rid in enumerate(_WORST)}
    order = out.assign(
        _severity=out["severity"].cat.codes,
        _rule=out["rule"].astype(str).map(lambda r: worst.get(r, len(worst))),
    ).sort_values(["fix_first", "_severity", "_rule"], kind="stable", na_position="last")
    return out.loc[order.index].reset_index(drop=True)


def urgency(frame: pd.DataFrame) -> list[int]:
    """The fix-first order of ``frame``'s rows (:func:`fix_first_tunnels` columns): positions, most
    urgent first. The one place the order is decided; see the module's docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"outage": [None, "cleanup", "live"],
    ...     "severity": ["warn", "high", "high"], "connectors_lost": [0, 2, 2],
    ...     "down_days": [None, 90.0, 0.1], "impact": [1, 1, 1],
    ...     "tunnel_name": ["a", "b", "c"], "tunnel_id": ["1", "2", "3"]})
    >>> urgency(frame)
    [2, 0, 1]
    """
    outage = frame["outage"].astype(object)
    group = [
        0 if o == "live" else 4 if o == "cleanup" else 1 + _SEVERITY[str(s)]
        for o, s in zip(outage, frame["severity"], strict=True)
    ]
    # the most recent outage first: a larger down_days is older (unknown: oldest)
    recency = frame["down_days"].astype("float64").fillna(float("inf"))
    names = frame["tunnel_name"].astype(object).map(lambda v: "" if _missing(v) else str(v))
    keys = pd.DataFrame(
        {
            "group": group,
            "lost": -frame["connectors_lost"].astype("int64"),
            "recency": recency,
            "impact": -frame["impact"].astype("int64"),
            # what the tunnel serves (hostnames and routes; 0 when not read) before all else
            # within a group: a down shop outranks a down test tunnel
            "served": -(frame["served"] if "served" in frame else pd.Series(0, frame.index))
            .fillna(0)
            .astype("int64"),
            "name": names.str.casefold(),
            "id": frame["tunnel_id"].astype(str),
        }
    )
    # Outages rank by what they lost, then recency; the others by impact (lost and recency
    # are equal there: 0 and unknown).
    ordered = keys.sort_values(
        ["group", "served", "lost", "recency", "impact", "name", "id"], kind="stable"
    ).index
    return [int(i) for i in ordered]


def detailed_tunnels(a: Analysis) -> set[str]:
    """Ids of the tunnels the report details (and links to): every live tunnel of a fleet of
    at most :data:`MAX_DETAILED_TUNNELS`, else the head of the fix-first order (and, when it
    is shorter, the first healthy tunnels by name).

    Examples
    --------
    >>> from tunnelframe.engine import Analysis, resolve
    >>> detailed_tunnels(Analysis(resolve({"tunnels": [{"id": "t1", "account_tag": "a"}]})))
    {'t1'}
    """
    live = a.live_tunnels
    ids = live["tunnel_id"].astype(str)
    if len(ids) <= MAX_DETAILED_TUNNELS:
        return set(ids)
    head = fix_first_tunnels(a)["tunnel_id"].astype(str).tolist()[:MAX_DETAILED_TUNNELS]
    chosen = set(head)
    if len(chosen) < MAX_DETAILED_TUNNELS:
        names = live["tunnel_name"].astype(object).map(lambda v: "" if _missing(v) else str(v))
        for _, tid in sorted(zip(names.str.casefold(), ids, strict=True)):
            if len(chosen) >= MAX_DETAILED_TUNNELS:
                break
            chosen.add(tid)
    return chosen
