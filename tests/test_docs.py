"""The documentation site builds offline, warnings as errors, and documents every public name.

``docs/`` generates its API reference, column tables, plot gallery and notebook pages from the
package at build time (``docs/_ext/tunnelframe_docs.py``); building it here makes a broken or
stale cross-reference, an undocumented schema column or a failing ``plot_*`` fail the suite.
The build runs with ``nb_execution_mode=off``: tests/test_notebooks.py executes the notebooks
already, and executing them twice would double the suite's slowest part. The documented
command (README, docs/index.md) builds with execution on.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
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


@pytest.mark.slow
def test_site_builds_offline_without_warnings(tmp_path: Path) -> None:
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
