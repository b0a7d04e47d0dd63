"""The public API's vocabulary as a test: one name and one annotation per idea.

Walks ``tunnelframe.__all__`` (functions, classes' constructors and public methods) and checks
every parameter against :data:`VOCABULARY`: a name the table does not know fails (add it, with
its one annotation, after checking no existing name means the same thing), and so does a known
name with another annotation. Fleet data in any form is ``source: FleetSource``; a moment is
``TimeLike | None``; the tunnel type is ``tun_type``/``tun_types``; the client is always
``client=`` by keyword.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tunnelframe as tf

#: Every parameter name of the public API and the annotation(s) it may carry. Two entries for
#: one name are the same idea with or without a default (``float`` in a Policy, ``float | None``
#: where None means the policy's).
VOCABULARY: dict[str, tuple[str, ...]] = {
    # fleet data, in every form: Snapshot, snapshot path, fleet dict, payload, frame
    "source": (
        "FleetSource",
        "RoutedSource",  # fleet data that can carry routing: no connections frame
        "FleetSource | VersionSummary",  # plot_version_distribution draws a summary as it is
    ),
    "old": ("FleetSource",),
    "new": ("FleetSource",),
    "previous": ("Snapshot | None", "FleetSource | None"),
    "snapshot": ("Snapshot", "SnapshotLike"),
    "history": ("History", "HistoryLike | HistorySummary | None"),
    "store": ("StoreLike", "StoreLike | HistoryTarget"),
    "fleet_file": ("str | os.PathLike[str] | FleetFile | None",),
    # analysis results a plot draws as they are
    "episodes": ("pd.DataFrame",),
    "rollout": ("pd.DataFrame",),
    "drift": ("pd.DataFrame",),
    # time
    "as_of": ("TimeLike | None", "TimeLike"),  # TimeLike: required (stale_calendar_note)
    "now": ("TimeLike | None",),
    "start": ("TimeLike | None",),
    "end": ("TimeLike | None",),
    "released_on": ("TimeLike",),
    "fetched_at": ("datetime",),
    "recent": ("dt.timedelta | pd.Timedelta | str",),
    # the tunnel type: one value (None: every type) or several
    "tun_type": ("str", "str | None"),
    "tun_types": ("str | Iterable[str] | None",),
    "all_types": ("bool",),
    # the API
    "client": ("Client | None",),
    "account_id": ("str | None", "str | Iterable[str] | None"),
    "account_ids": ("Iterable[str]",),
    "tunnel_id": ("str",),
    "connector_id": ("str",),
    "zone_id": ("str",),
    "filters": ("Unpack[TunnelFilters]", "Unpack[FleetFilters]"),
    "per_page": ("int",),
    "is_deleted": ("bool",),
    "include_deleted": ("bool",),
    "skip_inactive": ("bool",),
    "include_idle": ("bool",),
    "parts": ("str | Iterable[str]",),
    "token": ("str | None",),
    "email": ("str | None",),
    "api_key": ("str | None",),
    "base_url": ("str | None",),
    "session": ("requests.Session | None",),
    "policy": ("Policy | None",),
    "pool_size": ("int",),
    "size": ("int",),
    "timeout": ("float", "float | None"),
    "request_deadline": ("float",),
    "deadline": ("float", "float | None"),
    "max_retries": ("int", "int | None"),
    "backoff_base": ("float", "float | None"),
    "backoff_max": ("float", "float | None"),
    "max_wait": ("float",),
    "max_response_bytes": ("int",),
    "max_pages": ("int",),
    "max_workers": ("int",),
    "max_requests": ("int | None",),
    "budget_share": ("float",),
    "requests_per_window": ("int",),
    "window_s": ("float",),
    "progress": ("bool",),
    "accounts": ("tuple[FleetAccount, ...]",),
    "environ": ("Mapping[str, str] | None",),
    # the snapshot record
    "tunnels": (
        "Iterable[dict[str, Any]]",  # Snapshot: the raw tunnels
        "Sequence[str]",  # check_fleet: name patterns
        "Iterable[str] | None",  # load_history: tunnel ids
        "pd.DataFrame | None",  # config_drift: the tunnels frame
    ),
    "errors": ("Iterable[dict[str, Any]]",),
    "n_requests": ("int",),
    "routing": ("Mapping[str, Any] | None",),
    "exclude_tunnels": ("Sequence[str]",),
    # judging
    "rules": ("Iterable[str] | None",),
    "max_releases_behind": ("int | None",),
    "expected_connections": ("int",),
    "ignore": ("str | os.PathLike[str] | Sequence[Ignore] | None",),
    "releases": ("pd.DataFrame | str | os.PathLike[str] | None",),
    "fixes": ("pd.DataFrame | str | os.PathLike[str] | None",),
    "latest": ("str | tuple[str, Any] | None", "bool"),
    "version": ("str",),
    "shared_at": ("int",),
    "active_only": ("bool",),
    "codes": ("Iterable[object] | str",),
    "s": ("object",),
    "per": ("Literal['snapshot', 'host', 'event']",),
    # grouping and row unit: see LITERALS
    "by": (),
    "level": (),
    # output
    "path": ("str | os.PathLike[str]", "str"),
    "directory": ("str | os.PathLike[str]",),
    "format": ("Literal['parquet', 'csv', 'xlsx']", "Literal['html', 'md'] | None"),
    "redact_ips": ("bool",),
    "redact_key": ("str | bytes | None",),
    "title": ("str | None",),
    "cached": ("bool",),
    "cache_dir": ("str | os.PathLike[str] | None",),
    "url": ("str",),
    "notes": ("str | os.PathLike[str] | None",),
    "text": ("str",),
    # drawing
    "ax": ("Axes | None",),
    "kwargs": ("Any",),
    "top": ("int | None",),
    "top_tunnels": ("int | None",),
    "top_colos": ("int | None",),
    "label_top": ("int",),
    "bins": ("int",),
    "annotate": ("bool | None",),
    "colorbar": ("bool",),
}

#: ``by`` is the key rows are grouped by (a column of the result); ``level`` is what one row
#: of the result is.
LITERALS: dict[str, set[str]] = {
    "by": {
        *("site", "account", "tunnel", "connector", "metro", "country", "region"),
        *("releases_behind", "released_on"),  # plot_version_drift: connectors grouped by
    },
    "level": {"connection", "connector", "tunnel"},
}

#: Names retired from the public API, and what to write instead.
RETIRED = {
    "frame": "source",
    "data": "source",
    "fleet": "source",
    "kind": "tun_type",
    "kinds": "tun_types",
}

#: The few parameters whose name means something else in one place, with the reason.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # which bundled frame to load, by name: not fleet data
    ("load_sample", "frame"): "str | None",
    ("load_history", "frame"): "str",  # which stored frame to read, as in load_sample
    # a parser's label for its input in error messages
    ("parse_changes", "source"): "str",
    ("parse_release_notes", "source"): "str",
    # a Snapshot records a moment it was given, as the datetime it keeps
    ("Snapshot", "as_of"): "datetime | None",
}

#: Records a function returns (their fields are data, not a vocabulary a caller guesses).
RECORDS = {"CheckResult", "VersionSummary", "Version"}

REQUIRED = "(required)"

#: The one default of every parameter name that two or more public callables share (REQUIRED:
#: none), so a caller who learns it once is right everywhere (issue 20: ``ha_report`` judged
#: connectors by default, ``plot_ha_status`` tunnels). A new shared name needs its row here.
DEFAULTS: dict[str, object] = {
    "account_id": None,
    "active_only": True,
    "as_of": None,
    "ax": None,
    "backoff_base": None,
    "backoff_max": None,
    "by": "metro",
    "cached": False,
    "client": None,
    "connector_id": REQUIRED,
    "deadline": None,
    "expected_connections": 4,
    "fixes": None,
    "format": "parquet",
    "history": REQUIRED,
    "include_idle": True,
    "latest": None,
    "level": "tunnel",
    "max_releases_behind": None,
    "max_retries": None,
    "max_workers": 8,
    "now": None,
    "path": REQUIRED,
    "per_page": 1000,
    "previous": None,
    "releases": None,
    "requests_per_window": 1200,
    "rules": None,
    "snapshot": REQUIRED,
    "source": REQUIRED,
    "store": REQUIRED,
    "text": REQUIRED,
    "timeout": None,
    "top": 20,
    "tun_type": "cfd_tunnel",
    "tun_types": None,
    "tunnel_id": REQUIRED,
    "tunnels": None,
    "window_s": 300.0,
}

#: Where a shared name has another default, and why. A row whose default is the common one
#: fails too, so the table cannot outlive the difference it explains.
OTHER_DEFAULTS: dict[tuple[str, str], str] = {
    ("Client.resolve_account", "account_id"): "the account to resolve: its one input",
    ("stale_calendar_note", "as_of"): "the moment the note is about: nothing to default to",
    # None on the Client means "the policy's": the Policy holds the numbers
    ("Policy", "backoff_base"): "the policy's value, which Client's None stands for",
    ("Policy", "backoff_max"): "the policy's value, which Client's None stands for",
    ("Policy", "max_retries"): "the policy's value, which Client's None stands for",
    ("Policy", "timeout"): "the policy's value, which Client's None stands for",
    # GitHub, read once for the release calendar, not the Cloudflare API's policy
    ("refresh_releases", "timeout"): "one GitHub read, with its own short limit",
    ("refresh_releases", "deadline"): "one GitHub read, with its own total limit",
    ("colo_distribution", "by"): "None counts per site, the analysis' finest grain; its plots "
    "default to metros, as many bars as a chart can show (a fleet reaches hundreds of sites)",
    ("plot_version_drift", "by"): "groups connectors by version age, not by place: another "
    "set of values (releases_behind, released_on), see LITERALS",
    ("write_report", "format"): "None: from the output's suffix (.html, .md)",
    ("write_report", "history"): "optional: a report without history sections; the history "
    "analyses have nothing to do without one",
    ("load_history", "latest"): "a bool (only each tunnel's latest snapshot), not a version",
    # the row unit of connection ages: connections or connectors, there is no tunnel level
    ("connection_ages", "level"): "its rows are connections or connectors (no tunnel level)",
    ("plot_connection_ages", "level"): "draws connection_ages, with its default",
    ("Client.list_tunnel_dns_records", "per_page"): "the DNS records endpoint's pages are "
    "larger (up to 5,000,000), and a zone holds many records that are not tunnels'",
    ("Client.with_budget", "requests_per_window"): "the size of the budget it makes",
    ("plot_version_distribution", "top"): "versions, most with few connectors: 15 bars",
    ("plot_version_rollout", "top"): "lines over time: more than 8 cannot be told apart",
    # tun_type as a filter (None: every type) or as the endpoint of one tunnel's read
    ("check_fleet", "tun_type"): "a filter: None judges every type",
    ("findings", "tun_type"): "a filter: None judges every type",
    ("write_report", "tun_type"): "a filter: None reports every type side by side",
    ("Snapshot", "tunnels"): "the record's raw tunnels: what a Snapshot is made of",
    ("check_fleet", "tunnels"): "name patterns, () for none (see VOCABULARY)",
}

#: Defaults being changed under the deprecation policy: (function, name) -> (the default it
#: gets, the release that makes it so). Until then the signature says None, which warns with
#: TunnelframeDeprecationWarning and keeps the old answer.
CHANGING_DEFAULTS: dict[tuple[str, str], tuple[object, str]] = {
    ("ha_report", "level"): ("tunnel", "0.4"),
}


def _public_callables() -> Iterator[tuple[str, Callable[..., Any]]]:
    for name in tf.__all__:
        obj = getattr(tf, name)
        if inspect.ismodule(obj) or not callable(obj) or name in RECORDS:
            continue
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            yield name, obj
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, classmethod | staticmethod):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member
        else:
            yield name, obj


def _parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    signature = inspect.signature(func)
    return [p for p in signature.parameters.values() if p.name not in ("self", "cls")]


def _literal_values(annotation: str) -> set[str] | None:
    match = re.fullmatch(r"Literal\[(.*)\]( \| None)?", annotation)
    return None if match is None else set(re.findall(r"'([^']*)'", match.group(1)))


CALLABLES = dict(_public_callables())


def test_the_walk_sees_the_public_api() -> None:
    # A walk that found nothing would pass every test below.
    assert {"connections_frame", "plot_version_drift", "Client.list_tunnels", "fetch_fleet"} <= (
        set(CALLABLES)
    )
    assert dataclasses.is_dataclass(tf.CheckResult) and "CheckResult" not in CALLABLES


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_parameter_speaks_the_vocabulary(name: str) -> None:
    problems = []
    for p in _parameters(CALLABLES[name]):
        annotation = str(p.annotation)
        if (name, p.name) in EXCEPTIONS:
            if annotation != EXCEPTIONS[name, p.name]:
                problems.append(f"{p.name}: {annotation} (expected {EXCEPTIONS[name, p.name]})")
            continue
        if p.name in RETIRED:
            problems.append(f"{p.name}: retired, say {RETIRED[p.name]}")
        elif p.name not in VOCABULARY:
            problems.append(f"{p.name}: not in the vocabulary (add it, if no name means the same)")
        elif p.name in LITERALS:
            values = _literal_values(annotation)
            if values is None or not values <= LITERALS[p.name]:
                problems.append(f"{p.name}: {annotation} (values from {sorted(LITERALS[p.name])})")
        elif annotation not in VOCABULARY[p.name]:
            problems.append(f"{p.name}: {annotation} (expected one of {VOCABULARY[p.name]})")
    assert not problems, f"{name}: " + "; ".join(problems)


def test_fleet_data_comes_first_under_one_name() -> None:
    # Every function whose first parameter takes fleet data takes every form of it, as source.
    takes_fleet = {
        name
        for name, func in CALLABLES.items()
        if any(str(p.annotation) == "FleetSource" for p in _parameters(func))
    }
    assert {
        "connections_frame",
        "connectors_frame",
        "tunnels_frame",
        "plot_colo_distribution",
        "plot_version_drift",
        "plot_ha_status",
        "ha_report",
        "findings",
        "write_report",
    } <= takes_fleet
    for name in takes_fleet - {"diff_snapshots", "write_report"}:
        first = _parameters(CALLABLES[name])[0]
        assert (first.name, str(first.annotation)) == ("source", "FleetSource"), name


def test_the_client_is_always_a_keyword() -> None:
    fetchers = [n for n in CALLABLES if n.startswith("fetch_")]
    assert len(fetchers) >= 4
    for name in fetchers:
        client = inspect.signature(CALLABLES[name]).parameters["client"]
        assert client.kind is inspect.Parameter.KEYWORD_ONLY, name


def test_no_public_parameter_is_any() -> None:
    untyped = [
        f"{name}({p.name})"
        for name, func in CALLABLES.items()
        for p in _parameters(func)
        if str(p.annotation) in ("Any", "object")
        and p.kind is not p.VAR_KEYWORD
        and (name, p.name) != ("parse_version", "s")
    ]
    assert not untyped


def test_old_spellings_still_work_with_a_deprecation_warning() -> None:
    sample = tf.load_sample()
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"write ha_report\(source="):
        old = tf.ha_report(frame=sample, level="tunnel")
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(old, tf.ha_report(sample, level="tunnel"))
    with pytest.warns(tf.TunnelframeDeprecationWarning, match="tun_type"):
        tf.findings(sample, kind="warp_connector", as_of=tf.datasets.SAMPLE_AS_OF)
    assert issubclass(tf.TunnelframeDeprecationWarning, tf.TunnelframeWarning)
    assert issubclass(tf.TunnelframeDeprecationWarning, DeprecationWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.ha_report(sample, level="tunnel")  # the new spelling warns of nothing


def test_a_client_by_position_still_works_with_a_deprecation_warning(client: tf.Client) -> None:
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"client=client"):
        old = tf.fetch_fleet(client, progress=False)
    assert old.tunnels == tf.fetch_fleet(client=client, progress=False).tunnels
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"fetch_tunnel\(\.\.\., client="):
        frame = tf.fetch_tunnel("t1", client)
    assert frame["connection_id"].notna().any()
    with pytest.raises(TypeError, match="positional"):
        tf.fetch_tunnel("t1", client, client)  # type: ignore[misc]
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"fetch_fleet\(tun_types="):
        kinds = tf.fetch_fleet(client=client, kinds="cfd_tunnel", progress=False)
    assert kinds.tunnels == old.tunnels


def test_old_keywords_and_calls_warn_and_answer_the_same() -> None:
    sample = tf.load_sample()
    snap = tf.Snapshot(
        fetched_at=tf.datasets.SAMPLE_AS_OF, account_ids=["a"], tunnels=sample["tunnels"]
    )
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"tunnels_frame\(\)"):
        called = snap.tunnels()
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(called, snap.tunnels_frame())
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"connections_frame\(source="):
        conns = tf.connections_frame(data=sample)
    pd_testing.assert_frame_equal(conns, tf.connections_frame(sample))
    with pytest.raises(TypeError, match="both data= and source="):
        tf.connections_frame(sample, data=sample)  # type: ignore[call-arg]


def _default(p: inspect.Parameter) -> object:
    return REQUIRED if p.default is inspect.Parameter.empty else p.default


def _shared_defaults() -> dict[str, dict[str, object]]:
    """name -> {callable: its default} for every parameter name two or more callables share
    (the few that mean something else in one place, EXCEPTIONS, left out)."""
    uses: dict[str, dict[str, object]] = {}
    for name, func in CALLABLES.items():
        for p in _parameters(func):
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (name, p.name) in EXCEPTIONS:
                continue
            uses.setdefault(p.name, {})[name] = _default(p)
    return {name: found for name, found in uses.items() if len(found) > 1}


def test_a_shared_parameter_has_one_default() -> None:
    shared = _shared_defaults()
    assert {"level", "as_of", "ax", "source"} <= set(shared)  # the walk sees them
    assert sorted(set(shared) - set(DEFAULTS)) == [], "shared names without a DEFAULTS row"
    assert sorted(set(DEFAULTS) - set(shared)) == [], "DEFAULTS rows no longer shared"
    problems = []
    for pname, found in shared.items():
        for func, default in found.items():
            key = (func, pname)
            if key in CHANGING_DEFAULTS:
                continue  # checked below
            if default != DEFAULTS[pname] and key not in OTHER_DEFAULTS:
                problems.append(
                    f"{func}({pname}={default!r}): the API's default is {DEFAULTS[pname]!r}; "
                    "use it, or add a row to OTHER_DEFAULTS saying why not"
                )
            if default == DEFAULTS[pname] and key in OTHER_DEFAULTS:
                problems.append(f"{func}({pname}): its OTHER_DEFAULTS row is stale")
    unknown = set(OTHER_DEFAULTS) | set(CHANGING_DEFAULTS)
    unknown -= {(f, n) for n, found in shared.items() for f in found}
    assert not unknown, f"rows for no shared parameter: {sorted(unknown)}"
    assert not problems, "\n".join(problems)


def test_a_changing_default_warns_until_its_release() -> None:
    from packaging.version import Version

    for (func, pname), (default, release) in CHANGING_DEFAULTS.items():
        assert default == DEFAULTS[pname], (func, pname)  # it converges on the one default
        assert _default(inspect.signature(CALLABLES[func]).parameters[pname]) is None
        assert Version(tf.__version__) < Version(release), (
            f"{func}: {release} is here: make {pname}={default!r} its default and drop its "
            "CHANGING_DEFAULTS row"
        )


def test_ha_report_without_level_warns_and_keeps_connector_rows() -> None:
    sample = tf.load_sample()
    with pytest.warns(tf.TunnelframeDeprecationWarning, match=r"pass level='connector'") as w:
        old = tf.ha_report(sample)
    assert len(w) == 1 and w[0].filename == __file__  # it points at the caller's line
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(old, tf.ha_report(sample, level="connector"))
    assert "connector_id" in old.columns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for level in ("connector", "tunnel"):
            tf.ha_report(sample, level=level)  # passed: nothing to say
        from matplotlib.figure import Figure

        tf.plot_ha_status(sample, ax=Figure().add_subplot())  # tunnels, as ha_report will
