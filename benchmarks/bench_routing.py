"""Benchmark: the request cost of reading what each tunnel serves, on a 1,000-tunnel fleet.

Runs ``fetch_fleet`` and then ``fetch_routing`` against the bundled simulator on loopback
(20 ms latency per request, 8 workers) and prints, per part, the requests made beside the
stated bound:

- configurations: 1 per live, remotely managed cloudflared tunnel (``config_src: cloudflare``);
- routes: ceil(routes / 1000) per account;
- zones: ceil(zones / 50) per account;
- DNS: 1 per zone (``type=CNAME&content.endswith=.cfargotunnel.com``, 5,000 a page), where
  asking per tunnel (``content=<id>.cfargotunnel.com``) would cost tunnels x zones requests.

Targets: every part within its bound; the extra reads cost at most one request per tunnel plus
one per zone. Run: ``python benchmarks/bench_routing.py [--tunnels 1000] [--latency 0.02]``.
"""

from __future__ import annotations

import argparse
import math
import re
import time
from collections import Counter

import tunnelframe as tf
from tunnelframe.simulator import generate_fleet, serve


def _part(path: str) -> str:
    if re.search(r"/cfd_tunnel/[^/]+/configurations", path):
        return "configurations"
    if "/teamnet/routes" in path:
        return "routes"
    if re.search(r"/zones/[^/?]+/dns_records", path):
        return "dns"
    if re.search(r"/zones(\?|$)", path):
        return "zones"
    return "tunnels"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunnels", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    fleet = generate_fleet(args.tunnels, seed=0)
    with serve(fleet, latency=args.latency, budget=(100_000, 300)) as api:
        # The client's own budget (1200 per 5 minutes) would pause the run: the fleet and its
        # routing together pass it at this size (printed below), so the run lifts it.
        with tf.Client(
            api.token, account_id=api.account_id, base_url=api.url, requests_per_window=100_000
        ) as client:
            started = time.perf_counter()
            snap = tf.fetch_fleet(client=client, max_workers=args.workers, progress=False)
            fleet_s = time.perf_counter() - started
            before = len(api.request_log)
            started = time.perf_counter()
            routed = tf.fetch_routing(snap, client=client, max_workers=args.workers)
            routing_s = time.perf_counter() - started
        log = api.request_log
        truth = api.routing
    counts = Counter(_part(path) for _, path, _ in log[before:])
    n_tunnels = len(snap.tunnels)
    remote = sum(
        1
        for t in snap.tunnels
        if t.get("config_src") == "cloudflare"
        and not t.get("deleted_at")
        and (t.get("tun_type") or "cfd_tunnel") == "cfd_tunnel"
    )
    n_zones = len(truth.zones)
    n_routes = sum(1 for r in truth.routes if not r.get("deleted_at"))
    n_cnames = sum(1 for r in truth.records if "cfargotunnel" in str(r.get("content")))
    bounds = {
        "configurations": remote,
        "routes": max(1, math.ceil(n_routes / 1000)),
        "zones": max(1, math.ceil(n_zones / 50)),
        "dns": n_zones,
    }
    routing = routed.routing or {}
    found = {
        "configurations": f"{len(routing.get('configurations', {}))} configurations",
        "routes": f"{len(routing.get('routes', []))} routes",
        "zones": f"{len(routing.get('zones', []))} zones",
        "dns": f"{len(routing.get('dns_records', []))} tunnel CNAMEs of {n_cnames}",
    }
    print(
        f"{args.tunnels:,} tunnels generated, {n_tunnels:,} listed "
        f"({remote} remotely managed), {n_zones} zones, "
        f"latency {args.latency * 1000:.0f} ms, {args.workers} workers"
    )
    print(f"{'part':<16}{'requests':>9}{'bound':>8}  {'ok':<4}{'read':<34}")
    for part in ("configurations", "routes", "zones", "dns"):
        ok = "yes" if counts[part] <= bounds[part] else "NO"
        print(f"{part:<16}{counts[part]:>9}{bounds[part]:>8}  {ok:<4}{found[part]:<34}")
    extra = sum(counts[p] for p in bounds)
    print(
        f"{'routing total':<16}{extra:>9}{sum(bounds.values()):>8}  "
        f"{'yes' if extra <= n_tunnels + n_zones + 2 else 'NO':<4}"
        f"{routing_s:.2f} s (fleet fetch: {snap.n_requests} requests, {fleet_s:.2f} s)"
    )
    total = snap.n_requests + extra
    print(
        f"{'fleet + routing':<16}{total:>9}{1200:>8}  {'yes' if total <= 1200 else 'NO':<4}"
        "Cloudflare's budget: 1200 requests per 5 minutes per token"
    )
    print(
        f"{'per-tunnel DNS':<16}{n_tunnels * n_zones:>9}{'':>8}  {'':<4}"
        "what one content=<id>.cfargotunnel.com query per tunnel and zone would cost"
    )


if __name__ == "__main__":
    main()
