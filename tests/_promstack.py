"""Real Prometheus and Alertmanager processes for the tests, on loopback, in temp dirs.

Each helper skips the test, saying what to install, when Debian's binary is absent
(``.ci/run`` installs ``prometheus`` and ``prometheus-alertmanager``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["alertmanager", "binary", "free_port", "get_json", "prometheus", "wait_for"]


def binary(name: str, package: str) -> str:
    """The path of ``name``, or skip saying which Debian package brings it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: install Debian's {package} (apt-get install {package})")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, *, data: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_for(check: Any, *, timeout: float = 60.0, what: str = "the condition") -> Any:
    """Poll ``check()`` until it returns something truthy (a failed request, or an empty
    answer indexed, counts as not yet: a scrape missed under load leaves a gap)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, urllib.error.URLError, ValueError, KeyError, IndexError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


@contextlib.contextmanager
def _process(args: list[str], log: Path, ready_url: str) -> Iterator[None]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for(
                lambda: urllib.request.urlopen(ready_url, timeout=2).status == 200,
                what=f"{args[0]} to be ready",
            )
        except AssertionError:
            raise AssertionError(log.read_text(errors="replace")[-3000:]) from None
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def prometheus(
    tmp: Path, *, scrape: str | None = None, storage: Path | None = None
) -> Iterator[str]:
    """A real Prometheus on loopback; yields its base URL.

    ``scrape`` is a ``host:port`` it scrapes every second; ``storage`` an existing TSDB
    directory (blocks made by ``promtool tsdb create-blocks-from``) to serve.
    """
    exe = binary("prometheus", "prometheus")
    port = free_port()
    config = tmp / "prometheus.yml"
    jobs = ""
    if scrape:
        jobs = (
            "scrape_configs:\n"
            "  - job_name: tunnelframe\n"
            "    scrape_interval: 1s\n"
            "    scrape_timeout: 1s\n"
            f"    static_configs: [{{targets: ['{scrape}']}}]\n"
        )
    config.write_text("global: {evaluation_interval: 1s}\n" + jobs)
    data = storage or (tmp / "prom-data")
    args = [
        exe,
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=100y",
        "--query.lookback-delta=5m",
    ]
    base = f"http://127.0.0.1:{port}"
    with _process(args, tmp / "prometheus.log", f"{base}/-/ready"):
        yield base


def query(base: str, promql: str, *, at: float | None = None) -> list[dict[str, Any]]:
    """The result vector of an instant PromQL query through the HTTP API."""
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    answer = get_json(f"{base}/api/v1/query?{urllib.parse.urlencode(params)}")
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


@contextlib.contextmanager
def alertmanager(tmp: Path, *, webhook: str | None = None) -> Iterator[str]:
    """A real Alertmanager on loopback; yields its URL. With ``webhook``, it forwards firing
    and resolved notifications there (a loopback receiver); nothing leaves the machine."""
    exe = binary("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    cluster = free_port()
    config = tmp / "alertmanager.yml"
    hook = f"[{{url: '{webhook}', send_resolved: true}}]" if webhook else "[]"
    config.write_text(
        "route: {receiver: relay, group_wait: 1s, group_interval: 1s, repeat_interval: 1h}\n"
        f"receivers: [{{name: relay, webhook_configs: {hook}}}]\n"
    )
    args = [
        exe,
        f"--config.file={config}",
        f"--storage.path={tmp / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--cluster.listen-address=127.0.0.1:{cluster}",
        "--cluster.advertise-address=127.0.0.1:" + str(cluster),
    ]
    base = f"http://127.0.0.1:{port}"
    with _process(args, tmp / "alertmanager.log", f"{base}/-/ready"):
        yield base
