"""Fleet files: many accounts, one token each, one budget per token; tokens never leak."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import tunnelframe as tf
from tunnelframe.cli import main
from tunnelframe.simulator import serve

TOKEN_A = "token-of-account-a-0123456789abcdefghijkl"
TOKEN_B = "token-of-account-b-0123456789abcdefghijkl"


def _two_accounts() -> dict[str, Any]:
    fleet = copy.deepcopy(tf.simulator.generate_fleet(60, seed=3))
    for index, tunnel in enumerate(fleet["tunnels"]):
        tunnel["account_tag"] = "a" * 32 if index % 2 else "b" * 32
    return fleet


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _file(tmp_path: Path, *, share_a: float = 0.5, share_b: float = 0.25) -> Path:
    return _write(
        tmp_path / "fleet.toml",
        f"""requests_per_window = 40
window_s = 300

[[account]]
id = "{"a" * 32}"
name = "acme"
token_env = "TF_TEST_TOKEN_A"
budget_share = {share_a}

[[account]]
id = "{"b" * 32}"
token_env = "TF_TEST_TOKEN_B"
budget_share = {share_b}
""",
    )


def test_a_missing_variable_is_named_before_anything_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = _two_accounts()
    path = _file(tmp_path)
    with serve(fleet) as api:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("TF_TEST_TOKEN_A", TOKEN_A)
        monkeypatch.delenv("TF_TEST_TOKEN_B", raising=False)
        with pytest.raises(tf.AuthError, match=r"no token in \$TF_TEST_TOKEN_B") as caught:
            tf.fetch_fleet(fleet_file=path, progress=False)
        assert TOKEN_A not in str(caught.value)
        assert main(["snapshot", "--fleet", str(path), "--store", str(tmp_path / "s")]) == 2
        assert main(["watch", "--fleet", str(path), "--store", str(tmp_path / "s")]) == 2
        assert api.n_requests == 0
    err = capsys.readouterr().err
    assert "TF_TEST_TOKEN_B" in err and TOKEN_A not in err
    assert not (tmp_path / "s").exists()


def test_two_tokens_budgets_are_kept_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = _two_accounts()
    path = _file(tmp_path, share_a=0.5, share_b=0.25)  # 20 and 10 of 40 requests
    with serve(fleet, budget=(40, 300.0), token="unused-admin-token-0123456789abcdef") as api:
        api.add_token(TOKEN_A, ["a" * 32])
        api.add_token(TOKEN_B, ["b" * 32])
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("TF_TEST_TOKEN_A", TOKEN_A)
        monkeypatch.setenv("TF_TEST_TOKEN_B", TOKEN_B)
        empty = tf.Snapshot(fetched_at=datetime.now(UTC), account_ids=[], tunnels=[])
        snap = tf.fetch_fleet(fleet_file=path, previous=empty, progress=False)
        log = api.request_log
    per_account = {"a": 0, "b": 0}
    for _, request_path, status in log:
        assert status == 200  # no 429: each token within its own quota, no 403
        account = re.search(r"/accounts/(\w+)/", request_path)
        assert account is not None
        per_account[account.group(1)[0]] += 1
    assert per_account == {"a": 20, "b": 10}
    assert snap.n_requests == 30
    assert sorted(snap.account_ids) == ["a" * 32, "b" * 32]
    unread = {e["account_id"] for e in snap.errors}
    assert unread == {"a" * 32, "b" * 32}  # the rest waits for the next refresh
    text = snap.save(tmp_path / "snap.json").read_text()
    assert TOKEN_A not in text and TOKEN_B not in text


def test_accounts_sharing_a_token_share_one_budget(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "f.toml",
        '[[account]]\nid = "a1"\ntoken_env = "T"\nbudget_share = 0.5\n'
        '[[account]]\nid = "a2"\ntoken_env = "T"\nbudget_share = 0.3\n',
    )
    with pytest.raises(ValueError, match=r"one token has one budget"):
        tf.load_fleet_file(path).groups()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[[account]]\nid = "a1"\ntoken = "abc"\n', r"account\[0\]\.token: unknown key: a fleet"),
        ('[[account]]\nid = "a1"\ntoken_env = "not a name"\n', r"account\[0\]\.token_env"),
        ('[[account]]\nid = "a1"\ntoken_env = "T"\nbudget_share = 2\n', r"budget_share"),
        ("budget_share = 0.5\n", r"fleet.toml:account: no \[\[account\]\]"),
        ("not toml [", r"not TOML"),
    ],
)
def test_a_bad_fleet_file_names_the_key(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(tf.SchemaError, match=where):
        tf.load_fleet_file(_write(tmp_path / "fleet.toml", text))


def test_snapshot_fleet_incremental_reads_the_rest_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = _two_accounts()
    path = _file(tmp_path, share_a=0.5, share_b=0.5)  # 20 requests per token and run
    store = tmp_path / "store"
    # The server keeps Cloudflare's quota; the file allows each run 20 requests per token.
    with serve(fleet, token="unused-admin-token-0123456789abcdef") as api:
        api.add_token(TOKEN_A, ["a" * 32])
        api.add_token(TOKEN_B, ["b" * 32])
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.url)
        monkeypatch.setenv("TF_TEST_TOKEN_A", TOKEN_A)
        monkeypatch.setenv("TF_TEST_TOKEN_B", TOKEN_B)
        argv = ["snapshot", "--fleet", str(path), "--store", str(store), "--incremental"]
        assert main(argv) == 0
        first = tf.watch.latest_snapshot(store, ["a" * 32, "b" * 32])
        assert first is not None and first.errors  # more tunnels than one run's share
        unread = {e["tunnel_id"] for e in first.errors}
        before = len(api.request_log)
        assert main(argv) == 0
        read_now = {
            p.split("?")[0].split("/")[-2]
            for _, p, _ in api.request_log[before:]
            if p.split("?")[0].endswith("/connections")
        }
        assert all(status == 200 for _, _, status in api.request_log)
    assert unread <= read_now  # the ones not read yet come first
    out = capsys.readouterr()
    assert TOKEN_A not in out.out + out.err and TOKEN_B not in out.out + out.err
