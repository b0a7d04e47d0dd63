"""Tests for tunnelframe.colos: colo lookup, distribution, edge strings, HA verdicts, ages.

Most tests run on small hand-made connections frames with the declared dtypes (built by
``_frame``); every expected number below is counted by hand from the rows listed in the test.
A few tests cross-check against real ``connections_frame`` output of the simulator.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe import colos
from tunnelframe.frames import CONNECTIONS_SCHEMA, CONNECTORS_SCHEMA

# These tests judge synthetic connections frames at the tunnel level on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::tunnelframe.PartialFleetWarning")

# Text columns the colos functions make carry the frames' string dtype.
_STR = str(pd.Series([], dtype=CONNECTORS_SCHEMA["edges"]).dtype)

_DEFAULTS: dict[str, Any] = {
    "account_id": "acc1",
    "tunnel_status": "healthy",
    "arch": "linux_amd64",
    "version": "2026.8.2",
    "config_version": 0,
    "run_at": "2026-08-01T00:00:00Z",
    "features": "ha-origin",
    "origin_ip": "192.0.2.1",
}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A connections frame with the declared columns and dtypes from short row dicts.

    A row with a ``colo_name`` is a connection (its ``connection_id`` defaults to ``c<row>``
    and ``is_pending_reconnect`` to False); a row without one is an idle connector, or a bare
    tunnel when it has no ``connector_id`` either.
    """
    records = []
    for i, row in enumerate(rows):
        record = {**_DEFAULTS, **row}
        if record.get("colo_name") is not None:
            record.setdefault("connection_id", f"c{i}")
            record.setdefault("is_pending_reconnect", False)
            record.setdefault("opened_at", record["run_at"])
        records.append(record)
    raw = pd.DataFrame.from_records(records, columns=list(CONNECTIONS_SCHEMA))
    columns = {}
    for column, dtype in CONNECTIONS_SCHEMA.items():
        values = raw[column].astype(object).where(raw[column].notna(), None)
        if str(dtype).startswith("datetime64"):
            columns[column] = pd.to_datetime(values, utc=True).astype(dtype)
        else:
            columns[column] = pd.Series(values.tolist(), dtype=dtype)
    return pd.DataFrame(columns)


def _conns(
    tunnel: str, connector: str, colos_: list[str], *, pending: bool = False, **extra: Any
) -> list[dict[str, Any]]:
    return [
        {
            "tunnel_id": tunnel,
            "tunnel_name": f"{tunnel}-name",
            "connector_id": connector,
            "colo_name": colo,
            "is_pending_reconnect": pending,
            **extra,
        }
        for colo in colos_
    ]


def _fleet_frame() -> pd.DataFrame:
    """Four tunnels, six connectors:

    - T1 (acc1, API healthy): A holds DFW, DFW, IAH, IAH; B holds DFW, IAH, IAH and a pending
      reconnect to AUS.
    - T2 (acc1, API healthy): C holds LHR x4.
    - T3 (acc2, API healthy): D (started 2026-07-01) has only pending reconnects FRA, FRA,
      AMS, AMS; E (started 2026-08-19T18:00) holds FRA, FRA, AMS, AMS: D was replaced.
    - T4 (acc2, API healthy): F is idle (listed, no connection).
    """
    return _frame(
        [
            *_conns("T1", "A", ["DFW", "DFW", "IAH", "IAH"], opened_at="2026-08-19T12:00:00Z"),
            *_conns("T1", "B", ["DFW", "IAH", "IAH"], opened_at="2026-08-19T18:00:00Z"),
            *_conns("T1", "B", ["AUS"], pending=True),
            *_conns("T2", "C", ["LHR"] * 4),
            *_conns(
                "T3",
                "D",
                ["FRA", "FRA", "AMS", "AMS"],
                pending=True,
                account_id="acc2",
                run_at="2026-07-01T00:00:00Z",
            ),
            *_conns(
                "T3",
                "E",
                ["FRA", "FRA", "AMS", "AMS"],
                account_id="acc2",
                run_at="2026-08-19T18:00:00Z",
            ),
            {
                "tunnel_id": "T4",
                "tunnel_name": "T4-name",
                "connector_id": "F",
                "account_id": "acc2",
            },
        ]
    )


def _empty() -> pd.DataFrame:
    return _frame([])


# --------------------------------------------------------------------------- colo_info


def test_colo_info_known_airport() -> None:
    info = colos.colo_info(["DFW"])
    assert list(info.index) == ["DFW"]
    assert info.index.name == "colo_name"
    row = info.loc["DFW"]
    assert row["city"] == "Dallas"
    assert row["metro"] == "DFW"
    assert row["site_number"] is pd.NA
    assert row["country"] == "US"
    assert row["region"] == "North America"
    # DFW airport sits at about 32.9 N, 97.0 W.
    assert row["latitude"] == pytest.approx(32.9, abs=0.1)
    assert row["longitude"] == pytest.approx(-97.0, abs=0.1)


@pytest.mark.parametrize(
    ("code", "country", "region"),
    [
        ("LHR", "GB", "Europe"),
        ("GRU", "BR", "South America"),  # America/Sao_Paulo, but south of Panama
        ("EZE", "AR", "South America"),
        ("MEX", "MX", "North America"),
        ("PTY", "PA", "North America"),  # Central America goes with North America
        ("HNL", "US", "North America"),  # Pacific/Honolulu, but the US
        ("DXB", "AE", "Middle East"),  # Asia/Dubai, but the Gulf
        ("TLV", "IL", "Middle East"),
        ("IST", "TR", "Europe"),  # Europe/Istanbul
        ("CAI", "EG", "Africa"),  # Egypt stays in Africa
        ("JNB", "ZA", "Africa"),
        ("MRU", "MU", "Africa"),  # Indian/Mauritius
        ("KEF", "IS", "Europe"),  # Atlantic/Reykjavik
        ("LCA", "CY", "Europe"),  # Asia/Nicosia, but Cyprus
        ("DME", "RU", "Europe"),  # Europe/Moscow
        ("KJA", "RU", "Asia"),  # Asia/Krasnoyarsk: Russia splits at the Urals
        ("SIN", "SG", "Asia"),
        ("SYD", "AU", "Oceania"),  # Australia/Sydney
        ("AKL", "NZ", "Oceania"),  # Pacific/Auckland
    ],
)
def test_colo_info_region(code: str, country: str, region: str) -> None:
    row = colos.colo_info([code]).loc[code]
    assert (row["country"], row["region"]) == (country, region)


@pytest.mark.parametrize(
    ("code", "city", "country", "region", "lat", "lon"),
    [
        ("QWJ", "Americana", "BR", "South America", -22.7, -47.3),
        ("KIV", "Chișinău", "MD", "Europe", 46.9, 28.9),
        ("ZDM", "Ramallah", "PS", "Middle East", 31.9, 35.2),
        ("PNH", "Phnom Penh", "KH", "Asia", 11.5, 104.8),
    ],
)
def test_colo_info_cloudflare_codes_outside_airportsdata(
    code: str, city: str, country: str, region: str, lat: float, lon: float
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = colos.colo_info([code]).loc[code]
    assert (row["city"], row["country"], row["region"]) == (city, country, region)
    assert row["latitude"] == pytest.approx(lat, abs=0.1)
    assert row["longitude"] == pytest.approx(lon, abs=0.1)


def test_colo_info_cloudflare_table_is_well_formed() -> None:
    path = tf._data._data_path("colos.csv")
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] == "#"]
    assert any("speed.cloudflare.com/locations" in line for line in header)  # says its source
    table = pd.read_csv(path, comment="#", keep_default_na=False)
    assert list(table.columns) == ["code", "city", "country", "latitude", "longitude", "tz"]
    assert table["code"].str.fullmatch("[A-Z]{3}").all()
    assert table["code"].is_unique
    assert len(table) > 300  # Cloudflare names ~340 metros
    assert table["country"].str.fullmatch("[A-Z]{2}").all()
    assert table["latitude"].between(-90, 90).all()
    assert table["longitude"].between(-180, 180).all()
    assert (table["city"].str.len() > 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = colos.colo_info(table["code"])
    assert info["region"].notna().all()


@pytest.mark.parametrize(
    ("code", "city", "country", "region"),
    [
        ("SJU", "San Juan", "PR", "North America"),  # Cloudflare (and ISO 3166): PR, not US
        ("FRU", "Bishkek", "KG", "Asia"),  # not an airport code in airportsdata
        ("JXG", "Jiaxing", "CN", "Asia"),
    ],
)
def test_colo_info_follows_cloudflares_list(
    code: str, city: str, country: str, region: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = colos.colo_info([code, f"{code.lower()}01"])
    assert list(info["city"]) == [city, city]
    assert list(info["country"]) == [country, country]
    assert list(info["region"]) == [region, region]


def test_colo_info_site_codes_resolve_through_their_metro() -> None:
    codes = ["ord02", "ord12", "ORD", "Ord06", " lax07 ", "mad06", "bos01"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = colos.colo_info(codes)
    assert list(info.index) == codes  # sites kept verbatim
    assert list(info["metro"]) == ["ORD", "ORD", "ORD", "ORD", "LAX", "MAD", "BOS"]
    assert list(info["site_number"]) == [2, 12, pd.NA, 6, 7, 6, 1]
    assert list(info["city"]) == ["Chicago"] * 4 + ["Los Angeles", "Madrid", "Boston"]
    assert list(info["country"]) == ["US"] * 5 + ["ES", "US"]
    chicago = info.loc[["ord02", "ord12", "ORD", "Ord06"], ["latitude", "longitude"]]
    assert len(chicago.drop_duplicates()) == 1  # one metro, one point


def test_colo_info_unknown_site_warns_without_editing_the_package() -> None:
    with pytest.warns(colos.UnknownColoWarning, match=r"'qqq01'.*Cloudflare colo code") as rec:
        info = colos.colo_info(["qqq01", "ord12"])
    assert "data/" not in str(rec[0].message)  # no advice to edit the installed package
    assert info.loc["qqq01", "metro"] == "QQQ"
    assert pd.isna(info.loc["qqq01", "country"])
    assert info.loc["ord12", "country"] == "US"


def test_colo_info_dedupes_keeps_order_and_types() -> None:
    info = colos.colo_info(pd.Series(["lhr", "DFW", None, "lhr", " sin "], dtype="category"))
    assert list(info.index) == ["lhr", "DFW", " sin "]
    assert list(info["city"]) == ["London", "Dallas", "Singapore"]
    assert list(info["metro"]) == ["LHR", "DFW", "SIN"]
    assert str(info["metro"].dtype) == _STR
    assert str(info["site_number"].dtype) == "Int64"
    assert str(info.index.dtype) == _STR
    assert str(info["city"].dtype) == _STR
    assert isinstance(info["country"].dtype, pd.CategoricalDtype)
    assert list(info["region"].cat.categories) == [
        "Africa",
        "Asia",
        "Europe",
        "Middle East",
        "North America",
        "Oceania",
        "South America",
    ]
    assert info["latitude"].dtype == np.float64
    assert info["longitude"].dtype == np.float64


def test_colo_info_one_string_is_one_code() -> None:
    assert list(colos.colo_info("AMS")["country"]) == ["NL"]


def test_colo_info_unknown_codes_are_na_with_one_warning() -> None:
    with pytest.warns(colos.UnknownColoWarning, match=r"2 colo code\(s\).*'XQX', 'ZZZ9'") as rec:
        info = colos.colo_info(["XQX", "DFW", "ZZZ9", "XQX"])
    assert len(rec) == 1
    assert issubclass(colos.UnknownColoWarning, UserWarning)
    assert list(info.index) == ["XQX", "DFW", "ZZZ9"]
    assert info.loc[["XQX", "ZZZ9"], ["city", "country", "region"]].isna().all().all()
    assert info.loc[["XQX", "ZZZ9"], ["latitude", "longitude"]].isna().all().all()
    assert info.loc["DFW", "country"] == "US"


def test_colo_info_empty() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = colos.colo_info([])
    assert info.empty
    assert list(info.columns) == [
        "metro",
        "site_number",
        "city",
        "country",
        "region",
        "latitude",
        "longitude",
    ]
    assert info["latitude"].dtype == np.float64


def test_colo_info_rejects_a_non_iterable() -> None:
    with pytest.raises(TypeError, match=r"colo_info expects colo codes.*got int"):
        colos.colo_info(5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- distribution


def _records(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in frame.astype(object).itertuples(index=False)]


def test_colo_distribution_fleet() -> None:
    # Active: DFW 2+1, IAH 2+2, LHR 4, FRA 2, AMS 2 = 15 (D's and B's pending ones left out).
    dist = colos.colo_distribution(_fleet_frame())
    assert list(dist.columns) == ["colo_name", "connections", "share"]
    assert list(dist["colo_name"]) == ["IAH", "LHR", "DFW", "AMS", "FRA"]
    assert list(dist["connections"]) == [4, 4, 3, 2, 2]
    assert list(dist["share"]) == pytest.approx([4 / 15, 4 / 15, 3 / 15, 2 / 15, 2 / 15])
    assert isinstance(dist["colo_name"].dtype, pd.CategoricalDtype)
    assert dist["connections"].dtype == np.int64
    assert dist["share"].dtype == np.float64


def test_colo_distribution_with_pending() -> None:
    # Plus B's AUS and D's FRA, FRA, AMS, AMS: 20 in all.
    dist = colos.colo_distribution(_fleet_frame(), active_only=False)
    assert list(dist["colo_name"]) == ["AMS", "FRA", "IAH", "LHR", "DFW", "AUS"]
    assert list(dist["connections"]) == [4, 4, 4, 4, 3, 1]
    assert float(dist["share"].sum()) == pytest.approx(1.0)
    assert float(dist["share"].iloc[-1]) == pytest.approx(1 / 20)


def test_colo_distribution_by_tunnel() -> None:
    dist = colos.colo_distribution(_fleet_frame(), by="tunnel")
    assert list(dist.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "colo_name",
        "connections",
        "share",
    ]
    assert _records(dist[["tunnel_id", "tunnel_name", "colo_name", "connections"]]) == [
        ("T1", "T1-name", "IAH", 4),
        ("T1", "T1-name", "DFW", 3),
        ("T2", "T2-name", "LHR", 4),
        ("T3", "T3-name", "AMS", 2),
        ("T3", "T3-name", "FRA", 2),
    ]
    assert list(dist["share"]) == pytest.approx([4 / 7, 3 / 7, 1.0, 0.5, 0.5])
    assert list(dist["account_id"]) == ["acc1", "acc1", "acc1", "acc2", "acc2"]


def test_colo_distribution_by_connector() -> None:
    dist = colos.colo_distribution(_fleet_frame(), by="connector")
    assert list(dist.columns[:4]) == ["account_id", "tunnel_id", "tunnel_name", "connector_id"]
    assert _records(dist[["connector_id", "colo_name", "connections"]]) == [
        ("A", "DFW", 2),
        ("A", "IAH", 2),
        ("B", "IAH", 2),
        ("B", "DFW", 1),
        ("C", "LHR", 4),
        ("E", "AMS", 2),
        ("E", "FRA", 2),
    ]
    assert list(dist["share"]) == pytest.approx([0.5, 0.5, 2 / 3, 1 / 3, 1.0, 0.5, 0.5])


def test_colo_distribution_by_account() -> None:
    dist = colos.colo_distribution(_fleet_frame(), by="account")
    assert _records(dist[["account_id", "colo_name", "connections"]]) == [
        ("acc1", "IAH", 4),
        ("acc1", "LHR", 4),
        ("acc1", "DFW", 3),
        ("acc2", "AMS", 2),
        ("acc2", "FRA", 2),
    ]
    assert list(dist["share"]) == pytest.approx([4 / 11, 4 / 11, 3 / 11, 0.5, 0.5])


def test_colo_distribution_by_country() -> None:
    dist = colos.colo_distribution(_fleet_frame(), by="country")
    assert list(dist.columns) == ["country", "connections", "share", "n_sites", "n_metros"]
    # US: DFW 3 + IAH 4; GB: LHR 4; DE: FRA 2; NL: AMS 2 (legacy codes: one site per metro).
    assert _records(dist[["country", "connections", "n_sites", "n_metros"]]) == [
        ("US", 7, 2, 2),
        ("GB", 4, 1, 1),
        ("DE", 2, 1, 1),
        ("NL", 2, 1, 1),
    ]
    assert list(dist["share"]) == pytest.approx([7 / 15, 4 / 15, 2 / 15, 2 / 15])


def test_colo_distribution_by_region() -> None:
    dist = colos.colo_distribution(_fleet_frame(), by="region")
    # Europe: LHR 4, FRA 2, AMS 2; North America: DFW 3, IAH 4.
    assert _records(dist[["region", "connections", "n_sites", "n_metros"]]) == [
        ("Europe", 8, 3, 3),
        ("North America", 7, 2, 2),
    ]
    assert list(dist["share"]) == pytest.approx([8 / 15, 7 / 15])
    assert "South America" in dist["region"].cat.categories


def test_colo_distribution_unknown_colo_is_an_na_region() -> None:
    frame = _frame([*_conns("T1", "A", ["DFW", "DFW"]), *_conns("T1", "B", ["QQQ", "QQQ", "QQQ"])])
    with pytest.warns(colos.UnknownColoWarning, match="'QQQ'"):
        dist = colos.colo_distribution(frame, by="region")
    assert list(dist["connections"]) == [3, 2]
    assert pd.isna(dist["region"].iloc[0])
    assert dist["region"].iloc[1] == "North America"


def test_colo_distribution_does_not_modify_its_input() -> None:
    frame = _fleet_frame()
    before = frame.copy(deep=True)
    for by in (None, "site", "account", "tunnel", "connector", "metro", "country", "region"):
        colos.colo_distribution(frame, by=by)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    "by", [None, "site", "account", "tunnel", "connector", "metro", "country", "region"]
)
def test_colo_distribution_empty(by: str | None) -> None:
    full = colos.colo_distribution(_fleet_frame(), by=by)
    empty = colos.colo_distribution(_empty(), by=by)
    assert empty.empty
    assert list(empty.columns) == list(full.columns)
    assert [str(t) for t in empty.dtypes] == [str(t) for t in full.dtypes]


def test_colo_distribution_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="by='colo' is not one of None, 'site', 'account'"):
        colos.colo_distribution(_fleet_frame(), by="colo")
    with pytest.raises(ValueError, match=r"lacks column.*is_pending_reconnect"):
        colos.colo_distribution(_fleet_frame().drop(columns="is_pending_reconnect"))
    with pytest.raises(TypeError, match=r"expects a connections frame.*got int"):
        colos.colo_distribution(5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- format_edges


def test_format_edges() -> None:
    edges = colos.format_edges(_fleet_frame())
    assert list(edges.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "connector_id",
        "edges",
    ]
    # Colos sorted by name, not by count (B: 1xDFW before 2xIAH); pending ones hidden.
    assert _records(edges[["connector_id", "edges"]]) == [
        ("A", "2xDFW, 2xIAH"),
        ("B", "1xDFW, 2xIAH"),
        ("C", "4xLHR"),
        ("D", ""),
        ("E", "2xAMS, 2xFRA"),
        ("F", ""),
    ]
    assert str(edges["edges"].dtype) == _STR


def test_format_edges_empty() -> None:
    edges = colos.format_edges(_empty())
    assert edges.empty
    assert list(edges.columns)[-1] == "edges"


# --------------------------------------------------------------------------- ha_report


def test_ha_report_connectors() -> None:
    report = colos.ha_report(_fleet_frame(), level="connector")
    assert list(report.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "connector_id",
        "run_at",
        "n_active",
        "n_pending",
        "n_colos",
        "n_metros",
        "status",
        "reason",
        "replaced",
        "origin_ips",
    ]
    cols = ["connector_id", "n_active", "n_pending", "n_colos", "status", "replaced"]
    assert _records(report[cols]) == [
        ("A", 4, 0, 2, "ok", False),
        ("B", 3, 1, 2, "degraded", False),
        ("C", 4, 0, 1, "single_colo", False),
        ("D", 0, 4, 0, "down", True),
        ("E", 4, 0, 2, "ok", False),
        ("F", 0, 0, 0, "down", False),
    ]
    assert list(report["reason"]) == [
        "4 of 4 expected connections active, in 2 sites of 2 metros",
        "3 of 4 expected connections active, in 2 sites of 2 metros; 1 pending reconnect",
        "4 of 4 expected connections active, all in LHR",
        "no active connection, only 4 pending reconnects: likely replaced by a restart "
        "(a newer connector of this tunnel is up)",
        "4 of 4 expected connections active, in 2 sites of 2 metros",
        "no connection",
    ]
    assert report["status"].cat.ordered
    assert list(report["status"].cat.categories) == ["ok", "single_colo", "degraded", "down"]
    assert str(report["replaced"].dtype) == "bool[pyarrow]" and report["replaced"].notna().all()
    assert str(report["reason"].dtype) == _STR
    assert report["n_active"].dtype == np.int64


def test_ha_report_degraded_wins_over_single_colo() -> None:
    frame = _frame(_conns("T1", "A", ["DFW", "DFW"]))
    report = colos.ha_report(frame, level="connector")
    assert report["status"].iloc[0] == "degraded"
    assert report["reason"].iloc[0] == "2 of 4 expected connections active, all in DFW"


def test_ha_report_pending_only_beside_an_older_connector_is_not_a_restart() -> None:
    # G started before H went quiet: H is a replica in trouble, not a restart's leftover.
    frame = _frame(
        [
            *_conns("T1", "G", ["DFW", "DFW", "IAH", "IAH"], run_at="2026-07-01T00:00:00Z"),
            *_conns("T1", "H", ["DFW", "IAH"], pending=True, run_at="2026-08-01T00:00:00Z"),
        ]
    )
    report = colos.ha_report(frame, level="connector")
    assert list(report["replaced"]) == [False, False]
    assert report["reason"].iloc[1] == "no active connection, 2 pending reconnects"
    tunnel = colos.ha_report(frame, level="tunnel")
    # H is down and not replaced: the tunnel has one connector up, and one short.
    assert tunnel["status"].iloc[0] == "single_connector"
    assert tunnel["reason"].iloc[0] == (
        "1 connector up (no host redundancy); 4 active connections in 2 sites of 2 metros; "
        "1 connector short of 4 active connections"
    )


def test_ha_report_quick_tunnel_with_one_expected_connection() -> None:
    frame = _frame(_conns("Q", "K", ["ORD"]))
    report = colos.ha_report(frame, level="connector", expected_connections=1)
    assert report["status"].iloc[0] == "single_colo"  # one connection: one site, as in SQL
    assert report["reason"].iloc[0] == "1 of 1 expected connection active, in ORD"
    assert colos.ha_report(frame, level="connector")["status"].iloc[0] == "degraded"


def test_ha_report_tunnels() -> None:
    report = colos.ha_report(_fleet_frame(), level="tunnel")
    assert list(report.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "tunnel_status",
        "n_connectors",
        "n_active_connectors",
        "n_active",
        "n_pending",
        "n_colos",
        "n_metros",
        "single_connector",
        "degraded",
        "single_colo",
        "single_metro",
        "concentration",
        "status",
        "reason",
        "status_mismatch",
        "origin_ips",
    ]
    cols = [
        "tunnel_id",
        "n_connectors",
        "n_active_connectors",
        "n_active",
        "n_pending",
        "n_colos",
        "single_connector",
        "single_colo",
        "status",
        "status_mismatch",
    ]
    # T2 is both single-connector and single-colo: the status names the first, the flags both.
    assert _records(report[cols]) == [
        ("T1", 2, 2, 7, 1, 2, False, False, "degraded", False),
        ("T2", 1, 1, 4, 0, 1, True, True, "single_connector", False),
        ("T3", 2, 1, 4, 4, 2, True, False, "single_connector", False),
        ("T4", 1, 0, 0, 0, 0, False, False, "down", True),
    ]
    # degraded is its rule's condition too (a connector short, replaced ones not counted):
    # T1's short one, T4's down one; T3's idle connector was replaced by a restart
    assert list(report["degraded"]) == [True, False, False, True]
    for flag in ("single_connector", "degraded", "single_colo"):
        assert str(report[flag].dtype) == "bool[pyarrow]"
    # T1: IAH holds 4 of 7; T2: all in LHR; T3: FRA 2 of 4; T4: nothing active.
    assert list(report["concentration"]) == pytest.approx([4 / 7, 1.0, 0.5, np.nan], nan_ok=True)
    assert list(report["reason"]) == [
        "2 connectors up; 7 active connections in 2 sites of 2 metros; "
        "1 connector short of 4 active connections",
        "1 connector up (no host redundancy); all 4 active connections in LHR",
        "1 connector up (no host redundancy); 4 active connections in 2 sites of 2 metros; "
        "1 connector replaced by a restart",
        "no active connection on 1 connector; "
        "API status 'healthy' disagrees: no connection is active",
    ]
    assert list(report["status"].cat.categories) == [
        "inactive",
        "ok",
        "single_colo",
        "degraded",
        "single_connector",
        "down",
    ]
    assert str(report["status_mismatch"].dtype) == "bool[pyarrow]"
    assert report["concentration"].dtype == np.float64


def test_ha_report_tunnel_ok_single_colo_and_api_disagreement() -> None:
    frame = _frame(
        [
            *_conns("OK", "A", ["DFW", "DFW", "IAH", "IAH"]),
            *_conns("OK", "B", ["DFW", "IAH", "IAH", "IAH"]),
            *_conns("ONE", "C", ["LHR"] * 4, tunnel_status="down"),
            *_conns("ONE", "D", ["LHR"] * 4, tunnel_status="down"),
            *_conns("ODD", "E", ["SIN", "SIN", "NRT", "NRT"], tunnel_status="mystery"),
            *_conns("ODD", "F", ["SIN", "SIN", "NRT", "NRT"], tunnel_status="mystery"),
            *_conns("NONE", "G", ["SIN", "NRT"], tunnel_status=None),
        ]
    )
    report = colos.ha_report(frame, level="tunnel")
    assert list(report["status"]) == ["ok", "single_colo", "ok", "single_connector"]
    # NONE's one connector holds one connection in SIN and one in NRT: not single-colo.
    assert list(report["single_colo"]) == [False, True, False, False]
    assert list(report["single_connector"]) == [False, False, False, True]
    assert list(report["degraded"]) == [False, False, False, True]  # NONE: 2 of 4 active
    assert report["reason"].iloc[0] == (
        "2 connectors up; 8 active connections in 2 sites of 2 metros"
    )
    assert report["reason"].iloc[1] == (
        "2 connectors up; all 8 active connections in LHR; "
        "API status 'down' disagrees: connections are active"
    )
    assert report["concentration"].iloc[0] == pytest.approx(5 / 8)
    assert report["status_mismatch"].iloc[1]
    assert not report["status_mismatch"].iloc[0]
    assert pd.isna(report["status_mismatch"].iloc[2])
    assert pd.isna(report["status_mismatch"].iloc[3])


@pytest.mark.parametrize("level", ["connector", "tunnel"])
def test_ha_report_empty(level: str) -> None:
    full = colos.ha_report(_fleet_frame(), level=level)  # type: ignore[arg-type]
    empty = colos.ha_report(_empty(), level=level)  # type: ignore[arg-type]
    assert empty.empty
    assert list(empty.columns) == list(full.columns)
    assert [str(t) for t in empty.dtypes] == [str(t) for t in full.dtypes]


def test_ha_report_does_not_modify_its_input() -> None:
    frame = _fleet_frame()
    before = frame.copy(deep=True)
    colos.ha_report(frame, level="connector")
    colos.ha_report(frame, level="tunnel")
    pd.testing.assert_frame_equal(frame, before)


def test_ha_report_rejects_bad_arguments() -> None:
    frame = _fleet_frame()
    with pytest.raises(ValueError, match="level='colo' is not 'connector' or 'tunnel'"):
        colos.ha_report(frame, level="colo")  # type: ignore[arg-type]
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match=r"expected_connections=.* must be a positive"):
            colos.ha_report(frame, level="connector", expected_connections=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"lacks column.*tunnel_status"):
        colos.ha_report(frame.drop(columns="tunnel_status"), level="tunnel")


# --------------------------------------------------------------------------- connection_ages

_AS_OF = "2026-08-20T00:00:00Z"


def test_connection_ages_per_connection() -> None:
    ages = colos.connection_ages(_fleet_frame(), as_of=_AS_OF)
    assert list(ages.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "connector_id",
        "connection_id",
        "colo_name",
        "opened_at",
        "age_hours",
        "run_at",
        "uptime_hours",
        "restarted_recently",
    ]
    # Active connections only: A 4, B 3, C 4, E 4.
    assert list(ages["connector_id"]) == ["A"] * 4 + ["B"] * 3 + ["C"] * 4 + ["E"] * 4
    # A opened 2026-08-19T12:00 (12 h before), B 18:00 (6 h), C at its run_at 2026-08-01
    # (19 days = 456 h), E at its run_at 2026-08-19T18:00 (6 h).
    assert list(ages["age_hours"]) == [12.0] * 4 + [6.0] * 3 + [456.0] * 4 + [6.0] * 4
    assert list(ages["uptime_hours"]) == [456.0] * 11 + [6.0] * 4
    assert list(ages["restarted_recently"]) == [False] * 11 + [True] * 4
    assert ages["age_hours"].dtype == np.float64
    assert str(ages["restarted_recently"].dtype) == "bool[pyarrow]"
    assert str(ages["opened_at"].dtype).startswith("datetime64") and "UTC" in str(
        ages["opened_at"].dtype
    )


def test_connection_ages_per_connector() -> None:
    frame = _frame(
        [
            *_fleet_frame().to_dict("records"),
            {"tunnel_id": "T5", "connector_id": "G", "run_at": None},
        ]
    )
    ages = colos.connection_ages(frame, as_of=_AS_OF, recent="5h", level="connector")
    assert list(ages.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "connector_id",
        "run_at",
        "uptime_hours",
        "restarted_recently",
        "n_active",
        "last_opened_at",
    ]
    assert list(ages["connector_id"]) == ["A", "B", "C", "D", "E", "F", "G"]
    # D started 2026-07-01: 50 days = 1200 h. E 6 h ago is not within 5 h. G's run_at unknown.
    assert list(ages["uptime_hours"].iloc[:6]) == [456.0, 456.0, 456.0, 1200.0, 6.0, 456.0]
    assert pd.isna(ages["uptime_hours"].iloc[6])
    assert list(ages["restarted_recently"].iloc[:6]) == [False] * 6
    assert pd.isna(ages["restarted_recently"].iloc[6])
    assert list(ages["n_active"]) == [4, 3, 4, 0, 4, 0, 0]
    last = ages["last_opened_at"]
    assert last.iloc[0] == pd.Timestamp("2026-08-19T12:00:00Z")
    assert last.iloc[1] == pd.Timestamp("2026-08-19T18:00:00Z")  # B's pending AUS is older
    assert pd.isna(last.iloc[3]) and pd.isna(last.iloc[5])


def test_connection_ages_naive_as_of_is_utc_and_default_is_now() -> None:
    frame = _fleet_frame()
    naive = colos.connection_ages(frame, as_of=dt.datetime(2026, 8, 20))
    aware = colos.connection_ages(frame, as_of=_AS_OF)
    pd.testing.assert_frame_equal(naive, aware)
    before = pd.Timestamp.now(tz="UTC")
    now = colos.connection_ages(frame)
    after = pd.Timestamp.now(tz="UTC")
    opened = pd.Timestamp("2026-08-19T12:00:00Z")
    hours = now["age_hours"].iloc[0]
    assert (before - opened) / pd.Timedelta(hours=1) <= hours
    assert hours <= (after - opened) / pd.Timedelta(hours=1)


@pytest.mark.parametrize("level", ["connection", "connector"])
def test_connection_ages_empty(level: str) -> None:
    full = colos.connection_ages(_fleet_frame(), as_of=_AS_OF, level=level)  # type: ignore[arg-type]
    empty = colos.connection_ages(_empty(), as_of=_AS_OF, level=level)  # type: ignore[arg-type]
    assert empty.empty
    assert list(empty.columns) == list(full.columns)
    assert [str(t) for t in empty.dtypes] == [str(t) for t in full.dtypes]


def test_connection_ages_rejects_bad_arguments() -> None:
    frame = _fleet_frame()
    with pytest.raises(ValueError, match="as_of='soon' is not a time"):
        colos.connection_ages(frame, as_of="soon")
    with pytest.raises(ValueError, match="recent='often' is not a duration"):
        colos.connection_ages(frame, recent="often")
    with pytest.raises(ValueError, match="must be a positive duration"):
        colos.connection_ages(frame, recent="-1h")
    with pytest.raises(ValueError, match="level='tunnel' is not 'connection' or 'connector'"):
        colos.connection_ages(frame, level="tunnel")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- real frames


@pytest.fixture(scope="module")
def sim() -> tuple[dict[str, Any], pd.DataFrame]:
    fleet = tf.simulator.generate_fleet(150, seed=7)
    return fleet, tf.connections_frame(fleet)


def test_every_simulated_colo_is_known(sim: tuple[dict[str, Any], pd.DataFrame]) -> None:
    _, frame = sim
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = colos.colo_info(frame["colo_name"])
        colos.colo_distribution(frame, by="region")
    assert info["region"].notna().all()


def test_real_frame_edges_match_connectors_frame(sim: tuple[dict[str, Any], pd.DataFrame]) -> None:
    fleet, frame = sim
    ours = colos.format_edges(frame).set_index("connector_id")["edges"]
    theirs = tf.connectors_frame(fleet).set_index("connector_id")["edges"]
    assert ours.sort_index().astype(str).equals(theirs.sort_index().astype(str))


def test_real_frame_ha_agrees_with_the_simulators_status_rule(
    sim: tuple[dict[str, Any], pd.DataFrame],
) -> None:
    # The simulator documents: healthy = every connector that is up holds exactly 4 active;
    # degraded = some connector that is up holds fewer; down = nothing active.
    _, frame = sim
    tunnels = colos.ha_report(frame, level="tunnel")
    connectors = colos.ha_report(frame, level="connector")
    assert not tunnels["status_mismatch"].any()
    api = tunnels["tunnel_status"].astype(str)
    status = tunnels["status"].astype(str)
    assert set(status[api == "healthy"]) <= {"ok", "single_connector", "single_colo"}
    assert set(status[api == "degraded"]) <= {"degraded", "single_connector"}
    assert set(status[api == "down"]) == {"down"}
    up = connectors[connectors["n_active"] > 0]
    assert (up["status"].astype(str) == "degraded").sum() > 0
    assert connectors["n_active"].sum() == tunnels["n_active"].sum()
    dist = colos.colo_distribution(frame)
    assert dist["connections"].sum() == tunnels["n_active"].sum()


# -- WARP Connector: active/passive pairs -----------------------------------------------------


def _warp_tunnel(tid: str, *statuses: str | None) -> dict[str, Any]:
    members = []
    for i, status in enumerate(statuses):
        member: dict[str, Any] = {"id": f"{tid}-m{i}", "conns": []}
        if status is not None:
            member["ha_status"] = status
        if status in ("active", "passive"):
            member["conns"] = [{"id": f"{tid}-c{i}", "colo_name": "FRA"}]
        members.append(member)
    return {
        "id": tid,
        "name": tid,
        "status": "healthy",
        "tun_type": "warp_connector",
        "connectors": members,
    }


# Hand-worked: (members' ha_status) -> (status, n_active, n_passive, n_offline, reason part).
_PAIR_CASES = {
    "pair": (("active", "passive"), ("ok", 1, 1, 0, "1 active, 1 passive")),
    "triple": (("active", "passive", "passive"), ("ok", 1, 2, 0, "1 active, 2 passive")),
    "alone": (("active",), ("no_standby", 1, 0, 0, "no passive member")),
    "failover": (("offline", "active"), ("no_standby", 1, 0, 1, "a failover")),
    "spare_off": (("active", "passive", "offline"), ("ok", 1, 1, 1, "1 offline")),
    "split": (("active", "active"), ("multiple_active", 2, 0, 0, "2 members claim active")),
    "standby_only": (("passive", "passive"), ("down", 0, 2, 0, "no active member")),
    "all_off": (("offline", "offline"), ("down", 0, 0, 2, "serves no traffic")),
    "unreported": (("active", None), ("no_standby", 1, 0, 0, "1 without ha_status")),
}


def test_pair_ha_report_hand_worked_cases() -> None:
    cloudflared = {
        "id": "cfd",
        "name": "cfd",
        "status": "healthy",
        "tun_type": "cfd_tunnel",
        "connectors": [{"id": "x", "conns": [{"id": "y", "colo_name": "DFW"}]}],
    }
    fleet = {"tunnels": [cloudflared] + [_warp_tunnel(t, *s) for t, (s, _) in _PAIR_CASES.items()]}
    report = tf.pair_ha_report(tf.connections_frame(fleet))
    assert report["tunnel_id"].astype(str).tolist() == list(_PAIR_CASES)  # cfd is not judged
    for row in report.itertuples():
        status, n_active, n_passive, n_offline, reason = _PAIR_CASES[str(row.tunnel_id)][1]
        assert (row.status, row.n_active, row.n_passive, row.n_offline) == (
            status,
            n_active,
            n_passive,
            n_offline,
        ), row.tunnel_id
        assert reason in row.reason, (row.tunnel_id, row.reason)
    assert list(report["status"].cat.categories) == list(tf.colos.PAIR_STATUSES)
    assert report["n_members"].tolist() == [len(s) for s, _ in _PAIR_CASES.values()]


def test_pair_ha_report_of_a_cloudflared_frame_is_empty_with_the_columns() -> None:
    report = tf.pair_ha_report(tf.connections_frame(tf.simulator.generate_fleet(5, seed=1)))
    assert report.empty
    assert list(report.columns) == [
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "tunnel_status",
        "n_members",
        "n_active",
        "n_passive",
        "n_offline",
        "status",
        "reason",
    ]
    with pytest.raises(ValueError, match=r"lacks column.*tun_type"):
        tf.pair_ha_report(
            pd.DataFrame(
                {
                    "account_id": [],
                    "tunnel_id": [],
                    "tunnel_name": [],
                    "tunnel_status": [],
                    "connector_id": [],
                }
            )
        )


def test_pair_ha_report_on_the_generated_failovers() -> None:
    fleet = tf.simulator.generate_fleet(0, seed=11, warp_connectors=60)
    report = tf.pair_ha_report(tf.connections_frame(fleet)).set_index("tunnel_id")
    failovers = {"ok": 0, "no_standby": 0}
    for tunnel in fleet["tunnels"]:
        statuses = [m["ha_status"] for m in tunnel["connectors"]]
        if not statuses:
            assert tunnel["id"] not in report.index  # never ran: no row in a connections frame
            continue
        row = report.loc[tunnel["id"]]
        if tunnel["status"] == "down":
            assert row["status"] == "down"
        elif statuses[0] == "offline":  # a failover: the old active member went offline
            # a standby left is ok, none left is no_standby (the old "or" passed any status
            # whenever a passive member was left)
            expected = "ok" if "passive" in statuses[2:] else "no_standby"
            assert row["status"] == expected, (tunnel["id"], statuses)
            failovers[expected] += 1
        assert row["n_members"] == len(statuses)
    assert (report["status"] == "no_standby").any() and (report["status"] == "ok").any()
    assert failovers["ok"] and failovers["no_standby"], failovers  # both kinds were checked


# --------------------------------------------------------------------------- site codes


def _site_frame() -> pd.DataFrame:
    """Today's colo codes (sites), with a legacy metro code and odd case mixed in:

    - CHI: A holds ord02, ord06, ord12, ord12 (cloudflared prints 1xord02, 1xord06, 2xord12);
      B holds ord12 x4 (one site).
    - ASIA: C holds kul01, kul01, syd01, syd01 (two metros); D holds KUL (legacy) and
      kul01 x3: two sites of one metro.
    - MAD: E holds mad01, mad01, MAD06, MAD06: two sites of Madrid, one connector.
    """
    return _frame(
        [
            *_conns("CHI", "A", ["ord02", "ord06", "ord12", "ord12"]),
            *_conns("CHI", "B", ["ord12"] * 4),
            *_conns("ASIA", "C", ["kul01", "kul01", "syd01", "syd01"]),
            *_conns("ASIA", "D", ["KUL", "kul01", "kul01", "kul01"]),
            *_conns("MAD", "E", ["mad01", "mad01", "MAD06", "MAD06"]),
        ]
    )


def test_site_codes_resolve_in_a_frame() -> None:
    frame = _site_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = colos.colo_info(frame["colo_name"])
    assert list(info.index) == [
        "ord02",
        "ord06",
        "ord12",
        "kul01",
        "syd01",
        "KUL",
        "mad01",
        "MAD06",
    ]
    assert list(info["metro"]) == ["ORD", "ORD", "ORD", "KUL", "SYD", "KUL", "MAD", "MAD"]
    assert list(info["country"]) == ["US", "US", "US", "MY", "AU", "MY", "ES", "ES"]
    assert info["latitude"].notna().all()


def test_format_edges_prints_sites_as_cloudflared() -> None:
    edges = colos.format_edges(_site_frame())
    assert _records(edges[["connector_id", "edges"]]) == [
        ("A", "1xord02, 1xord06, 2xord12"),
        ("B", "4xord12"),
        ("C", "2xkul01, 2xsyd01"),
        ("D", "1xKUL, 3xkul01"),  # byte order, as Go's sort.Strings: upper case first
        ("E", "2xMAD06, 2xmad01"),
    ]


def test_colo_distribution_sites_and_metros() -> None:
    frame = _site_frame()
    sites = colos.colo_distribution(frame, by="site")
    pd.testing.assert_frame_equal(sites, colos.colo_distribution(frame))
    assert _records(sites[["colo_name", "connections"]]) == [
        ("ord12", 6),
        ("kul01", 5),
        ("MAD06", 2),
        ("mad01", 2),
        ("syd01", 2),
        ("KUL", 1),
        ("ord02", 1),
        ("ord06", 1),
    ]
    metros = colos.colo_distribution(frame, by="metro")
    assert list(metros.columns) == ["metro", "connections", "share", "n_sites"]
    # ORD: 4 + 4 in ord02, ord06, ord12; KUL: 2 + 4 in kul01, KUL; MAD: 4 in mad01, MAD06.
    assert _records(metros[["metro", "connections", "n_sites"]]) == [
        ("ORD", 8, 3),
        ("KUL", 6, 2),
        ("MAD", 4, 2),
        ("SYD", 2, 1),
    ]
    assert list(metros["share"]) == pytest.approx([8 / 20, 6 / 20, 4 / 20, 2 / 20])
    assert isinstance(metros["metro"].dtype, pd.CategoricalDtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        countries = colos.colo_distribution(frame, by="country")
        regions = colos.colo_distribution(frame, by="region")
    assert _records(countries[["country", "connections", "n_sites", "n_metros"]]) == [
        ("US", 8, 3, 1),
        ("MY", 6, 2, 1),
        ("ES", 4, 2, 1),
        ("AU", 2, 1, 1),
    ]
    assert _records(regions[["region", "connections", "n_sites", "n_metros"]]) == [
        ("North America", 8, 3, 1),
        ("Asia", 6, 2, 1),
        ("Europe", 4, 2, 1),
        ("Oceania", 2, 1, 1),
    ]


def test_ha_report_counts_sites_and_metros() -> None:
    report = colos.ha_report(_site_frame(), level="connector")
    cols = ["connector_id", "n_active", "n_colos", "n_metros", "status"]
    assert _records(report[cols]) == [
        ("A", 4, 3, 1, "ok"),  # three sites of Chicago: how cloudflared spreads them
        ("B", 4, 1, 1, "single_colo"),  # every connection in one site
        ("C", 4, 2, 2, "ok"),
        ("D", 4, 2, 1, "ok"),  # KUL and kul01 are two sites of one metro
        ("E", 4, 2, 1, "ok"),  # mad01 and MAD06: case kept, metro shared
    ]
    assert list(report["reason"]) == [
        "4 of 4 expected connections active, in 3 sites of 1 metro",
        "4 of 4 expected connections active, all in ord12",
        "4 of 4 expected connections active, in 2 sites of 2 metros",
        "4 of 4 expected connections active, in 2 sites of 1 metro",
        "4 of 4 expected connections active, in 2 sites of 1 metro",
    ]
    assert report["n_metros"].dtype == np.int64


def test_ha_report_tunnels_count_metros_and_flag_single_metro() -> None:
    report = colos.ha_report(_site_frame(), level="tunnel")
    cols = ["tunnel_id", "n_colos", "n_metros", "single_colo", "single_metro", "status"]
    # CHI: ord02, ord06, ord12 (one metro: information, not a problem: status ok).
    # ASIA: kul01, syd01, KUL in KUL and SYD. MAD: one connector, two sites of Madrid.
    assert _records(report[cols]) == [
        ("CHI", 3, 1, False, True, "ok"),
        ("ASIA", 3, 2, False, False, "ok"),
        ("MAD", 2, 1, False, True, "single_connector"),
    ]
    assert str(report["single_metro"].dtype) == "bool[pyarrow]"
    assert report["reason"].iloc[0] == "2 connectors up; 8 active connections in 3 sites of 1 metro"
    # A tunnel with no active connection is in no metro: not single-metro.
    down = colos.ha_report(_fleet_frame(), level="tunnel")
    assert list(down["n_metros"]) == [2, 1, 2, 0]
    assert list(down["single_metro"]) == [False, True, False, False]


# --------------------------------------------------------------------------- history


def test_site_codes_through_a_history_store(tmp_path: Any) -> None:
    # Synthetic history across mid-2023: metro codes (ORD) before 2023-07-01, sites after.
    snapshots = list(
        tf.simulator.generate_history(20, days=8, every="2D", start="2023-06-25", seed=5)
    )
    for snapshot in snapshots:
        tf.append_snapshot(snapshot, tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = tf.load_history(tmp_path / "store")
        info = colos.colo_info(history["colo_name"])  # every code resolves, both forms
    switch = pd.Timestamp("2023-07-01", tz="UTC")
    before = history[history["fetched_at"] < switch]["colo_name"].dropna().astype(str)
    after = history[history["fetched_at"] >= switch]["colo_name"].dropna().astype(str)
    assert len(before) and before.str.fullmatch("[A-Z]{3}").all()
    assert len(after) and after.str.fullmatch("[a-z]{3}[0-9]{2}").all()
    assert info["country"].notna().all()
    # A host keeps its place: a tunnel's metros on 2023-06-29 are its metros on 2023-07-01.
    metros = history.assign(metro=history["colo_name"].map(info["metro"]))
    per_tunnel = metros.dropna(subset=["metro"]).groupby(["fetched_at", "tunnel_id"])["metro"]
    sets = per_tunnel.agg(frozenset).unstack(0)
    last_legacy, first_sites = sets.columns[sets.columns < switch][-1], switch
    both = sets[[last_legacy, first_sites]].dropna()
    assert len(both) >= 5
    assert (both[last_legacy] == both[first_sites]).mean() >= 0.8
    # The analyses run on a snapshot of the store in either form.
    for at in (last_legacy, first_sites):
        frame = history[history["fetched_at"] == at]
        report = colos.ha_report(frame, level="tunnel")
        assert (report["n_metros"] <= report["n_colos"]).all()
        assert report["n_colos"].sum() > 0


def _tunnel_list_json() -> list[dict[str, Any]]:
    """cloudflared's ``tunnel list -o json``: cfapi.Tunnel objects, connections without
    ``client_id`` (its Connection struct has colo_name, id, is_pending_reconnect, origin_ip,
    opened_at only)."""

    def conn(i: int, colo: str, *, pending: bool = False) -> dict[str, Any]:
        return {
            "colo_name": colo,
            "id": f"00000000-0000-4000-8000-00000000000{i}",
            "is_pending_reconnect": pending,
            "origin_ip": "203.0.113.7",
            "opened_at": "2026-05-02T10:00:00Z",
        }

    return [
        {
            "id": "6d1c3a1e-0000-4000-8000-000000000001",
            "name": "web",
            "created_at": "2024-01-01T00:00:00Z",
            "deleted_at": "0001-01-01T00:00:00Z",
            "connections": [conn(1, "ord02"), conn(2, "ord06"), conn(3, "ord12"), conn(4, "ord12")],
        },
        {
            "id": "6d1c3a1e-0000-4000-8000-000000000002",
            "name": "api",
            "created_at": "2024-01-01T00:00:00Z",
            "deleted_at": "0001-01-01T00:00:00Z",
            "connections": [conn(i, colo) for i, colo in enumerate(["mad01", "mad06"] * 4)]
            + [conn(9, "mad06", pending=True)],
        },
    ]


def test_tunnel_list_connections_without_client_id_count_at_tunnel_level() -> None:
    report = tf.ha_report(tf.connections_frame(_tunnel_list_json()), level="tunnel")
    assert report["tunnel_name"].astype(str).tolist() == ["web", "api"]
    assert report["n_active"].tolist() == [4, 8]
    assert report["n_pending"].tolist() == [0, 1]
    assert report["n_colos"].tolist() == [3, 2]
    assert report["n_metros"].tolist() == [1, 1]
    assert report["n_connectors"].tolist() == [0, 0]  # unknown: nothing names a connector
    assert "down" not in report["status"].tolist()
    assert report["reason"].str.contains("connectors unknown").all()
    assert report["reason"].iloc[0].startswith("4 active connections in 3 sites of 1 metro")


def test_a_single_active_connection_is_single_site_too() -> None:
    fleet = {
        "tunnels": [
            {
                "id": "t1",
                "account_tag": "a",
                "name": "web",
                "status": "degraded",
                "connectors": [
                    {"id": "c1", "run_at": "2026-05-01T10:00:00Z", "conns": [
                        {"id": "x1", "colo_name": "ord02", "is_pending_reconnect": False},
                        {"id": "x2", "colo_name": "ord06", "is_pending_reconnect": True},
                    ]},
                    {"id": "c2", "run_at": "2026-05-01T10:00:00Z", "conns": []},
                ],
            }
        ]
    }  # fmt: skip
    tunnel = tf.ha_report(fleet, level="tunnel").iloc[0]
    assert bool(tunnel["single_colo"]) and tunnel["n_active"] == 1
    conns = tf.connections_frame(fleet)
    connector = tf.ha_report(conns, level="connector", expected_connections=1).iloc[0]
    assert connector["status"] == "single_colo"  # a quick tunnel's one connection: one site
