"""Security fixes in cloudflared's releases: reading them from release notes, loading the table.

cloudflared's ``RELEASE_NOTES`` lists each release's changes, one line each
(``- 2026-07-22 VULN-143514: Windows svc: use --token-file instead of --token``); ``CHANGES.md``
has a ``### Security Fixes`` heading for a few releases. :func:`parse_release_notes` and
:func:`parse_changes` judge which lines are security fixes (the rules are in
``docs/guide/versions.md`` and on :func:`parse_release_notes`); the result is shipped as
``data/cloudflared-security.json`` with the cloudflared commit it was read at, and
:func:`load_security_fixes` returns it. Nothing here touches the network: the refresh
(:func:`tunnelframe.refresh_releases`) hands GitHub's release bodies to these parsers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tunnelframe._data import _data_path
from tunnelframe._io import atomic_write
from tunnelframe._versionorder import _parse
from tunnelframe.versions._cache import _cache_dir

__all__ = [
    "SECURITY_FIXES_COLUMNS",
    "load_security_fixes",
    "parse_changes",
    "parse_release_notes",
    "security_exposure",
]

#: Columns of :func:`load_security_fixes` and the parsers, in order (all text; ``reverted_in``
#: empty unless a later release reverted the fix).
SECURITY_FIXES_COLUMNS = ("version", "advisory_ids", "summary", "source", "reverted_in")

_FILE = "cloudflared-security.json"

#: Advisory ids: CVE, GitHub (GHSA), Go vulnerability database (GO) and Cloudflare's own
#: tracker for vulnerability reports (VULN). Ticket ids such as TUN-… or AUTH-… are not advisories.
_ADVISORY = re.compile(
    r"\b(CVE-\d{4}-\d{4,7}|GHSA(?:-[0-9a-z]{4}){3}|GO-\d{4}-\d{4,6}|VULN-\d{1,7})\b",
    re.IGNORECASE,
)
#: Words that say a change fixes a vulnerability when no advisory id is given.
_FIX_WORDS = re.compile(r"\b(?:vulnerabilit(?:y|ies)|CVE(?:'?s)?|security fix(?:es)?)(?!\w)", re.I)
#: Changes about tests, CI or vulnerability scanning: they ship no fix to a running connector.
_TOOLING = re.compile(
    r"\b(?:tests?|ci|vulncheck|govulncheck|govuln|semgrep|scan(?:ner|ning)?)\b", re.IGNORECASE
)
_REVERT = re.compile(r"^(?:[A-Z]+-\d+:?\s*)?revert\b", re.IGNORECASE)
_HEADER = re.compile(r"v?(\d{4}\.\d{1,3}\.\d{1,5})")
_CHANGE = re.compile(r"[-*]\s+(?:\d{4}-\d{2}-\d{2}\s+)?(.+)")
_MAX_SUMMARY = 200


def _ids(text: str) -> list[str]:
    return list(dict.fromkeys(m.upper() for m in _ADVISORY.findall(text)))


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def _judge(text: str) -> str | None:
    """``"fix"``, ``"revert"`` (of a security fix) or None for one change line."""
    ids = _ids(text)
    if _TOOLING.search(text):
        return None
    if _REVERT.match(text):
        return "revert" if ids else None
    return "fix" if ids or _FIX_WORDS.search(text) else None


def _frame(records: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(SECURITY_FIXES_COLUMNS), dtype="str")
    return frame.fillna("")


def _with_reverts(fixes: list[dict[str, str]], reverts: list[tuple[str, list[str]]]) -> None:
    """Mark each fix a later release reverted (a revert line naming the same advisory id)."""
    for version, ids in reverts:
        key = _parse(version).key
        for fix in fixes:
            named = set(fix["advisory_ids"].split(", "))
            if named & set(ids) and _parse(fix["version"]).key <= key and not fix["reverted_in"]:
                fix["reverted_in"] = version


def parse_release_notes(text: str, *, source: str = "RELEASE_NOTES") -> pd.DataFrame:
    """The security fixes in cloudflared's ``RELEASE_NOTES`` (or a release body), one per line.

    The notes are blocks of a version line (``2026.7.3``) and its changes
    (``- 2026-07-22 VULN-143514: Windows svc: use --token-file instead of --token``). A change
    is a security fix when it names an advisory id (``CVE-…``, ``GHSA-…``, ``GO-…``,
    ``VULN-…``) or says it fixes a vulnerability or a CVE without an id ("Bump grpc … to fix
    vulnerability", "… to fix CVE's"). Left out: changes about tests, CI or vulnerability
    scanning (``VULN-66059: remove ssh server tests``, "add vulncheck"), which ship nothing to
    a connector, and unmarked hardening (the notes do not call it a fix). A ``Revert`` naming
    an advisory id is no fix: it marks the earlier fixes with that id as reverted.

    Parameters
    ----------
    text : str
        The file's text. A text without version lines (one GitHub release body) is read as
        the changes of the version given as ``source``'s ``version=`` (see
        :func:`tunnelframe.refresh_releases`).
    source : str, default "RELEASE_NOTES"
        Where the text comes from; each fix's ``source`` is ``{source}:{line number}``.

    Returns
    -------
    pandas.DataFrame
        :data:`SECURITY_FIXES_COLUMNS`, in the notes' order (newest release first):
        ``version``, ``advisory_ids`` (comma-separated, empty when none is named),
        ``summary`` (the change's text), ``source`` and ``reverted_in``.

    Examples
    --------
    >>> notes = '''2026.7.3
    ... - 2026-07-22 VULN-143514: Windows svc: use --token-file instead of --token
    ... - 2026-07-20 TUN-10701: Use curves for prechecks
    ... '''
    >>> parse_release_notes(notes)[["version", "advisory_ids", "source"]]
        version advisory_ids           source
    0  2026.7.3  VULN-143514  RELEASE_NOTES:2
    """
    fixes, reverts = _notes_records(text.splitlines(), source=source, version=None)
    _with_reverts(fixes, reverts)
    return _frame(fixes)


def _notes_records(
    lines: Iterable[str], *, source: str, version: str | None
) -> tuple[list[dict[str, str]], list[tuple[str, list[str]]]]:
    """The fix lines and the reverts (version, advisory ids) of notes or a release body."""
    fixes: list[dict[str, str]] = []
    reverts: list[tuple[str, list[str]]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        header = _HEADER.fullmatch(line)
        if header:
            version = header.group(1)
            continue
        change = _CHANGE.fullmatch(line)
        if version is None or change is None:
            continue
        text = change.group(1).strip()
        kind = _judge(text)
        if kind == "revert":
            reverts.append((version, _ids(text)))
        elif kind == "fix":
            fixes.append(
                {
                    "version": version,
                    "advisory_ids": ", ".join(_ids(text)),
                    "summary": _summary(text),
                    "source": f"{source}:{number}",
                    "reverted_in": "",
                }
            )
    return fixes, reverts


def parse_changes(text: str, *, source: str = "CHANGES.md") -> pd.DataFrame:
    """The security fixes in cloudflared's ``CHANGES.md``: the items under a Security heading.

    ``CHANGES.md`` has a ``## VERSION`` section per notable release and, in a few, a
    ``### Security Fixes`` list (2023.3.1: CVE-2023-1314, the 32-bit Windows installer).
    Every item of such a list is a fix; other sections are not read.

    Parameters
    ----------
    text : str
        The file's text.
    source : str, default "CHANGES.md"
        Each fix's ``source`` is ``{source}:{line number}``.

    Returns
    -------
    pandas.DataFrame
        :data:`SECURITY_FIXES_COLUMNS`, as :func:`parse_release_notes`.

    Examples
    --------
    >>> changes = '''## 2023.3.1
    ... ### Security Fixes
    ... - Windows 32 bit machines MSI now defaults to Program Files (See CVE-2023-1314).
    ... '''
    >>> parse_changes(changes)[["version", "advisory_ids"]].values.tolist()
    [['2023.3.1', 'CVE-2023-1314']]
    """
    fixes: list[dict[str, str]] = []
    version: str | None = None
    security = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("## "):
            header = _HEADER.fullmatch(line[3:].strip())
            version, security = (header.group(1) if header else None), False
        elif line.startswith("### "):
            security = "security" in line.lower()
        elif security and version and line[:2] in ("- ", "* "):
            item = line[2:].strip()
            fixes.append(
                {
                    "version": version,
                    "advisory_ids": ", ".join(_ids(item)),
                    "summary": _summary(item),
                    "source": f"{source}:{number}",
                    "reverted_in": "",
                }
            )
    return _frame(fixes)


def _merge(*frames: pd.DataFrame) -> pd.DataFrame:
    """Fixes of several sources: a later source adds only (version, ids) the earlier lack."""
    seen: set[tuple[str, str]] = set()
    rows: list[dict[str, str]] = []
    for frame in frames:
        records = [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")]
        rows += [
            r
            for r in records
            if not (r["advisory_ids"] and (r["version"], r["advisory_ids"]) in seen)
        ]
        seen |= {(r["version"], r["advisory_ids"]) for r in records}
    out = _frame(rows)
    keys = np.array([_parse(v).key for v in out["version"]], dtype=np.int64)
    order = np.argsort(-keys, kind="stable")
    return out.iloc[order].reset_index(drop=True)


def _to_json(fixes: pd.DataFrame, header: Mapping[str, Any]) -> bytes:
    records = [
        {
            **row,
            "advisory_ids": [i for i in row["advisory_ids"].split(", ") if i],
            "reverted_in": row["reverted_in"] or None,
        }
        for row in fixes.to_dict("records")
    ]
    return (json.dumps({**header, "fixes": records}, indent=1, ensure_ascii=False) + "\n").encode()


def _read(path: Path) -> pd.DataFrame:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        records = [
            {
                "version": str(item["version"]),
                "advisory_ids": ", ".join(str(i) for i in item["advisory_ids"]),
                "summary": str(item["summary"]),
                "source": str(item["source"]),
                "reverted_in": str(item.get("reverted_in") or ""),
            }
            for item in doc["fixes"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"security fixes {path}: not a tunnelframe security table ({exc}); "
            "run tunnelframe.refresh_releases() again"
        ) from exc
    for row, item in enumerate(records):
        version = _parse(item["version"])
        if not version.is_known or version.commits:
            raise ValueError(f"security fixes {path}: fix {row} has no YYYY.M.PATCH version")
    frame = _frame(records)
    frame.attrs = {k: v for k, v in doc.items() if k != "fixes"}
    return frame


def _cache_file(cache_dir: str | os.PathLike[str] | None) -> Path:
    return (Path(cache_dir) if cache_dir is not None else _cache_dir()) / _FILE


def load_security_fixes(*, cached: bool = False) -> pd.DataFrame:
    """Load the table of security fixes in cloudflared's releases bundled with tunnelframe.

    Parameters
    ----------
    cached : bool, default False
        Return the table saved by the last :func:`tunnelframe.refresh_releases` instead, when
        there is one (the bundled one otherwise).

    Returns
    -------
    pandas.DataFrame
        :data:`SECURITY_FIXES_COLUMNS`, newest release first. ``.attrs`` says where it comes
        from: ``source`` (for the bundled table, cloudflared's repository, the commit and
        files it was read from) and ``refreshed_at`` (when a refresh wrote it; None for the
        bundled one).

    Examples
    --------
    >>> fixes = load_security_fixes()
    >>> fixes.attrs["source"]["commit"][:8], fixes["version"].iloc[0]
    ('d1df7985', '2026.8.1')
    """
    cache = _cache_file(None)
    return _read(cache if cached and cache.exists() else _data_path(_FILE)).copy()


def _fixes_table(fixes: object) -> pd.DataFrame:
    """The security fixes an analysis is asked to use (``fixes=``): bundled by default."""
    if fixes is None:
        return _read(_data_path(_FILE))
    if isinstance(fixes, str | os.PathLike):
        return _read(Path(fixes))
    if isinstance(fixes, pd.DataFrame):
        missing = [c for c in SECURITY_FIXES_COLUMNS if c not in fixes.columns]
        if missing:
            raise ValueError(
                f"fixes lacks column(s) {missing}: it needs {', '.join(SECURITY_FIXES_COLUMNS)} "
                "(see tunnelframe.load_security_fixes())"
            )
        return fixes.fillna("").astype(str)
    raise TypeError(f"fixes must be a DataFrame or a JSON path, got {type(fixes).__name__}")


def _lacking(
    fixes: pd.DataFrame, keys: np.ndarray, latest_key: int
) -> tuple[np.ndarray, list[str], list[str | None]]:
    """Per base key: the fixes it lacks (count, ids newest first) and the release with them all.

    A fix counts when its release is newer than the key and not newer than ``latest_key``
    (a release after the latest did not exist yet), and no release reverted it. A fix counts
    once per advisory id it names, or once when it names none.
    """
    live = fixes[fixes["reverted_in"] == ""]
    fix_keys = np.array([_parse(v).key for v in live["version"]], dtype=np.int64)
    keep = fix_keys <= latest_key
    live, fix_keys = live[keep], fix_keys[keep]
    order = np.argsort(-fix_keys, kind="stable")
    items = [
        (int(fix_keys[i]), str(live["version"].iloc[i]), str(live["advisory_ids"].iloc[i]))
        for i in order
    ]
    n_missing = np.zeros(len(keys), dtype=np.int64)
    ids_out: list[str] = []
    fixed_in: list[str | None] = []
    for j, key in enumerate(keys):
        ids: list[str] = []
        unnamed = 0
        top: str | None = None
        for fix_key, version, named in items:
            if key < 0 or fix_key <= key:
                break
            top = top or version
            if named:
                ids.extend(x for x in named.split(", ") if x not in ids)
            else:
                unnamed += 1
        n_missing[j] = len(ids) + unnamed
        ids_out.append(", ".join(ids))
        fixed_in.append(top)
    return n_missing, ids_out, fixed_in


#: A release body longer than this is cut (GitHub allows 125,000 characters).
_MAX_BODY = 125_000


def _refreshed(
    bodies: Mapping[str, object], notes: str | None, *, after: str, origin: str, when: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The bundled fixes up to release ``after`` plus the newer ones ``notes`` or the bodies
    name (and their reverts of older fixes), with the cache's header."""
    bundled = load_security_fixes()
    limit = _parse(after).key
    fixes = [
        {str(k): str(v) for k, v in r.items()}
        for r in bundled.to_dict("records")
        if _parse(str(r["version"])).key <= limit
    ]
    reverts: list[tuple[str, list[str]]] = []
    if notes is not None:
        found, reverts = _notes_records(notes.splitlines(), source=origin, version=None)
        fixes += [f for f in found if _parse(f["version"]).key > limit]
    else:
        for version, body in bodies.items():
            if not isinstance(body, str):
                continue
            found, undone = _notes_records(
                body[:_MAX_BODY].splitlines(), source=f"{origin} {version}", version=version
            )
            fixes += [f for f in found if f["version"] == version and _parse(version).key > limit]
            reverts += [(v, ids) for v, ids in undone if v == version]
    reverts = [(v, ids) for v, ids in reverts if _parse(v).key > limit]
    _with_reverts(fixes, reverts)
    header = {"source": {**bundled.attrs.get("source", {}), "refreshed_from": origin}}
    return _merge(_frame(fixes)), {**header, "refreshed_at": when}


def _write_cache(fixes: pd.DataFrame, header: Mapping[str, Any], folder: Path) -> Path:
    return atomic_write(folder / _FILE, _to_json(fixes, header))


def security_exposure(
    drift: pd.DataFrame, *, fixes: pd.DataFrame | str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """The fleet's exposure: per security fix, who lacks it and what one upgrade clears.

    Parameters
    ----------
    drift : pandas.DataFrame
        As returned by :func:`tunnelframe.version_drift` (``version``, ``latest_version``,
        ``status`` and ``fixed_in`` are used).
    fixes : DataFrame or path, optional
        The table ``drift`` was measured with; default the bundled one.

    Returns
    -------
    pandas.DataFrame
        One row per fix a connector lacks, newest release first: ``version`` (the release
        carrying it), ``advisory_ids``, ``summary``, ``n_connectors`` (connectors lacking it)
        and ``n_cleared`` (connectors that upgrading to ``version`` leaves lacking nothing:
        the exposed connectors whose ``fixed_in`` is at most that release). Fixes of releases
        after the latest, reverted ones and unknown versions (``DEV``, WARP) are left out, as
        in :func:`tunnelframe.version_drift`.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> conns = pd.DataFrame({"connector_id": ["a", "b"], "version": ["2026.7.2", "2026.7.3"]})
    >>> drift = tf.version_drift(conns, as_of="2026-08-20")
    >>> out = security_exposure(drift)
    >>> out[["version", "advisory_ids", "n_connectors", "n_cleared"]]
        version advisory_ids  n_connectors  n_cleared
    0  2026.8.0                          2          2
    1  2026.7.3  VULN-143514             1          0
    2  2026.7.3                          1          0
    """
    table = _fixes_table(fixes)
    live = table[table["reverted_in"] == ""]
    known = (drift["status"].astype(str) != "unknown").to_numpy(bool)
    names = drift["version"].astype(object).to_numpy()
    bases = np.array(
        [
            _parse(str(v)).key - _parse(str(v)).commits if k else -1
            for v, k in zip(names, known, strict=True)
        ],
        dtype=np.int64,
    )
    latest = drift["latest_version"].astype(object)
    latest_key = _parse(str(latest.iloc[0])).key if len(latest) else -1
    fixed_in = np.array(
        [
            _parse(str(v)).key if isinstance(v, str) else -1
            for v in drift["fixed_in"].astype(object)
        ],
        dtype=np.int64,
    )
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for version, ids, summary in zip(
        live["version"], live["advisory_ids"], live["summary"], strict=True
    ):
        key = _parse(str(version)).key
        label = (str(version), str(ids) or str(summary))
        if key > latest_key or label in seen:
            continue
        seen.add(label)
        lacking = int(((bases >= 0) & (bases < key)).sum())
        if lacking:
            cleared = int(((fixed_in >= 0) & (fixed_in <= key)).sum())
            rows.append(
                {
                    "version": str(version),
                    "advisory_ids": str(ids),
                    "summary": str(summary),
                    "n_connectors": lacking,
                    "n_cleared": cleared,
                }
            )
    out = pd.DataFrame(
        rows, columns=["version", "advisory_ids", "summary", "n_connectors", "n_cleared"]
    )
    order = np.argsort([-_parse(v).key for v in out["version"]], kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    return out.astype({"version": "str", "advisory_ids": "str", "summary": "str",
                       "n_connectors": "int64", "n_cleared": "int64"})  # fmt: skip
