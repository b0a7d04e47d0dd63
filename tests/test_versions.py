"""Tests of tunnelframe.versions: expectations are worked out by hand from the tables below.

The hand calendar ``REL`` (7 releases) and ``as_of = 2025-06-01`` make the latest release
2025.3.0 (2025-03-01), so the support window starts on 2024-03-01 (one calendar year before).
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe import versions
from tunnelframe._errors import SchemaError, TunnelframeError
from tunnelframe.frames import CONNECTIONS_SCHEMA
from tunnelframe.versions import (
    CONFIG_DRIFT_COLUMNS,
    VERSION_DRIFT_COLUMNS,
    StaleReleasesWarning,
    Version,
    config_drift,
    load_releases,
    parse_version,
    refresh_releases,
    version_drift,
    version_summary,
)
from tunnelframe.versions._summary import _BY_TUNNEL_COLUMNS, _BY_VERSION_COLUMNS

REL = pd.DataFrame(
    {
        "version": [
            "2024.1.0",
            "2024.2.0",
            "2024.2.1",
            "2024.4.0",
            "2024.5.0",
            "2025.1.0",
            "2025.3.0",
        ],
        "released_on": [
            "2024-01-10",
            "2024-02-05",
            "2024-02-20",
            "2024-04-15",
            "2024-05-20",
            "2025-01-20",
            "2025-03-01",
        ],
    }
)
AS_OF = "2025-06-01"
# REL ends 92 days before AS_OF: a stale calendar by the 60-day rule. The tests worked out on it
# are about the arithmetic; the age warning is tested on its own (test_calendar_age_*).
pytestmark = pytest.mark.filterwarnings(
    r"ignore:The release calendar ends at 2025\.3\.0 \(2025-03-01\)"
    ":tunnelframe.versions.StaleReleasesWarning"
)
NA = None  # how `one` shows a missing value


# --------------------------------------------------------------------------------------------
# A connections frame by hand, with the contract's columns and dtypes


def conn_rows(
    connector_id: str | None,
    version: str | None,
    *,
    tunnel: str | None = "t1",
    account: str | None = "acc1",
    clients: tuple[str | None, ...] = (),
    config_version: int | None = None,
    run_at: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of one connector: one per ``clients`` entry (its client_version), one if idle."""
    base = {
        "account_id": account,
        "tunnel_id": tunnel,
        "tunnel_name": None if tunnel is None else f"name-{tunnel}",
        "tunnel_status": "healthy",
        "connector_id": connector_id,
        "arch": "linux_amd64",
        "version": version,
        "config_version": config_version,
        "run_at": run_at,
        "features": "ha-origin",
    }
    if not clients:
        return [base]
    return [
        {
            **base,
            "connection_id": f"{connector_id}-x{i}",
            "client_id": connector_id,
            "client_version": client,
            "colo_name": "DFW",
            "is_pending_reconnect": False,
            "opened_at": "2025-05-30T00:00:00Z",
            "origin_ip": "203.0.113.7",
        }
        for i, client in enumerate(clients)
    ]


def make_frame(*connectors: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame with the columns and dtypes of ``CONNECTIONS_SCHEMA``."""
    rows = [row for rows in connectors for row in rows]
    data = {column: [row.get(column) for row in rows] for column in CONNECTIONS_SCHEMA}
    frame = pd.DataFrame(data, dtype=object)
    for column, dtype in CONNECTIONS_SCHEMA.items():
        if str(dtype).startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column], utc=True).astype(dtype)
        else:
            frame[column] = pd.array(list(frame[column]), dtype=dtype)
    return frame


def test_make_frame_follows_the_contract() -> None:
    frame = make_frame(conn_rows("a", "2025.3.0", clients=("2025.3.0",)), conn_rows("b", None))
    assert list(frame.columns) == list(CONNECTIONS_SCHEMA)
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        c: str(t) for c, t in CONNECTIONS_SCHEMA.items()
    }


def plain(value: object) -> object:
    """A cell as a plain Python value: None for any missing value, bool/int for numpy scalars."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def one(drift: pd.DataFrame, connector_id: str) -> dict[str, Any]:
    """The row of one connector, as plain Python values."""
    rows = drift[drift["connector_id"] == connector_id]
    assert len(rows) == 1
    return {column: plain(rows[column].iloc[0]) for column in rows.columns}


# --------------------------------------------------------------------------------------------
# parse_version


def test_parse_version_orders_numbers_not_strings() -> None:
    raw = ["2025.10.1", "2025.9.0", "v2026.8.2", "2026.8.2-1-gd1df7985", "2026.8.3", "DEV", ""]
    ordered = sorted(raw, key=parse_version)
    assert ordered[:2] == ["DEV", ""] or ordered[:2] == ["", "DEV"]
    assert ordered[2:] == ["2025.9.0", "2025.10.1", "v2026.8.2", "2026.8.2-1-gd1df7985", "2026.8.3"]


def test_parse_version_fields() -> None:
    assert parse_version("2025.10.1") == Version(2025, 10, 1, 0)
    assert parse_version(" v2026.8.2 ") == Version(2026, 8, 2, 0)
    assert parse_version("2026.8.2-1-gd1df7985") == Version(2026, 8, 2, 1)
    assert parse_version("2026.8.2-1-gd1df7985").release == "2026.8.2"
    assert parse_version("2026.8.2-12-gd1df7985-dirty").commits == 12


@pytest.mark.parametrize("value", ["DEV", "", None, np.nan, pd.NA, "2026.8", "1.2.3", "latest"])
def test_parse_version_unknown_sorts_first(value: object) -> None:
    version = parse_version(value)  # type: ignore[call-overload]
    assert not version.is_known
    assert version.release is None
    assert version.key == -1
    assert version < parse_version("2018.8.0")


def test_parse_version_git_describe_sits_between_releases() -> None:
    assert parse_version("2026.8.2") < parse_version("2026.8.2-1-gd1df7985")
    assert parse_version("2026.8.2-1-gd1df7985") < parse_version("2026.8.2-2-g00000000")
    assert parse_version("2026.8.2-40-gd1df7985") < parse_version("2026.8.3")
    assert parse_version("2026.8.2-40-gd1df7985") < parse_version("2026.9.0")


def test_parse_version_series_gives_sort_keys() -> None:
    s = pd.Series(["2025.10.1", "DEV", None, "2025.9.0"], index=[5, 6, 7, 8], dtype="category")
    keys = parse_version(s)
    assert keys.dtype == "int64"
    assert list(keys.index) == [5, 6, 7, 8]
    assert keys[6] == keys[7] == -1
    assert keys[8] < keys[5]
    assert keys[5] == parse_version("2025.10.1").key
    frame = pd.DataFrame({"version": ["2025.10.1", "2025.9.0", "DEV"]})
    assert frame.sort_values("version", key=parse_version)["version"].tolist() == [
        "DEV",
        "2025.9.0",
        "2025.10.1",
    ]


def test_parse_version_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="parse_version expects a str, None or a pandas Series"):
        parse_version(2026)  # type: ignore[call-overload]


# --------------------------------------------------------------------------------------------
# Release calendar


def test_load_releases_bundled() -> None:
    releases = load_releases()
    assert list(releases.columns) == ["version", "released_on"]
    assert str(releases["released_on"].dtype) == "datetime64[us, UTC]"
    assert len(releases) == 269
    assert releases.iloc[0].tolist() == ["2026.8.2", pd.Timestamp("2026-08-14", tz="UTC")]
    assert releases.iloc[-1].tolist() == ["2018.8.0", pd.Timestamp("2018-08-31", tz="UTC")]


def test_load_releases_cached_without_cache_is_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path))
    assert load_releases(cached=True).equals(load_releases())


class _Releases(BaseHTTPRequestHandler):
    pages: ClassVar[dict[int, Any]] = {}

    def do_GET(self) -> None:
        page = int(self.path.split("page=")[-1])
        body = json.dumps(self.pages.get(page, [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github() -> Iterator[tuple[str, type[_Releases]]]:
    handler = type("Handler", (_Releases,), {"pages": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/releases", handler
    finally:
        server.shutdown()
        server.server_close()


def test_refresh_releases_adds_newer_releases_and_caches(
    github: tuple[str, type[_Releases]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = github
    handler.pages[1] = [
        {"tag_name": "2026.10.0", "published_at": "2026-10-02T09:00:00Z"},
        {"tag_name": "2026.9.1", "published_at": "2026-09-20T23:30:00Z", "draft": True},
        {"tag_name": "2026.9.0", "published_at": "2026-09-03T10:00:00Z"},
        {"tag_name": "2026.8.2", "published_at": "2026-08-15T01:00:00Z"},  # bundled date wins
        {"tag_name": "nightly", "published_at": "2026-09-04T10:00:00Z"},
    ]
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path))
    releases = refresh_releases(url=url)
    assert releases.iloc[:3].to_dict("list") == {
        "version": ["2026.10.0", "2026.9.0", "2026.8.2"],
        "released_on": [
            pd.Timestamp(d, tz="UTC") for d in ("2026-10-02", "2026-09-03", "2026-08-14")
        ],
    }
    assert len(releases) == 271
    assert (tmp_path / "cloudflared-releases.csv").exists()
    assert load_releases(cached=True).equals(releases)


def test_refresh_releases_offline_raises(tmp_path: Path) -> None:
    with pytest.raises(TunnelframeError, match=r"GET http://127\.0\.0\.1:9/releases failed"):
        refresh_releases(url="http://127.0.0.1:9/releases", timeout=2, cache_dir=tmp_path)
    assert not (tmp_path / "cloudflared-releases.csv").exists()


def test_refresh_releases_rejects_non_list(github: tuple[str, type[_Releases]]) -> None:
    url, handler = github
    handler.pages[1] = {"message": "API rate limit exceeded"}
    with pytest.raises(SchemaError, match="expected a JSON array"):
        refresh_releases(url=url)


@pytest.mark.parametrize(
    ("releases", "message"),
    [
        (pd.DataFrame({"version": ["2025.1.0"]}), r"releases lacks column\(s\) \['released_on'\]"),
        (
            pd.DataFrame({"version": ["DEV"], "released_on": ["2025-01-01"]}),
            "releases row 0: version 'DEV' is not YYYY.M.PATCH",
        ),
        (
            pd.DataFrame(
                {"version": ["2025.1.0", "2025.2.0"], "released_on": ["2025-01-01", "soon"]}
            ),
            "releases row 1: released_on 'soon' is not a date",
        ),
        (
            pd.DataFrame(
                {"version": ["2025.1.0", "v2025.1.0"], "released_on": ["2025-01-01", "2025-01-02"]}
            ),
            r"releases gives two dates for \['2025.1.0'\]",
        ),
    ],
)
def test_bad_releases(releases: pd.DataFrame, message: str) -> None:
    frame = make_frame(conn_rows("a", "2025.1.0"))
    with pytest.raises(ValueError, match=message):
        version_drift(frame, releases=releases, as_of=AS_OF)


def test_releases_type_checked() -> None:
    with pytest.raises(TypeError, match="releases must be a DataFrame or a CSV path, got int"):
        version_drift(make_frame(conn_rows("a", "2025.1.0")), releases=3)  # type: ignore[arg-type]


def test_releases_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        version_drift(make_frame(conn_rows("a", "2024.4.0")), releases=tmp_path / "nope.csv")


def test_releases_from_csv_path(tmp_path: Path) -> None:
    path = tmp_path / "rel.csv"
    REL.to_csv(path, index=False)
    drift = version_drift(make_frame(conn_rows("a", "2024.4.0")), releases=path, as_of=AS_OF)
    assert one(drift, "a")["releases_behind"] == 3


# --------------------------------------------------------------------------------------------
# version_drift on the hand calendar

FLEET = make_frame(
    conn_rows("cur", "2025.3.0", clients=("2025.3.0",) * 4),
    conn_rows("build", "2025.3.0-2-gabc1234", clients=("2025.3.0-2-gabc1234",) * 2),
    conn_rows("oldbuild", "2025.1.0-4-gdeadbeef", tunnel="t2"),
    conn_rows("vpref", "v2024.4.0", tunnel="t2", clients=("2024.4.0", "2024.4.0")),
    conn_rows("gap-in", "2024.3.0", tunnel="t3"),
    conn_rows("gap-out", "2024.2.5", tunnel="t3"),
    conn_rows("old", "2024.2.1", tunnel="t4", clients=("2024.2.1", "2024.1.0")),
    conn_rows("ancient", "2023.6.0", tunnel="t4"),
    conn_rows("dev", "DEV", tunnel="t5"),
)

# connector: released_on, releases_behind, days_behind, age_days, supported, status
EXPECTED = {
    "cur": ("2025-03-01", 0, 0, 92, True, "current"),
    "build": ("2025-03-01", 0, 0, 92, True, "current"),
    "oldbuild": ("2025-01-20", 1, 40, 132, True, "behind"),
    "vpref": ("2024-04-15", 3, 320, 412, True, "behind"),
    "gap-in": (None, 4, NA, NA, True, "behind"),  # released in [2024-03-01, 2024-03-31]
    "gap-out": (None, 4, NA, NA, False, "unsupported"),  # released in [2024-02-20, 2024-02-29]
    "old": ("2024-02-20", 4, 375, 467, False, "unsupported"),
    "ancient": (None, 7, NA, NA, False, "unsupported"),  # June 2023, before the calendar
    "dev": (None, NA, NA, NA, NA, "unknown"),
}


def test_version_drift_hand_calendar() -> None:
    drift = version_drift(FLEET, releases=REL, as_of=AS_OF)
    assert list(drift["connector_id"]) == list(EXPECTED)
    for connector_id, (released, behind, days, age, supported, status) in EXPECTED.items():
        row = one(drift, connector_id)
        assert row["released_on"] == (released and pd.Timestamp(released, tz="UTC"))
        assert (row["releases_behind"], row["days_behind"], row["age_days"]) == (
            behind,
            days,
            age,
        ), connector_id
        assert row["supported"] is supported, connector_id
        assert row["status"] == status, connector_id
    assert set(drift["latest_version"]) == {"2025.3.0"}
    assert one(drift, "vpref")["version"] == "v2024.4.0"


def test_version_drift_dtypes_and_columns() -> None:
    drift = version_drift(FLEET, releases=REL, as_of=AS_OF)
    assert {c: str(t) for c, t in drift.dtypes.items()} == {
        c: str(t) for c, t in VERSION_DRIFT_COLUMNS.items()
    }
    assert list(drift["status"].cat.categories) == ["current", "behind", "unsupported", "unknown"]


def test_version_drift_empty_frame_keeps_schema() -> None:
    drift = version_drift(FLEET.iloc[:0], releases=REL, as_of=AS_OF)
    assert len(drift) == 0
    assert {c: str(t) for c, t in drift.dtypes.items()} == {
        c: str(t) for c, t in VERSION_DRIFT_COLUMNS.items()
    }


def test_version_drift_does_not_modify_input() -> None:
    before = FLEET.copy(deep=True)
    version_drift(FLEET, releases=REL, as_of=AS_OF)
    pd.testing.assert_frame_equal(FLEET, before)


def test_version_drift_plain_text_columns_give_same_answer() -> None:
    plain = FLEET.astype({"version": object, "client_version": "string", "connector_id": object})
    a = version_drift(FLEET, releases=REL, as_of=AS_OF)
    b = version_drift(plain, releases=REL, as_of=AS_OF)
    for column in ("connector_id", "version"):
        assert list(a[column]) == list(b[column])
    pd.testing.assert_frame_equal(
        a.drop(columns=["connector_id", "version"]), b.drop(columns=["connector_id", "version"])
    )


def test_support_boundary_on_a_listed_release() -> None:
    # latest 2025.3.0 pinned to 2025-05-20: window starts 2024-05-20, the day of 2024.5.0
    frame = make_frame(conn_rows("a", "2024.5.0"), conn_rows("b", "2024.4.0"))
    drift = version_drift(frame, releases=REL, latest=("2025.3.0", "2025-05-20"), as_of=AS_OF)
    assert one(drift, "a")["supported"] is True
    assert one(drift, "a")["days_behind"] == 365
    assert one(drift, "b")["supported"] is False
    assert one(drift, "b")["status"] == "unsupported"


def test_support_boundary_readme_example() -> None:
    # cloudflared's README: in January 2023, 2022.1.1 to 2023.1.1 were supported. In the bundled
    # calendar 2023.1.0 is of 2023-01-12, 2022.1.1 of 2022-01-12, 2022.1.0 of 2022-01-06.
    frame = make_frame(
        conn_rows("a", "2022.1.1"), conn_rows("b", "2022.1.0"), conn_rows("c", "2023.1.0")
    )
    drift = version_drift(frame, as_of="2023-01-31")
    assert set(drift["latest_version"]) == {"2023.1.0"}
    assert [one(drift, c)["supported"] for c in "abc"] == [True, False, True]
    assert [one(drift, c)["status"] for c in "abc"] == ["behind", "unsupported", "current"]


def test_latest_defaults_to_newest_release_by_as_of() -> None:
    frame = make_frame(conn_rows("a", "2025.1.0"), conn_rows("b", "2024.5.0"))
    drift = version_drift(frame, releases=REL, as_of="2025-02-01")
    # latest is 2025.1.0 (2025-01-20): 2025.3.0 was not out yet; window from 2024-01-20
    assert set(drift["latest_version"]) == {"2025.1.0"}
    assert one(drift, "a")["status"] == "current"
    assert (one(drift, "b")["releases_behind"], one(drift, "b")["days_behind"]) == (1, 245)


def test_latest_missing_from_calendar_bounds_the_window() -> None:
    # latest 2025.5.0 is not in REL: released in May 2025 (after 2025-03-01), so the window
    # starts somewhere in [2024-05-01, 2024-05-31]: 2024.5.0 (2024-05-20) is undecidable.
    frame = make_frame(
        conn_rows("a", "2024.5.0"),
        conn_rows("b", "2024.4.0"),
        conn_rows("c", "2025.3.0"),
        conn_rows("d", "2025.5.0"),
    )
    drift = version_drift(frame, releases=REL, latest="2025.5.0", as_of=AS_OF)
    assert set(drift["latest_version"]) == {"2025.5.0"}
    a, b, c, d = (one(drift, x) for x in "abcd")
    assert (a["releases_behind"], a["supported"], a["status"]) == (3, NA, "behind")
    assert (b["releases_behind"], b["supported"], b["status"]) == (4, False, "unsupported")
    assert (c["releases_behind"], c["supported"], c["days_behind"]) == (1, True, NA)
    assert (d["releases_behind"], d["supported"], d["status"]) == (0, True, "current")


def test_latest_capped_by_as_of() -> None:
    # latest 2025.6.0 is missing: released in June 2025, and by as_of (2025-06-10), so in
    # [2025-06-01, 2025-06-10]; the window starts in [2024-06-01, 2024-06-10]. 2024.6.1 of
    # 2024-06-12 is inside it either way (without the as_of cap it would be undecidable);
    # 2024.5.0 of 2024-05-20 is outside it either way.
    releases = pd.concat(
        [REL, pd.DataFrame({"version": ["2024.6.1"], "released_on": ["2024-06-12"]})]
    )
    frame = make_frame(conn_rows("a", "2024.6.1"), conn_rows("b", "2024.5.0"))
    drift = version_drift(frame, releases=releases, latest="2025.6.0", as_of="2025-06-10")
    assert one(drift, "a")["supported"] is True
    assert one(drift, "b")["supported"] is False
    later = version_drift(frame, releases=releases, latest="2025.6.0", as_of="2025-07-01")
    assert one(later, "a")["supported"] is NA


def test_invalid_latest_and_as_of() -> None:
    frame = make_frame(conn_rows("a", "2025.1.0"))
    with pytest.raises(ValueError, match="latest='DEV' is not a cloudflared version"):
        version_drift(frame, releases=REL, latest="DEV", as_of=AS_OF)
    with pytest.raises(ValueError, match="as_of='someday' is not a time"):
        version_drift(frame, releases=REL, as_of="someday")
    with pytest.raises(ValueError, match=r"no release on or before as_of \(2023-01-01\)"):
        version_drift(frame, releases=REL, as_of="2023-01-01")


def test_stale_calendar_warns_once_and_counts_as_current() -> None:
    frame = make_frame(
        conn_rows("a", "2025.5.1"),
        conn_rows("b", "2025.4.0-3-gabcdef12"),
        conn_rows("c", "2025.1.0"),
    )
    with pytest.warns(StaleReleasesWarning) as record:
        drift = version_drift(frame, releases=REL, as_of=AS_OF)
    assert len(record) == 2  # the versions newer than the calendar, and its age
    assert str(record[1].message).startswith("The release calendar ends at 2025.3.0")
    message = str(record[0].message)
    assert "2 connector(s) run versions newer than the latest known release 2025.3.0" in message
    assert "(2025.5.1, 2025.4.0-3-gabcdef12)" in message
    assert "refresh_releases()" in message and "latest=" in message
    assert record[0].filename == __file__
    for connector_id in "ab":
        row = one(drift, connector_id)
        assert (row["status"], row["releases_behind"], row["days_behind"]) == ("current", 0, 0)
        assert row["supported"] is True and row["released_on"] is None
    assert one(drift, "c")["releases_behind"] == 1


def test_latest_older_than_calendar_warns_about_newer_versions() -> None:
    frame = make_frame(conn_rows("a", "2025.3.0"), conn_rows("b", "2024.4.0"))
    with pytest.warns(StaleReleasesWarning, match="latest known release 2024.5.0 \\(2025.3.0\\)"):
        drift = version_drift(frame, releases=REL, latest="2024.5.0", as_of=AS_OF)
    a, b = one(drift, "a"), one(drift, "b")
    assert (a["status"], a["released_on"]) == ("current", pd.Timestamp("2025-03-01", tz="UTC"))
    assert (b["releases_behind"], b["days_behind"], b["supported"]) == (1, 35, True)


def test_client_version_mismatch_and_fallback() -> None:
    frame = make_frame(
        conn_rows("same", "2025.3.0", clients=("2025.3.0", "v2025.3.0", None)),
        conn_rows("differs", "2025.3.0", clients=("2025.3.0", "2025.1.0")),
        conn_rows("noversion", None, clients=(None, "2025.1.0", "2025.1.0")),
        conn_rows("noversion-mixed", None, clients=("2024.4.0", "2025.1.0")),
        conn_rows("nothing", None, clients=(None,)),
        conn_rows("idle", "2025.1.0"),
    )
    drift = version_drift(frame, releases=REL, as_of=AS_OF)
    assert list(drift["client_version_mismatch"]) == [False, True, False, True, False, False]
    assert list(drift["version"].astype(object).fillna("-")) == [
        "2025.3.0",
        "2025.3.0",
        "2025.1.0",
        "2024.4.0",
        "-",
        "2025.1.0",
    ]
    assert list(drift["status"]) == ["current", "current", "behind", "behind", "unknown", "behind"]


def test_mixed_versions_in_tunnel() -> None:
    frame = make_frame(
        conn_rows("a1", "2025.3.0", tunnel="A"),
        conn_rows("a2", "v2025.3.0", tunnel="A"),  # same version, other spelling
        conn_rows("b1", "2025.3.0", tunnel="B"),
        conn_rows("b2", "DEV", tunnel="B"),
        conn_rows("c1", "2025.3.0", tunnel="C"),
        conn_rows("c2", "2025.3.0-1-gabcdef12", tunnel="C"),
        conn_rows("d1", "2025.1.0", tunnel="D"),
        conn_rows("d2", None, tunnel="D"),  # no version: not a second version
        conn_rows("e1", "2025.1.0", tunnel="E", account="acc1"),
        conn_rows("e2", "2024.4.0", tunnel="E", account="acc2"),  # same id, other account
    )
    drift = version_drift(frame, releases=REL, as_of=AS_OF)
    assert dict(zip(drift["connector_id"], drift["mixed_versions_in_tunnel"], strict=True)) == {
        "a1": False,
        "a2": False,
        "b1": True,
        "b2": True,
        "c1": True,
        "c2": True,
        "d1": False,
        "d2": False,
        "e1": False,
        "e2": False,
    }


def test_one_row_per_connector_in_order_with_idle_ones() -> None:
    frame = make_frame(
        conn_rows("x", "2025.1.0", clients=("2025.1.0",) * 4),
        conn_rows("idle", "2024.4.0"),
        conn_rows("y", "2025.3.0", tunnel="t2", clients=("2025.3.0",) * 2),
    )
    shuffled = frame.iloc[[0, 5, 1, 4, 2, 6, 3]]
    drift = version_drift(shuffled, releases=REL, as_of=AS_OF)
    assert list(drift["connector_id"]) == ["x", "y", "idle"]
    assert list(drift["tunnel_id"]) == ["t1", "t2", "t1"]
    assert list(drift["tunnel_name"]) == ["name-t1", "name-t2", "name-t1"]


def test_tunnel_placeholder_rows_are_not_connectors() -> None:
    frame = make_frame(conn_rows("a", "2025.1.0"), conn_rows(None, None, tunnel="empty"))
    drift = version_drift(frame, releases=REL, as_of=AS_OF)
    assert list(drift["connector_id"]) == ["a"]


def test_version_drift_frame_errors() -> None:
    with pytest.raises(TypeError, match="version_drift expects a connections frame"):
        version_drift(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"frame lacks column\(s\) connector_id"):
        version_drift(pd.DataFrame({"version": ["2025.1.0"]}))


def test_version_drift_on_connections_frame() -> None:
    def conns(cid: str, version: str, n: int) -> list[dict[str, Any]]:
        return [
            {"id": f"{cid}-{i}", "client_id": cid, "client_version": version, "colo_name": "DFW"}
            for i in range(n)
        ]

    fleet = {
        "tunnels": [
            {
                "id": "t1",
                "account_tag": "acc",
                "name": "web",
                "connectors": [
                    {"id": "c1", "version": "2026.8.2", "conns": conns("c1", "2026.8.2", 4)},
                    {"id": "c2", "version": "2025.10.1", "conns": conns("c2", "2025.10.0", 2)},
                ],
            },
            {
                "id": "t2",
                "account_tag": "acc",
                "name": "db",
                "connectors": [{"id": "c3", "version": "2024.2.1", "conns": []}],
            },
        ]
    }
    drift = version_drift(tf.connections_frame(fleet), as_of="2026-09-01")
    # bundled calendar: 2026.8.2 of 2026-08-14 is the latest; window from 2025-08-14.
    # 2025.10.1 (2025-10-30): 19 releases after it; 2024.2.1 (2024-02-20): 59 after it.
    assert list(drift["connector_id"]) == ["c1", "c2", "c3"]
    assert list(drift["releases_behind"]) == [0, 19, 59]
    assert list(drift["days_behind"]) == [0, 288, 906]
    assert list(drift["age_days"]) == [18, 306, 924]
    assert list(drift["status"]) == ["current", "behind", "unsupported"]
    assert list(drift["client_version_mismatch"]) == [False, True, False]
    assert list(drift["mixed_versions_in_tunnel"]) == [True, True, False]


# --------------------------------------------------------------------------------------------
# version_summary

SUMMARY_FLEET = make_frame(
    conn_rows("c1", "2025.3.0", tunnel="T1", clients=("2025.3.0",) * 4),
    conn_rows("c2", "2024.2.1", tunnel="T1"),
    conn_rows("c3", "2025.3.0", tunnel="T2"),
    conn_rows("c4", "2025.1.0", tunnel="T2"),
    conn_rows("c5", "DEV", tunnel="T3"),
    conn_rows("c6", "2024.4.0", tunnel="T3"),
)


def test_version_summary_numbers() -> None:
    summary = version_summary(SUMMARY_FLEET, releases=REL, as_of=AS_OF)
    assert (summary.n_connectors, summary.n_tunnels) == (6, 3)
    assert summary.latest_version == "2025.3.0"
    assert summary.as_of == pd.Timestamp(AS_OF, tz="UTC")
    assert summary.current_share == pytest.approx(2 / 6)
    assert summary.behind_share == pytest.approx(2 / 6)
    assert summary.unsupported_share == pytest.approx(1 / 6)
    assert summary.unknown_share == pytest.approx(1 / 6)
    # releases behind of known versions: 0, 4, 0, 1, 3 -> median 1
    assert summary.median_releases_behind == 1.0
    assert summary.oldest_version == "2024.2.1"


def test_version_summary_by_version() -> None:
    by_version = version_summary(SUMMARY_FLEET, releases=REL, as_of=AS_OF).by_version
    assert by_version["version"].tolist() == ["2025.3.0", "2025.1.0", "2024.4.0", "2024.2.1", "DEV"]
    assert by_version["n_connectors"].tolist() == [2, 1, 1, 1, 1]
    assert by_version["share"].tolist() == pytest.approx([2 / 6] + [1 / 6] * 4)
    assert [plain(x) for x in by_version["releases_behind"]] == [0, 1, 3, 4, NA]
    assert by_version["status"].tolist() == [
        "current",
        "behind",
        "behind",
        "unsupported",
        "unknown",
    ]


def test_version_summary_by_tunnel() -> None:
    by_tunnel = version_summary(SUMMARY_FLEET, releases=REL, as_of=AS_OF).by_tunnel
    assert by_tunnel.astype(object).to_dict("list") == {
        "account_id": ["acc1"] * 3,
        "tunnel_id": ["T1", "T3", "T2"],  # oldest version first
        "tunnel_name": ["name-T1", "name-T3", "name-T2"],
        "n_connectors": [2, 2, 2],
        "n_versions": [2, 2, 2],
        "oldest_version": ["2024.2.1", "2024.4.0", "2025.1.0"],
        "newest_version": ["2025.3.0", "2024.4.0", "2025.3.0"],
        "n_unsupported": [1, 0, 0],
    }


def test_version_summary_dtypes() -> None:
    for frame in (SUMMARY_FLEET, SUMMARY_FLEET.iloc[:0]):
        summary = version_summary(frame, releases=REL, as_of=AS_OF)
        for got, declared in (
            (summary.by_version, _BY_VERSION_COLUMNS),
            (summary.by_tunnel, _BY_TUNNEL_COLUMNS),
        ):
            assert {c: str(t) for c, t in got.dtypes.items()} == {
                c: str(t) for c, t in declared.items()
            }


def test_version_summary_missing_versions_and_empty() -> None:
    frame = make_frame(conn_rows("a", None), conn_rows("b", "2025.1.0"))
    summary = version_summary(frame, releases=REL, as_of=AS_OF)
    assert summary.by_version["version"].astype(object).fillna("-").tolist() == ["2025.1.0", "-"]
    assert summary.by_version["n_connectors"].tolist() == [1, 1]
    empty = version_summary(SUMMARY_FLEET.iloc[:0], releases=REL, as_of=AS_OF)
    assert (empty.n_connectors, empty.n_tunnels, empty.oldest_version) == (0, 0, None)
    assert np.isnan(empty.current_share) and np.isnan(empty.median_releases_behind)
    assert len(empty.by_version) == 0 and len(empty.by_tunnel) == 0
    assert list(empty.by_tunnel.columns) == list(summary.by_tunnel.columns)


def test_version_summary_repr() -> None:
    summary = version_summary(SUMMARY_FLEET, releases=REL, as_of=AS_OF)
    text = repr(summary)
    assert text.startswith("VersionSummary: 6 connectors in 3 tunnels, latest release 2025.3.0")
    assert "current 33.3% | behind 33.3% | unsupported 16.7% | unknown 16.7%" in text
    assert "oldest version in use 2024.2.1" in text
    assert text.split("\n")[1].startswith("stale calendar: The release calendar ends at 2025.3.0")
    assert "33.3%" in text.split("\n")[6]  # the by_version table shows shares as percentages
    html = summary._repr_html_()
    assert "<table" in html and "2024.2.1" in html and "16.7%" in html


def test_version_summary_warns_once() -> None:
    frame = make_frame(conn_rows("a", "2025.9.0"), conn_rows("b", "2025.9.0"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        summary = version_summary(frame, releases=REL, as_of=AS_OF)
    assert [type(w.message) for w in record] == [StaleReleasesWarning] * 2  # newer; age
    assert summary.current_share == 1.0


# --------------------------------------------------------------------------------------------
# config_drift

CONFIG_FLEET = make_frame(
    conn_rows(
        "a",
        "2025.3.0",
        tunnel="R",
        config_version=7,
        run_at="2025-05-01T00:00:00Z",
        clients=("x", "x"),
    ),
    conn_rows(
        "b", "2025.3.0", tunnel="R", config_version=5, run_at="2025-04-01T00:00:00Z", clients=("x",)
    ),
    conn_rows("c", "2025.3.0", tunnel="R", config_version=None),
    conn_rows("d", "2025.3.0", tunnel="L", config_version=0),
    conn_rows("e", "2025.3.0", tunnel="L", config_version=0),
    conn_rows("f", "2025.3.0", tunnel="X", config_version=3),
    conn_rows("g", "2025.1.0", tunnel="X", config_version=2),
)


def test_config_drift_without_tunnel_info() -> None:
    drift = config_drift(CONFIG_FLEET)
    assert drift.astype(object).to_dict("list") == {
        "account_id": ["acc1", "acc1"],
        "tunnel_id": ["R", "X"],
        "tunnel_name": ["name-R", "name-X"],
        "connector_id": ["b", "g"],
        "version": ["2025.3.0", "2025.1.0"],
        "run_at": [pd.Timestamp("2025-04-01", tz="UTC"), pd.NaT],
        "config_version": [5, 2],
        "tunnel_config_version": [7, 3],
        "config_versions_behind": [2, 1],
    }
    assert {c: str(t) for c, t in drift.dtypes.items()} == {
        c: str(t) for c, t in CONFIG_DRIFT_COLUMNS.items()
    }


def test_config_drift_keeps_remotely_managed_tunnels() -> None:
    tunnels = pd.DataFrame(
        {
            "tunnel_id": ["R", "L", "X"],
            "remote_config": [True, False, False],
            "config_src": ["cloudflare", "local", "local"],
        }
    )
    assert config_drift(CONFIG_FLEET, tunnels=tunnels)["connector_id"].tolist() == ["b"]
    with pytest.raises(ValueError, match="tunnels lacks remote_config and config_src"):
        config_drift(CONFIG_FLEET, tunnels=tunnels[["tunnel_id"]])


def test_config_drift_empty_keeps_schema() -> None:
    drift = config_drift(CONFIG_FLEET.iloc[:0])
    assert len(drift) == 0
    assert {c: str(t) for c, t in drift.dtypes.items()} == {
        c: str(t) for c, t in CONFIG_DRIFT_COLUMNS.items()
    }


def test_config_drift_on_sample_matches_its_definition() -> None:
    # the simulator makes lagging connectors only in remotely managed tunnels
    sample = tf.load_sample()
    with_info = config_drift(tf.connections_frame(sample), tunnels=tf.tunnels_frame(sample))
    assert len(with_info) > 0
    assert (with_info["config_version"] < with_info["tunnel_config_version"]).all()


def test_public_names_exported() -> None:
    for name in versions.__all__:
        assert getattr(tf, name) is getattr(versions, name)


def test_a_warp_connector_version_is_unknown_not_a_cloudflared_release() -> None:
    # WARP Connector reports the WARP client's version (YEAR.MONTH.BUILD.N); even one that
    # happens to look like a cloudflared version is not measured against cloudflared's releases.
    frame = pd.DataFrame(
        {
            "tunnel_id": ["t1", "w1", "w1", "w2"],
            "connector_id": ["c1", "m1", "m2", "m3"],
            "version": ["2026.8.2", "2025.2.600.0", "2025.1.861.0", "2024.6.1"],
            "tun_type": ["cfd_tunnel", "warp_connector", "warp_connector", "warp_connector"],
        }
    )
    drift = tf.version_drift(frame, as_of="2026-08-20")
    assert drift["status"].astype(str).tolist() == ["current", "unknown", "unknown", "unknown"]
    assert drift["releases_behind"].isna().tolist() == [False, True, True, True]
    assert drift["supported"].isna().tolist() == [False, True, True, True]
    assert drift["version"].astype(str).tolist() == frame["version"].tolist()
    assert drift["mixed_versions_in_tunnel"].tolist() == [False, True, True, False]
    # Without tun_type (an old frame) the 3-part version is read as cloudflared's.
    old = tf.version_drift(frame.drop(columns="tun_type"), as_of="2026-08-20")
    assert old["status"].astype(str).tolist()[3] == "unsupported"


def test_bundled_calendar_dates_are_the_tags_utc_day() -> None:
    # The five dates corrected in the shared release list (issue #11): the tag's UTC day.
    releases = tf.load_releases().set_index("version")["released_on"]
    expected = {
        "2019.9.0": "2019-09-06",
        "2019.12.0": "2019-12-19",
        "2020.8.1": "2020-08-20",
        "2020.11.6": "2020-11-15",
        "2022.6.0": "2022-06-15",
    }
    got = {version: releases[version].strftime("%Y-%m-%d") for version in expected}
    assert got == expected


def test_drift_and_summary_version_columns_are_ordered_by_release() -> None:
    frame = pd.DataFrame(
        {
            "connector_id": ["a", "b", "c"],
            "tunnel_name": ["t", "t", "u"],
            "version": ["2025.10.1", "DEV", "2025.9.0"],
        }
    )
    drift = tf.version_drift(frame, as_of="2026-01-01")
    assert drift["version"].dtype.ordered
    assert drift["version"].max() == "2025.10.1"
    assert drift["version"].min() == "DEV"
    summary = tf.version_summary(frame, as_of="2026-01-01")
    assert summary.by_tunnel["newest_version"].dtype.ordered
    assert summary.by_version["version"].dtype.ordered


def test_version_summary_reprs_are_truncated_and_formatted() -> None:
    versions = [f"2025.{m}.{p}" for m in range(1, 10) for p in range(3)]
    frame = pd.DataFrame({"connector_id": [f"c{i}" for i in range(len(versions))],
                          "version": versions})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = tf.version_summary(frame, as_of="2026-01-01")
    text = repr(summary)
    assert f"… {len(summary.by_version) - 10} more version(s) in .by_version" in text
    assert "+00:00" not in text and "3.703704" not in text
    assert " 3.7%" in text
    html = summary._repr_html_()
    assert "+00:00" not in html and html.count("<tr") == 21  # header + 20 rows
    assert f"… {len(summary.by_version) - 20} more version(s)" in html


def test_refresh_releases_refuses_a_release_dated_before_its_month(
    github: tuple[str, type[_Releases]], tmp_path: Path
) -> None:
    url, handler = github
    handler.pages[1] = [
        {"tag_name": "2099.12.0", "published_at": "2026-10-02T09:00:00Z"},  # a lie
        {"tag_name": "2026.10.0", "published_at": "2026-09-30T23:30:00Z"},  # a day early: TZ
        {"tag_name": "2026.9.0", "published_at": "2026-09-03T10:00:00Z"},
    ]
    releases = refresh_releases(url=url, cache_dir=tmp_path)
    assert releases["version"].iloc[:2].tolist() == ["2026.10.0", "2026.9.0"]
    assert "2099.12.0" not in set(releases["version"])


def test_refresh_releases_has_a_total_deadline(tmp_path: Path) -> None:
    import time

    from conftest import hostile

    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        ends = time.monotonic() + 60
        while time.monotonic() < ends:  # a header a byte at a time, never idle for long
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.01)

    started = time.monotonic()
    with hostile(drip) as url, pytest.raises(TunnelframeError, match="within 1 s"):
        refresh_releases(url=url + "/releases", timeout=5, deadline=1, cache_dir=tmp_path)
    assert time.monotonic() - started < 15
    assert not (tmp_path / "cloudflared-releases.csv").exists()


def test_refresh_releases_caps_the_size_of_a_page(tmp_path: Path) -> None:
    from conftest import hostile, reply

    huge = [{"tag_name": "2026.9.0", "published_at": "2026-09-03T10:00:00Z", "x": "y" * 999}]

    def answer(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, huge * 20_000, {"Content-Type": "application/json"})  # 20 MB

    with hostile(answer) as url, pytest.raises(TunnelframeError, match="larger than 16777216"):
        refresh_releases(url=url + "/releases", cache_dir=tmp_path)


def test_refresh_releases_follows_no_redirect_to_plain_http_on_another_host(
    tmp_path: Path,
) -> None:
    from conftest import hostile, reply

    followed: list[str] = []

    def target(handler: BaseHTTPRequestHandler) -> None:
        followed.append(handler.path)
        reply(handler, 200, [])

    with hostile(target) as other:
        elsewhere = other.replace("127.0.0.1", "localhost")  # another host, plain http

        def redirect(handler: BaseHTTPRequestHandler) -> None:
            reply(handler, 302, b"", {"Location": elsewhere + "/releases"})

        with (
            hostile(redirect) as url,
            pytest.raises(TunnelframeError, match=r"HTTP 302, a redirect to .* is not followed"),
        ):
            refresh_releases(url=url + "/releases", cache_dir=tmp_path)
    assert followed == []
