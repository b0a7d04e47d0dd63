"""tunnelframe.metrics: the series table, the exposition, promtool, and a real Prometheus.

The Prometheus tests start Debian's ``prometheus`` on loopback (``tests/_promstack.py``) and
skip, saying what to install, when it is absent.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import tunnelframe as tf
from tests._promstack import binary, free_port, prometheus, query, wait_for
from tunnelframe.cli import main
from tunnelframe.datasets import SAMPLE_AS_OF
from tunnelframe.metrics import (
    SERIES,
    grafana_dashboard,
    history_openmetrics,
    metric_samples,
    openmetrics_text,
    series_table,
    serve_metrics,
    write_openmetrics,
)

# Live simulator snapshots are measured today, months after the bundled release calendar ends:
# the stale-calendar warning is expected here (tests/test_versions_security.py tests it).
pytestmark = pytest.mark.filterwarnings("ignore::tunnelframe.StaleReleasesWarning")


@pytest.fixture(scope="module")
def snap() -> tf.Snapshot:
    fleet = tf.load_sample()
    accounts = sorted({t["account_tag"] for t in fleet["tunnels"]})
    return tf.Snapshot(fetched_at=SAMPLE_AS_OF, account_ids=accounts, tunnels=fleet["tunnels"])


@pytest.fixture(scope="module")
def text(snap: tf.Snapshot) -> str:
    return openmetrics_text(snap).decode()


def test_every_series_of_the_table_is_exposed_with_its_type_unit_and_labels(text: str) -> None:
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    units = dict(re.findall(r"^# UNIT (\S+) (\S+)$", text, re.M))
    assert list(types) == [s.name for s in SERIES]
    for series in SERIES:
        assert types[series.name] == series.type
        assert units.get(series.name, "") == series.unit
        sample = re.search(rf"^{series.name}(?:{{(.*?)}})? ", text, re.M)
        assert sample is not None, series.name
        names = re.findall(r'(\w+)="', sample.group(1) or "")
        assert sorted(names) == sorted(series.labels)
    assert text.endswith("# EOF\n")
    assert list(series_table()["name"]) == [s.name for s in SERIES]


def test_lablabs_tunnel_series_keep_that_exporters_names_and_labels() -> None:
    # As defined in lablabs/cloudflare-exporter's prometheus.go (tunnel metrics).
    lablabs = {
        "cloudflare_tunnel_info": ("account", "tunnel_id", "tunnel_name", "tunnel_type"),
        "cloudflare_tunnel_health_status": ("account", "tunnel_id"),
        "cloudflare_tunnel_connector_info": (
            "account",
            "tunnel_id",
            "client_id",
            "version",
            "arch",
            "origin_ip",
        ),
        "cloudflare_tunnel_connector_active_connections": ("account", "tunnel_id", "client_id"),
    }
    ours = {s.name: s.labels for s in SERIES if s.compat}
    assert ours == lablabs


def test_health_status_maps_the_api_status_as_lablabs_does(snap: tf.Snapshot) -> None:
    samples = metric_samples(snap)
    health = samples[samples["series"] == "cloudflare_tunnel_health_status"]
    by_tunnel = {
        labels[1]: value for labels, value in zip(health["labels"], health["value"], strict=True)
    }
    expect = {"down": 0, "healthy": 1, "degraded": 2, "inactive": 3}
    tunnels = snap.tunnels_frame()
    live = tunnels[tunnels["deleted_at"].isna()]
    assert len(by_tunnel) == len(live)
    for row in live.astype(object).to_dict("records"):
        assert by_tunnel[row["tunnel_id"]] == expect[row["tunnel_status"]]


def test_no_origin_ip_or_connection_id_unless_asked(snap: tf.Snapshot, text: str) -> None:
    conns = snap.connections()
    ips = set(conns["origin_ip"].dropna().astype(str))
    assert ips and not any(ip in text for ip in ips)
    assert not any(str(c) in text for c in conns["connection_id"].dropna().head(50))
    with_ips = openmetrics_text(snap, origin_ip=True).decode()
    assert any(ip in with_ips for ip in ips)


def test_values_match_the_analysis(snap: tf.Snapshot) -> None:
    samples = metric_samples(snap)

    def values(series: str) -> pd.Series:
        part = samples[samples["series"] == series]
        return pd.Series(list(part["value"]), index=list(part["labels"]))

    found = tf.findings(snap)
    counts = found.groupby("rule", observed=True).size()
    for (rule, _severity), value in values("tunnelframe_findings").items():
        assert value == counts.get(rule, 0), rule
    drift = tf.version_drift(snap, as_of=SAMPLE_AS_OF)  # the view time the metrics use
    supported = values("tunnelframe_connector_supported")
    assert supported.sum() == drift["supported"].sum()
    behind = values("tunnelframe_connector_releases_behind")
    assert behind.sum() == drift["releases_behind"].sum()
    conns = snap.connections()
    assert (
        values("cloudflare_tunnel_connector_active_connections").sum()
        == conns["connection_id"].notna().sum()
    )
    ha = tf.ha_report(snap, level="tunnel")
    state = values("tunnelframe_tunnel_ha_state")
    down = state[[labels[-1] == "down" for labels in state.index]]
    assert down.sum() == (ha["status"] == "down").sum()
    flags = values("tunnelframe_tunnel_ha_flag")
    for flag in ("single_connector", "degraded", "single_colo"):  # the numbers check counts
        assert flags[[labels[-1] == flag for labels in flags.index]].sum() == ha[flag].sum()
    observed = values("tunnelframe_observed_timestamp_seconds")
    assert observed.iloc[0] == SAMPLE_AS_OF.timestamp()


def test_promtool_checks_the_exposition(snap: tf.Snapshot, tmp_path: Path) -> None:
    promtool = binary("promtool", "prometheus")
    path = write_openmetrics(snap, tmp_path / "tunnelframe.prom")
    assert [p.name for p in tmp_path.iterdir()] == ["tunnelframe.prom"]  # no temp file left
    run = subprocess.run(
        [promtool, "check", "metrics"], input=path.read_bytes(), capture_output=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_export_cli_writes_the_textfile_collector_file(
    snap: tf.Snapshot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = snap.save(tmp_path / "snap.json.gz")
    out = tmp_path / "textfile"
    assert main(["export", str(saved), str(out), "--format", "openmetrics"]) == 0
    written = out / "tunnelframe.prom"
    assert capsys.readouterr().out.strip() == str(written.resolve())
    assert written.read_bytes() == openmetrics_text(snap)


def test_prometheus_scrapes_metrics_and_answers_promql(snap: tf.Snapshot, tmp_path: Path) -> None:
    with (
        serve_metrics(snap) as server,
        prometheus(tmp_path, scrape=f"127.0.0.1:{server.port}") as base,
    ):
        found = tf.findings(snap)

        def answer(promql: str) -> float:
            # Waits out a scrape missed under load (its series go stale for a moment).
            result = wait_for(lambda: query(base, promql), what=f"an answer to {promql}")
            return float(result[0]["value"][1])

        assert (
            answer('tunnelframe_findings{rule="unsupported"}')
            == (found["rule"] == "unsupported").sum()
        )
        drift = tf.version_drift(snap, as_of=SAMPLE_AS_OF)
        assert answer("count(tunnelframe_connector_supported == 0)") == (~drift["supported"]).sum()
        assert answer("sum(cloudflare_tunnel_connector_active_connections)") == (
            snap.connections()["connection_id"].notna().sum()
        )
        # A new view replaces the old one on the next scrape.
        server.update(snap, as_of=SAMPLE_AS_OF + pd.Timedelta(days=1))
        ahead = SAMPLE_AS_OF.timestamp() + 86400
        wait_for(
            lambda: (
                float(query(base, "tunnelframe_observed_timestamp_seconds")[0]["value"][1]) == ahead
            ),
            what="the updated view",
        )


def test_metrics_endpoint_serves_openmetrics_to_prometheus_clients(snap: tf.Snapshot) -> None:
    with serve_metrics(snap) as server:
        request = urllib.request.Request(
            server.url, headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert body == openmetrics_text(snap)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store")
    for snapshot in tf.simulator.generate_history(12, days=3, seed=4):
        tf.append_snapshot(snapshot, path)
    return path


def test_history_export_backfills_a_real_prometheus(
    store: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    promtool = binary("promtool", "prometheus")
    assert main(["history", str(store), "--export", "openmetrics"]) == 0
    exported = capsysbinary.readouterr().out
    assert exported == history_openmetrics(store)
    source = tmp_path / "history.om"
    source.write_bytes(exported)
    data = tmp_path / "tsdb"
    run = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    history = tf.load_history(store)
    times = sorted(history["fetched_at"].unique())
    assert len(times) >= 3
    with prometheus(tmp_path, storage=data) as base:
        for when in (times[0], times[-1]):
            rows = history[history["fetched_at"] == when].drop(columns="fetched_at")
            drift = tf.version_drift(rows, as_of=when)
            at = pd.Timestamp(when).timestamp()
            got = wait_for(
                lambda at=at: query(base, "sum(tunnelframe_connector_releases_behind)", at=at),
                what="the backfilled blocks",
            )
            assert float(got[0]["value"][1]) == drift["releases_behind"].sum()
            stamp = query(base, "tunnelframe_observed_timestamp_seconds", at=at)
            assert float(stamp[0]["value"][1]) == at


def _dashboard_queries() -> list[str]:
    model = grafana_dashboard()
    exprs = [t["expr"] for p in model["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in model["templating"]["list"] if v["type"] == "query"]
    return exprs


def test_dashboard_queries_name_only_exported_series() -> None:
    names = {s.name for s in SERIES}
    queries = _dashboard_queries()
    assert len(queries) >= 15
    for expr in queries:
        used = set(re.findall(r"\b(?:cloudflare_tunnel|tunnelframe)_\w+", expr))
        assert used, expr
        assert used <= names, used - names
    model = grafana_dashboard()
    # The data source is a template variable: the model loads without edits in any Grafana.
    variables = {v["name"] for v in model["templating"]["list"]}
    assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(set(refs)) == len(refs), panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel.get("targets", []):
            assert set(re.findall(r"\$(\w+)", target["expr"])) <= variables


def test_every_dashboard_query_answers_on_a_real_prometheus(
    snap: tf.Snapshot, tmp_path: Path
) -> None:
    with (
        serve_metrics(snap) as server,
        prometheus(tmp_path, scrape=f"127.0.0.1:{server.port}") as base,
    ):
        wait_for(lambda: query(base, "tunnelframe_observed_timestamp_seconds"), what="a scrape")
        for expr in _dashboard_queries():
            if expr.startswith("label_values("):
                metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", expr).groups()  # type: ignore[union-attr]
                expr = f"count by ({label}) ({metric})"
            promql = expr.replace("$account", ".*")
            wait_for(lambda q=promql: query(base, q), timeout=20, what=f"an answer to {expr}")


def test_a_history_frame_is_measured_one_snapshot_at_a_time(store: Path) -> None:
    history = tf.load_history(store)
    with pytest.raises(ValueError, match="holds 3 snapshots"):
        metric_samples(history[history["fetched_at"] <= sorted(history["fetched_at"].unique())[2]])
    last = history[history["fetched_at"] == history["fetched_at"].max()]
    samples = metric_samples(last)
    stamp = samples[samples["series"] == "tunnelframe_observed_timestamp_seconds"]["value"]
    assert stamp.tolist() == [pd.Timestamp(history["fetched_at"].max()).timestamp()]


# watch judges at the wall clock, which can be months past the bundled release calendar
@pytest.mark.filterwarnings("ignore::tunnelframe.StaleReleasesWarning")
def test_watch_serves_its_view_to_a_real_prometheus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunnelframe.simulator import serve
    from tunnelframe.watch import latest_snapshot

    port = free_port()
    store = tmp_path / "store"
    answers: dict[str, object] = {}
    with (
        serve(tf.simulator.generate_fleet(30, seed=7)) as api,
        prometheus(tmp_path, scrape=f"127.0.0.1:{port}") as base,
    ):
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_id)

        def scrape() -> None:  # while watch runs (in the main thread, for its signals)
            try:
                for name, promql in (
                    ("unsupported", 'tunnelframe_findings{rule="unsupported"}'),
                    ("tunnels", "count(cloudflare_tunnel_info)"),
                ):
                    got = wait_for(lambda q=promql: query(base, q), timeout=90, what=promql)
                    answers[name] = float(got[0]["value"][1])
            except AssertionError as exc:
                answers["error"] = exc
            finally:  # Prometheus has what it needs (or never will): watch stops, as on SIGTERM
                os.kill(os.getpid(), signal.SIGTERM)

        poller = threading.Thread(target=scrape)
        # a SIGTERM before watch takes it over does nothing; watch's is the one it restores
        before = signal.signal(signal.SIGTERM, lambda signum, frame: None)
        try:
            poller.start()
            args = ["watch", "--store", str(store), "--interval", "60", "--cycles", "2"]
            assert main([*args, "--metrics-port", str(port)]) == 0
            poller.join()
        finally:
            signal.signal(signal.SIGTERM, before)
        view = latest_snapshot(store, [api.account_id])
    assert "error" not in answers, answers
    assert view is not None
    found = tf.findings(view)
    assert answers["unsupported"] == (found["rule"] == "unsupported").sum()
    tunnels = view.tunnels_frame()
    assert answers["tunnels"] == tunnels["deleted_at"].isna().sum()
