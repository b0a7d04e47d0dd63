"""tunnelframe.alerts: state and hold, a real Alertmanager, a webhook that fails and recovers,
chat through apprise, and ``check --notify``.

Receivers are loopback HTTP servers (:class:`Recorder`); the Alertmanager test starts Debian's
``prometheus-alertmanager`` (skipped, saying what to install, when it is absent).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

import tunnelframe as tf
from tests._promstack import alertmanager, get_json, wait_for
from tunnelframe.alerts import (
    WEBHOOK_SCHEMA,
    AlertState,
    Delivery,
    Notifier,
    markdown_escape,
)
from tunnelframe.cli import main
from tunnelframe.datasets import SAMPLE_AS_OF

# Live simulator snapshots are measured today, months after the bundled release calendar ends:
# the stale-calendar warning is expected here (tests/test_versions_security.py tests it).
pytestmark = pytest.mark.filterwarnings("ignore::tunnelframe.StaleReleasesWarning")

ACCOUNT = "0123456789abcdef0123456789abcdef"
EVIL = "api_*evil*[x](http://e.example)<b>"
FAST = Delivery(attempts=4, backoff=0.05, timeout=2, deadline=10)


def _connector(cid: str) -> dict[str, Any]:
    colos = ["DFW", "DFW", "ORD", "ORD"]
    # each replica on its own host (one origin IP for both would be single-origin)
    host = 9 if cid.endswith("-a") else 10
    conns = [
        {
            "id": f"{cid}-{i}",
            "client_id": cid,
            "colo_name": c,
            "is_pending_reconnect": False,
            "opened_at": "2026-08-19T00:00:00Z",
            "origin_ip": f"198.51.100.{host}",
        }
        for i, c in enumerate(colos)
    ]
    return {"id": cid, "version": "2026.8.2", "arch": "linux_amd64", "conns": conns}


def _fleet(*down: str) -> dict[str, Any]:
    tunnels = []
    for tid, name in (("t1", "web-prod"), ("t2", EVIL)):
        up = tid not in down
        tunnels.append(
            {
                "id": tid,
                "account_tag": ACCOUNT,
                "name": name,
                "status": "healthy" if up else "down",
                "tun_type": "cfd_tunnel",
                "connectors": [_connector(f"{tid}-a"), _connector(f"{tid}-b")] if up else [],
            }
        )
    return {"tunnels": tunnels}


def _violations(*down: str) -> pd.DataFrame:
    return tf.findings(_fleet(*down), as_of=SAMPLE_AS_OF)


T0 = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_fleet_helpers_make_a_clean_fleet_and_a_down_tunnel() -> None:
    assert _violations().empty
    assert set(_violations("t2")["rule"]) == {"down"}


def test_a_change_is_sent_after_the_hold_once_and_its_end_once(tmp_path: Path) -> None:
    state = AlertState(tmp_path / "alerts.json")
    hold = timedelta(minutes=5)
    # A 30-second blip is never sent.
    assert state.observe(_violations("t1"), at=_at(0), hold=hold) == []
    assert state.observe(_violations(), at=_at(0.5), hold=hold) == []
    assert state.active == {}
    # Down for longer than the hold: sent once.
    assert state.observe(_violations("t2"), at=_at(10), hold=hold) == []
    fired = state.observe(_violations("t2"), at=_at(16), hold=hold)
    assert [(a.status, a.rule, a.tunnel_name, a.starts_at) for a in fired] == [
        ("firing", "down", EVIL, "2026-12-05T03:10:00Z")
    ]
    assert fired[0].advice and EVIL in fired[0].message
    assert state.observe(_violations("t2"), at=_at(20), hold=hold) == []
    # Back for less than the hold, then down again: no end and no second start.
    assert state.observe(_violations(), at=_at(21), hold=hold) == []
    assert state.observe(_violations("t2"), at=_at(23), hold=hold) == []
    # Back for good: its end is sent once, dated when it was first seen back.
    assert state.observe(_violations(), at=_at(30), hold=hold) == []
    ended = state.observe(_violations(), at=_at(36), hold=hold)
    assert [(a.status, a.ends_at) for a in ended] == [("resolved", "2026-12-05T03:30:00Z")]
    assert state.observe(_violations(), at=_at(40), hold=hold) == []


def test_state_lives_in_the_file_so_cron_runs_share_it(tmp_path: Path) -> None:
    path = tmp_path / "alerts.json"
    first = Notifier([], path, hold=timedelta(0))
    assert [a.status for a in first.notify(_violations("t1"), at=_at(0)).changes] == ["firing"]
    second = Notifier([], path, hold=timedelta(0))  # a new process: only the file is shared
    assert second.notify(_violations("t1"), at=_at(5)).changes == []
    third = Notifier([], path, hold=timedelta(0))
    assert [a.status for a in third.notify(_violations(), at=_at(10)).changes] == ["resolved"]
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"alerts\.json is not readable JSON"):
        Notifier([], path)


class Recorder:
    """A loopback HTTP receiver that records POSTs; it can fail the first ``fail`` of them
    with ``status``, or hold each answer until ``gate`` is set."""

    def __init__(
        self,
        *,
        fail: int = 0,
        status: int = 503,
        gate: threading.Event | None = None,
    ) -> None:
        self.bodies: list[Any] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.attempts = 0
        self.fail, self.status, self.gate = fail, status, gate
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.attempts += 1
                if recorder.gate is not None:
                    recorder.gate.wait(timeout=30)
                if recorder.attempts <= recorder.fail:
                    self.send_response(recorder.status)
                    self.end_headers()
                    return
                try:
                    recorder.bodies.append(json.loads(raw))
                except ValueError:
                    recorder.bodies.append(raw.decode("utf-8", "replace"))
                recorder.paths.append(self.path)
                recorder.headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @contextlib.contextmanager
    def running(self) -> Iterator[Recorder]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def test_webhook_payload_follows_its_schema_and_a_failing_receiver_recovers(
    tmp_path: Path,
) -> None:
    with Recorder(fail=2).running() as hook:
        notifier = Notifier(
            [f"http://127.0.0.1:{hook.port}/hook"],
            tmp_path / "a.json",
            hold=timedelta(0),
            delivery=FAST,
        )
        result = notifier.notify(_violations("t2"), at=_at(0))
    assert result.ok and result.sent == {f"http://127.0.0.1:{hook.port}": 1}
    assert hook.attempts == 3  # two 503s, then taken: one delivery
    (payload,) = hook.bodies
    jsonschema.validate(payload, WEBHOOK_SCHEMA, format_checker=jsonschema.FormatChecker())
    (alert,) = payload["alerts"]
    assert (alert["status"], alert["rule"], alert["tunnel_name"]) == ("firing", "down", EVIL)
    assert alert["starts_at"] == "2026-12-05T03:00:00Z" and alert["advice"]


def test_a_receiver_that_stays_down_keeps_the_alerts_for_the_next_run(tmp_path: Path) -> None:
    state = tmp_path / "a.json"
    with Recorder(fail=10**6).running() as hook:
        url = f"http://user:s3cret@127.0.0.1:{hook.port}/hook?token=TOKEN123"
        name = f"http://127.0.0.1:{hook.port}"

        def run(at: float, *down: str) -> Any:
            notifier = Notifier([url], state, hold=timedelta(0), delivery=FAST)
            return notifier.notify(_violations(*down), at=_at(at))

        result = run(0, "t1")
        assert not result.ok and hook.attempts == FAST.attempts
        assert run(5).kept == {name: 2}  # the start, and now the end, both kept
        text = state.read_text()
        assert "s3cret" not in text and "TOKEN123" not in text and "/hook" not in text
        hook.fail = 0  # the receiver is back
        assert run(10).sent == {name: 2}
        assert run(15).sent == {}  # nothing new, nothing kept: nothing sent again
    (payload,) = hook.bodies
    assert [(a["status"], a["tunnel_name"]) for a in payload["alerts"]] == [
        ("firing", "web-prod"),
        ("resolved", "web-prod"),
    ]
    assert hook.paths == ["/hook?token=TOKEN123"]
    assert hook.headers[0]["Authorization"].startswith("Basic ")


def test_a_slow_receiver_is_given_up_at_the_deadline_and_kept(tmp_path: Path) -> None:
    # The receiver never answers while the notifier tries: every try times out. Ten tries of
    # 0.5 s fit no 1.5 s deadline, so giving up at the deadline is fewer tries than allowed
    # (load only makes them fewer); no wall-clock bound.
    never = threading.Event()
    with Recorder(gate=never).running() as slow:
        policy = Delivery(attempts=10, backoff=0.05, timeout=0.5, deadline=1.5)
        notifier = Notifier(
            [f"http://127.0.0.1:{slow.port}/"],
            tmp_path / "a.json",
            hold=timedelta(0),
            delivery=policy,
        )
        result = notifier.notify(_violations("t1"), at=_at(0))
        never.set()  # let the receiver's threads go
    assert not result.ok and result.kept
    assert "timed out" in next(iter(result.errors.values())).lower()
    assert 1 <= slow.attempts < policy.attempts


def test_start_sends_in_the_background_without_holding_up_the_caller(tmp_path: Path) -> None:
    gate = threading.Event()
    with Recorder(gate=gate).running() as hook:
        notifier = Notifier(
            [f"http://127.0.0.1:{hook.port}/"],
            tmp_path / "a.json",
            hold=timedelta(0),
            delivery=FAST,
        )
        first = notifier.start(_violations("t1"), at=_at(0))
        second = notifier.start(_violations(), at=_at(5))
        # The receiver has not answered yet, and the caller already has both futures back.
        assert not first.done() and not second.done()
        gate.set()
        assert [a.status for a in first.result(timeout=30).changes] == ["firing"]
        assert [a.status for a in second.result(timeout=30).changes] == ["resolved"]
        notifier.close()
    assert [b["alerts"][0]["status"] for b in hook.bodies] == ["firing", "resolved"]


def test_alertmanager_receives_alerts_and_their_resolution(tmp_path: Path) -> None:
    # Alertmanager forwards what it holds to the relay, resolved ones included.
    with (
        Recorder().running() as relay,
        alertmanager(tmp_path, webhook=f"http://127.0.0.1:{relay.port}/am") as base,
    ):
        if True:
            url = base.replace("http://", "alertmanager://")
            state = tmp_path / "alerts.json"
            # Views of a few minutes ago, as cron's are by the time they are sent.
            now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
            notifier = Notifier([url], state, hold=timedelta(0), delivery=FAST)
            result = notifier.notify(_violations("t2"), at=now)
            assert result.ok
            (held,) = wait_for(lambda: get_json(f"{base}/api/v2/alerts"), what="the alert")
            labels, notes = held["labels"], held["annotations"]
            assert labels["alertname"] == "tunnelframe_down"
            assert (labels["tunnel_name"], labels["tunnel_id"], labels["severity"]) == (
                EVIL,
                "t2",
                "high",
            )
            assert notes["since"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert EVIL in notes["description"] and notes["action"]
            assert held["status"]["state"] == "active"
            # The tunnel is back: the resolution reaches Alertmanager with endsAt.
            later = now + timedelta(minutes=5)
            result = Notifier([url], state, hold=timedelta(0), delivery=FAST).notify(
                _violations(), at=later
            )
            assert result.ok
            wait_for(lambda: get_json(f"{base}/api/v2/alerts") == [], what="the resolution")

            def resolved() -> list[dict[str, Any]]:
                return [
                    a for body in relay.bodies for a in body["alerts"] if a["status"] == "resolved"
                ]

            (end,) = wait_for(resolved, what="Alertmanager's resolved notification")
            assert end["labels"]["tunnel_name"] == EVIL
            assert end["endsAt"].startswith(later.strftime("%Y-%m-%dT%H:%M:%S"))


def test_chat_services_through_apprise_get_escaped_markdown(tmp_path: Path) -> None:
    with Recorder().running() as chat:
        urls = [f"json://127.0.0.1:{chat.port}/chat", f"ntfy://127.0.0.1:{chat.port}/tunnels"]
        result = Notifier(urls, tmp_path / "a.json", hold=timedelta(0), delivery=FAST).notify(
            _violations("t2"), at=_at(0)
        )
    assert result.ok and len(result.sent) == 2
    bodies = dict(zip(chat.paths, chat.bodies, strict=True))
    assert set(bodies) == {"/chat", "/"} and bodies["/"]["topic"] == "tunnels"
    for body in bodies.values():
        message = body["message"]
        assert markdown_escape(EVIL) in message and EVIL not in message
        assert "since 2026-12-05T03:00:00Z" in message and "to do: restart cloudflared" in message


def test_check_notify_sends_changes_once_and_no_credential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = tf.Snapshot(
        fetched_at=SAMPLE_AS_OF, account_ids=[ACCOUNT], tunnels=_fleet("t1")["tunnels"]
    )
    path = snap.save(tmp_path / "snap.json.gz")
    with Recorder().running() as hook:
        url = f"http://127.0.0.1:{hook.port}/hook?token=SECRET42"
        args = ["check", str(path), "--notify", url, "--notify-hold", "0s"]
        assert main(args) == 1
        assert main(args) == 1  # the same snapshot again: nothing new to send
    err = capsys.readouterr().err
    assert "1 alert sent to http://127.0.0.1" in err
    assert "SECRET42" not in err
    state = tmp_path / "tunnelframe-alerts.json"
    assert state.exists() and "SECRET42" not in state.read_text()
    (payload,) = hook.bodies
    assert [a["tunnel_name"] for a in payload["alerts"]] == ["web-prod"]
    assert "SECRET42" not in json.dumps(payload)


def test_alertmanager_gets_firing_alerts_repeated_and_other_receivers_once(
    tmp_path: Path,
) -> None:
    # Alertmanager expires an alert nobody repeats: it gets the firing ones on every run
    # (it notifies people once); a webhook gets each change once.
    with Recorder().running() as am, Recorder().running() as hook:
        urls = [f"alertmanager://127.0.0.1:{am.port}", f"http://127.0.0.1:{hook.port}/"]
        for minute in (0, 5, 10):
            Notifier(urls, tmp_path / "a.json", hold=timedelta(0), delivery=FAST).notify(
                _violations("t1"), at=_at(minute)
            )
    assert am.paths == ["/api/v2/alerts"] * 3
    starts = {alert["startsAt"] for body in am.bodies for alert in body}
    assert starts == {"2026-12-05T03:00:00Z"}
    assert all(
        datetime.fromisoformat(alert["endsAt"]) > datetime.now(UTC) + timedelta(hours=1)
        for body in am.bodies
        for alert in body
    )
    assert len(hook.bodies) == 1


# watch judges at the wall clock, which can be months past the bundled release calendar
@pytest.mark.filterwarnings("ignore::tunnelframe.StaleReleasesWarning")
def test_watch_notify_sends_each_cycles_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunnelframe.simulator import serve
    from tunnelframe.watch import latest_snapshot

    store = tmp_path / "store"
    with serve(tf.simulator.generate_fleet(30, seed=7)) as api, Recorder().running() as hook:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", api.account_id)
        args = ["watch", "--store", str(store), "--interval", "1", "--cycles", "2"]
        url = f"http://127.0.0.1:{hook.port}/hook"
        assert main([*args, "--notify", url, "--notify-hold", "0s"]) == 0
        view = latest_snapshot(store, [api.account_id])
    assert view is not None
    found = tf.findings(view)
    assert len(found) > 0
    # The second cycle sees the same fleet: nothing new, nothing sent again.
    (payload,) = hook.bodies
    assert {a["status"] for a in payload["alerts"]} == {"firing"}
    assert len(payload["alerts"]) == len(found)
    assert (tmp_path / "store-alerts.json").exists()
