"""Benchmark ``watch`` (incremental refresh) against a full re-read at the same budget.

Three living fleets (:class:`tunnelframe.simulator.LivingFleet`, ``generate_history``'s rates
of change plus a release wave every 4 hours) are watched for 6 simulated hours, one cycle
every 5 minutes, each token allowed half its budget (600 of 1,200 requests per 5 minutes):

* 1,000 tunnels: 1 account, 1 token;
* 10,000 tunnels: 10 accounts, 1 token (one budget for all);
* 50,000 tunnels: 50 accounts, 50 tokens.

Two strategies per fleet, each starting from a full read at hour 0 (not counted):

* ``watch``: the planner ``fetch_fleet(previous=...)`` uses (:func:`tunnelframe._refresh
  .plan_reads`): list every tunnel, read the new, changed and failed ones, then the
  longest-unread with what is left of the share;
* ``full re-read``: the same share spent reading the fleet in list order, again and again (a
  cron ``snapshot`` that reads what it can each cycle and carries on where it stopped).

The clock is simulated, so 6 hours take seconds, and the rate budget is on the same clock:
every request is counted by the simulator's own rate window (``_Window``: 1,200 per 5
minutes per token, 429 past it). Requests of a cycle go out 12.5 ms apart (8 workers at
~100 ms per request), and a read sees the fleet as it is at that moment. What is measured:

* requests per cycle (all tokens), the largest share of a token's budget used in any sliding
  5-minute window, and the 429s;
* for every change the living fleet made, the delay until a read showed it (the tunnel's
  ``/connections`` read, or for a deletion the next listing), p50 / p95 / max, split into
  changes the list shows (status, conns_active_at, conns_inactive_at, a tunnel appearing or
  vanishing) and changes only ``/connections`` shows;
* the longest any tunnel went unread, against the rotation floor: tunnels per token ÷ reads
  per window × window, plus one cycle;
* peak memory of the process (fleet simulator included), each fleet in its own process.

Targets: no 429; no token over its share; list-visible changes visible by the end of the
next cycle (p95 <= 2 cycles); longest unread within 10 % of the rotation floor (``watch``
only); peak memory <= 1 GB at 50,000 tunnels.

This drives the planner and the simulator in one process rather than through HTTP: 6
simulated hours of 50,000 tunnels over loopback HTTP would take hours on this 2-core machine.
The HTTP path (client, fetch, watch) is the one the tests run over the loopback simulator.

Run: ``.venv/bin/python benchmarks/bench_watch.py [--hours 6] [--sizes 1000,10000,50000]``.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from tunnelframe._refresh import LIST_FIELDS, plan_reads
from tunnelframe.simulator import LivingFleet
from tunnelframe.simulator._api import _Window

WINDOW_S = 300.0
QUOTA = 1200
SHARE = 0.5
CYCLE_S = 300.0
REQUEST_GAP_S = 0.0125
PER_PAGE = 1000


@dataclass(frozen=True)
class Scenario:
    name: str
    n_accounts: int
    per_account: int
    n_tokens: int


SCENARIOS = {
    1000: Scenario("1,000 tunnels, 1 token", 1, 1000, 1),
    10000: Scenario("10,000 tunnels, 10 accounts, 1 token", 10, 1000, 1),
    50000: Scenario("50,000 tunnels, 50 accounts, 50 tokens", 50, 1000, 50),
}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class _Strategy:
    """One reader of the fleet: its view per tunnel and what it has made visible."""

    def __init__(self, name: str, fleet: LivingFleet, tokens: list[list[str]]) -> None:
        self.name = name
        self.fleet = fleet
        self.tokens = tokens  # accounts per token
        # Each token's own rate window, as the simulator keeps it, on the simulated clock.
        self.now = [0.0] * len(tokens)
        self.windows = [
            _Window(QUOTA, WINDOW_S, lambda i=i: self.now[i]) for i in range(len(tokens))
        ]
        self.sent: dict[int, deque[float]] = defaultdict(deque)
        self.max_in_window = 0
        self.n_429 = 0
        self.requests: list[int] = []
        # what the reader last saw: list fields per tunnel, and when it read it
        self.seen: dict[str, dict[str, Any]] = {}
        self.read_at: dict[str, float] = {}
        self.longest = 0.0
        self.cursor: dict[int, int] = defaultdict(int)  # full re-read: where it stopped
        # per token, the ids of its last listing (the full read at hour 0 to begin with)
        token_of = {a: i for i, accounts in enumerate(tokens) for a in accounts}
        self.listed: dict[int, set[str]] = defaultdict(set)
        for key, tunnel in fleet.tunnels().items():
            if not tunnel.deleted:
                self.listed[token_of[tunnel.account]].add(key)
        for key, tunnel in fleet.tunnels().items():
            if not tunnel.deleted:  # a full read at hour 0
                self.seen[key] = {f: tunnel.obj.get(f) for f in LIST_FIELDS}
                if tunnel.obj.get("status") != "inactive":
                    self.read_at[key] = 0.0

    def _request(self, token: int, at: float) -> float:
        """Send one request at ``at`` or, as the client's limiter does (the token's share in
        any sliding window), when the share allows; the time it went out."""
        sent = self.sent[token]
        while sent and sent[0] <= at - WINDOW_S:
            sent.popleft()
        if len(sent) >= math.floor(SHARE * QUOTA):
            at = sent[0] + WINDOW_S + 1e-6
            while sent and sent[0] <= at - WINDOW_S:
                sent.popleft()
        self.now[token] = at
        allowed, _, _ = self.windows[token].take("token")
        if not allowed:
            self.n_429 += 1
        sent.append(at)
        self.max_in_window = max(self.max_in_window, len(sent))
        return at

    def cycle(
        self, start: float, pending: dict[str, list[tuple[float, bool]]], delays: Any
    ) -> None:
        """One cycle at ``start``: every token lists, then reads; reads show the fleet as it is
        at ``start`` (changes during the cycle's few seconds wait for the next read)."""
        total = 0
        by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for tunnel in self.fleet.tunnels().values():
            if not tunnel.deleted:
                by_account[tunnel.account].append(tunnel.obj)
        for token, accounts in enumerate(self.tokens):
            at = start
            cap = math.floor(SHARE * QUOTA)
            listed = [obj for a in accounts for obj in by_account[a]]
            pages = sum(max(1, math.ceil(len(by_account[a]) / PER_PAGE)) for a in accounts)
            for _ in range(pages):
                at = self._request(token, at) + REQUEST_GAP_S
            ids = [str(t["id"]) for t in listed]
            listed_ids = set(ids)
            gone = self.listed.get(token, set()) - listed_ids
            self.listed[token] = listed_ids
            for key in gone:  # a deletion shows in this listing
                for when, _ in pending.pop(key, []):
                    delays["list"].append(start - when)
                self.seen.pop(key, None)
                self.read_at.pop(key, None)
            slots = max(0, cap - pages)
            readable = [t.get("status") != "inactive" for t in listed]
            if self.name == "watch":
                previous = {k: self.seen[k] for k in ids if k in self.seen}
                observed = {k: self.read_at.get(k, -1.0) for k in ids}
                order = plan_reads(
                    listed, readable, previous, set(), observed=observed, slots=slots
                ).reads
            else:
                candidates = [i for i, ok in enumerate(readable) if ok]
                first = self.cursor[token] % max(1, len(candidates))
                order = (candidates[first:] + candidates[:first])[:slots]
                self.cursor[token] = first + len(order)
            for index in order:
                key = ids[index]
                at = self._request(token, at)
                self.seen[key] = {f: listed[index].get(f) for f in LIST_FIELDS}
                last = self.read_at.get(key)
                if last is not None:
                    self.longest = max(self.longest, at - last)
                self.read_at[key] = at
                for when, visible in pending.pop(key, []):
                    delays["list" if visible else "conns"].append(at - when)
                at += REQUEST_GAP_S
            for key in ids:  # listed, new to this reader and not read yet: known by name
                self.seen.setdefault(key, {})
            total += pages + len(order)
        self.requests.append(total)


def run_scenario(size: int, hours: float) -> dict[str, Any]:
    scenario = SCENARIOS[size]
    started = time.perf_counter()
    results: dict[str, Any] = {"name": scenario.name, "size": size}
    for name in ("watch", "full re-read"):
        fleet = LivingFleet(scenario.n_accounts, scenario.per_account, seed=size)
        accounts = fleet.accounts
        per_token = math.ceil(len(accounts) / scenario.n_tokens)
        tokens = [accounts[i : i + per_token] for i in range(0, len(accounts), per_token)]
        reader = _Strategy(name, fleet, tokens)
        delays: dict[str, list[float]] = {"list": [], "conns": []}
        pending: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        n_cycles = int(hours * 3600 / CYCLE_S)
        for k in range(n_cycles):
            start = (k + 1) * CYCLE_S
            for change in fleet.advance(start):
                pending[change.tunnel_id].append((change.at, change.list_visible))
            reader.cycle(start, pending, delays)
        end = n_cycles * CYCLE_S
        never = [end - w for ws in pending.values() for w, _ in ws]
        open_gaps = [end - at for at in reader.read_at.values()]
        per_token_tunnels = max(
            sum(1 for t in fleet.tunnels().values() if not t.deleted and t.account in set(tok))
            for tok in tokens
        )
        reads_per_window = math.floor(SHARE * QUOTA) - sum(
            max(1, math.ceil(scenario.per_account / PER_PAGE)) for _ in tokens[0]
        )
        floor_s = per_token_tunnels / reads_per_window * WINDOW_S + CYCLE_S
        results[name] = {
            "requests_per_cycle": sum(reader.requests) / len(reader.requests),
            "max_share": reader.max_in_window / QUOTA,
            "n_429": reader.n_429,
            "list": delays["list"],
            "conns": delays["conns"],
            "unseen": len(never),
            "longest_unread_s": max([reader.longest, *open_gaps]),
            "floor_s": floor_s,
            "n_changes": len(fleet.changes),
        }
        del fleet, reader
    results["wall_s"] = time.perf_counter() - started
    results["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name in ("watch", "full re-read"):
        r = results[name]
        for part in ("list", "conns"):
            values = r.pop(part)
            r[part] = {
                "n": len(values),
                "p50": _pct(values, 0.5),
                "p95": _pct(values, 0.95),
                "max": max(values) if values else math.nan,
            }
    return results


def _m(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds / 60:.1f}"


def _spread(d: dict[str, Any]) -> str:
    return f"{_m(d['p50'])}/{_m(d['p95'])}/{_m(d['max'])} ({d['n']})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_scenario(args.one, args.hours)))
        return 0
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--hours", str(args.hours)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append(json.loads(done.stdout))
    header = (
        f"{'fleet':<40} {'strategy':<13} {'req/cycle':>9} {'max share':>9} {'429s':>5} "
        f"{'list-visible p50/p95/max min (n)':>34} {'conns-only p50/p95/max min (n)':>32} "
        f"{'unseen':>6} {'longest unread min (floor)':>27} {'peak MB':>8} {'wall s':>7}"
    )
    print(f"bench_watch: {args.hours:g} simulated hours, a cycle every {CYCLE_S / 60:g} min, "
          f"share {SHARE:g} of {QUOTA} requests per {WINDOW_S / 60:g} min per token")  # fmt: skip
    print(header)
    print("-" * len(header))
    failures = []
    for row in rows:
        for name in ("watch", "full re-read"):
            r = row[name]
            print(
                f"{row['name'] if name == 'watch' else '':<40} {name:<13} "
                f"{r['requests_per_cycle']:>9.0f} {r['max_share']:>9.3f} {r['n_429']:>5} "
                f"{_spread(r['list']):>34} {_spread(r['conns']):>32} {r['unseen']:>6} "
                f"{_m(r['longest_unread_s']) + ' (' + _m(r['floor_s']) + ')':>27} "
                + (f"{row['peak_mb']:>8.0f} {row['wall_s']:>7.0f}" if name == "watch" else "")
            )
        w = row["watch"]
        if w["n_429"]:
            failures.append(f"{row['name']}: {w['n_429']} 429s")
        if w["max_share"] > SHARE:
            failures.append(f"{row['name']}: a token used {w['max_share']:.3f} of its budget")
        if not w["list"]["p95"] <= 2 * CYCLE_S:
            failures.append(f"{row['name']}: list-visible p95 {w['list']['p95']:.0f} s > 2 cycles")
        if w["longest_unread_s"] > 1.1 * w["floor_s"]:
            failures.append(
                f"{row['name']}: longest unread {w['longest_unread_s']:.0f} s > 1.1 x floor "
                f"{w['floor_s']:.0f} s"
            )
        if row["size"] >= 50000 and row["peak_mb"] > 1024:
            failures.append(f"{row['name']}: peak memory {row['peak_mb']:.0f} MB > 1 GB")
    print()
    print("targets (watch): no 429; max share <= 0.5; list-visible p95 <= 2 cycles (10 min); "
          "longest unread <= 1.1 x floor; peak memory <= 1 GB at 50,000 tunnels")  # fmt: skip
    print("\n".join(f"MISSED: {f}" for f in failures) if failures else "all targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
