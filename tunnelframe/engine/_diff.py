"""What changed between two snapshots of a fleet: one row per change, no history store needed.

:func:`diff_frames` compares two :class:`~tunnelframe.engine._source.FleetData` tunnel by
tunnel: connectors added, removed or restarted (a new connector id on the same host: same
origin IPs and architecture), cloudflared upgraded or downgraded, colo sites and metros gained
or lost (by active connections), and changes of the tunnel's API status and HA status. The
rows are sorted by tunnel and change; each carries a one-line message. Nothing here fetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from tunnelframe._text import one_line
from tunnelframe._types import FleetSource
from tunnelframe.colos import colo_metro
from tunnelframe.engine._source import FleetData, resolve, tunnel_ha
from tunnelframe.frames import connection_flags
from tunnelframe.versions import parse_version

__all__ = [
    "CHANGES",
    "DIFF_COLUMNS",
    "DIFF_SCHEMA",
    "diff_counts",
    "diff_document",
    "diff_frames",
    "diff_snapshots",
]

#: The name and version of the JSON document :func:`diff_document` returns (``tunnelframe
#: diff --format json``). The version goes up when a key changes meaning or goes away.
DIFF_SCHEMA = ("tunnelframe.diff", 1)

#: The kinds of change, in the order rows of one tunnel are listed.
CHANGES = (
    "tunnel-added",
    "tunnel-removed",
    "tunnel-status",
    "unreadable",
    "ha-status",
    "connector-added",
    "connector-removed",
    "connector-restarted",
    "upgraded",
    "downgraded",
    "metro-gained",
    "metro-lost",
    "site-gained",
    "site-lost",
)

#: Columns of :func:`tunnelframe.diff_snapshots`.
DIFF_COLUMNS = (
    "change",
    "account_id",
    "tunnel_id",
    "tunnel_name",
    "connector_id",
    "host",
    "before",
    "after",
    "message",
)


def _str(value: Any) -> str | None:
    return None if value is None or value is pd.NA or pd.isna(value) else str(value)


def _host(row: dict[str, Any]) -> str:
    ips = _str(row.get("origin_ips")) or "unknown IP"
    arch = _str(row.get("arch"))
    return f"{ips} ({arch})" if arch else ips


def _sites(data: FleetData) -> dict[tuple[str, str], set[str]]:
    conns = data.connections
    active, _ = connection_flags(conns)
    live = conns[active & conns["colo_name"].notna()]
    out: dict[tuple[str, str], set[str]] = {}
    for account, tunnel, colo in zip(
        live["account_id"].astype(str),
        live["tunnel_id"].astype(str),
        live["colo_name"].astype(str),
        strict=True,
    ):
        out.setdefault((account, tunnel), set()).add(colo)
    return out


def _by_tunnel(frame: pd.DataFrame) -> dict[tuple[str, str], list[dict[Any, Any]]]:
    out: dict[tuple[str, str], list[dict[Any, Any]]] = {}
    for row in frame.to_dict("records"):
        out.setdefault((str(row["account_id"]), str(row["tunnel_id"])), []).append(row)
    return out


def _tunnel_rows(frame: pd.DataFrame) -> dict[tuple[str, str], dict[Any, Any]]:
    return {(str(r["account_id"]), str(r["tunnel_id"])): r for r in frame.to_dict("records")}


def diff_frames(old: FleetData, new: FleetData) -> pd.DataFrame:
    """One row per change from ``old`` to ``new`` (see :func:`tunnelframe.diff_snapshots`).

    Examples
    --------
    >>> from tunnelframe.engine import resolve
    >>> def fleet(version):
    ...     return {"tunnels": [{"id": "t1", "name": "web", "connectors": [
    ...         {"id": "c1", "version": version, "conns": [{"id": "x1", "colo_name": "DFW"}]}]}]}
    >>> list(diff_frames(resolve(fleet("2026.7.0")), resolve(fleet("2026.8.2")))["change"])
    ['upgraded']
    """
    rows: list[dict[str, Any]] = []
    old_t, new_t = _tunnel_rows(old.tunnels), _tunnel_rows(new.tunnels)
    old_ha = _tunnel_rows(tunnel_ha(old.connections))
    new_ha = _tunnel_rows(tunnel_ha(new.connections))
    old_c, new_c = _by_tunnel(old.connectors), _by_tunnel(new.connectors)
    old_s, new_s = _sites(old), _sites(new)
    old_failed, new_failed = _failed(old), _failed(new)

    def add(change: str, key: tuple[str, str], name: Any, message: str, **kw: Any) -> None:
        label = _str(name) or "(unnamed)"
        rows.append(
            {
                "change": change,
                "account_id": key[0],
                "tunnel_id": key[1],
                "tunnel_name": _str(name),
                "connector_id": kw.get("connector_id"),
                "host": kw.get("host"),
                "before": kw.get("before"),
                "after": kw.get("after"),
                "message": one_line(f'{change}: tunnel "{label}" ({key[1]}): {message}'),
            }
        )

    for key in sorted(set(old_t) | set(new_t) | set(old_c) | set(new_c)):
        before, after = old_t.get(key), new_t.get(key)
        name = (after or before or {}).get("tunnel_name")
        if name is None:
            first = (new_c.get(key) or old_c.get(key) or [{}])[0]
            name = first.get("tunnel_name")
        if before is None and after is not None:
            add("tunnel-added", key, name, "new tunnel", after=_str(after.get("tunnel_status")))
        elif after is None and before is not None:
            add(
                "tunnel-removed",
                key,
                name,
                "no longer listed (deleted?)",
                before=_str(before.get("tunnel_status")),
            )
        elif before is not None and after is not None:
            b, a = _str(before.get("tunnel_status")), _str(after.get("tunnel_status"))
            if b != a:
                add("tunnel-status", key, name, f"API status {b} -> {a}", before=b, after=a)
        if key in old_failed and key in new_failed:
            continue  # unread in both: nothing is known to have changed
        if key in old_failed or key in new_failed:
            # A failed read is "could not be read", never "gone": no connector, site or HA
            # change can be told for this tunnel.
            which, why = (
                ("newer", new_failed[key]) if key in new_failed else ("older", old_failed[key])
            )
            add(
                "unreadable",
                key,
                name,
                f"its connectors could not be read in the {which} snapshot ({why}): connector, "
                "site and HA changes unknown",
                before="unreadable" if key in old_failed else "read",
                after="unreadable" if key in new_failed else "read",
            )
            continue
        hb, ha = old_ha.get(key), new_ha.get(key)
        if hb is not None and ha is not None and _str(hb["status"]) != _str(ha["status"]):
            add(
                "ha-status",
                key,
                name,
                f"HA {_str(hb['status'])} -> {_str(ha['status'])} ({_str(ha['reason'])})",
                before=_str(hb["status"]),
                after=_str(ha["status"]),
            )
        _connector_changes(key, name, old_c.get(key, []), new_c.get(key, []), add)
        _site_changes(key, name, old_s.get(key, set()), new_s.get(key, set()), add)

    frame = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    order = {c: i for i, c in enumerate(CHANGES)}
    if len(frame):
        frame["_tunnel"] = frame["tunnel_name"].fillna("").str.casefold()
        frame["_order"] = frame["change"].map(order)
        frame = frame.sort_values(
            ["_tunnel", "tunnel_id", "_order", "connector_id", "after", "before"],
            kind="stable",
            na_position="first",
        ).drop(columns=["_tunnel", "_order"])
    frame = frame.reset_index(drop=True)
    return frame.astype(
        {"change": pd.CategoricalDtype(list(CHANGES)), **dict.fromkeys(DIFF_COLUMNS[1:], "string")}
    )


def _version_change(
    key: tuple[str, str], name: Any, cid: str, host: str, b: str | None, a: str | None, add: Any
) -> None:
    if b == a or b is None or a is None:
        return
    pb, pa = parse_version(b), parse_version(a)
    if not (pb.is_known and pa.is_known) or pb == pa:
        return
    change = "upgraded" if pa > pb else "downgraded"
    add(
        change,
        key,
        name,
        f"connector {cid} on {host}: {b} -> {a}",
        connector_id=cid,
        host=host,
        before=b,
        after=a,
    )


def _connector_changes(
    key: tuple[str, str],
    name: Any,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    add: Any,
) -> None:
    old = {str(r["connector_id"]): r for r in before}
    new = {str(r["connector_id"]): r for r in after}
    for cid in sorted(set(old) & set(new)):
        host = _host(new[cid])
        _version_change(
            key, name, cid, host, _str(old[cid]["version"]), _str(new[cid]["version"]), add
        )
    gone = [old[c] for c in sorted(set(old) - set(new))]
    came = [new[c] for c in sorted(set(new) - set(old))]
    # A new connector id on a host that just lost one is that host's cloudflared restarting.
    for row in list(came):
        host = _host(row)
        match = next((g for g in gone if _host(g) == host and host != "unknown IP"), None)
        if match is None:
            continue
        gone.remove(match)
        came.remove(row)
        cid, was = str(row["connector_id"]), str(match["connector_id"])
        add(
            "connector-restarted",
            key,
            name,
            f"connector {was} -> {cid} on {host}",
            connector_id=cid,
            host=host,
            before=was,
            after=cid,
        )
        _version_change(key, name, cid, host, _str(match["version"]), _str(row["version"]), add)
    for row in came:
        cid, host = str(row["connector_id"]), _host(row)
        add(
            "connector-added",
            key,
            name,
            f"connector {cid} on {host} (cloudflared {_str(row['version'])})",
            connector_id=cid,
            host=host,
            after=_str(row["version"]),
        )
    for row in gone:
        cid, host = str(row["connector_id"]), _host(row)
        add(
            "connector-removed",
            key,
            name,
            f"connector {cid} on {host} (cloudflared {_str(row['version'])})",
            connector_id=cid,
            host=host,
            before=_str(row["version"]),
        )


def _site_changes(
    key: tuple[str, str], name: Any, before: set[str], after: set[str], add: Any
) -> None:
    def metros(sites: Iterable[str]) -> set[str]:
        return {colo_metro(s) for s in sites}

    for metro in sorted(metros(after) - metros(before)):
        add("metro-gained", key, name, f"active connections now reach {metro}", after=metro)
    for metro in sorted(metros(before) - metros(after)):
        add("metro-lost", key, name, f"no active connection in {metro} any more", before=metro)
    # Sites only where they say more than the metro (ord12, not ORD).
    for site in sorted(after - before):
        if site != colo_metro(site):
            add("site-gained", key, name, f"active connections now reach {site}", after=site)
    for site in sorted(before - after):
        if site != colo_metro(site):
            add("site-lost", key, name, f"no active connection in {site} any more", before=site)


def _failed(data: FleetData) -> dict[tuple[str, str], str]:
    """The tunnels whose connectors could not be read (fetch errors), with a short reason."""
    errors = data.errors
    if errors is None or errors.empty:
        return {}
    out: dict[tuple[str, str], str] = {}
    for row in errors.to_dict("records"):
        status = row.get("status")
        reason = "no response" if status is None or pd.isna(status) else f"HTTP {int(status)}"
        out[(str(row["account_id"]), str(row["tunnel_id"]))] = reason
    return out


def diff_snapshots(old: FleetSource, new: FleetSource) -> pd.DataFrame:
    """What changed from one snapshot of a fleet to a later one: one row per change.

    Changes (``change``, in this order within a tunnel): ``tunnel-added``,
    ``tunnel-removed``, ``tunnel-status`` (the API's status), ``unreadable`` (the tunnel's
    ``/connections`` failed in one of the snapshots, as recorded in its errors: a failed read is
    never taken for connectors gone, so no connector, site or HA change is reported for it;
    ``before``/``after`` say ``read`` or ``unreadable``), ``ha-status`` (ok, degraded,
    single connector or colo, down: :func:`tunnelframe.ha_report`), ``connector-added``,
    ``connector-removed``, ``connector-restarted`` (a new connector id on the same host:
    same origin IPs and architecture), ``upgraded`` / ``downgraded`` (cloudflared, ``before``
    -> ``after``), ``metro-gained`` / ``metro-lost`` and ``site-gained`` / ``site-lost``
    (colos holding active connections; a site such as ``ord12`` belongs to the metro ``ORD``,
    and sites are listed only where they say more than the metro). No history store needed.

    Parameters
    ----------
    old, new : Snapshot, str, PathLike, dict or pandas.DataFrame
        The two fleets, as in :func:`write_report`.

    Returns
    -------
    pandas.DataFrame
        ``change`` (category, the order above), ``account_id``, ``tunnel_id``,
        ``tunnel_name``, ``connector_id``, ``host`` (origin IPs and architecture),
        ``before``, ``after`` and ``message`` (one line), strings as pandas ``string``;
        sorted by tunnel name, tunnel id and change. Empty when nothing changed.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> def fleet(cid, version, colos):
    ...     conns = [{"id": f"{cid}{i}", "colo_name": c, "origin_ip": "192.0.2.1"}
    ...              for i, c in enumerate(colos)]
    ...     return {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web",
    ...         "status": "healthy", "connectors": [{"id": cid, "version": version,
    ...         "arch": "linux_amd64", "conns": conns}]}]}
    >>> old = fleet("c1", "2026.7.0", ["dfw01", "dfw02", "lax01", "lax01"])
    >>> new = fleet("c2", "2026.8.2", ["dfw01", "dfw01", "ord12", "ord12"])
    >>> for message in tf.diff_snapshots(old, new)["message"]:
    ...     print(message)
    connector-restarted: tunnel "web" (t1): connector c1 -> c2 on 192.0.2.1 (linux_amd64)
    upgraded: tunnel "web" (t1): connector c2 on 192.0.2.1 (linux_amd64): 2026.7.0 -> 2026.8.2
    metro-gained: tunnel "web" (t1): active connections now reach ORD
    metro-lost: tunnel "web" (t1): no active connection in LAX any more
    site-gained: tunnel "web" (t1): active connections now reach ord12
    site-lost: tunnel "web" (t1): no active connection in dfw02 any more
    site-lost: tunnel "web" (t1): no active connection in lax01 any more
    """
    return diff_frames(resolve(old), resolve(new))


def diff_counts(changes: pd.DataFrame) -> dict[str, int]:
    """How many changes of each kind ``changes`` (:func:`diff_snapshots`) holds, in
    :data:`CHANGES` order, kinds that did not occur left out.

    Examples
    --------
    >>> import pandas as pd
    >>> diff_counts(pd.DataFrame({"change": ["upgraded", "tunnel-added", "upgraded"]}))
    {'tunnel-added': 1, 'upgraded': 2}
    """
    counts = changes["change"].astype(str).value_counts()
    return {kind: int(counts[kind]) for kind in CHANGES if kind in counts.index}


def _snapshot_meta(data: FleetData) -> dict[str, Any]:
    def iso(value: pd.Timestamp | None) -> str | None:
        return None if value is None else value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")

    tunnels = data.tunnels
    return {
        "source": data.origin,
        "fetched_at": iso(data.fetched_at),
        "account_ids": list(data.account_ids),
        "tunnels": int(tunnels["deleted_at"].isna().sum()),
        "connectors": len(data.connectors),
    }


def diff_document(old: FleetSource, new: FleetSource) -> dict[str, Any]:
    """What changed between two snapshots as the stable JSON document ``tunnelframe diff
    --format json`` prints.

    Keys: ``schema`` ("tunnelframe.diff"), ``schema_version`` (1), ``old`` and ``new`` (each
    ``source``, ``fetched_at`` (ISO 8601 UTC, null when unknown), ``account_ids``,
    ``tunnels`` (not deleted) and ``connectors``), ``counts`` (``changes``, the total, and
    one count per kind of change that occurred, :data:`CHANGES`) and ``changes`` (objects
    with the :data:`DIFF_COLUMNS` keys, null where a value does not apply).

    Examples
    --------
    >>> fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web"}]}
    >>> doc = diff_document(fleet, {"tunnels": []})
    >>> doc["schema"], doc["counts"], doc["changes"][0]["change"]
    ('tunnelframe.diff', {'changes': 1, 'tunnel-removed': 1}, 'tunnel-removed')
    """
    before, after = resolve(old), resolve(new)
    changes = diff_frames(before, after)
    records = [
        {k: (None if v is None or pd.isna(v) else str(v)) for k, v in row.items()}
        for row in changes.to_dict("records")
    ]
    return {
        "schema": DIFF_SCHEMA[0],
        "schema_version": DIFF_SCHEMA[1],
        "old": _snapshot_meta(before),
        "new": _snapshot_meta(after),
        "counts": {"changes": len(changes), **diff_counts(changes)},
        "changes": records,
    }
