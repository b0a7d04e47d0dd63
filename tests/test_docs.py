"""The documentation site builds offline, warnings as errors, and documents every public name.

``docs/`` generates its API reference, column tables, plot gallery and notebook pages from the
package at build time (``docs/_ext/tunnelframe_docs.py``); building it here makes a broken or
stale cross-reference, an undocumented schema column or a failing ``plot_*`` fail the suite.
The build runs with ``nb_execution_mode=off``: tests/test_notebooks.py executes the notebooks
already, and executing them twice would double the suite's slowest part. The documented
command (README, docs/index.md) builds with execution on.
"""

from __future__ import annotations

import html
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import tunnelframe as tf
from tunnelframe.frames import _schema

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _public_names() -> dict[str, object]:
    """Every public name: tunnelframe.__all__ and the public submodules' (full name: object)."""
    names: dict[str, object] = {}
    for name in tf.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(tf, name)
        if inspect.ismodule(obj):
            for sub in obj.__all__:
                names[f"{obj.__name__}.{sub}"] = getattr(obj, sub)
        else:
            names[f"tunnelframe.{name}"] = obj
    for info in pkgutil.iter_modules(tf.__path__):
        if info.name.startswith("_"):
            continue
        modname = f"tunnelframe.{info.name}"
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if getattr(tf, name, None) is obj and name in tf.__all__:
                continue
            code = inspect.isclass(obj) or inspect.isroutine(obj)
            if code and any(obj is known for known in names.values()):
                continue  # a class or function re-exported by a second module: one page
            names[f"{modname}.{name}"] = obj
    return names


def _public_code() -> list[tuple[str, object]]:
    """Every public function and class (constants carry no docstring of their own)."""
    return [
        (name, obj)
        for name, obj in sorted(_public_names().items())
        if inspect.isclass(obj) or inspect.isroutine(obj)
    ]


def test_every_public_function_and_class_has_an_example() -> None:
    missing = [name for name, obj in _public_code() if "Examples" not in (obj.__doc__ or "")]
    assert not missing, f"no Examples section in the docstring of {missing}"


@pytest.mark.parametrize("name", ["CONNECTIONS_SCHEMA", "CONNECTORS_SCHEMA", "TUNNELS_SCHEMA"])
def test_every_schema_column_is_described(name: str) -> None:
    notes = _schema._COLUMN_NOTES
    undescribed = [column for column in getattr(tf, name) if column not in notes]
    assert not undescribed, f"add {undescribed} to _COLUMN_NOTES in tunnelframe/frames/_schema.py"
    for column in getattr(tf, name):
        meaning, when_na = notes[column]
        assert meaning.strip() and when_na.strip(), column


def test_no_note_for_a_column_that_does_not_exist() -> None:
    columns = {*tf.CONNECTIONS_SCHEMA, *tf.CONNECTORS_SCHEMA, *tf.TUNNELS_SCHEMA}
    assert set(_schema._COLUMN_NOTES) <= columns, set(_schema._COLUMN_NOTES) - columns


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for the tests of this module (offline, warnings as errors)."""
    tmp_path = tmp_path_factory.mktemp("docs")
    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            "-D",
            "nb_execution_mode=off",
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return out


@pytest.mark.slow
def test_site_builds_offline_without_warnings(site: Path) -> None:
    out = site
    # one reference page per public name, with its example
    for name in _public_names():
        page = out / "api" / "generated" / f"{name}.html"
        assert page.exists(), f"no reference page for {name}"
        assert "Examples" in page.read_text(encoding="utf-8"), name
    # every column of every frame schema, in its schema's table
    for schema in ("CONNECTIONS_SCHEMA", "CONNECTORS_SCHEMA", "TUNNELS_SCHEMA"):
        html = (out / "api" / "generated" / f"tunnelframe.{schema}.html").read_text("utf-8")
        for column in getattr(tf, schema):
            assert f">{column}<" in html, (schema, column)
        assert "when NA" in html, schema
    # a figure per plot_* function, a page per notebook, the CLI's every command
    plots = sorted(name for name in tf.__all__ if name.startswith("plot_"))
    assert sorted(p.stem for p in (out / "_images").glob("plot_*.png")) == plots
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (out / "notebooks" / f"{notebook.stem}.html").exists(), notebook.name
    cli = (out / "cli.html").read_text(encoding="utf-8")
    from tunnelframe.cli import _parser

    commands = next(a for a in _parser()._actions if a.dest == "command").choices
    for command, parser in commands.items():
        assert f"<h3>{command}<" in cli, command
        for action in parser._actions:
            for option in action.option_strings:
                assert option in cli, (command, option)


def _text_of(markup: str) -> str:
    """The visible text of some HTML (no markup, scripts or styles)."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", "", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _text(page: Path) -> str:
    """A page's visible text."""
    return _text_of(page.read_text("utf-8"))


@pytest.mark.slow
def test_the_site_links_to_the_repository_the_issues_and_the_changelog(site: Path) -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["urls"]
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(urls)
    for page in (site / "index.html", site / "api" / "generated" / "tunnelframe.fetch_fleet.html"):
        markup = page.read_text("utf-8")
        for key in ("Repository", "Issues"):  # the header's links, on every page
            assert f'href="{urls[key]}"' in markup, (page.name, key)

    # the install commands name the repository of pyproject.toml, never a bare PyPI name
    def code_blocks(page: Path) -> str:
        markup = page.read_text("utf-8")
        return _text_of("\n".join(re.findall(r"<pre>.*?</pre>", markup, re.S)))

    install = code_blocks(site / "guide" / "troubleshooting.html")
    assert f"git clone {urls['Repository']}" in install
    assert f"git+{urls['Repository']}@" in code_blocks(site / "guide" / "reports-check.html")
    for page in (site / "guide").glob("*.html"):
        assert not re.search(r"pip install tunnelframe\s*$", _text(page), re.M), page.name
    changelog = _text(site / "changelog.html")
    assert all(f"{release}" in changelog for release in ("Unreleased", "0.2 (", "0.1 ("))


@pytest.mark.slow
def test_the_reference_shows_no_internal_names(site: Path) -> None:
    private = re.compile(
        r"tunnelframe(\.\w+)*\._(?!_)\w+"  # a private module (a dunder is public)
        r"|<function |<factory>| at 0x[0-9a-f]+"  # an object's repr, not its value
        r"|[(,]\s*_\w+="  # a private parameter in a signature
    )
    leaks = {}
    for page in sorted((site / "api").rglob("*.html")):
        found = private.search(_text(page))
        if found:
            leaks[page.name] = found.group(0)
    assert not leaks, leaks


@pytest.mark.slow
def test_every_gallery_entry_draws_on_its_own_axes(site: Path) -> None:
    gallery = _text(site / "gallery" / "index.html")
    for name in sorted(n for n in tf.__all__ if n.startswith("plot_")):
        entry = gallery[gallery.index(f"\n{name}#") :]
        # the same style for every plot: its own Axes, the code that drew it, no test lines
        assert f"fig, ax = plt.subplots(figsize=(9, 5))\ntf.{name}(" in entry, name
        code = entry[: entry.index(", ax=ax)")]
        assert "matplotlib.use" not in code and ">>>" not in code, name
    assert "tf.plot_ha_status(fleet, ax=ax)" in gallery


#: Pages whose text must fit a phone: long signatures, parameters, a column table, guide tables.
PHONE_PAGES = (
    "api/generated/tunnelframe.write_report.html",
    "api/generated/tunnelframe.fetch_fleet.html",
    "api/generated/tunnelframe.CONNECTIONS_SCHEMA.html",
    "api/generated/tunnelframe.CheckResult.html",
    "guide/data-model.html",
    "guide/troubleshooting.html",
    "changelog.html",
    "index.html",
)


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1366])
def test_reference_text_fits_the_screen(site: Path, tmp_path: Path, width: int) -> None:
    from test_browser import _Browser, _chromium, _open

    binary = _chromium()
    if binary is None:
        pytest.skip("no Chromium binary (install Debian's chromium: apt-get install chromium)")
    # Everything in the article lies within the screen, except inside a box that scrolls on
    # its own (a code block, a wide guide table) and that box itself fits.
    spill = """(() => {
      const W = window.innerWidth, out = [];
      const scroller = el => { for (let p = el.parentElement; p && p !== document.body;
          p = p.parentElement) { const x = getComputedStyle(p).overflowX;
          if (x === 'auto' || x === 'scroll') return p; } return null; };
      for (const el of document.querySelectorAll('.bd-article *')) {
        const box = scroller(el) || el, r = box.getBoundingClientRect();
        if (r.width > 0 && getComputedStyle(el).visibility !== 'hidden' && r.right > W + 1)
          out.push(el.tagName + ' ' + el.textContent.trim().slice(0, 40));
      }
      return [document.documentElement.scrollWidth, out.slice(0, 5)];
    })()"""
    browser = _Browser(binary, tmp_path / "profile")
    try:
        for page in PHONE_PAGES:
            browser.events.clear()
            session = _open(browser, site / page, width, 844, width < 600)
            scroll_width, outside = browser.evaluate(spill, session)
            assert scroll_width <= width and not outside, (page, width, outside)
    finally:
        browser.close()
