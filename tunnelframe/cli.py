"""The ``tunnelframe`` command line: a thin layer over the library.

Each subcommand parses its arguments, calls the public API and prints a few lines; the logic
lives in the library modules. A known error (:class:`~tunnelframe.TunnelframeError`, a missing
or unreadable file, a bad value) becomes one line on stderr and exit status 2, as a usage
error does (1 means "found something": ``check``'s violations, ``diff``'s changes), and a
traceback appears only with ``--debug``. Nothing here may print a token:
credentials are read from the environment by :class:`tunnelframe.Client`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import textwrap
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

import pandas as pd

import tunnelframe as tf
from tunnelframe import watch
from tunnelframe._errors import TunnelframeError
from tunnelframe._text import cli_audience, one_line, plural
from tunnelframe._version import __version__
from tunnelframe.client import TUN_TYPES
from tunnelframe.datasets import SAMPLE_AS_OF
from tunnelframe.engine import (
    CHECK_SCHEMA,
    RULES,
    calendar_notes,
    check_fleet,
    diff_counts,
    diff_document,
    diff_snapshots,
    findings,
)
from tunnelframe.history import IcebergHistory, history_summary
from tunnelframe.report import export_frames, report_format, write_report
from tunnelframe.simulator import serve, simulate

__all__ = ["main"]

_PROG = "tunnelframe"
_DEFAULT_REPORT = "tunnelframe-report.html"

_DESCRIPTION = """\
Your fleet of Cloudflare Tunnel connectors as data: fetch it, check it, report on it.

Start with `tunnelframe demo`: it serves the bundled sample fleet on loopback, fetches it
through the real client and writes an HTML report. No account and no network needed.
Live commands read CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY) and
CLOUDFLARE_ACCOUNT_ID from the environment."""

#: Every command's ``--help`` ends with this one text, so no command can tell another story.
_EXIT_STATUS = (
    "Exit status: 0 done and clean; 1 found something (check: violations, diff: a change); "
    "2 could not run (usage, unreadable input, API or network failure); 130 interrupted "
    "(Ctrl+C)."
)


@dataclass(frozen=True)
class _Command:
    """A subcommand: its name, its help, its options (declared beside its body) and its body."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class _UsageError(Exception):
    """A mistake in the command line that argparse cannot see on its own (exit status 2)."""


# --------------------------------------------------------------------------------------------
# argument parsing


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 0 to 65535, not {value}")
    return value


def _writable_file(path: Path, option: str) -> None:
    """Refuse, before any fetch, an output the fetch could not be saved to."""
    if path.is_dir():
        raise _UsageError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise _UsageError(f"{option} {path}: the folder {path.parent} does not exist")


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date or time: {text!r} (use ISO 8601, e.g. 2026-08-20 or 2026-08-20T12:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now_or_timestamp(text: str) -> datetime:
    if text.strip().lower() == "now":
        return datetime.now(UTC).replace(microsecond=0)
    return _timestamp(text)


def _rule_dest(rule_id: str) -> str:
    return "rule_" + rule_id.replace("-", "_")


class _OldSpelling(argparse.Action):
    """An option's old spelling, kept for one release: it sets what its new spelling sets and
    says so in one line on stderr (no traceback; the exit status is the command's own)."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{_PROG}: warning: {option_string} is deprecated and goes in the next release: "
            f"write {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def _tun_type_option(p: argparse.ArgumentParser, help: str, default: str | None) -> None:
    """``--tun-type`` (the API's ``tun_type``, the library's ``tun_type``/``tun_types``) and
    its old spelling ``--kind``, hidden, for one release."""
    either = p.add_mutually_exclusive_group()
    either.add_argument("--tun-type", choices=(*TUN_TYPES, "all"), default=default, help=help)
    either.add_argument(
        "--kind",
        dest="tun_type",
        choices=(*TUN_TYPES, "all"),
        default=argparse.SUPPRESS,
        action=_OldSpelling,
        new="--tun-type",
        help=argparse.SUPPRESS,
    )


def _fetch_tun_type_option(p: argparse.ArgumentParser) -> None:
    _tun_type_option(
        p,
        "tunnel type to fetch: cloudflared (cfd_tunnel, the default), WARP Connector "
        "(warp_connector) or all, listed in one pass",
        "cfd_tunnel",
    )


def _filter_tun_type_option(p: argparse.ArgumentParser, *, extra: str = "") -> None:
    _tun_type_option(
        p,
        "only tunnels of this type: cfd_tunnel (cloudflared) or warp_connector (WARP "
        "Connector); default all types side by side." + extra,
        None,
    )


def _tun_types(tun_type: str | None) -> tuple[str, ...]:
    """The tunnel types to fetch for a ``--tun-type`` value (None: the library's default)."""
    if tun_type is None:
        return ("cfd_tunnel",)
    return TUN_TYPES if tun_type == "all" else (tun_type,)


def _only_tun_type(tun_type: str | None) -> str | None:
    """The type filter of a report or check for a ``--tun-type`` value (None: every type)."""
    return None if tun_type in (None, "all") else tun_type


def _account_option(p: argparse.ArgumentParser, *, help: str | None = None) -> None:
    p.add_argument(
        "--account",
        action="append",
        metavar="ID",
        dest="accounts",
        help=help or "account to fetch (repeat for several; default: CLOUDFLARE_ACCOUNT_ID)",
    )


def _progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="do not show the progress bar (never shown when stderr is not a terminal)",
    )


def _bar(args: argparse.Namespace) -> bool:
    """A progress bar only when asked for and stderr is a terminal: never in a cron log."""
    return bool(args.progress) and sys.stderr.isatty()


def _releases_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--releases",
        type=Path,
        metavar="FILE",
        help="cloudflared release calendar to measure with: a CSV with version,released_on "
        "(default: the newer of the bundled one and the one --refresh-releases cached)",
    )
    group.add_argument(
        "--refresh-releases",
        action="store_true",
        help="read cloudflared's releases from GitHub first and cache them for later commands "
        "(in $TUNNELFRAME_CACHE_DIR, else the user's cache folder; $TUNNELFRAME_RELEASES_URL "
        "names another GitHub-style releases endpoint, e.g. a mirror)",
    )


def _releases(args: argparse.Namespace) -> Path | pd.DataFrame | None:
    """The calendar ``--releases``/``--refresh-releases`` ask for (None: the library's choice)."""
    if args.refresh_releases:
        url = os.environ.get("TUNNELFRAME_RELEASES_URL")
        releases = tf.refresh_releases(url=url) if url else tf.refresh_releases()
        newest = releases.iloc[0]
        _out(
            f"Release calendar refreshed: newest cloudflared {newest['version']} "
            f"({newest['released_on']:%Y-%m-%d}).",
            file=sys.stderr,
        )
        return releases
    path: Path | None = args.releases
    return path


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("html", "md"),
        help="report format (default: from the output's suffix, else html)",
    )
    p.add_argument(
        "--redact-ips",
        action="store_true",
        help="replace origin IPs and private route networks with keyed pseudonyms (key: "
        "$TUNNELFRAME_REDACT_KEY, else random per report)",
    )
    p.add_argument("--title", help="report title")
    _releases_options(p)


# --------------------------------------------------------------------------------------------
# commands


def _out(text: str = "", *, file: TextIO | None = None) -> None:
    stream = file or sys.stdout
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        # The reader left (``tunnelframe diff ... | head -1``): the rest of the output goes
        # nowhere, and the command still ends with its own exit status.
        if stream is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def _report_format(path: Path, fmt: str | None) -> Literal["html", "md"]:
    """``--format`` wins; else the suffix decides, and any other suffix means HTML."""
    return report_format(path, fmt, default="html")


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path(_DEFAULT_REPORT),
        help=f"report to write, .html or .md (default: {_DEFAULT_REPORT})",
    )
    p.add_argument(
        "--snapshot",
        type=Path,
        metavar="PATH",
        help="also save the fetched sample as a snapshot file (for check, report, export, diff)",
    )
    _report_options(p)
    _progress_option(p)


def _demo(args: argparse.Namespace) -> int:
    releases = _releases(args)
    started = time.perf_counter()
    with (
        serve(tf.load_sample()) as api,
        tf.Client(api.token, account_id=api.account_id, base_url=api.url) as client,
    ):
        snapshot = tf.fetch_fleet(
            client=client, account_id=api.account_ids, tun_types=TUN_TYPES, progress=_bar(args)
        )
    elapsed = time.perf_counter() - started
    _out(
        f"Served the bundled sample fleet on loopback and fetched it through the client in "
        f"{elapsed:.1f} s ({snapshot.n_requests} requests)."
    )
    if args.snapshot is not None:
        # The sample pictures a fleet on SAMPLE_AS_OF: the snapshot says so, and every later
        # command measures there, as the demo does.
        snapshot.as_of = SAMPLE_AS_OF
        saved = snapshot.save(args.snapshot)
        _out(
            f"Snapshot: {Path(saved or args.snapshot).resolve()} (use it with check, report, "
            f"export, diff; it measures as of the sample's {SAMPLE_AS_OF:%Y-%m-%d %H:%M} UTC)"
        )
    _out(f"Rendering the report ({plural(len(snapshot.tunnels), 'tunnel')})...", file=sys.stderr)
    # The snapshot is fetched now, but the sample is a picture of a fleet on SAMPLE_AS_OF:
    # measure ages and the support window there, or every connector would look months old.
    written = _write_report(
        snapshot,
        args.output,
        format=_report_format(args.output, args.format),
        redact_ips=args.redact_ips,
        title=args.title or "Sample fleet report (tunnelframe demo)",
        as_of=SAMPLE_AS_OF,
        releases=releases,
    )
    _out(f"As of {SAMPLE_AS_OF:%Y-%m-%d %H:%M} UTC: {_fleet_line(snapshot)}")
    _findings_lines(findings(snapshot, as_of=SAMPLE_AS_OF, releases=releases))
    _out(f"Report: {written.resolve()}")
    return 0


_DEMO = _Command(
    "demo",
    "Serve the bundled sample fleet on loopback, fetch it through the real client, "
    "analyse it as of the sample's own date (tunnelframe.datasets.SAMPLE_AS_OF) and write "
    "a report. No account and no network needed.",
    _demo_arguments,
    _demo,
)


def _write_report(source: Any, path: Path, **kwargs: Any) -> Path:
    """:func:`write_report`, with what the report says about the release calendar on stderr."""
    if isinstance(source, Path):
        source = tf.load_snapshot(source)  # read once for both
    notes = calendar_notes(
        source,
        as_of=kwargs.get("as_of"),
        releases=kwargs.get("releases"),
        tun_type=kwargs.get("tun_type"),
    )
    for note in notes:
        _out(f"{_PROG}: warning: {one_line(note)}", file=sys.stderr)
    return write_report(source, path, **kwargs)


def _fetch_arguments(p: argparse.ArgumentParser) -> None:
    _account_option(p)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="snapshot file to write (default: snapshot-<UTC time>.json.gz)",
    )
    _fetch_tun_type_option(p)
    _progress_option(p)
    _routing_option(p)


def _routing_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--routing",
        action="store_true",
        help="also read what each tunnel serves: published hostnames (1 request per remotely "
        "managed tunnel), private routes and DNS CNAMEs to tunnels (about 1 per zone); a part "
        "the token may not read is skipped with a note",
    )


def _read_routing(args: argparse.Namespace, snapshot: tf.Snapshot, client: Any) -> tf.Snapshot:
    """``snapshot`` with what its tunnels serve, with ``--routing``; each part skipped noted."""
    if not args.routing:
        return snapshot
    snapshot = tf.fetch_routing(snapshot, client=client)
    for note in (snapshot.routing or {}).get("notes", []):
        _out(f"{_PROG}: note: {one_line(note['message'])}", file=sys.stderr)
    return snapshot


def _fetch(args: argparse.Namespace) -> int:
    if args.output is not None:
        _writable_file(Path(args.output), "-o")
    with _client(_accounts(args)) as client:
        snapshot = tf.fetch_fleet(
            client=client,
            account_id=_accounts(args),
            tun_types=_tun_types(args.tun_type),
            progress=_bar(args),
        )
        snapshot = _read_routing(args, snapshot, client)
    path = args.output or Path(
        f"snapshot-{snapshot.fetched_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.json.gz"
    )
    written = snapshot.save(path)
    _out(_fleet_line(snapshot))
    if snapshot.errors:
        _out(f"{plural(len(snapshot.errors), 'tunnel')} could not be fetched (see the report).")
    _out(f"Snapshot: {Path(written or path).resolve()}")
    return 0


_FETCH = _Command(
    "fetch",
    "Fetch the fleet from the Cloudflare API and save it as a snapshot. Credentials come "
    "from CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY).",
    _fetch_arguments,
    _fetch,
)


def _accounts(args: argparse.Namespace) -> str | list[str] | None:
    accounts: list[str] | None = args.accounts
    if not accounts:
        return None
    return accounts[0] if len(accounts) == 1 else accounts


def _client(accounts: str | list[str] | None) -> tf.Client:
    """:class:`tunnelframe.Client` from the environment, or an error in the command line's
    words (an environment variable or an option, never a Python keyword argument)."""
    environ = os.environ
    has_key = environ.get("CLOUDFLARE_EMAIL") and environ.get("CLOUDFLARE_API_KEY")
    if not (environ.get("CLOUDFLARE_API_TOKEN") or has_key):
        missing = "CLOUDFLARE_API_KEY" if environ.get("CLOUDFLARE_EMAIL") else "CLOUDFLARE_EMAIL"
        raise TunnelframeError(
            "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (a token with Cloudflare "
            "Tunnel Read), or the legacy pair CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY "
            f"({missing} is not set)"
        )
    client = tf.Client()
    if accounts is None and client.account_id is None:
        client.close()
        raise TunnelframeError("no account id: give --account ID or set CLOUDFLARE_ACCOUNT_ID")
    return client


def _report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, metavar="SNAPSHOT", help="a snapshot file")
    _filter_tun_type_option(p)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="report to write (default: the snapshot's name with .html or .md, here)",
    )
    _report_options(p)
    p.add_argument(
        "--as-of",
        type=_timestamp,
        metavar="TIME",
        help="'now' for ages and drift (default: fetch time)",
    )

    p.add_argument(
        "--previous",
        type=Path,
        metavar="OLD",
        help="an earlier snapshot: adds a 'Since the previous snapshot' section",
    )


def _report(args: argparse.Namespace) -> int:
    if args.output is None:
        name = args.snapshot.name
        for suffix in (".gz", ".json"):
            name = name.removesuffix(suffix)
        args.output = Path(f"{name}.{args.format or 'html'}")
    written = _write_report(
        args.snapshot,
        args.output,
        format=_report_format(args.output, args.format),
        redact_ips=args.redact_ips,
        title=args.title,
        as_of=args.as_of,
        releases=_releases(args),
        previous=args.previous,
        tun_type=_only_tun_type(args.tun_type),
    )
    _out(f"Report: {written.resolve()}")
    return 0


_REPORT = _Command(
    "report",
    "Write an HTML or Markdown report of a snapshot.",
    _report_arguments,
    _report,
)


def _diff_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", type=Path, metavar="OLD", help="the earlier snapshot file")
    p.add_argument("new", type=Path, metavar="NEW", help="the later snapshot file")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default): one line per change and a closing line of counts by kind; "
        "json: one document of schema tunnelframe.diff version 1 (both snapshots' metadata, "
        "counts by kind, the changes)",
    )


def _diff(args: argparse.Namespace) -> int:
    if args.format == "json":
        document = diff_document(args.old, args.new)
        _out(json.dumps(document, indent=2, ensure_ascii=False))
        found = [c for c in document["changes"] if c.get("change") != "unreadable"]
        return 1 if found else 0
    changes = diff_snapshots(args.old, args.new)
    for message in changes["message"]:
        _out(message)
    # A tunnel that could not be read is no change found (and no tunnel torn down).
    n_unreadable = int((changes["change"] == "unreadable").sum())
    n_changes = len(changes) - n_unreadable
    if n_changes:
        by = ", ".join(
            f"{n:,} {kind}" for kind, n in diff_counts(changes).items() if kind != "unreadable"
        )
        summary = f"{plural(n_changes, 'change')}: {by}."
    else:
        summary = "No change."
    if n_unreadable:
        summary += f" {plural(n_unreadable, 'tunnel')} could not be read: changes unknown."
    _out(summary)
    return 1 if n_changes else 0


_DIFF = _Command(
    "diff",
    "Print what changed between two snapshots: connectors added, removed, restarted, "
    "upgraded or downgraded, colo sites and metros gained or lost, tunnel and HA status "
    "changes (exit status 1 when something changed, as diff(1)'s).",
    _diff_arguments,
    _diff,
)


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", type=Path, metavar="SNAPSHOT", help="a snapshot file")
    p.add_argument("directory", type=Path, metavar="DIR", help="directory to write into")
    p.add_argument(
        "--format",
        choices=("parquet", "csv", "xlsx", "openmetrics"),
        default="parquet",
        help="file format (default: parquet)",
    )
    p.add_argument(
        "--origin-ip",
        action="store_true",
        help="openmetrics: fill cloudflare_tunnel_connector_info's origin_ip label (empty "
        "otherwise)",
    )
    p.add_argument(
        "--as-of",
        type=_timestamp,
        metavar="TIME",
        help="xlsx: 'now' for the findings sheet (default: fetch time)",
    )


def _metrics() -> Any:
    """tunnelframe.metrics, or a usage error saying what to install."""
    try:
        import tunnelframe.metrics
    except ImportError as exc:
        raise _UsageError(
            f"the Prometheus export needs prometheus_client ({exc}): "
            "pip install 'tunnelframe[prometheus]'"
        ) from exc
    return tunnelframe.metrics


def _export(args: argparse.Namespace) -> int:
    if args.format == "openmetrics":
        args.directory.mkdir(parents=True, exist_ok=True)
        target = args.directory / "tunnelframe.prom"
        written_to = _metrics().write_openmetrics(args.snapshot, target, origin_ip=args.origin_ip)
        _out(str(written_to.resolve()))
        return 0
    written = export_frames(args.snapshot, args.directory, format=args.format, as_of=args.as_of)
    for path in dict.fromkeys(written.values()):  # xlsx: one workbook for the three frames
        _out(str(path.resolve()))
    return 0


_EXPORT = _Command(
    "export",
    "Write a snapshot's connections, connectors and tunnels frames as Parquet, CSV or Excel "
    "(with a findings sheet first), or its Prometheus series as OpenMetrics text "
    "(DIR/tunnelframe.prom, written atomically for node_exporter's textfile collector).",
    _export_arguments,
    _export,
)


def _simulate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tunnels", type=_positive_int, default=200, help="tunnels to generate (default: 200)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated fleet (default: 0)")
    p.add_argument(
        "--port", type=_port, default=8787, help="port on 127.0.0.1 (default: 8787; 0: any)"
    )
    p.add_argument(
        "--latency", type=float, default=0.0, help="seconds each request waits (default: 0)"
    )
    p.add_argument(
        "--as-of",
        type=_now_or_timestamp,
        metavar="TIME",
        help="the fleet's 'now': 'now' shifts its times to the present (default: "
        "2026-08-20T12:00Z, the sample's date)",
    )
    p.add_argument(
        "--token",
        help="the token clients must send (default: a random one, printed); a stand-in, "
        "never a real Cloudflare token",
    )
    p.add_argument(
        "--budget",
        type=_budget,
        default=(1200, 300.0),
        metavar="REQUESTS/SECONDS",
        help="the rate limit per credential: past it, 429 with Retry-After (default: 1200/300, "
        "the API's 1,200 requests per 5 minutes)",
    )


def _budget(text: str) -> tuple[int, float]:
    requests, _, seconds = text.partition("/")
    try:
        budget = (int(requests), float(seconds))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not REQUESTS/SECONDS (e.g. 1200/300): {text!r}"
        ) from None
    if budget[0] < 1 or not budget[1] > 0:
        raise argparse.ArgumentTypeError(
            f"a budget is 1 or more requests per more than 0 s: {text!r}"
        )
    return budget


def _simulate(args: argparse.Namespace) -> int:
    if args.latency < 0:
        raise _UsageError(f"--latency must be 0 or more, not {args.latency}")
    simulate(
        port=args.port,
        n_tunnels=args.tunnels,
        seed=args.seed,
        latency=args.latency,
        token=args.token,
        as_of=args.as_of,
        budget=args.budget,
    )
    # simulate() serves until Ctrl+C and then returns: that is an interruption, as elsewhere.
    print(f"{_PROG}: interrupted", file=sys.stderr)
    return 130


_SIMULATE = _Command(
    "simulate",
    "Serve a simulated fleet on loopback as a stand-in for the Cloudflare API, until interrupted.",
    _simulate_arguments,
    _simulate,
)


def _check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("snapshot", nargs="?", type=Path, metavar="SNAPSHOT", help="a snapshot file")
    _account_option(
        p, help="fetch this account live instead of reading a snapshot (repeat for several)"
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default): one line per violation and a summary line; json: one document "
        f"of schema {CHECK_SCHEMA[0]} version {CHECK_SCHEMA[1]} (see the README)",
    )
    p.add_argument(
        "--max-releases-behind",
        type=_positive_int,
        metavar="N",
        help="also flag connectors more than N releases behind the newest",
    )
    p.add_argument(
        "--expected-connections",
        type=_positive_int,
        metavar="N",
        default=4,
        help="active connections a healthy connector holds (default: 4, as cloudflared opens)",
    )
    p.add_argument(
        "--as-of",
        type=_timestamp,
        metavar="TIME",
        help="'now' for the support window and ignore expiry (default: fetch time)",
    )
    p.add_argument(
        "--tunnel",
        action="append",
        default=[],
        metavar="PATTERN",
        dest="tunnels",
        help="check only tunnels whose name or id matches this shell pattern, e.g. 'prod-*' "
        "(repeat for several)",
    )
    p.add_argument(
        "--exclude-tunnel",
        action="append",
        default=[],
        metavar="PATTERN",
        dest="exclude_tunnels",
        help="leave out tunnels whose name or id matches this pattern (repeat for several)",
    )
    p.add_argument(
        "--ignore-file",
        type=Path,
        metavar="FILE",
        help="TOML file of known exceptions ([[ignore]] with pattern, reason, optional rule "
        "and expires); expired entries hide nothing and are named on stderr",
    )
    _releases_options(p)
    _filter_tun_type_option(
        p,
        extra=" With --account, also what is fetched (default: cfd_tunnel; all: both types).",
    )
    # One flag per rule of the report's rule table: a new rule reaches check by itself.
    rules = p.add_argument_group("rules (all on by default; releases-behind needs its limit)")
    for rule in RULES:
        rules.add_argument(
            f"--no-{rule.id}",
            dest=_rule_dest(rule.id),
            action="store_false",
            help=f"do not flag {rule.title}",
        )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when clean")
    _notify_options(p)


def _duration(text: str) -> pd.Timedelta:
    try:
        value = pd.Timedelta(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30s, 5m, 1h)") from None
    if value < pd.Timedelta(0):
        raise argparse.ArgumentTypeError(f"a duration must not be negative: {text!r}")
    return value


def _notify_options(
    p: argparse.ArgumentParser,
    *,
    state: str = "tunnelframe-alerts.json beside the snapshot, or in the current directory "
    "with --account",
) -> None:
    group = p.add_argument_group("alerts (send only what changed since the last run)")
    group.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="URL",
        help="send new and ended violations here: alertmanager://HOST:PORT (Alertmanager's v2 "
        "API), http(s)://... (JSON webhook, schema tunnelframe.alerts.webhook 1), or an "
        "apprise URL (slack://..., ntfy://..., ...); repeat for several",
    )
    group.add_argument(
        "--notify-hold",
        type=_duration,
        default=pd.Timedelta(minutes=5),
        metavar="DURATION",
        help="how long a violation, or its end, must hold before it is sent (default: 5m)",
    )
    group.add_argument(
        "--notify-state",
        type=Path,
        metavar="FILE",
        help=f"the alert state shared by every run (default: {state})",
    )


def _notifier(args: argparse.Namespace, default_state: Path) -> Any:
    """The Notifier of --notify, --notify-hold and --notify-state."""
    try:
        from tunnelframe.alerts import Notifier
    except ImportError as exc:
        raise _UsageError(
            f"--notify needs apprise ({exc}): pip install 'tunnelframe[alerts]'"
        ) from exc
    state = args.notify_state or default_state
    return Notifier(args.notify, state, hold=args.notify_hold.to_pytimedelta())


def _notify(args: argparse.Namespace, violations: pd.DataFrame, at: Any) -> None:
    """Send what changed to the --notify receivers; say on stderr what was kept."""
    folder = args.snapshot.parent if args.snapshot is not None else Path.cwd()
    notifier = _notifier(args, folder / "tunnelframe-alerts.json")
    _notified(notifier.notify(violations, at=at), notifier.state.path)


def _notified(result: Any, state: Path) -> None:
    for name, n in result.sent.items():
        _out(f"{_PROG}: notify: {plural(n, 'alert')} sent to {name}", file=sys.stderr)
    for name, n in result.kept.items():
        _out(
            f"{_PROG}: warning: notify: {name} failed ({result.errors[name]}); "
            f"{plural(n, 'alert')} kept in {state} for the next run",
            file=sys.stderr,
        )


def _check(args: argparse.Namespace) -> int:
    if (args.snapshot is None) == (not args.accounts):
        raise _UsageError("give either a SNAPSHOT or --account ID, not both and not neither")
    if args.expected_connections < 1:
        raise _UsageError("--expected-connections must be 1 or more")
    releases = _releases(args)
    if args.snapshot is not None:
        source: Any = tf.load_snapshot(args.snapshot)
    else:
        with _client(_accounts(args)) as client:
            source = tf.fetch_fleet(
                client=client,
                account_id=_accounts(args),
                tun_types=_tun_types(args.tun_type),
                progress=False,
            )
    # releases-behind finds nothing unless --max-releases-behind is given.
    rules = [rule.id for rule in RULES if getattr(args, _rule_dest(rule.id))]
    with warnings.catch_warnings():  # a stale calendar is one of the notes printed below
        warnings.simplefilter("ignore", tf.StaleReleasesWarning)
        result = check_fleet(
            source,
            as_of=args.as_of,
            max_releases_behind=args.max_releases_behind,
            rules=rules,
            expected_connections=args.expected_connections,
            tunnels=args.tunnels,
            exclude_tunnels=args.exclude_tunnels,
            ignore=args.ignore_file,
            releases=releases,
            tun_type=_only_tun_type(args.tun_type),
        )
    for note in result.notes:
        _out(f"{_PROG}: warning: {one_line(note)}", file=sys.stderr)
    if args.notify:
        _notify(args, result.violations, result.fetched_at or result.as_of)
    for entry in result.expired:
        _out(
            f"{_PROG}: warning: ignore entry {one_line(entry.describe())} expired on "
            f"{entry.expires}: its violations are reported again",
            file=sys.stderr,
        )
    if args.format == "json":
        _out(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return 0 if result.ok else 1
    for line in result.lines():
        _out(line)
    if not (result.ok and args.quiet):
        _out(result.summary())
    return 0 if result.ok else 1


_CHECK = _Command(
    "check",
    "Check a fleet against the report's rules, for cron and CI: one line per violation "
    "and a closing summary line (or a JSON document).",
    _check_arguments,
    _check,
)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a share is more than 0 and at most 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {value}")
    return value


def _fleet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fleet",
        type=Path,
        metavar="FILE",
        help="a fleet file (TOML): many accounts, each read with the token in the environment "
        "variable it names, within its own budget share (not with --account)",
    )


def _store_option(p: argparse.ArgumentParser, more: str = "") -> None:
    p.add_argument(
        "--store",
        type=_history_target,
        required=True,
        metavar="DIR",
        help="the history store directory, or an Iceberg catalog URI (iceberg+sqlite:///PATH, "
        "iceberg+postgresql://USER@HOST/DB?warehouse=...; password in "
        "TUNNELFRAME_CATALOG_PASSWORD or TUNNELFRAME_CATALOG_PASSWORD_FILE"
        f"{more})",
    )


def _snapshot_arguments(p: argparse.ArgumentParser) -> None:
    _account_option(p)
    _store_option(p)
    _fetch_tun_type_option(p)
    p.add_argument("--progress", action="store_true", help="show the progress bar")
    _fleet_option(p)
    p.add_argument(
        "--incremental",
        action="store_true",
        help="refresh from the store's latest view: read only new and changed tunnels, "
        "failed reads, and the longest-unread ones within --budget-share (for large fleets)",
    )
    p.add_argument(
        "--budget-share",
        type=_share,
        default=0.5,
        metavar="SHARE",
        help="with --incremental: the share of the token's rate budget to use (default 0.5; "
        "with --fleet, each token's share from the file)",
    )
    _routing_option(p)


def _fleet_source(args: argparse.Namespace) -> tf.FleetFile | None:
    """The ``--fleet`` file, read and checked (every token variable set) before any fetch."""
    if args.fleet is None:
        return None
    if args.accounts:
        raise _UsageError("--fleet names the accounts: give no --account")
    fleet = tf.load_fleet_file(args.fleet)
    fleet.tokens()
    return fleet


def _history_target(text: str) -> Path | str:
    """A history target argument: an Iceberg catalog URI as given, else a store directory."""
    from tunnelframe.history import ICEBERG_SCHEME

    return text if text.startswith(ICEBERG_SCHEME) else Path(text)


def _iceberg_uri(text: str) -> str:
    from tunnelframe.history import ICEBERG_SCHEME

    if not text.startswith(ICEBERG_SCHEME):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give an Iceberg catalog URI, iceberg+sqlite:///PATH/catalog.db or "
            "iceberg+postgresql://USER@HOST/DB?warehouse=..."
        )
    return text


def _snapshot_iceberg(args: argparse.Namespace) -> int:
    from tunnelframe.history import compact_iceberg, iceberg_history

    target = iceberg_history(args.store)
    with _client(_accounts(args)) as client:
        snapshot = tf.fetch_fleet(
            client=client,
            account_id=_accounts(args),
            tun_types=_tun_types(args.tun_type),
            progress=args.progress,
        )
        snapshot = _read_routing(args, snapshot, client)
    tf.append_snapshot(snapshot, target)
    line = _fleet_line(snapshot)
    if snapshot.errors:
        line += f" {plural(len(snapshot.errors), 'tunnel')} could not be fetched."
    line += f" Appended to {target.identifier} in {target.location}"
    closed = compact_iceberg(target)
    if closed:
        line += f"; closed {', '.join(closed)}"
    _out(line)
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    if isinstance(args.store, str):
        return _snapshot_iceberg(args)
    store = Path(args.store)
    if store.exists() and not store.is_dir():
        raise _UsageError(f"--store {store}: is a file, not a history store folder")
    fleet = _fleet_source(args)
    options: dict[str, Any] = {"tun_types": _tun_types(args.tun_type), "progress": args.progress}
    if fleet is not None and args.routing:
        raise _UsageError("--routing reads with one token: give --account, not --fleet")
    if fleet is not None:
        accounts = [a.account_id for a in fleet.accounts]
        if args.incremental:
            options["previous"] = watch.latest_snapshot(store, accounts) or tf.Snapshot(
                fetched_at=datetime.now(UTC), account_ids=accounts, tunnels=[]
            )
        snapshot = tf.fetch_fleet(fleet_file=fleet, **options)
    else:
        with _client(_accounts(args)) as client:
            account_id = _accounts(args)
            if args.incremental:
                accounts = (
                    [client.resolve_account(None)]
                    if account_id is None
                    else [account_id]
                    if isinstance(account_id, str)
                    else account_id
                )
                options["previous"] = watch.latest_snapshot(store, accounts) or tf.Snapshot(
                    fetched_at=datetime.now(UTC), account_ids=accounts, tunnels=[]
                )
                options["budget_share"] = args.budget_share
            snapshot = tf.fetch_fleet(client=client, account_id=account_id, **options)
            snapshot = _read_routing(args, snapshot, client)
    path = Path(watch.record_snapshot(snapshot, store))
    line = _fleet_line(snapshot)
    if snapshot.errors:
        line += f" {plural(len(snapshot.errors), 'tunnel')} could not be fetched."
    line += f" Appended to {path.resolve()}"
    try:
        found = tf.store_info(args.store).format_version
        if found < tf.history.FORMAT_VERSION:
            line += f"; a store of format {found}: run `tunnelframe history {args.store} --migrate`"
        else:
            # Another run compacting meanwhile makes this one skip: cron runs may overlap.
            compacted = tf.compact_history(args.store)
            if compacted:
                line += f"; compacted {', '.join(compacted)}"
    except (TunnelframeError, OSError, ValueError) as exc:
        # The snapshot is stored: only the housekeeping after it failed. Say so, exit 0.
        _out(line)
        _out(
            f"{_PROG}: warning: the snapshot is stored, but compacting the store failed: "
            f"{one_line(_describe(exc))} (run `tunnelframe history {args.store} --compact` "
            "once it is fixed)",
            file=sys.stderr,
        )
        return 0
    _out(line)
    return 0


_SNAPSHOT = _Command(
    "snapshot",
    "Fetch the fleet and append it to a history store (a directory of Parquet files, "
    "created if missing), then compact the days that have ended (UTC). Made for cron: one "
    "line of output; overlapping runs are safe.",
    _snapshot_arguments,
    _snapshot,
)


def _watch_arguments(p: argparse.ArgumentParser) -> None:
    _account_option(p)
    _store_option(p, "; needs --state")
    p.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="the folder where watch keeps its latest view, so a restart resumes (default: "
        "the store directory; required with an Iceberg store, which keeps no local files)",
    )
    _fleet_option(p)
    _fetch_tun_type_option(p)
    p.add_argument(
        "--interval",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="seconds from one cycle's start to the next's (default 300)",
    )
    p.add_argument(
        "--budget-share",
        type=_share,
        default=None,
        metavar="SHARE",
        help="the share of each token's rate budget to use (default 0.5, or with --fleet "
        "each token's share from the file, which this caps)",
    )
    p.add_argument(
        "--cycles", type=_positive_int, default=None, metavar="N", help="stop after N cycles"
    )
    p.add_argument(
        "--metrics-port",
        type=_port,
        metavar="PORT",
        help="serve the latest view's Prometheus series on http://HOST:PORT/metrics (see "
        "tunnelframe export --format openmetrics)",
    )
    p.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="the address --metrics-port listens on (default: 127.0.0.1, loopback only)",
    )
    _notify_options(
        p,
        state="<store>-alerts.json beside the history store (alerts.json in --state with an "
        "Iceberg store)",
    )


def _watch(args: argparse.Namespace) -> int:
    if isinstance(args.store, str):  # an Iceberg catalog URI
        if args.state is None:
            raise _UsageError(
                "--store iceberg+...: give --state DIR, the folder where watch keeps its latest "
                "view between restarts (an Iceberg table keeps no local files)"
            )
        from tunnelframe.history import iceberg_history

        table = iceberg_history(args.store)
        store: Path | IcebergHistory = table
        alerts = args.state / "alerts.json"
        where = f"{table.identifier} in {table.location}"
    else:
        store = Path(args.store)
        if store.exists() and not store.is_dir():
            raise _UsageError(f"--store {store}: is a file, not a history store folder")
        alerts = store.parent / f"{store.name}-alerts.json"
        where = str(store)
    if args.state is not None and args.state.exists() and not args.state.is_dir():
        raise _UsageError(f"--state {args.state}: is a file, not a folder")
    fleet = _fleet_source(args)
    policy = watch.WatchPolicy(interval_s=args.interval, budget_share=args.budget_share)
    server = notifier = None
    if args.notify:
        notifier = _notifier(args, alerts)
    if args.metrics_port is not None:
        server = _metrics().serve_metrics(port=args.metrics_port, host=args.metrics_host)
        _out(f"{_PROG} watch: serving metrics on {server.url}", file=sys.stderr)

    def export(snap: tf.Snapshot) -> None:
        """The cycle's view to /metrics and its changes to the receivers, in the background
        (a receiver never holds up the next fetch)."""
        if server is not None:
            server.update(snap)
        if notifier is not None:
            future = notifier.start(tf.findings(snap), at=snap.fetched_at)
            future.add_done_callback(lambda f: _notified(f.result(), notifier.state.path))

    def emit(cycle: watch.Cycle) -> None:
        for record in cycle.change_records():
            print(json.dumps(record, ensure_ascii=False), flush=True)
        snap = cycle.snapshot
        _out(
            f"{_PROG} watch: cycle {cycle.number} at {cycle.started_at:%Y-%m-%d %H:%M:%S} UTC: "
            f"{plural(len(snap.tunnels), 'tunnel')}, {plural(snap.n_requests, 'request')}, "
            f"{plural(len(snap.errors), 'unread tunnel')}, "
            f"{plural(len(cycle.changes), 'change')} in {cycle.duration_s:.1f} s",
            file=sys.stderr,
        )
        export(snap)

    if fleet is not None:
        watcher = watch.Watcher(
            store,
            fleet_file=fleet,
            policy=policy,
            on_cycle=emit,
            tun_types=_tun_types(args.tun_type),
            state=args.state,
        )
    else:
        watcher = watch.Watcher(
            store,
            account_id=_accounts(args),
            policy=policy,
            on_cycle=emit,
            tun_types=_tun_types(args.tun_type),
            state=args.state,
        )
    interrupted: list[int] = []

    def finish(signum: int, frame: object) -> None:
        if signum == signal.SIGINT and interrupted:
            raise KeyboardInterrupt  # a second Ctrl+C: stop now
        if signum == signal.SIGINT:
            interrupted.append(signum)
        _out(f"{_PROG} watch: stopping after the cycle in progress", file=sys.stderr)
        watcher.stop()

    before = {sig: signal.signal(sig, finish) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _out(
            f"{_PROG} watch: watching {plural(len(watcher.account_ids), 'account')} into "
            f"{where} every {args.interval:g} s",
            file=sys.stderr,
        )
        watcher.run(max_cycles=args.cycles)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        if notifier is not None:
            notifier.close()  # the last cycle's alerts are delivered (or kept) before exit
        if server is not None:
            server.close()
    return 130 if interrupted else 0


_WATCH = _Command(
    "watch",
    "Keep the fleet current: every cycle refresh it incrementally within a share of each "
    "token's rate budget, append the view to a history store and print each change as "
    "one JSON line on stdout (progress and timing on stderr). SIGTERM or Ctrl+C finishes "
    "the cycle in progress, then exits; a restart resumes from the store.",
    _watch_arguments,
    _watch,
)


def _history_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "store",
        type=_history_target,
        metavar="DIR",
        help="a history store directory, or an Iceberg catalog URI (see snapshot --store)",
    )
    maintenance = p.add_mutually_exclusive_group()
    maintenance.add_argument(
        "--compact",
        action="store_true",
        help="compact the days that have ended (UTC) into one file each, then exit",
    )
    maintenance.add_argument(
        "--migrate",
        action="store_true",
        help="bring a store of an older tunnelframe to the current format and compact it",
    )
    maintenance.add_argument(
        "--export",
        choices=("openmetrics",),
        help="print every stored snapshot's Prometheus series with its fetch time as "
        "OpenMetrics text, for promtool tsdb create-blocks-from openmetrics, then exit",
    )
    maintenance.add_argument(
        "--export-iceberg",
        metavar="CATALOG",
        type=_iceberg_uri,
        help="copy the store into an Iceberg table (iceberg+sqlite:///PATH or "
        "iceberg+postgresql://USER@HOST/DB?warehouse=...), then exit",
    )
    p.add_argument("-o", "--output", type=Path, help="report to write, .html or .md")
    _report_options(p)


def _history_iceberg(args: argparse.Namespace) -> int:
    import pyarrow.compute as pc

    from tunnelframe.history import compact_iceberg, iceberg_history, load_latest

    if args.migrate:
        raise _UsageError("--migrate is for a local store; an Iceberg table evolves its schema")
    if args.export_iceberg is not None:
        raise _UsageError("--export-iceberg copies a local store: give its directory")
    if args.export is not None:
        raise _UsageError("--export openmetrics reads a local store: give its directory")
    target = iceberg_history(args.store)
    if args.compact:
        days = compact_iceberg(target)
        _out(f"Closed {', '.join(days)}." if days else "Nothing to close.")
        return 0
    rows = target.rows_table()
    files = rows.inspect.files()
    size = int(pc.sum(files["file_size_in_bytes"]).as_py() or 0)
    _out(
        f"Table: {target.identifier}, format "
        f"{rows.metadata.properties.get('tunnelframe.format-version')}, "
        f"{size / 2**20:,.1f} MB in {plural(files.num_rows, 'file')}."
    )
    return _summarise(args, target, lambda: load_latest(target))


def _history(args: argparse.Namespace) -> int:
    if isinstance(args.store, str):
        return _history_iceberg(args)
    store: Path = args.store
    if args.export == "openmetrics":
        sys.stdout.buffer.write(_metrics().history_openmetrics(store))
        sys.stdout.flush()
        return 0
    if args.export_iceberg is not None:
        from tunnelframe.history import export_iceberg, iceberg_history

        target = iceberg_history(args.export_iceberg)
        n_days = export_iceberg(store, target)
        _out(
            f"Exported {plural(n_days, 'day')} of {store} to {target.identifier} in "
            f"{target.location}."
        )
        return 0
    if args.migrate:
        before = tf.migrate_history(store)
        _out(f"Migrated {store} from format {before} to {tf.history.FORMAT_VERSION}.")
    elif args.compact:
        days = tf.compact_history(store)
        _out(f"Compacted {', '.join(days)}." if days else "Nothing to compact.")
    info = tf.store_info(store)
    _out(
        f"Store: format {info.format_version}, {plural(info.n_days, 'day')} "
        f"({info.n_compacted_days:,} compacted), {plural(info.n_snapshots, 'snapshot')}, "
        f"{info.bytes / 2**20:,.1f} MB in {plural(info.n_files, 'file')}."
    )
    if args.migrate or args.compact:
        return 0
    return _summarise(args, store, lambda: tf.load_history(store, latest=True))


def _summarise(args: argparse.Namespace, store: Any, latest_rows: Callable[[], Any]) -> int:
    """Print a history's summary; write its report with ``-o``."""
    # Every query runs once: the report below shows the same summary.
    summary = history_summary(store)
    churn, shifts, hosts, timeline = summary.churn, summary.shifts, summary.hosts, summary.timeline
    if churn.empty:
        raise ValueError(f"history store {store} holds no snapshot yet")
    first, last = churn["fetched_at"].min(), churn["fetched_at"].max()
    n_accounts = churn["account_id"].nunique()
    latest = churn.groupby("account_id", observed=True).tail(1)
    n_lost = summary.lost["tunnel_id"].nunique()
    not_ha = int((timeline["ha_share"] < 1).sum())
    _out(
        f"{plural(churn['fetched_at'].nunique(), 'snapshot')} from {first:%Y-%m-%d %H:%M} to "
        f"{last:%Y-%m-%d %H:%M} UTC, {plural(n_accounts, 'account')}."
    )
    _out(
        f"Connectors: {int(latest['n_connectors'].sum()):,} at the latest snapshot; "
        f"{plural(int(churn['n_restarts'].sum()), 'restart')} "
        f"({plural(int(churn['n_upgrades'].sum()), 'upgrade')}), "
        f"{plural(int(churn['n_new_hosts'].sum()), 'host')} added, "
        f"{int(churn['n_removed_hosts'].sum()):,} removed."
    )
    _out(
        f"Daily restarters: {plural(int((hosts['restarts_per_day'] >= 1).sum()), 'host')} "
        "restarting at least once a day."
    )
    _out(
        f"Colos: {plural(len(shifts), 'change')} of a tunnel's colos; "
        f"{plural(n_lost, 'tunnel')} lost a second colo at least once."
    )
    _out(
        f"HA: {not_ha:,} of {plural(len(timeline), 'tunnel')} spent time down, on one "
        "connector or in one colo."
    )
    if args.output is not None:
        # The report shows the latest snapshot, measured at its own time like a snapshot's.
        written = _write_report(
            latest_rows().drop(columns="fetched_at"),
            args.output,
            format=_report_format(args.output, args.format),
            redact_ips=args.redact_ips,
            title=args.title or f"Cloudflare Tunnel fleet history, {last:%Y-%m-%d}",
            as_of=last,
            history=summary,
            releases=_releases(args),
        )
        _out(f"Report: {written.resolve()}")
    return 0


_HISTORY = _Command(
    "history",
    "Summarise a history store (restarts, upgrades, lost colos, time without HA) and "
    "optionally write a report of its latest snapshot with a History section.",
    _history_arguments,
    _history,
)


def _fleet_line(snapshot: Any) -> str:
    """``186 tunnels, 330 connectors, 1,154 active connections.`` of a snapshot."""
    connectors = snapshot.connectors()
    return (
        f"{plural(len(snapshot.tunnels), 'tunnel')}, {plural(len(connectors), 'connector')}, "
        f"{plural(int(connectors['n_active'].sum()), 'active connection')}."
    )


def _findings_lines(found: pd.DataFrame) -> None:
    """Print how many rows break each rule, one rule a line, as the report counts them."""
    if found.empty:
        _out("Findings: none.")
        return
    _out(f"Findings ({len(found):,}):")
    for title, n in found.groupby("title", observed=True, sort=False).size().items():
        _out(f"  {n:>5,}  {title}")


# --------------------------------------------------------------------------------------------
# entry point


#: The subcommands, in the order ``tunnelframe --help`` lists them.
_COMMANDS: tuple[_Command, ...] = (
    _DEMO,
    _FETCH,
    _REPORT,
    _DIFF,
    _EXPORT,
    _SIMULATE,
    _CHECK,
    _SNAPSHOT,
    _WATCH,
    _HISTORY,
)


def _parser() -> argparse.ArgumentParser:
    # --debug is accepted before and after the subcommand: SUPPRESS keeps a subcommand's
    # default from overwriting the value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logging",
    )
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=_DESCRIPTION,
        epilog=textwrap.fill(_EXIT_STATUS, 88),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        p = sub.add_parser(
            command.name,
            parents=[common],
            help=command.help,
            description=command.help,
            epilog=_EXIT_STATUS,
        )
        p.set_defaults(func=command.run, parser=p)
        command.arguments(p)
    return parser


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tunnelframe`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success (a clean ``check``, a ``diff`` with no change), 1 when ``check`` found
        violations or ``diff`` found a change, 2 when a command could not run (usage,
        unreadable input, API or network failure), 130 on Ctrl+C.

    Examples
    --------
    >>> from tunnelframe.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    tunnelframe 0.1.0
    0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else 2
    debug = bool(getattr(args, "debug", False))
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    # 1 means "found something" (check, diff): everything else that stops a command is 2, as
    # grep's failures are, a bug included; --debug adds the traceback, not another status.
    try:
        # advice in messages names options and variables, never a Python keyword argument
        with warnings.catch_warnings(), cli_audience():
            warnings.showwarning = _show_warning
            warnings.simplefilter("default", UserWarning)  # said, on one line, never raised
            return int(args.func(args))
    except _UsageError as exc:
        args.parser.print_usage(sys.stderr)
        print(f"{args.parser.prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_PROG}: interrupted", file=sys.stderr)
        return 130
    except (TunnelframeError, OSError, ValueError) as exc:
        if _interrupted_query(exc):
            print(f"{_PROG}: interrupted", file=sys.stderr)
            return 130
        if debug:
            traceback.print_exc()
        print(f"{_PROG}: error: {one_line(_describe(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, or input nobody foresaw: still "could not run"
        if _interrupted_query(exc):
            print(f"{_PROG}: interrupted", file=sys.stderr)
            return 130
        if debug:
            traceback.print_exc()
        print(
            f"{_PROG}: error: unexpected {type(exc).__name__}: {one_line(exc)}"
            + ("" if debug else " (run with --debug for the traceback, and please report it)"),
            file=sys.stderr,
        )
        return 2


def _interrupted_query(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl+C as DuckDB reports it (``RuntimeError: Query interrupted``),
    itself or as the cause of a tunnelframe error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RuntimeError) and str(seen).startswith("Query interrupted"):
            return True
        if type(seen).__name__ == "InterruptException":
            return True
        seen = seen.__cause__
    return False


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Every warning on one escaped line (a file name or a glyph may hold escape sequences)."""
    print(f"{_PROG}: warning: {one_line(message)}", file=sys.stderr)
