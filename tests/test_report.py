"""Tests of tunnelframe.report: write_report (HTML, Markdown), findings, export_frames.

Expectations come from the hand-written fleet in ``_report_fleet`` (its docstring says what
each tunnel should trigger); the sample fleet checks size and the full set of sections.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import io
import re
import warnings
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import _report_fleet as rf
import pandas as pd
import pytest

import tunnelframe as tf
from tunnelframe.datasets import SAMPLE_AS_OF
from tunnelframe.report import export_frames, findings, write_report
from tunnelframe.simulator import serve

# --------------------------------------------------------------------------------------------
# helpers


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text of each <script> and <style>."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in][-1] += data
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]


def _count(page_html: str, rule: str) -> str:
    """The count badge of a finding's summary."""
    m = re.search(
        rf'id="finding-{re.escape(rule)}"[^>]*>\s*<summary><span class="badge count \w+">'
        r"([^<]*)</span>",
        page_html,
    )
    assert m, f"no finding {rule!r}"
    return m.group(1)


def _pseudonym(key: str, ip: str) -> str:
    # The documented format: "ip-" + the first 12 hex digits of HMAC-SHA256(key, ip).
    return "ip-" + hmac.new(key.encode(), ip.encode(), hashlib.sha256).hexdigest()[:12]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_report(rf.snapshot(), tmp_path_factory.mktemp("html") / "fleet.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_md(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_report(rf.snapshot(), tmp_path_factory.mktemp("md") / "fleet.md")
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# HTML


def test_write_report_returns_the_path_it_wrote(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    assert write_report(rf.snapshot(), target) == target
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left


def test_sections_in_order_with_findings_first(report_html: str) -> None:
    ids = [a["id"] for t, a in _Page(report_html).tags if t == "section"]
    assert ids == ["fix", "glance", "findings", "versions", "colos", "ages", "routing", "tunnels"]
    toc = re.findall(r'<li><a href="#([a-z]+)">', report_html)
    assert toc == ids


def test_finding_counts(report_html: str) -> None:
    # unsupported: c3; vulnerable: c3 (2024.1.0) and c4 (2026.7.3 lacks 2026.8.0's grpc fix);
    # degraded: c4; down: the connector-less tunnel "gone"; single-connector and single-colo:
    # the <script> tunnel; one fetch error.
    assert _count(report_html, "unsupported") == "1"
    assert _count(report_html, "vulnerable") == "2"
    assert _count(report_html, "degraded") == "1"
    assert _count(report_html, "down") == "1"
    assert _count(report_html, "single-connector") == "1"
    assert _count(report_html, "single-colo") == "1"
    assert _count(report_html, "fetch-errors") == "1"
    # single-origin: the <script> tunnel's one connector (information)
    assert _count(report_html, "single-origin") == "1"
    assert "connectors behind their tunnel&#x27;s configuration: none" in report_html
    assert "9 findings." in report_html  # 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1


def test_finding_rows_are_shown(report_html: str) -> None:
    start = report_html.index('id="finding-unsupported"')
    block = report_html[start : report_html.index("</details>", start)]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", block)
    # tunnel (linked), connector, host, version, released, releases behind, latest
    assert cells[1:] == [
        "c3",
        "198.51.100.7 (linux_amd64)",
        "2024.1.0",
        "2024-01-03",
        "66",
        "2026.8.2",
    ]
    assert 'href="#t-22222222-2222-4222-8222-222222222222"' in cells[0]
    fetch = report_html[report_html.index('id="finding-fetch-errors"') :]
    assert "GET /connections failed: HTTP 500 after 3 retries" in fetch


def test_glance_counts(report_html: str) -> None:
    text = " ".join(_Page(report_html).text)
    # 5 tunnels: 2 healthy, 1 degraded, 1 down, 1 inactive; 5 connectors, 4 of them up
    # (c1..c5 all have active connections); 18 active connections: 4+4+4+2+4.
    assert re.search(r"Tunnels\s+5\s+2 healthy · 1 degraded · 1 down · 1 inactive", text)
    assert re.search(r"Connectors\s+5\s+5 up · 0 without an active connection", text)
    assert re.search(r"Active connections\s+18\s+2 pending reconnect", text)


def test_tunnel_detail_lists_connectors_like_tunnel_info(report_html: str) -> None:
    start = report_html.index('id="t-33333333-3333-4333-8333-333333333333"')
    block = report_html[start : report_html.index("</details>", start)]
    # the tunnel's active connections per colo, colos sorted, pending ones left out
    assert "2xAMS, 1xDFW, 2xFRA, 1xLAX" in block
    rows = re.findall(r"<tr>(.*?)</tr>", block)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows[1:]]
    c4 = next(c for c in cells if c[0] == "c4")
    assert c4[1:4] == ["2026-08-10 08:00 UTC", "linux_amd64", "2026.7.3"]
    assert "behind" in c4[4] and c4[5] == "192.0.2.44" and c4[6] == "1xDFW, 1xLAX"
    assert "degraded" in c4[7]


def test_tunnel_names_are_escaped(report_html: str) -> None:
    assert rf.EVIL not in report_html
    assert html.escape(rf.EVIL) in report_html
    assert html.escape(rf.PIPE) in report_html
    page = _Page(report_html)
    # The only script is the report's own; the name is text, never markup.
    assert len(page.raw["script"]) == 1
    assert "alert" not in page.raw["script"][0]
    assert rf.EVIL in "".join(page.text)


def test_html_is_self_contained(report_html: str) -> None:
    page = _Page(report_html)
    srcs = [a.get("src") for t, a in page.tags if "src" in a]
    hrefs = [a.get("href") for t, a in page.tags if "href" in a]
    assert srcs and all(s is not None and s.startswith("data:image/png;base64,") for s in srcs)
    assert hrefs and all(h is not None and h.startswith("#") for h in hrefs)
    assert not {t for t, _ in page.tags} & {"link", "iframe", "object", "embed", "base", "form"}
    css = "".join(page.raw["style"])
    assert "url(" not in css and "@import" not in css
    csp = [
        a["content"] for a in page.all("meta") if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in str(csp[0]) and "img-src data:" in str(csp[0])
    assert all(a.get("alt") for a in page.all("img"))


def test_html_reads_on_phone_and_paper(report_html: str) -> None:
    css = "".join(_Page(report_html).raw["style"])
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in report_html
    assert "@media print" in css and "@media (max-width:" in css
    assert "max-width:100%" in css  # images shrink to the screen
    assert ".scroll{overflow-x:auto" in css  # wide tables scroll on their own
    n_tables = report_html.count("<table>") + report_html.count('<table class="stack">')
    assert report_html.count('<div class="scroll">') == n_tables
    # wide tables stack into one card per row below 40rem, each value labelled
    assert "table.stack tr{display:flex" in css and 'data-label="Host"' in report_html


# --------------------------------------------------------------------------------------------
# Markdown


def test_markdown_carries_the_same_findings(report_md: str) -> None:
    assert "## Findings" in report_md
    for line in (
        "### 1 · unsupported connectors (high)",
        "### 2 · connectors missing security fixes (high)",
        "### 1 · degraded or down connectors (high)",
        "### 1 · down tunnels (high)",
        "### 1 · tunnels that could not be fetched (high)",
        "### 1 · single-connector tunnels (warning)",
        "### 1 · single-colo tunnels (warning)",
    ):
        assert line in report_md.splitlines()
    assert (
        "Nothing to report for: tunnels without a working WARP Connector pair, connectors on a "
        "platform that stops getting releases, connectors reconnecting, connectors behind "
        "their tunnel's configuration." in report_md
    )
    assert (
        "| c3 | 198.51.100.7 (linux_amd64) | 2024.1.0 | 2024-01-03 | 66 | 2026.8.2 |" in report_md
    )


def test_markdown_escapes_names(report_md: str) -> None:
    assert "<script" not in report_md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report_md
    # the pipe is escaped, the newline flattened, & made an entity: one table row, one cell
    assert 'pipe\\|name second line &amp; "quotes"' in report_md
    assert "second line" not in report_md.replace("pipe\\|name second line", "")


def test_markdown_tables_keep_their_shape(report_md: str) -> None:
    lines = report_md.splitlines()
    unescaped = re.compile(r"(?<!\\)\|")
    tables = 0
    for i, line in enumerate(lines):
        if line.startswith("|---") or line.startswith("|--"):
            tables += 1
            width = len(unescaped.findall(lines[i - 1]))
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert len(unescaped.findall(lines[j])) == width, lines[j]
                j += 1
    assert tables >= 10


# --------------------------------------------------------------------------------------------
# redaction, secrets, reproducibility


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_redaction_removes_every_ip(tmp_path: Path, suffix: str) -> None:
    plain = write_report(rf.snapshot(), tmp_path / f"plain{suffix}").read_text()
    assert rf.IPS[0] in plain and rf.IPS[4] in plain  # the control: IPs are there unredacted
    text = write_report(
        rf.snapshot(), tmp_path / f"r{suffix}", redact_ips=True, redact_key="k"
    ).read_text()
    for ip in rf.IPS:
        assert ip not in text
    assert _pseudonym("k", "203.0.113.10") in text
    assert _pseudonym("k", "2001:db8::5") in text
    assert f"idle {_pseudonym('k', '192.0.2.99')}" in text  # an IP inside a tunnel name


def test_redaction_is_stable_per_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_report(rf.snapshot(), tmp_path / "a.md", redact_ips=True, redact_key="k")
    again = write_report(rf.snapshot(), tmp_path / "b.md", redact_ips=True, redact_key="k")
    assert first.read_text() == again.read_text()
    other = write_report(rf.snapshot(), tmp_path / "c.md", redact_ips=True, redact_key="k2")
    assert _pseudonym("k", rf.IPS[0]) not in other.read_text()
    assert _pseudonym("k2", rf.IPS[0]) in other.read_text()
    monkeypatch.setenv("TUNNELFRAME_REDACT_KEY", "from-env")
    env = write_report(rf.snapshot(), tmp_path / "d.md", redact_ips=True).read_text()
    assert _pseudonym("from-env", rf.IPS[0]) in env


def test_redaction_without_a_key_uses_a_random_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUNNELFRAME_REDACT_KEY", raising=False)
    a = write_report(rf.snapshot(), tmp_path / "a.md", redact_ips=True).read_text()
    b = write_report(rf.snapshot(), tmp_path / "b.md", redact_ips=True).read_text()
    assert rf.IPS[0] not in a
    pseudonyms = set(re.findall(r"ip-[0-9a-f]{12}", a))
    assert pseudonyms and not pseudonyms & set(re.findall(r"ip-[0-9a-f]{12}", b))
    assert "Origin IPs are replaced by keyed pseudonyms" in a


def test_token_never_reaches_a_report(tmp_path: Path) -> None:
    with serve(rf.fleet()) as api, tf.Client(api.token, base_url=api.url) as client:
        snap = tf.fetch_fleet(client=client, account_id=api.account_id, progress=False)
        token = api.token
    assert len(snap.tunnels) == 5
    for name in ("r.html", "r.md"):
        text = write_report(snap, tmp_path / name).read_text()
        assert token not in text
        # the hostile tunnel name is there, escaped, and never as markup
        assert html.escape(rf.EVIL) in text and rf.EVIL not in text


def test_snapshot_reports_are_reproducible(tmp_path: Path) -> None:
    path = rf.snapshot().save(tmp_path / "snap.json.gz")
    first = write_report(path, tmp_path / "a.html").read_bytes()
    second = write_report(rf.snapshot(), tmp_path / "b.html").read_bytes()
    assert first.replace(b"snapshot snap.json.gz", b"snapshot") == second
    # as_of defaults to the fetch time, and then no note says otherwise
    assert b"<dt>As of</dt><dd>2026-08-20 12:00 UTC</dd>" in second
    assert b"not at the fetch time" not in second


def test_as_of_moves_the_support_window(tmp_path: Path) -> None:
    # On 2024-06-01 the newest release known is 2024.5.0 (2024-05-16); 2024.1.0 is supported,
    # and the 2026 versions are newer than anything known then (a note says as_of is early).
    with pytest.warns(tf.AsOfWarning, match="as_of=2024-06-01 00:00 UTC is before the data"):
        text = write_report(rf.snapshot(), tmp_path / "r.md", as_of="2024-06-01").read_text()
    assert "Nothing to report for:" in text
    assert "unsupported connectors" in text.split("Nothing to report for:")[1]
    # the note names the real cause (an as_of before the data), not a stale release calendar
    assert "version_drift: as_of=2024-06-01 00:00 UTC is before the data" in text
    assert "release calendar is out of date" not in text
    # the header says the report is not measured at the fetch time
    assert (
        "> Ages, version drift and the support window are measured as of 2024-06-01, not at "
        "the fetch time (2026-08-20 12:00 UTC)."
    ) in text.splitlines()


# --------------------------------------------------------------------------------------------
# sources, formats, errors


def test_report_from_a_connections_frame(tmp_path: Path) -> None:
    frame = tf.connections_frame(rf.fleet())
    text = write_report(frame, tmp_path / "r.md", as_of=rf.AS_OF).read_text()
    assert (
        "| Tunnels | 3 | 2 healthy · 1 degraded · only tunnels with connectors are known |" in text
    )
    assert "Only a snapshot records fetch errors; this source does not say." in text
    assert "### ? · tunnels that could not be fetched (high)" in text
    assert "### 1 · unsupported connectors (high)" in text
    # the down tunnel without connectors is unknown here: only c4 is degraded
    assert "### 1 · degraded or down connectors (high)" in text


def test_report_from_a_fleet_dict(tmp_path: Path) -> None:
    text = write_report(rf.fleet(), tmp_path / "r.html", as_of=rf.AS_OF).read_text()
    assert _count(text, "degraded") == "1" and _count(text, "down") == "1"
    assert "<dt>Fetched</dt><dd>unknown</dd>" in text


@pytest.mark.parametrize(
    ("name", "fmt", "starts"),
    [
        ("r.htm", None, "<!doctype html>"),
        ("r.HTML", None, "<!doctype html>"),
        ("r.markdown", None, "# "),
        ("r.txt", "md", "# "),
        ("r.txt", "html", "<!doctype html>"),
    ],
)
def test_format_follows_suffix_unless_given(
    tmp_path: Path, name: str, fmt: Any, starts: str
) -> None:
    text = write_report(rf.fleet(), tmp_path / name, format=fmt, as_of=rf.AS_OF).read_text()
    assert text.startswith(starts)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot tell the report format from the name 'r\.txt'"):
        write_report(rf.fleet(), tmp_path / "r.txt")
    with pytest.raises(ValueError, match="format must be 'html' or 'md', not 'pdf'"):
        write_report(rf.fleet(), tmp_path / "r.html", format="pdf")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"source must be a Snapshot.*not int"):
        write_report(42, tmp_path / "r.html")
    with pytest.raises(ValueError, match="lacks the columns"):
        write_report(pd.DataFrame({"x": [1]}), tmp_path / "r.html")
    with pytest.raises(ValueError, match=r"as_of=.* is not a time"):
        write_report(rf.fleet(), tmp_path / "r.html", as_of="not a date")
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "missing.json.gz", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_analysis_warnings_become_notes(tmp_path: Path) -> None:
    fleet = rf.fleet()
    fleet["tunnels"][0]["connectors"][0]["version"] = "2099.1.0"
    fleet["tunnels"][0]["connectors"][0]["conns"][0]["colo_name"] = "ZZZ"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = write_report(fleet, tmp_path / "r.html", as_of=rf.AS_OF).read_text()
    notes = text[text.index('<div class="notes">') : text.index("</header>")]
    assert "2099.1.0" in notes and "ZZZ" in notes


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_empty_and_idle_fleets(tmp_path: Path, suffix: str) -> None:
    empty = write_report({"tunnels": []}, tmp_path / f"e{suffix}", as_of=rf.AS_OF).read_text()
    assert "No connectors, so no versions." in empty
    assert "No active connections." in empty
    assert "Nothing to report in the rules this source can be checked against." in empty
    idle = {"tunnels": rf.fleet()["tunnels"][3:]}  # "gone" (down) and the inactive one
    text = write_report(idle, tmp_path / f"i{suffix}", as_of=rf.AS_OF).read_text()
    assert "No connector is running this tunnel." in text
    assert "the API reports the tunnel down and lists no connector" in text


# --------------------------------------------------------------------------------------------
# findings()


def test_findings_frame() -> None:
    found = findings(rf.snapshot(), max_releases_behind=2)
    assert list(found.columns) == [
        "rule",
        "severity",
        "title",
        "account_id",
        "tunnel_id",
        "tunnel_name",
        "connector_id",
        "host",
        "message",
        "impact",
        "serves",
    ]
    # the host each row concerns, as the report's tables and check's lines show it
    assert found["host"][0] == "198.51.100.7 (linux_amd64)"
    assert list(found["rule"]) == [
        "unsupported",
        "vulnerable",
        "vulnerable",
        "releases-behind",
        "releases-behind",
        "degraded",
        "down",
        "single-connector",
        "single-origin",
        "single-colo",
        "fetch-errors",
    ]
    assert found["connector_id"].tolist()[:6] == ["c3", "c3", "c4", "c3", "c4", "c4"]
    assert pd.isna(found["connector_id"][6])
    assert found["message"][0] == (
        'unsupported: connector c3 of tunnel "<script>alert(1)</script>" '
        "(22222222-2222-4222-8222-222222222222) runs cloudflared 2024.1.0, released 2024-01-03, "
        "66 releases behind 2026.8.2"
    )
    assert found["message"][2] == (
        'vulnerable: connector c4 of tunnel "pipe|name\\nsecond line & "quotes"" '
        "(33333333-3333-4333-8333-333333333333) runs cloudflared 2026.7.3; 1 more security fix "
        "names no advisory id; upgrade to 2026.8.0 or later"
    )
    assert found["message"][4].startswith(
        'releases-behind: connector c4 of tunnel "pipe|name\\nsecond line & "quotes"" '
    )
    assert found["message"][4].endswith("3 releases behind 2026.8.2 (the limit is 2)")
    assert found["message"][6] == (
        'down: tunnel "gone" (44444444-4444-4444-8444-444444444444): the API reports the tunnel '
        "down and lists no connector"
    )
    assert found["message"][10] == (
        'fetch-error: tunnel "flaky" (66666666-6666-4666-8666-666666666666) could not be read: '
        "HTTP 500: GET /connections failed: HTTP 500 after 3 retries"
    )
    assert not found["message"].str.contains("\n").any()


def test_findings_rule_selection_and_clean_fleet() -> None:
    found = findings(rf.snapshot(), rules=["single-colo", "fetch-errors"])
    assert list(found["rule"]) == ["single-colo", "fetch-errors"]
    clean = {"tunnels": rf.fleet()["tunnels"][:1]}
    empty = findings(clean, as_of=rf.AS_OF)
    assert empty.empty and list(empty.columns) == list(found.columns)
    assert [str(d) for d in empty.dtypes] == [str(d) for d in found.dtypes]
    with pytest.raises(ValueError, match="unknown rule\\(s\\) 'nope'"):
        findings(clean, rules=["nope"])
    with pytest.raises(ValueError, match="max_releases_behind must be a whole number"):
        findings(clean, max_releases_behind=-1)


# --------------------------------------------------------------------------------------------
# export_frames


def test_export_parquet(tmp_path: Path) -> None:
    paths = export_frames(rf.snapshot(), tmp_path / "out")
    assert {k: p.name for k, p in paths.items()} == {
        "connections": "connections.parquet",
        "connectors": "connectors.parquet",
        "tunnels": "tunnels.parquet",
    }
    conns = pd.read_parquet(paths["connections"])
    # 4 + 4 (alpha) + 4 (the <script> tunnel) + 4 + 4 (c4, c5): 20 connections
    assert len(conns) == 20
    assert str(conns["opened_at"].dtype) == "datetime64[us, UTC]"
    assert isinstance(conns["colo_name"].dtype, pd.CategoricalDtype)
    assert len(pd.read_parquet(paths["connectors"])) == 5
    tunnels = pd.read_parquet(paths["tunnels"])
    assert len(tunnels) == 5
    assert tunnels["metadata"].tolist() == ['{"owner": "team-a"}'] * 5


def test_export_csv(tmp_path: Path) -> None:
    paths = export_frames(rf.fleet(), tmp_path, format="csv")
    conns = pd.read_csv(paths["connections"])
    assert list(conns.columns) == list(tf.CONNECTIONS_SCHEMA)
    assert len(conns) == 20
    assert conns["opened_at"][0] == "2026-08-10T08:00:05.000000Z"
    assert len(pd.read_csv(paths["tunnels"])) == 5
    with pytest.raises(ValueError, match="format must be 'parquet', 'csv' or 'xlsx', not 'xls'"):
        export_frames(rf.fleet(), tmp_path, format="xls")  # type: ignore[arg-type]


def test_export_xlsx_one_sheet_per_frame_times_in_utc(tmp_path: Path) -> None:
    paths = export_frames(rf.snapshot(), tmp_path, format="xlsx")
    assert {p.name for p in paths.values()} == {"fleet.xlsx"}
    assert set(paths) == {"findings", "tunnels", "connectors", "connections"}
    sheets = pd.read_excel(paths["connections"], sheet_name=None)
    # what to act on first, then the fleet from tunnels down to connections
    assert list(sheets) == ["findings", "tunnels", "connectors", "connections"]
    conns = sheets["connections"]
    assert len(conns) == 20 and len(sheets["connectors"]) == 5 and len(sheets["tunnels"]) == 5
    # Excel has no time zones: UTC, said in the header.
    assert "opened_at (UTC)" in conns.columns and "opened_at" not in conns.columns
    assert conns["opened_at (UTC)"][0] == pd.Timestamp("2026-08-10 08:00:05")
    assert conns["colo_name"].notna().any()
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(paths["tunnels"])
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # formulas neutralised


def _xlsx_columns(ws: Any) -> dict[str, list[Any]]:
    """A sheet's columns by header: the cells below each header cell."""
    rows = list(ws.iter_rows())
    return {str(h.value): [r[i] for r in rows[1:]] for i, h in enumerate(rows[0])}


def test_xlsx_sheets_are_laid_out_to_read(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = export_frames(rf.snapshot(), tmp_path, format="xlsx")["connections"]
    book = openpyxl.load_workbook(path)
    n_dated = 0
    for ws in book.worksheets:
        columns = _xlsx_columns(ws)
        headers = list(columns)
        # the header row (and the tunnel's name) stay in view; the header row filters all rows
        assert headers[0] == "tunnel_name", ws.title
        assert ws.freeze_panes == "B2", ws.title
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(headers)).column_letter}{ws.max_row}"
        assert all(cell.font.b for cell in ws[1]), ws.title  # a bold header,
        assert ws.print_title_rows == "$1:$1", ws.title  # printed on every page
        # identifiers after every human column
        ids = [h for h in headers if h.endswith("_id")]
        assert ids and headers[-len(ids) :] == ids, (ws.title, headers)
        for header, cells in columns.items():
            width = ws.column_dimensions[cells[0].column_letter].width if cells else 0
            longest = max((len(str(c.value)) for c in cells if c.value is not None), default=0)
            if cells and cells[0].is_date:
                longest = len("2026-08-10 08:00:05")
            # fitted: the longest value (up to a cap) and the header fit; nothing is huge
            assert min(longest, 58) + 1 <= width <= 60, (ws.title, header, width, longest)
            assert width >= len(header) + 2, (ws.title, header)
            # times: real Excel date-times with a date-time format, under a (UTC) header
            dated = [c for c in cells if c.value is not None and c.is_date]
            if header.endswith(" (UTC)"):
                assert len(dated) == len([c for c in cells if c.value is not None])
                n_dated += len(dated)
                assert {c.number_format.lower() for c in dated} <= {"yyyy-mm-dd hh:mm:ss"}
            else:
                assert not dated, (ws.title, header)
    assert n_dated > 40  # run_at, opened_at, created_at, since_at...
    conns = _xlsx_columns(book["connections"])
    assert list(conns)[-5:] == [
        "account_id",
        "tunnel_id",
        "connector_id",
        "connection_id",
        "client_id",
    ]
    assert conns["opened_at (UTC)"][0].value == datetime(2026, 8, 10, 8, 0, 5)
    # a full UUID is readable without widening its column
    tunnel_id = conns["tunnel_id"][0]
    assert book["connections"].column_dimensions[tunnel_id.column_letter].width >= 38


def test_xlsx_findings_sheet_is_checks_findings_with_since_and_action(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = export_frames(rf.snapshot(), tmp_path, format="xlsx")["findings"]
    columns = _xlsx_columns(openpyxl.load_workbook(path)["findings"])
    assert list(columns)[:7] == [
        "tunnel_name",
        "severity",
        "title",
        "since",
        "since_at (UTC)",
        "host",
        "action",
    ]
    assert list(columns)[-3:] == ["account_id", "tunnel_id", "connector_id"]
    rows = [
        {h: cells[i].value for h, cells in columns.items()}
        for i in range(len(columns["tunnel_name"]))
    ]
    # the same findings check gives, one row each
    checked = tf.check_fleet(rf.snapshot()).violations
    assert sorted((r["tunnel_name"], r["rule"], r["connector_id"]) for r in rows) == sorted(
        zip(
            checked["tunnel_name"].astype(str),
            checked["rule"].astype(str),
            checked["connector_id"].astype(object).where(checked["connector_id"].notna(), None),
            strict=True,
        )
    )
    # in the report's fix-first order: the down tunnel first, worded for a fresh outage
    assert (rows[0]["tunnel_name"], rows[0]["rule"]) == ("gone", "down")
    assert (
        rows[0]["action"] == "start cloudflared for this tunnel on its host: no connector is listed"
    )
    assert rows[0]["since"] == "down since"
    assert [r["fix_first"] for r in rows] == sorted(r["fix_first"] for r in rows)
    evil = [r for r in rows if r["tunnel_name"] == rf.EVIL]
    assert evil[0]["rule"] == "unsupported"  # its worst problem first
    assert evil[0]["since"] == "on this version since"
    assert evil[0]["since_at (UTC)"] == datetime(2026, 8, 10, 8, 0)
    assert evil[0]["host"] == "198.51.100.7 (linux_amd64)"
    assert evil[0]["action"] == "upgrade cloudflared on these hosts: this version is out of support"
    assert {r["action"] for r in rows if r["rule"] == "single-connector"} == {
        "run a second replica of cloudflared on another host"
    }
    flaky = next(r for r in rows if r["rule"] == "fetch-errors")
    assert (flaky["since"], flaky["since_at (UTC)"]) == (
        "fetch failed at",
        datetime(2026, 8, 20, 12),
    )


def test_xlsx_findings_are_judged_as_of_the_time_given(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    fleet = rf.fleet()
    fleet["tunnels"][3]["conns_inactive_at"] = "2026-08-20T11:00:00Z"
    fresh = export_frames(fleet, tmp_path / "a", format="xlsx", as_of=rf.AS_OF)["findings"]
    old = export_frames(fleet, tmp_path / "b", format="xlsx", as_of="2026-10-20")["findings"]

    def down_action(path: Path) -> str:
        found = pd.read_excel(path, sheet_name="findings")
        return str(found.loc[found["rule"] == "down", "action"].iloc[0])

    assert down_action(fresh).startswith("start cloudflared")
    assert down_action(old).startswith("delete the tunnel if nothing uses it")


# --------------------------------------------------------------------------------------------
# the sample fleet


def test_sample_report_is_complete_and_light(tmp_path: Path) -> None:
    path = write_report(tf.load_sample(), tmp_path / "sample.html", as_of=SAMPLE_AS_OF)
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 3_000_000
    page = _Page(text)
    assert len(page.all("img")) == 6
    assert "Figure unavailable" not in text
    # every live tunnel of the sample is there: the most urgent 200 with their detail, the
    # rest one row each
    from tunnelframe.engine import MAX_DETAILED_TUNNELS

    live = [t for t in tf.load_sample()["tunnels"] if not t.get("deleted_at")]
    n_detailed = text.count('<details id="t-')
    assert n_detailed == min(len(live), MAX_DETAILED_TUNNELS)
    if len(live) > n_detailed:
        assert f"{len(live) - n_detailed:,} more tunnel" in text
    # the hosts view shows the sample's shared origins (several tunnels behind one host)
    shared = tf.origin_hosts(tf.load_sample()).query("shared")
    assert len(shared) >= 1
    hosts = text.split('id="shared-hosts"', 1)[1].split("</details>", 1)[0]
    assert f"{len(shared)} origins carrying several tunnels" in hosts
    assert all(ip in hosts for ip in shared["origin_ip"])


# --------------------------------------------------------------------------------------------
# the release calendar: chosen, and said when stale or behind the fleet


def test_refreshed_calendar_is_used_when_newer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNNELFRAME_CACHE_DIR", str(tmp_path))
    fleet = rf.fleet()
    as_of = "2026-10-01T00:00Z"
    # bundled only: the calendar ends 2026-08-14, 48 days before as_of; c4 is 3 behind
    found = tf.findings(fleet, as_of=as_of, max_releases_behind=0, rules=["releases-behind"])
    assert [m.split(" of ")[0][17:] for m in found["message"]] == ["connector c3", "connector c4"]
    assert "3 releases behind 2026.8.2" in found["message"][1]
    # a refreshed cache knowing two newer releases is used without being asked for
    bundled = tf.load_releases()
    newer = pd.DataFrame(
        {"version": ["2026.9.1", "2026.9.0"], "released_on": ["2026-09-20", "2026-09-03"]}
    )
    dated = bundled.assign(released_on=bundled["released_on"].dt.strftime("%Y-%m-%d"))
    pd.concat([newer, dated]).to_csv(tmp_path / "cloudflared-releases.csv", index=False)
    found = tf.findings(fleet, as_of=as_of, max_releases_behind=0, rules=["releases-behind"])
    c4 = next(m for m in found["message"] if "connector c4 " in m)
    assert "2026.7.3, 5 releases behind 2026.9.1" in c4
    # an older cache than the bundled calendar is not
    dated.iloc[5:].to_csv(tmp_path / "cloudflared-releases.csv", index=False)
    found = tf.findings(fleet, as_of=as_of, max_releases_behind=0, rules=["releases-behind"])
    assert [m.split(" of ")[0][17:] for m in found["message"]] == ["connector c3", "connector c4"]
    assert "3 releases behind 2026.8.2" in found["message"][1]


def test_stale_calendar_and_fleet_ahead_are_said_in_the_report(tmp_path: Path) -> None:
    text = write_report(rf.fleet(), tmp_path / "r.md", as_of="2027-01-01").read_text()
    assert "The release calendar ends at 2026.8.2 (2026-08-14), 140 days before 2027-01-01" in text
    assert "tunnelframe report SNAPSHOT --refresh-releases" in text.replace("\\`", "`")
    fresh = write_report(rf.fleet(), tmp_path / "f.md", as_of=rf.AS_OF).read_text()
    assert "The release calendar ends" not in fresh
    ahead = rf.fleet()
    ahead["tunnels"][0]["connectors"][0]["version"] = "2026.9.0"
    text = write_report(ahead, tmp_path / "a.md", as_of=rf.AS_OF).read_text()
    assert "the latest release is taken from the fleet (2026.9.0)" in text
    # measured against 2026.9.0, c2 on 2026.8.2 is one release behind
    drift = tf.findings(ahead, as_of=rf.AS_OF, max_releases_behind=0, rules=["releases-behind"])
    assert any("2026.8.2, 1 releases behind 2026.9.0" in m for m in drift["message"])


# --------------------------------------------------------------------------------------------
# fix these first, and findings that act


def _fix_rows(page_html: str) -> list[list[str]]:
    start = page_html.index('<section id="fix">')
    block = page_html[start : page_html.index("</table>", start)]  # the headline
    rows = re.findall(r"<tr>(.*?)</tr>", block, re.S)[1:]  # the first is the heading
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


def test_fix_first_block_one_row_per_tunnel_ranked(report_html: str) -> None:
    rows = _fix_rows(report_html)
    # the outage first ("gone": no active connection), then the other high tunnels by how
    # much each breaks (<script> four rules, pipe two: vulnerable and degraded), then by name
    assert [r[0] for r in rows] == [
        "gone",
        html.escape(rf.EVIL, quote=True),
        html.escape(rf.PIPE, quote=True),
        "flaky",
    ]
    assert rows[0][2] == "down (since an unknown time): no connector is running"
    assert rows[0][4] == "start cloudflared for this tunnel on its host: no connector is listed"
    evil = rows[1]
    assert evil[1] == "high"
    assert evil[2] == (
        "unsupported connectors; connectors missing security fixes; single-connector tunnels; "
        "single-colo tunnels; tunnels reaching Cloudflare from one origin IP"
    )
    # one action, for its worst problem
    assert evil[4] == "upgrade cloudflared on these hosts: this version is out of support"
    assert evil[5] == "198.51.100.7 (linux_amd64)"
    assert rows[2][5] == "192.0.2.44 (linux_amd64)"
    # the block sits above the cards
    assert report_html.index('<section id="fix">') < report_html.index('<div class="cards">')


def test_fix_first_says_since_when_for_every_finding(tmp_path: Path) -> None:
    fleet = rf.fleet()
    alpha, evil, pipe = fleet["tunnels"][:3]
    # alpha keeps one connector (c1, started 2026-08-15 09:30): single-connector, a warning,
    # dated from the newest start of its active connectors
    alpha["connectors"] = alpha["connectors"][:1]
    alpha["connectors"][0]["run_at"] = "2026-08-15T09:30:00Z"
    # <script>: unsupported c3 (high) started 2026-03-03 03:00: it has run 2024.1.0 since;
    # its single-connector/single-colo warnings (also 03:00) do not date a high row
    evil["connectors"][0]["run_at"] = "2026-03-03T03:00:00Z"
    # pipe: c4 degraded (high) started 2026-08-01, its pending connections opened 2026-08-19
    # 06:30 and 07:45: dated from the oldest pending opened_at (its worst problem, before
    # vulnerable, also high), not the start
    c4 = pipe["connectors"][0]
    c4["run_at"] = "2026-08-01T00:00:00Z"
    c4["conns"][2]["opened_at"] = "2026-08-19T07:45:00Z"
    c4["conns"][3]["opened_at"] = "2026-08-19T06:30:00Z"
    snap = rf.snapshot()
    snap = type(snap)(
        fetched_at=snap.fetched_at,
        account_ids=snap.account_ids,
        tunnels=fleet["tunnels"],
        errors=snap.errors,
        n_requests=snap.n_requests,
    )
    text = write_report(snap, tmp_path / "r.html", as_of=rf.AS_OF).read_text()
    since = {r[0]: r[3] for r in _fix_rows(text)}
    # each row says what its time dates
    assert since == {
        html.escape(rf.EVIL, quote=True): "on this version since 2026-03-03 03:00 UTC",
        "flaky": "fetch failed at 2026-08-20 12:00 UTC",  # when the snapshot was fetched
        "gone": "down since an unknown time",  # the API gave no conns_inactive_at
        html.escape(rf.PIPE, quote=True): "reconnect pending since 2026-08-19 06:30 UTC",
        "alpha": "like this since 2026-08-15 09:30 UTC",
    }
    # rows stay ranked: the warning-only alpha comes last
    assert [r[0] for r in _fix_rows(text)][-1] == "alpha"


def test_fix_first_gives_one_action_for_the_worst_problem(tmp_path: Path) -> None:
    fleet = rf.fleet()
    c4, c5 = fleet["tunnels"][2]["connectors"]
    # c4: 2 active, both in DFW (degraded); c5: 3 active in DFW, the fourth pending
    # (reconnecting); every active connection in DFW (single-colo).
    for conn, colo in zip(c4["conns"], ["DFW", "DFW", "LAX", "LAX"], strict=True):
        conn["colo_name"] = colo
    for i, (conn, colo) in enumerate(zip(c5["conns"], ["DFW", "DFW", "DFW", "AMS"], strict=True)):
        conn["colo_name"], conn["is_pending_reconnect"] = colo, i == 3
    text = write_report(fleet, tmp_path / "r.html", as_of=rf.AS_OF).read_text()
    row = {r[0]: r for r in _fix_rows(text)}[html.escape(rf.PIPE, quote=True)]
    assert row[2] == (
        "degraded or down connectors; connectors missing security fixes; connectors "
        "reconnecting; single-colo tunnels"
    )
    assert row[4] == (
        "check the hosts&#x27; egress to the edge (outbound 7844, QUIC or HTTP/2), then "
        "restart cloudflared if connections do not come back"
    )


def test_down_tunnels_long_dead_or_fresh(tmp_path: Path) -> None:
    fleet = rf.fleet()
    gone = fleet["tunnels"][3]
    gone["conns_inactive_at"] = "2026-05-01T00:00:00Z"  # 111.5 days before AS_OF
    fresh = rf._tunnel("88888888-8888-4888-8888-888888888888", "fresh", "down", [])
    fresh["conns_inactive_at"] = "2026-08-20T11:48:00Z"  # 12 minutes before AS_OF
    fleet["tunnels"].append(fresh)
    found = tf.findings(fleet, as_of=rf.AS_OF, rules=["down"])
    assert list(found["tunnel_name"]) == ["fresh", "gone"]  # sorted by tunnel, not payload
    assert found["message"][0].endswith("(down since 2026-08-20 11:48 UTC)")
    text = write_report(fleet, tmp_path / "r.html", as_of=rf.AS_OF).read_text()
    order = [r[0] for r in _fix_rows(text)]
    rows = {r[0]: r for r in _fix_rows(text)}
    assert rows["gone"][2] == "down for 112 days: a cleanup candidate"
    assert rows["gone"][3] == "down since 2026-05-01"
    assert rows["gone"][4].startswith("delete the tunnel if nothing uses it any more")
    assert rows["fresh"][2] == "down for 12 minutes: no connector is running"
    assert rows["fresh"][3] == "down since 2026-08-20 11:48 UTC"
    assert "delete" not in rows["fresh"][4]
    # the fresh outage leads, the cleanup candidate comes after every live problem
    assert order[0] == "fresh" and order[-1] == "gone"


def test_one_connection_reconnecting_is_a_warning(tmp_path: Path) -> None:
    fleet = rf.fleet()
    # c1: 3 of 4 active, the fourth pending reconnect
    fleet["tunnels"][0]["connectors"][0]["conns"][3]["is_pending_reconnect"] = True
    found = tf.findings(fleet, as_of=rf.AS_OF, rules=["degraded", "reconnecting"])
    assert [(r, c) for r, c in zip(found["rule"], found["connector_id"], strict=True)] == [
        ("degraded", "c4"),
        ("reconnecting", "c1"),
    ]
    assert found["severity"].tolist() == ["high", "warn"]
    assert found["message"][1] == (
        'reconnecting: connector c1 of tunnel "alpha" (11111111-1111-4111-8111-111111111111): '
        "3 of 4 expected connections active, in 2 sites of 2 metros; 1 pending reconnect"
    )
    # with 3 expected, c1 is healthy and c4 (2 active, 2 pending) is reconnecting
    found = tf.findings(
        fleet, as_of=rf.AS_OF, rules=["degraded", "reconnecting"], expected_connections=3
    )
    assert list(found["connector_id"]) == ["c4"] and list(found["rule"]) == ["reconnecting"]


def test_findings_open_by_severity(tmp_path: Path) -> None:
    fleet = rf.fleet()
    fleet["tunnels"][0]["remote_config"] = True
    fleet["tunnels"][0]["connectors"][0]["config_version"] = 2
    fleet["tunnels"][0]["connectors"][1]["config_version"] = 3
    text = write_report(fleet, tmp_path / "r.html", as_of=rf.AS_OF).read_text()
    tags = re.findall(r'<details class="finding \w+" id="finding-([a-z-]+)"( open)?>', text)
    state = dict(tags)
    assert state["unsupported"] == " open" and state["down"] == " open"
    assert state["single-colo"] == " open"  # a short list of warnings
    assert state["config-drift"] == ""  # info: collapsed, however short


# --------------------------------------------------------------------------------------------
# scale: long tables capped with "and N more", every row kept as CSV, links that resolve


@pytest.fixture(scope="module")
def big_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, pd.DataFrame]:
    fleet = tf.simulator.generate_fleet(400, seed=3)
    folder = tmp_path_factory.mktemp("big")
    html_text = write_report(fleet, folder / "r.html", as_of=rf.AS_OF).read_text()
    md_text = write_report(fleet, folder / "r.md", as_of=rf.AS_OF).read_text()
    return html_text, md_text, findings(fleet, as_of=rf.AS_OF)


def test_long_tables_are_capped_with_every_row_as_csv(
    big_report: tuple[str, str, pd.DataFrame],
) -> None:
    page, md, found = big_report
    from tunnelframe.report._sections import MAX_TABLE_ROWS

    # the busiest rule ordered by active connections (vulnerable, the busiest, is not;
    # single-origin, one row per single-connector tunnel, information, is ordered by tunnel)
    counts = found[found["rule"].isin(["degraded", "single-colo", "single-connector"])][
        "rule"
    ].value_counts()
    rule = str(counts.index[0])
    n = int(counts.iloc[0])
    assert n > MAX_TABLE_ROWS  # the fleet is big enough to cap this finding
    start = page.index(f'id="finding-{rule}"')
    ends = [
        i
        for i in (page.find('<details class="finding', start + 1), page.find("</section>", start))
        if i > 0
    ]
    block = page[start : min(ends)]
    assert block.count("<tr>") == MAX_TABLE_ROWS + 1  # the heading row too
    said = f"{MAX_TABLE_ROWS} of {n:,} rows shown, fewest active connections first"
    assert f"{said}; all {n:,} are in the CSV below." in block
    csv_text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", block, re.S)[1])
    rows = pd.read_csv(io.StringIO(csv_text))
    assert len(rows) == n and rows.columns[0] == "Tunnel"
    # the cap keeps the worst rows: the CSV is in the table's order, fewest active first,
    # and the table shows its first rows
    active = rows["Active conns"].tolist()
    assert active == sorted(active) and active[0] < active[-1]
    shown = re.findall(r'<tr><td class="text">(?:<a [^>]*>)?([^<]*)<', block)
    assert [html.unescape(s) for s in shown] == rows["Tunnel"].head(MAX_TABLE_ROWS).tolist()
    # Markdown keeps every row too, after the capped table
    assert f"*{said}; all {n:,} as CSV:*" in md
    assert "```csv\nTunnel," in md


def test_a_large_fleet_details_its_most_urgent_tunnels(
    big_report: tuple[str, str, pd.DataFrame],
) -> None:
    page, _, _ = big_report
    from tunnelframe.engine import MAX_DETAILED_TUNNELS

    anchors = set(re.findall(r'<details id="(t-[^"]+)"', page))
    assert len(anchors) == MAX_DETAILED_TUNNELS
    # every link to a tunnel resolves to a detail on the page
    links = set(re.findall(r'href="#(t-[^"]+)"', page))
    assert links and links <= anchors
    # every tunnel the fix-first block lists (headline and full list) links to its detail
    start = page.index('<section id="fix">')
    fix = page[start : page.index("</section>", start)]
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td>", fix)
    assert len(rows) > 50 and all(r.startswith('<a href="#t-') for r in rows), rows[:3]
    assert 'id="more-tunnels"' in page
    assert f"{MAX_DETAILED_TUNNELS} are detailed above" in page


# -- WARP Connector beside cloudflared -------------------------------------------------------


def test_a_mixed_fleet_report_shows_both_kinds_and_filters_by_kind(tmp_path: Path) -> None:
    fleet = tf.simulator.generate_fleet(12, seed=5, warp_connectors=10)
    as_of = "2026-08-20T12:00Z"
    both = tf.write_report(fleet, tmp_path / "both.md", as_of=as_of).read_text()
    assert "| Tunnel types | 2 |" in both
    assert "WARP Connector pairs" in both
    found = tf.findings(fleet, as_of=as_of)
    pairs = tf.pair_ha_report(tf.connections_frame(fleet))
    expected = pairs.loc[pairs["status"] != "ok", "tunnel_id"].astype(str).tolist()
    # the same tunnels, rows sorted by tunnel (never payload order)
    assert sorted(found.loc[found["rule"] == "pair-ha", "tunnel_id"].tolist()) == sorted(expected)
    # cloudflared's rules and version support leave WARP Connector tunnels alone.
    warp_ids = {t["id"] for t in fleet["tunnels"] if t["tun_type"] == "warp_connector"}
    others = found[found["rule"] != "pair-ha"]
    assert not set(others["tunnel_id"].dropna()) & warp_ids
    only_warp = tf.findings(fleet, as_of=as_of, tun_type="warp_connector")
    assert set(only_warp["rule"]) == {"pair-ha"}
    only_cfd = tf.findings(fleet, as_of=as_of, tun_type="cfd_tunnel")
    assert len(only_cfd) + len(only_warp) == len(found)
    warp_md = tf.write_report(
        fleet, tmp_path / "warp.md", as_of=as_of, tun_type="warp_connector"
    ).read_text()
    cfd_names = [t["name"] for t in fleet["tunnels"] if t["tun_type"] == "cfd_tunnel"]
    warp_names = [t["name"] for t in fleet["tunnels"] if t["tun_type"] == "warp_connector"]
    assert all(f"### {name} (" in warp_md for name in warp_names)
    assert not any(f"### {name} (" in warp_md for name in cfd_names)
    with pytest.raises(ValueError, match="tun_type must be one of cfd_tunnel, warp_connector"):
        tf.findings(fleet, tun_type="warp")


def test_markdown_bare_urls_and_emails_make_no_links(tmp_path: Path) -> None:
    # GitHub-style renderers autolink http(s)://, www. and e-mail addresses in plain text.
    fleet = tf.simulator.generate_fleet(3, seed=1)
    hostile_name = "ops https://evil.example/x www.evil.example admin@evil.example"
    for tunnel in fleet["tunnels"]:
        tunnel["name"] = hostile_name
    text = write_report(fleet, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "https\\://evil.example/x www\\.evil.example admin\\@evil.example" in text
    assert not re.search(r"(?<!\\)(https?://|www\.|\w@\w)", text.replace("](", ""))


def test_csv_export_neutralises_formulas(tmp_path: Path) -> None:
    fleet = tf.simulator.generate_fleet(4, seed=1)
    names = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]
    for tunnel, name in zip(fleet["tunnels"], names, strict=True):
        tunnel["name"] = name
    paths = export_frames(fleet, tmp_path, format="csv")
    tunnels = pd.read_csv(paths["tunnels"], dtype=str)
    assert sorted(tunnels["tunnel_name"]) == sorted("'" + name for name in names)
    connections = pd.read_csv(paths["connections"], dtype=str)
    assert connections["tunnel_name"].str.startswith("'").all()
    # numbers stay numbers, and Parquet keeps the names as they are
    parquet = export_frames(fleet, tmp_path / "pq")
    assert sorted(pd.read_parquet(parquet["tunnels"])["tunnel_name"]) == sorted(names)


def test_redaction_covers_ips_embedded_in_names_in_every_usual_form(tmp_path: Path) -> None:
    fleet = tf.simulator.generate_fleet(3, seed=1)
    names = ["edge ip-198-51-100-7", "db 198.51.100.8 primary", "v6 2001:db8::17 host"]
    for tunnel, name in zip(fleet["tunnels"], names, strict=True):
        tunnel["name"] = name
    for fmt in ("md", "html"):
        text = write_report(fleet, tmp_path / f"r.{fmt}", redact_ips=True).read_text("utf-8")
        for raw in ("198-51-100-7", "198.51.100.8", "2001:db8::17"):
            assert raw not in text
        assert "edge ip-ip-" in text  # the dashed IP's pseudonym: the same as the dotted one


def test_colo_section_counts_metros_and_lists_sites(tmp_path: Path) -> None:
    # Today's colo codes: c1 in three Chicago sites, c2 in Los Angeles and two Ashburn sites.
    fleet = rf.fleet()
    sites = {"c1": ["ord02", "ord06", "ord12", "ord12"], "c2": ["lax07", "lax07", "iad09", "iad10"]}
    for connector in fleet["tunnels"][0]["connectors"]:
        for conn, site in zip(connector["conns"], sites[connector["id"]], strict=True):
            conn["colo_name"] = site
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every site resolves through its metro
        text = write_report(fleet, tmp_path / "r.md", as_of=rf.AS_OF).read_text()
    section = text[text.index("## Colo distribution") : text.index('<a id="ages">')]
    # 18 active connections: DFW 4 (c3) + 1 (c4), LAX 1 (c4) + lax07 2, AMS 2, FRA 2, ORD 4,
    # IAD 2; sites: DFW, LAX, AMS, FRA, lax07, ord02, ord06, ord12, iad09, iad10.
    assert "18 active connections land in 10 sites of 6 metros across 2 regions." in section
    assert "| ORD | Chicago | US | North America | 3 | 4 | 22.2% |" in section
    assert "| LAX | Los Angeles | US | North America | 2 | 3 | 16.7% |" in section
    assert "| ord12 | ORD | Chicago | US | North America | 2 | 11.1% |" in section
    assert "| North America | 4 | 8 | 14 | 77.8% |" in section
    assert "| Metros | 6 | 10 sites · busiest metros: DFW 28%, ORD 22%, LAX 17% |" in text
    # cloudflared's edge string, sites verbatim
    assert "1xord02, 1xord06, 2xord12" in text


def test_every_chart_draws_on_a_one_tunnel_fleet(tmp_path: Path) -> None:
    one = {"tunnels": [rf.fleet()["tunnels"][0]]}  # alpha: two connectors in four colos
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = write_report(one, tmp_path / "one.html", as_of=rf.AS_OF).read_text()
    assert "Figure unavailable" not in text
    assert text.count('<div class="chart">') == 6 == text.count('src="data:image/png;base64,')


# No quote, no comma: nothing else makes a CSV writer quote the cell.
_CR_FORMULA = "web\r=2+5*cmd|calc!A0"


def test_a_carriage_return_in_a_cell_cannot_start_a_formula_row_in_csv(tmp_path: Path) -> None:
    import csv

    fleet = rf.fleet()
    fleet["tunnels"][0]["name"] = _CR_FORMULA
    paths = export_frames(fleet, tmp_path, format="csv")
    for path in paths.values():
        with path.open(newline="") as handle:  # as a spreadsheet's CSV reader splits rows
            rows = list(csv.reader(handle))
        assert not [row for row in rows if row and row[0].lstrip().startswith("=")]
    raw = paths["tunnels"].read_bytes()
    assert b'"web\r=2+5*cmd|calc!A0"' in raw  # quoted: the CR stays inside its cell
    assert pd.read_csv(paths["tunnels"])["tunnel_name"].iloc[0] == _CR_FORMULA


def test_the_reports_embedded_csv_quotes_a_carriage_return() -> None:
    import csv

    from tunnelframe.engine import Show
    from tunnelframe.report._sections import _csv

    frame = pd.DataFrame({"tunnel_name": [_CR_FORMULA, "ok"]})
    text = _csv(frame, (Show("Tunnel", "tunnel_name"),))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["Tunnel"], [_CR_FORMULA], ["ok"]]


def test_xlsx_cells_are_typed_text_without_a_quote_and_hold_no_illegal_character(
    tmp_path: Path,
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    fleet = rf.fleet()
    fleet["tunnels"][0]["name"] = "-legacy"
    fleet["tunnels"][1]["name"] = "bell\x07tab\x1b[31mred"
    fleet["tunnels"][2]["name"] = "=1+2"
    path = export_frames(fleet, tmp_path, format="xlsx")["tunnels"]
    book = openpyxl.load_workbook(path)
    cells = list(book["tunnels"]["A"])  # the name leads the sheet
    names = [c.value for c in cells]
    assert "-legacy" in names and "'-legacy" not in names
    assert [c.data_type for c in cells if c.value == "=1+2"] == ["s"]  # text, not a formula
    # the findings sheet names the tunnel too: text there as well
    every = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert {c.data_type for c in every if c.value == "=1+2"} == {"s"}
    assert {c.parent.title for c in every if c.value == "=1+2"} >= {"findings", "tunnels"}
    assert "bell\\x07tab\\x1b[31mred" in names


def test_xlsx_refuses_a_frame_larger_than_a_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("openpyxl")
    from tunnelframe.report import _export

    assert _export._XLSX_MAX_ROWS == 1_048_575
    monkeypatch.setattr(_export, "_XLSX_MAX_ROWS", 10)
    with pytest.raises(ValueError, match=r"the connections frame has 20 rows, more than an Excel"):
        export_frames(rf.fleet(), tmp_path, format="xlsx")


def test_fix_first_reads_since_and_action_from_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule is one entry: what its "since" is, where that time comes from and what to do
    # are fields of the Rule, not tables the fix-first ranking keeps beside it.
    import dataclasses

    from tunnelframe.engine import RULES, Analysis, _fixfirst, fix_first_tunnels, resolve

    fleet = {"tunnels": [{"id": "t1", "account_tag": "a", "name": "web", "status": "healthy",
        "connectors": [{"id": "c1", "version": "2026.8.0", "run_at": "2026-08-01T00:00:00Z",
            "conns": [{"id": f"x{i}", "colo_name": "DFW", "opened_at": "2026-08-02T00:00:00Z"}
                      for i in range(4)]}]}]}  # fmt: skip
    as_of = "2026-08-20"
    before = fix_first_tunnels(Analysis(resolve(fleet, as_of=as_of)))
    assert before.loc[0, "rule"] == "single-connector"
    assert before.loc[0, "since"] == "like this since"
    assert before.loc[0, "since_at"] == pd.Timestamp("2026-08-01", tz="UTC")

    def changed(rule: Any) -> Any:
        if rule.id != "single-connector":
            return rule
        return dataclasses.replace(
            rule,
            since="alone since",
            since_at=lambda a, row: (pd.Timestamp("2026-01-01", tz="UTC"), None),
            action="add a replica",
        )

    monkeypatch.setattr(_fixfirst, "RULES", tuple(changed(r) for r in RULES))
    after = fix_first_tunnels(Analysis(resolve(fleet, as_of=as_of)))
    assert after.loc[0, ["since", "since_at", "action"]].tolist() == [
        "alone since",
        pd.Timestamp("2026-01-01", tz="UTC"),
        "add a replica",
    ]
