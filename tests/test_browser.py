"""The HTML report in a real browser: headless Chromium, at laptop and phone widths.

The test drives Debian's ``chromium`` over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: no port, no extra Python package), opens the report from disk and
checks that every image loaded, nothing was requested from the network, no console error or
exception occurred (a Content-Security-Policy violation would be one), data never became
markup, the page does not scroll sideways, printing opens every collapsed section, and that it
prints to PDF. It takes a screenshot at each width; set ``TUNNELFRAME_SCREENSHOT_DIR`` to keep
them. It is skipped, saying why, only when no Chromium binary is installed (``.ci/run``
installs Debian's ``chromium``; ``TUNNELFRAME_CHROMIUM`` names another binary).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _report_fleet as rf
import pytest

import tunnelframe as tf
from tunnelframe.datasets import SAMPLE_AS_OF

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: A tunnel name that would set window.__pwned if it ever became markup.
PWN = '<img src=x onerror="window.__pwned=1">'


def _chromium() -> str | None:
    named = os.environ.get("TUNNELFRAME_CHROMIUM")
    if named:
        return shutil.which(named) or named
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


class _Browser:
    """Just enough of the DevTools protocol over ``--remote-debugging-pipe``.

    Chromium reads commands on fd 3 and writes replies and events on fd 4, each message a JSON
    object followed by a NUL byte. A tiny Python trampoline puts the pipes on fds 3 and 4 in
    the child (no ``preexec_fn``: the test process has threads).
    """

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Move the child's ends above fd 10 so placing them on 3 and 4 cannot clobber them.
        child = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        trampoline = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
            "os.execvp(sys.argv[3], sys.argv[3:])"
        )
        flags = [
            "--headless",
            "--no-sandbox",  # the tests may run as root (CI does)
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--hide-scrollbars",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", trampoline, *map(str, child), binary, *flags],
            pass_fds=child,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in child:
            os.close(fd)
        self._out, self._in = to_chrome_w, from_chrome_r
        self._buffer = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise EOFError(f"Chromium exited (status {self.proc.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        reply: dict[str, Any] = json.loads(message)
        return reply

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._receive(deadline))

    def evaluate(self, expression: str, session: str) -> Any:
        reply = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError, TimeoutError, RuntimeError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._out)
        os.close(self._in)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = _chromium()
    if binary is None:
        pytest.skip(
            "no Chromium binary found (install Debian's chromium: apt-get install chromium, "
            "or set TUNNELFRAME_CHROMIUM)"
        )
    return binary


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample fleet plus the hand-written tricky tunnels, one with a would-be XSS name."""
    tricky = rf.fleet()["tunnels"]
    tricky[0]["name"] = PWN
    fleet = {"tunnels": tf.load_sample()["tunnels"] + tricky}
    return tf.write_report(
        fleet, tmp_path_factory.mktemp("browser") / "report.html", as_of=SAMPLE_AS_OF
    )


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[_Browser]:
    b = _Browser(chromium, tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


_PROBLEMS = ("Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")


@pytest.mark.parametrize(
    ("name", "width", "height", "mobile"),
    [("laptop", 1366, 900, False), ("phone", 390, 844, True)],
)
def test_report_renders_in_chromium(
    browser: _Browser,
    report: Path,
    tmp_path: Path,
    name: str,
    width: int,
    height: int,
    mobile: bool,
) -> None:
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session=session)
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": height,
            "deviceScaleFactor": 2 if mobile else 1,
            "mobile": mobile,
        },
        session=session,
    )
    browser.call("Page.navigate", {"url": report.resolve().as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired")

    images = browser.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])", session
    )
    assert len(images) == 6
    assert all(done and w > 0 and alt for done, w, alt in images), images
    assert browser.evaluate("window.__pwned === undefined", session)
    assert browser.evaluate("document.scripts.length", session) == 1
    assert browser.evaluate(f"document.body.textContent.includes({json.dumps(PWN)})", session)
    # The fix-first block comes first, above the cards: its headline one row per tunnel,
    # the sample's fresh outages (down for minutes, connectors lost) leading.
    fix = browser.evaluate(
        "(() => { const s = document.querySelector('section#fix');"
        " const rows = Array.from(s.querySelector('table').tBodies[0].rows);"
        " const cards = document.querySelector('.cards').getBoundingClientRect().top;"
        " return [rows.length, rows.map(r => Array.from(r.cells).map(c => c.textContent)),"
        " s.getBoundingClientRect().top < cards]; })()",
        session,
    )
    n_rows, cells, above = fix
    assert n_rows == 10 and above, fix
    assert all(r[1] == "high" for r in cells)
    fresh = [r for r in cells if re.match(r"down for \d+ minutes", r[2])]
    assert len(fresh) >= 3 and cells[: len(fresh)] == fresh, cells  # they lead
    assert all(r[3].startswith("down since ") and "delete" not in r[4] for r in fresh)
    # Long tables get a filter box and sortable headings (the inline script, allowed by the
    # CSP): filtering the full fix-first list by a tunnel's name leaves that row only.
    n_rows = browser.evaluate("document.querySelector('#fix-all tbody').rows.length", session)
    filtered = browser.evaluate(
        "(() => { const t = document.querySelector('#fix-all table');"
        " const box = t.closest('.tbl').querySelector('input.filter');"
        " const live = () => Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent);"
        " const name = live()[1];"
        " box.value = name; box.dispatchEvent(new Event('input'));"
        " const shown = live();"
        " box.value = ''; box.dispatchEvent(new Event('input'));"
        " return [name, shown, live().length]; })()",
        session,
    )
    wanted, shown, n_back = filtered
    assert shown and all(wanted in s for s in shown) and n_back == n_rows, filtered
    sorted_names = browser.evaluate(
        "(() => { const t = document.querySelector('#fix-all table');"
        " t.tHead.rows[0].cells[0].click();"
        " return Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent); })()",
        session,
    )
    assert sorted_names == sorted(sorted_names)
    # Inline charts fit their box (a tap enlarges them): drawn whole on a laptop, shrunk
    # to the screen on a phone, never wider than the page.
    widths = browser.evaluate(
        "Array.from(document.querySelectorAll('.chart img'))"
        ".map(i => [i.getBoundingClientRect().right, i.naturalWidth])",
        session,
    )
    assert len(widths) == 6 and max(r for r, _ in widths) <= width, widths
    # The page itself never scrolls sideways: wide tables scroll inside their own box.
    page_width = browser.evaluate("document.documentElement.scrollWidth", session)
    assert page_width <= width, f"the page is {page_width}px wide in a {width}px viewport"

    # A tap on a chart opens it full screen without script (the link targets its figure and
    # CSS lays it over the page): never narrower than drawn, as wide as the screen allows.
    enlarged = browser.evaluate(
        "(() => { const f = document.querySelector('figure');"
        " f.querySelector('a.enlarge').click();"
        " const box = f.querySelector('.chart'), img = box.querySelector('img');"
        " const r = box.getBoundingClientRect(), i = img.getBoundingClientRect();"
        " return [location.hash === '#' + f.id, getComputedStyle(box).position,"
        " [r.left, r.top, r.width, r.height], i.width, i.height, img.naturalWidth,"
        " getComputedStyle(f.querySelector('a.close')).display]; })()",
        session,
    )
    targeted, position, rect, shown_w, shown_h, natural_w, close = enlarged
    assert targeted and position == "fixed" and close == "block", enlarged
    assert rect == [0, 0, width, height], enlarged  # covers the whole screen
    if mobile:  # turned to lie along the long side: whole on screen, as large as inline
        assert shown_w <= width and shown_h <= height and shown_h >= 600, enlarged
    else:  # as wide as the screen allows, never narrower than drawn
        assert shown_w >= min(natural_w, width - 100), enlarged
    zoom = base64.b64decode(
        browser.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    )
    (tmp_path / f"chart-{name}.png").write_bytes(zoom)
    closed = browser.evaluate(
        "(() => { const f = document.querySelector('figure');"
        " f.querySelector('a.close').click();"
        " return [location.hash === '#' + f.id + '-at',"
        " getComputedStyle(f.querySelector('.chart')).position]; })()",
        session,
    )
    assert closed == [True, "static"], closed

    # Printing opens every collapsed section (the inline script is allowed by the CSP).
    assert browser.evaluate("document.querySelectorAll('details:not([open])').length", session)
    browser.evaluate("window.dispatchEvent(new Event('beforeprint'))", session)
    assert browser.evaluate("document.querySelectorAll('details:not([open])').length", session) == 0
    browser.evaluate("window.scrollTo(0, 0)", session)

    shot = base64.b64decode(
        browser.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    )
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
    (tmp_path / f"report-{name}.png").write_bytes(shot)
    keep = os.environ.get("TUNNELFRAME_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / f"report-{name}.png").write_bytes(shot)
        (Path(keep) / f"chart-{name}.png").write_bytes(zoom)
    if not mobile:
        pdf = base64.b64decode(
            browser.call("Page.printToPDF", {"printBackground": True}, session=session)["data"]
        )
        assert pdf.startswith(b"%PDF")

    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested and all(url.startswith(("file://", "data:")) for url in requested), [
        url[:80] for url in requested
    ]
    problems = [
        json.dumps(e["params"])[:300] for e in browser.events if e.get("method") in _PROBLEMS
    ]
    assert problems == []


def _open(browser: _Browser, page: Path, width: int, height: int, mobile: bool) -> str:
    """A new tab showing ``page`` at ``width`` x ``height``; returns its session."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime"):
        browser.call(f"{domain}.enable", session=session)
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        session=session,
    )
    browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired")
    return session


def test_the_filter_searches_every_row_of_a_capped_table(browser: _Browser, report: Path) -> None:
    session = _open(browser, report, 1366, 900, False)
    # The unsupported-connectors table shows 50 of its rows, worst first; the rest are in its
    # CSV. Filtering by a tunnel only in the CSV finds it, and the note counts the matches.
    found = browser.evaluate(
        "(() => { const w = document.querySelector('#finding-unsupported .tbl');"
        " const t = w.querySelector('table'), box = w.querySelector('input.filter');"
        " const live = () => Array.from(t.tBodies[0].rows);"
        " const shown = new Set(live().map(r => r.cells[0].textContent));"
        " const lines = w.querySelector('textarea').value.trim().split('\\n').slice(1);"
        " const hidden = lines.map(l => l.split(',')[0]).filter(n => !shown.has(n)"
        "   && /^[a-z0-9-]+$/.test(n));"
        " const note = w.querySelector('p.more');"
        " const before = [live().length, lines.length, note.textContent, box.placeholder];"
        " box.value = hidden[0]; box.dispatchEvent(new Event('input'));"
        " const rows = live().map(r => Array.from(r.cells).map(c => c.textContent));"
        " const after = note.textContent;"
        " box.value = 'e'; box.dispatchEvent(new Event('input'));"
        " const many = [live().length, note.textContent];"
        " box.value = ''; box.dispatchEvent(new Event('input'));"
        " return [before, hidden[0], rows, after, many, live().length, note.textContent]; })()",
        session,
    )
    before, name, rows, after, many, n_back, note_back = found
    n_shown, n_all, said, placeholder = before
    assert n_shown == 50 and n_all > 50, found
    order = "most releases behind first"
    assert said == f"50 of {n_all} rows shown, {order}; all {n_all} are in the CSV below."
    assert placeholder == f"Filter all {n_all} rows"
    assert rows and all(r[0] == name for r in rows), found  # built from the CSV
    assert after == ("1 match." if len(rows) == 1 else f"{len(rows)} matches."), found
    assert many[0] == 50 and many[1].endswith(", 50 shown."), found  # the cap still holds
    assert n_back == 50 and note_back == said
    # Sorting orders all the rows, not the 50 shown: fewest releases behind first brings up
    # rows the cap had left out (it keeps the most behind).
    top = browser.evaluate(
        "(() => { const w = document.querySelector('#finding-unsupported .tbl');"
        " const t = w.querySelector('table'), heads = Array.from(t.tHead.rows[0].cells);"
        " const k = heads.findIndex(h => h.textContent === 'Releases behind');"
        " const col = () => Array.from(t.tBodies[0].rows).map(r => +r.cells[k].textContent);"
        " const capped = col(); heads[k].click();"
        " return [capped, col()]; })()",
        session,
    )
    capped, ascending = top
    assert ascending == sorted(ascending) and len(ascending) == 50, top
    assert ascending[0] < min(capped), top


def test_on_a_phone_tables_fit_and_the_top_five_are_visible(
    browser: _Browser, report: Path, tmp_path: Path
) -> None:
    width = 390
    session = _open(browser, report, width, 844, True)
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)", session)
    boxes = browser.evaluate(
        "Array.from(document.querySelectorAll('table')).map(t => {"
        " const box = t.closest('.scroll'), r = box.getBoundingClientRect();"
        " const s = t.classList.contains('stack');"
        " return [s, r.left, r.right, s ? t.scrollWidth - t.clientWidth : 0,"
        " t.tBodies[0] ? t.tBodies[0].rows.length : 0]; })",
        session,
    )
    assert boxes and any(s for s, *_ in boxes)
    # no table's box reaches past the screen; stacked (card) tables do not even scroll inside
    assert all(left >= 0 and right <= width for _, left, right, _, _ in boxes), boxes
    assert all(spill <= 1 for s, _, _, spill, _ in boxes if s), boxes
    # The first five rows of the fix-first list, every value of them, lie on the screen.
    top = browser.evaluate(
        "(() => { const rows = Array.from(document.querySelectorAll('section#fix tbody tr'))"
        ".slice(0, 5);"
        " return rows.map(r => Array.from(r.cells).map(c => { const b = c.getBoundingClientRect();"
        " return [b.left, b.right, b.width, c.textContent]; })); })()",
        session,
    )
    assert len(top) == 5, top
    for row in top:
        for left, right, cell_width, text in row:
            assert left >= 0 and right <= width and (cell_width > 0 or not text), row
    shot = base64.b64decode(
        browser.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    )
    keep = os.environ.get("TUNNELFRAME_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "report-phone-top.png").write_bytes(shot)


def test_a_deflated_csv_is_inflated_then_filtered(
    browser: _Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import io
    import zlib

    from tunnelframe.report import _html

    # A large fleet's long CSVs are embedded deflated; here every capped table's is.
    monkeypatch.setattr(_html, "_DEFLATE_OVER", 0)
    fleet = tf.simulator.generate_fleet(150, seed=1)
    path = tf.write_report(fleet, tmp_path / "r.html", as_of=tf.simulator.DEFAULT_AS_OF)
    page = path.read_text(encoding="utf-8")
    start = page.index('id="finding-vulnerable"')
    block = page[start : page.index('<details class="finding', start + 1)]
    packed = re.search(r'data-deflated="([^"]+)"', block)
    assert packed is not None
    text = zlib.decompress(base64.b64decode(packed[1]), -15).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Tunnel", "Connector"] and len(rows) > 51
    assert rows[-1][1] not in block  # the hidden rows are in the table only deflated
    session = _open(browser, path, 1366, 900, False)
    read = "document.querySelector('#finding-vulnerable textarea').value"
    deadline = time.monotonic() + 20
    while not (value := browser.evaluate(read, session)).startswith("Tunnel,"):
        assert time.monotonic() < deadline, value
        time.sleep(0.1)
    assert value.strip() == text.replace("\r\n", "\n").strip()
    hidden = rows[-1][1]  # a connector in the last row: not among the 50 shown
    found = browser.evaluate(
        "(() => { const w = document.querySelector('#finding-vulnerable .tbl');"
        " const box = w.querySelector('input.filter');"
        f" box.value = {json.dumps(hidden)}; box.dispatchEvent(new Event('input'));"
        " const rows = Array.from(w.querySelector('table').tBodies[0].rows);"
        " return [rows.map(r => r.cells[1].textContent), w.querySelector('p.more').textContent,"
        " box.placeholder]; })()",
        session,
    )
    assert found == [[hidden], "1 match.", f"Filter all {len(rows) - 1} rows"], found
