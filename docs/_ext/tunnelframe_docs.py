"""Generate the parts of the site that must not drift from the package.

At ``config-inited`` (before Sphinx looks for source files) this writes:

* ``api/``: one page per reference section and one stub per public name, from
  ``tunnelframe.__all__`` (and ``tunnelframe.simulator.__all__``), grouped by the subpackage each
  name comes from; constants get their ``#:`` comment and, for a frame schema, the column table
  (name, dtype, meaning, when NA) built from the schema and the notes declared next to it in
  ``tunnelframe/frames/_schema.py``;
* ``gallery/``: every public ``plot_*`` function drawn on the bundled sample fleet (or on a
  synthetic history for the history plots), with the code that drew it;
* ``notebooks/``: a copy of the repository's ``notebooks/*.ipynb`` and an index that globs them.

All of it is rewritten on every build and git-ignored. No network is used.
"""

from __future__ import annotations

import dataclasses
import filecmp
import importlib
import inspect
import pkgutil
import re
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]

# (page, title, subpackages whose names it holds, introduction)
SECTIONS: list[tuple[str, str, tuple[str, ...], str]] = [
    (
        "fetch",
        "Fetch and snapshots",
        ("client", "_policy", "fetch", "fetch_routing", "snapshot", "datasets", "_fleetfile"),
        "Talk to the Cloudflare API (or the simulator) with the limits of a :class:`Policy`, "
        "read cloudflared and WARP Connector tunnels (``tun_types=``), keep what was fetched as a "
        ":class:`Snapshot`, and load the bundled sample fleet. Only ``fetch_*`` and "
        ":class:`Client` use the network.",
    ),
    (
        "frames",
        "Frames",
        ("frames",),
        "Raw API payloads to typed DataFrames. Each frame follows a declared schema; the column "
        "tables on the schema pages say what each column means and when it is NA.",
    ),
    (
        "versions",
        "Versions",
        ("versions", "_versionorder"),
        "cloudflared versions: the release calendar, drift against the latest release, the "
        "one-year support window and remote-configuration drift.",
    ),
    (
        "colos",
        "Colos and HA",
        ("colos",),
        "Where connectors connect (Cloudflare data centres, *colos*) and whether each "
        "connector and tunnel is redundant: cloudflared's connections spread over colos "
        "(:func:`ha_report`), WARP Connector's active/passive pairs (:func:`pair_ha_report`).",
    ),
    (
        "serving",
        "What tunnels serve",
        ("serving",),
        "Where tunnels run and what breaks when one is down: the origins (public IP and "
        "architecture) their connectors share (:func:`origin_hosts`), tunnels whose replicas "
        "all sit behind one origin (:func:`single_origin`), and the hostnames and private "
        "routes each tunnel serves (:func:`tunnel_impact`, read by :func:`fetch_routing`).",
    ),
    (
        "plotting",
        "Plotting",
        ("plotting",),
        "Every ``plot_*`` function takes a frame (or an analysis result), draws on ``ax`` or "
        "the current Axes and returns the Axes. See the :doc:`/gallery/index`.",
    ),
    (
        "engine",
        "Findings, check and diff",
        ("engine",),
        "The judging engine: the rule table, the findings of a fleet, the check behind "
        "``tunnelframe check`` (:func:`check_fleet`) and what changed between two snapshots "
        "(:func:`diff_snapshots`). Reports render its answers; it renders nothing.",
    ),
    (
        "report",
        "Report and export",
        ("report", "export"),
        "Self-contained HTML or Markdown reports of a fleet, and its frames written to "
        "Parquet, CSV or Excel.",
    ),
    (
        "history",
        "History",
        ("history", "watch"),
        "A store of snapshots (hive-partitioned Parquet, each ended day compacted into one "
        "sorted file and its facts, :func:`compact_history`; older stores brought up to date "
        "by :func:`migrate_history`) and the queries over it, run by DuckDB out of core; "
        "``tunnelframe.watch`` keeps one current, cycle after cycle.",
    ),
    (
        "metrics",
        "Prometheus and alerts",
        ("metrics", "alerts"),
        "The fleet as Prometheus series (one table, :data:`tunnelframe.metrics.SERIES`), "
        "written for the textfile collector, served on ``/metrics`` or backfilled from a "
        "history store, the Grafana dashboard on them, and stateful alerts to Alertmanager, "
        "webhooks and chat services. See :doc:`/guide/prometheus-alerts`.",
    ),
    (
        "simulator",
        "Simulator",
        ("simulator",),
        "A local HTTP server that speaks the Cloudflare Tunnel API on loopback, and the "
        "generators of synthetic fleets and histories behind it and the sample fleet.",
    ),
    (
        "errors",
        "Errors and warnings",
        ("_errors", "errors"),
        "One error tree: :class:`TunnelframeError` is the base of every error tunnelframe "
        "raises on purpose; mistakes in the arguments stay ``ValueError`` and ``TypeError``.",
    ),
    (
        "cli",
        "Command line entry point",
        ("cli",),
        "The ``tunnelframe`` command as a function; its commands and options are on :doc:`/cli`.",
    ),
    ("other", "Other", (), "Public names not (yet) sorted into one of the sections above."),
]


def _write(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps incremental builds incremental)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


# -- the reference ---------------------------------------------------------------------------


def _section_of(name: str, obj: Any, home: str | None = None) -> str:
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "errors"
    if name.startswith("plot_"):
        return "plotting"
    if home is not None:
        pass
    elif inspect.ismodule(obj):
        home = obj.__name__.split(".")[1]
    elif isinstance(getattr(obj, "__module__", None), str) and obj.__module__.startswith(
        "tunnelframe."
    ):
        home = obj.__module__.split(".")[1]
    else:  # a constant: the first subpackage that exports it
        home = ""
        for sub in sorted(
            m.split(".")[1]
            for m in sys.modules
            if m.count(".") == 1 and m.startswith("tunnelframe.")
        ):
            module = sys.modules[f"tunnelframe.{sub}"]
            if name in getattr(module, "__all__", ()) and getattr(module, name, None) is obj:
                home = sub
                break
    for page, _, homes, _ in SECTIONS:
        if home in homes:
            return page
    return "other"


def _is_data(obj: Any) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _attr_doc(name: str, obj: Any) -> str:
    """The ``#:`` comment of constant ``name``, from the module that assigns it."""
    for modname in sorted(m for m in sys.modules if m.startswith("tunnelframe")):
        module = sys.modules[modname]
        if getattr(module, name, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # a module without source: look elsewhere
            continue
        if ("", name) in docs:
            return "\n".join(docs[("", name)]).strip()
    return ""


def _is_columns(obj: Any) -> bool:
    return isinstance(obj, dict) and obj and all(isinstance(k, str) for k in obj)


def _cell(text: str) -> str:
    return text.replace("\n", " ") if text else ""


def _columns_table(name: str, columns: dict[str, Any]) -> str:
    from tunnelframe.frames import _schema

    notes: dict[str, tuple[str, str]] = getattr(_schema, "_COLUMN_NOTES", {})
    frame_schema = name.endswith("_SCHEMA") and getattr(_schema, name, None) is columns
    rows = []
    for column, dtype in columns.items():
        if frame_schema and column not in notes:
            logger.warning(
                "column %r of %s has no description: add it to _COLUMN_NOTES in "
                "tunnelframe/frames/_schema.py",
                column,
                name,
                type="tunnelframe",
            )
        meaning, when_na = notes.get(column, ("", "")) if frame_schema else ("", "")
        rows.append((f"``{column}``", f"``{dtype}``", _cell(meaning), _cell(when_na)))
    header = ("column", "dtype", "meaning", "when NA") if frame_schema else ("column", "dtype")
    widths = "   :widths: 20 16 40 24" if frame_schema else "   :widths: 40 60"
    lines = [".. list-table::", "   :header-rows: 1", widths, "   :class: tf-columns", ""]
    for row in [header, *rows]:
        cells = row[: len(header)]
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {cell}" for cell in cells[1:])
    return "\n".join(lines) + "\n"


def _unreadable(obj: Any) -> bool:
    """A sequence whose printed value shows function objects or addresses, not data."""
    return isinstance(obj, (list, tuple)) and bool(obj) and " at 0x" in str(obj)


def _data_page(module: str, name: str, obj: Any) -> str:
    """A constant's page: its ``#:`` comment, its value or column table, and an example.

    The example is written from the value at build time, so it shows what running it gives.
    """
    doc = _attr_doc(name, obj)
    short = "\n" not in repr(obj) and len(repr(obj)) <= 100
    out = [_title(f"{module}.{name}"), f".. currentmodule:: {module}\n"]
    if _is_columns(obj):
        out.append(f".. py:data:: {name}\n   :type: dict\n")
    elif short:
        out.append(f".. py:data:: {name}\n   :value: {obj!r}\n")
    else:
        kind = type(obj)
        qualified = (
            kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        )
        out.append(f".. py:data:: {name}\n   :type: {qualified}\n")
    if doc:
        out.append(textwrap.indent(doc, "   ") + "\n")
    if _is_columns(obj):
        out.append(textwrap.indent(_columns_table(name, obj), "   "))
    access = module.replace("tunnelframe", "tf", 1) + "." + name
    if _is_columns(obj):
        lines = [f">>> list({access})[:3]", repr(list(obj)[:3])]
    elif short:
        lines = [f">>> {access}", repr(obj)]
    elif _unreadable(obj) and all(hasattr(item, "id") for item in obj):
        lines = [f">>> [item.id for item in {access}]", repr([item.id for item in obj])]
    elif _unreadable(obj) and all(hasattr(item, "__name__") for item in obj):
        lines = [f">>> [item.__name__ for item in {access}]", repr([f.__name__ for f in obj])]
    else:
        lines = [f">>> print({access})", *str(obj).splitlines()]
    example = "\n".join(["Examples", "--------", "", ">>> import tunnelframe as tf", *lines])
    out.append(textwrap.indent(".. rubric:: Examples\n\n" + example.split("\n", 3)[3], "   "))
    return "\n".join(out) + "\n"


def _code_page(module: str, name: str, obj: Any) -> str:
    """A function's or class's page (written here, not by autosummary, so that a section new to
    an incremental build gets its pages too)."""
    if inspect.isclass(obj):
        body = f".. autoclass:: {name}\n   :members:\n   :show-inheritance:\n"
    else:
        body = f".. autofunction:: {name}\n"
    return f"{_title(f'{module}.{name}')}\n.. currentmodule:: {module}\n\n{body}"


def _summary(obj: Any, name: str) -> str:
    doc = _attr_doc(name, obj) if _is_data(obj) else inspect.getdoc(obj) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first


def _generate_reference(srcdir: Path) -> None:
    import tunnelframe

    out = srcdir / "api"
    shutil.rmtree(out, ignore_errors=True)
    entries: dict[str, list[tuple[str, str, Any]]] = {page: [] for page, *_ in SECTIONS}
    for name in tunnelframe.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(tunnelframe, name)
        section = _section_of(name, obj)
        if inspect.ismodule(obj):
            for sub in getattr(obj, "__all__", ()):
                entries[section].append((obj.__name__, sub, getattr(obj, sub)))
        else:
            entries[section].append(("tunnelframe", name, obj))
    # names public in a public submodule but not re-exported at the top (tf.datasets.SAMPLE_AS_OF)
    for modname in sorted(sys.modules):
        parts = modname.split(".")
        if parts[0] != "tunnelframe" or len(parts) != 2 or parts[1].startswith("_"):
            continue
        module = sys.modules[modname]
        if module is getattr(tunnelframe, parts[1], None) and parts[1] in tunnelframe.__all__:
            continue  # listed above, as a module of the top level (tf.simulator)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if getattr(tunnelframe, name, None) is obj and name in tunnelframe.__all__:
                continue
            if not _is_data(obj) and any(o is obj for items in entries.values() for *_, o in items):
                continue  # a class or function re-exported by a second module: one page
            entries[_section_of(name, obj, home=parts[1])].append((modname, name, obj))

    pages = []
    for page, title, _, intro in SECTIONS:
        items = entries[page]
        if not items:
            continue
        pages.append(page)
        text = [_title(title), intro + "\n"]
        by_module: dict[str, list[tuple[str, Any]]] = {}
        for module, name, obj in items:
            by_module.setdefault(module, []).append((name, obj))
        for module, names in by_module.items():
            text.append(f".. currentmodule:: {module}\n")
            code = [(n, o) for n, o in names if not _is_data(o)]
            data = [(n, o) for n, o in names if _is_data(o)]
            for n, o in code:
                _write(out / "generated" / f"{module}.{n}.rst", _code_page(module, n, o))
            for kind, group in (
                ("Functions", [(n, o) for n, o in code if not inspect.isclass(o)]),
                ("Classes", [(n, o) for n, o in code if inspect.isclass(o)]),
            ):
                if not group:
                    continue
                text.append(_title(kind if module == "tunnelframe" else f"{kind} ({module})", "-"))
                text.append(".. autosummary::\n   :toctree: generated/\n   :nosignatures:\n")
                text.extend(f"   {n}" for n, _ in group)
                text.append("")
            if data:
                text.append(
                    _title("Constants" if module == "tunnelframe" else f"Constants ({module})", "-")
                )
                text.append(".. toctree::\n   :hidden:\n")
                text.extend(f"   generated/{module}.{n}" for n, _ in data)
                text.append("\n.. list-table::\n   :class: autosummary\n")
                for n, o in data:
                    text.append(f"   * - :data:`{n}`\n     - {_cell(_summary(o, n))}")
                text.append("")
                for n, o in data:
                    _write(out / "generated" / f"{module}.{n}.rst", _data_page(module, n, o))
        _write(out / f"{page}.rst", "\n".join(text) + "\n")

    intros = {page: intro for page, _, _, intro in SECTIONS}
    index = [
        _title("API reference"),
        "Every public name of tunnelframe, grouped as the package is. ``import tunnelframe as "
        "tf`` gives them all (``tf.simulator`` holds the simulator). These pages are generated "
        f"from ``tunnelframe.__all__`` at build time (version {tunnelframe.__version__}).\n",
        ".. toctree::\n   :hidden:\n",
        *(f"   {page}" for page in pages),
        "",
        *(f"* :doc:`{page}`: {intros[page]}" for page in pages),
        "",
    ]
    _write(out / "index.rst", "\n".join(index))


# -- the gallery -----------------------------------------------------------------------------

_SETUP = """\
import tempfile

import matplotlib.pyplot as plt
import tunnelframe as tf

fleet = tf.load_sample()                            # the bundled sample fleet
conns = tf.connections_frame(fleet)                 # one row per connection
as_of = tf.datasets.SAMPLE_AS_OF                    # measure it at its own date

store = tempfile.mkdtemp()                          # a synthetic 30-day history of 60 tunnels
for snapshot in tf.simulator.generate_history(60, days=30, seed=1):
    tf.append_snapshot(snapshot, store)
"""

#: Names of a first parameter that takes a Snapshot, a snapshot path or a fleet dict.
_FLEET_ARGUMENTS = ("source", "data", "fleet", "snapshot")
_FROM_FUNC = re.compile(r"frame from :func:`~?(?:tunnelframe\.)?(\w+)`")


def _first_argument(func: Any) -> str | None:
    """An expression for ``func``'s data argument: the sample, or what its docstring names."""
    import tunnelframe

    params = list(inspect.signature(func).parameters.values())
    if not params:
        return None
    first = params[0].name
    if first == "frame":
        return "conns"
    if first in _FLEET_ARGUMENTS:  # takes every form of fleet data: give it the whole fleet
        return "fleet"
    match = _FROM_FUNC.search(inspect.getdoc(func) or "")
    if match and hasattr(tunnelframe, match.group(1)):
        producer = getattr(tunnelframe, match.group(1))
        source = _first_argument(producer)
        arg = source if source else "store"
        if list(inspect.signature(producer).parameters)[:1] in (["store"], ["root"], ["path"]):
            arg = "store"
        extra = ", as_of=as_of" if "as_of" in inspect.signature(producer).parameters else ""
        return f"tf.{match.group(1)}({arg}{extra})"
    return None


def _example_code(func: Any) -> str | None:
    """The docstring example of ``func``, as plain code."""
    import doctest

    examples = doctest.DocTestParser().get_examples(inspect.getdoc(func) or "")
    return "".join(example.source for example in examples) or None


def _generate_gallery(srcdir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tunnelframe

    out = srcdir / "gallery"
    out.mkdir(exist_ok=True)
    names = sorted(n for n in tunnelframe.__all__ if n.startswith("plot_"))
    namespace: dict[str, Any] = {}
    exec(_SETUP, namespace)  # the code shown on the page
    text = [
        _title("Plot gallery"),
        "Every ``plot_*`` function of tunnelframe, drawn when this site was built: on the "
        "bundled sample fleet (``tf.load_sample()``, measured at its own date), or on a "
        "synthetic history for the plots of a history store. Each figure shows the code "
        "that drew it; all of them start from this setup:\n",
        ".. code-block:: python\n",
        textwrap.indent(_SETUP, "   "),
    ]
    # thumbnails first, linking to the figures below (filled in as they are drawn)
    thumbs: list[str] = []
    text.append("{thumbs}")
    for name in names:
        func = getattr(tunnelframe, name)
        arg = _first_argument(func)
        if arg is not None:
            extra = ", as_of=as_of" if "as_of" in inspect.signature(func).parameters else ""
            code = f"fig, ax = plt.subplots(figsize=(9, 5))\ntf.{name}({arg}{extra}, ax=ax)\n"
            shown = code
        else:  # no known data argument: draw its own docstring example
            example = _example_code(func)
            if example is None:
                logger.warning("gallery: %s has no data argument and no example", name)
                continue
            code = "plt.figure(figsize=(9, 5))\n" + example
            shown = example
        plt.close("all")
        try:
            exec(code, dict(namespace))
        except Exception as exc:  # reported as a build warning (an error with -W)
            logger.warning("gallery: %s failed: %s: %s", name, type(exc).__name__, exc)
            continue
        fig = plt.gcf()
        fig.savefig(out / f"{name}.png", dpi=90, bbox_inches="tight")
        plt.close("all")
        thumbs.append(
            f'<a href="#{name.replace("_", "-")}"><img src="../_images/{name}.png" '
            f'alt="{name}"><br>{name}</a>'
        )
        summary = (inspect.getdoc(func) or "").split("\n")[0]
        text += [
            _title(name, "-"),
            f"{summary} (:func:`tunnelframe.{name}`)\n",
            f".. image:: {name}.png\n   :alt: {name} on the sample fleet\n",
            ".. code-block:: python\n",
            textwrap.indent(shown, "   "),
        ]
    grid = (
        '.. raw:: html\n\n   <div class="tf-thumbs">\n'
        + "".join(f"   {thumb}\n" for thumb in thumbs)
        + "   </div>\n"
    )
    text[text.index("{thumbs}")] = grid
    _write(out / "index.rst", "\n".join(text) + "\n")


# -- the notebooks ---------------------------------------------------------------------------


def _copy_notebooks(srcdir: Path) -> None:
    source = ROOT / "notebooks"
    out = srcdir / "notebooks"
    out.mkdir(exist_ok=True)
    wanted = {p.name for p in source.glob("*.ipynb")}
    for stale in out.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for path in sorted(source.glob("*.ipynb")):
        target = out / path.name
        if not target.exists() or not filecmp.cmp(path, target, shallow=False):
            shutil.copyfile(path, target)
    index = [
        _title("Notebooks"),
        "Short guided analyses, executed offline when this site is built (the simulator serves "
        "the bundled sample fleet on loopback). Run them yourself with "
        '``pip install -e ".[notebooks]"`` and ``jupyter lab notebooks/``.\n',
        ".. toctree::\n   :glob:\n   :maxdepth: 1\n\n   *\n",
    ]
    _write(out / "index.rst", "\n".join(index))


def _import_public_modules() -> None:
    """Import every public first-level module, so what is documented never depends on order."""
    import tunnelframe

    for info in pkgutil.iter_modules(tunnelframe.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"tunnelframe.{info.name}")


def _generate(app: Sphinx, config: Any) -> None:
    srcdir = Path(app.srcdir)
    _import_public_modules()
    _generate_reference(srcdir)
    _generate_gallery(srcdir)
    _copy_notebooks(srcdir)


def _public_target(target: str) -> str | None:
    """``tunnelframe.frames.connections_frame`` or ``Snapshot`` -> ``tunnelframe.<name>``."""
    import tunnelframe

    name = target.rsplit(".", 1)[-1]
    if name in tunnelframe.__all__ and target.split(".")[0] in ("tunnelframe", name):
        return f"tunnelframe.{name}"
    for modname in sorted(sys.modules):
        if (
            modname.startswith("tunnelframe.")
            and modname.count(".") == 1
            and name in getattr(sys.modules[modname], "__all__", ())
            and target.split(".")[0] in ("tunnelframe", name)
        ):
            return f"{modname}.{name}"
    return None


def _missing_reference(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a public name written under another module path.

    Docstrings say :func:`tunnelframe.frames.connections_frame` or :class:`Snapshot`; the
    reference documents each name once, under ``tunnelframe`` (or its public submodule).
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    public = _public_target(target)
    if public is None or public == target:
        return None
    domain = env.get_domain("py")
    node = node.deepcopy()
    node["reftarget"] = public
    node["py:module"] = None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def cli_parser() -> Any:
    """``tunnelframe.cli._parser()`` with its help texts escaped for reStructuredText.

    sphinx-argparse reads each help text as reST, so a shell pattern such as ``'prod-*'``
    would start an emphasis that never ends; ``docs/cli.rst`` documents this parser instead.
    """
    import argparse

    from tunnelframe.cli import _parser

    def escape(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action.help, str):
                action.help = action.help.replace("*", r"\*")
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    escape(sub)

    parser = _parser()
    escape(parser)
    return parser


class RulesDirective(SphinxDirective):
    """``.. tunnelframe-rules::``: the table of finding rules, from ``tunnelframe.report.RULES``."""

    def run(self) -> list[Any]:
        from tunnelframe.report import RULES

        lines = [".. list-table::", "   :header-rows: 1", "", "   * - rule", "     - severity"]
        lines.append("     - what it flags")
        for rule in RULES:
            lines += [
                f"   * - ``{rule.id}``",
                f"     - {rule.severity}",
                f"     - {_cell(rule.description)}",
            ]
        return self.parse_text_to_nodes("\n".join(lines))


class SeriesDirective(SphinxDirective):
    """``.. tunnelframe-series::``: the exported Prometheus series, from
    ``tunnelframe.metrics.SERIES`` (the table the exposition is made from)."""

    def run(self) -> list[Any]:
        from tunnelframe.metrics import LABLABS, SERIES

        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 45 55", ""]
        lines += ["   * - series, type (unit)", "     - meaning and labels"]
        for series in SERIES:
            help_text = series.help + (f" (as in {LABLABS})" if series.compat else "")
            kind = series.type + (f" ({series.unit})" if series.unit else "")
            labels = ", ".join(f"``{label}``" for label in series.labels) or "none"
            lines += [
                f"   * - ``{series.name}``",
                "",
                f"       {kind}",
                f"     - {_cell(help_text)}",
                "",
                f"       Labels: {labels}",
            ]
        return self.parse_text_to_nodes("\n".join(lines))


class WebhookSchemaDirective(SphinxDirective):
    """``.. tunnelframe-webhook-schema::``: the JSON Schema of the alert webhook's payload."""

    def run(self) -> list[Any]:
        import json

        from tunnelframe.alerts import WEBHOOK_SCHEMA

        body = textwrap.indent(json.dumps(WEBHOOK_SCHEMA, indent=2), "   ")
        return self.parse_text_to_nodes(".. code-block:: json\n\n" + body)


def _url(config: Any, key: str) -> str:
    urls: dict[str, str] = config.tunnelframe_urls
    if key not in urls:
        raise ValueError(f"no {key!r} in [project.urls] of pyproject.toml (it has {sorted(urls)})")
    return urls[key]


_LINK = re.compile(r"^(?P<text>.*?)\s*<(?P<key>\w+)>$", re.S)


def link_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Any,
    options: Any = None,
    content: Any = None,
) -> tuple[list[Any], list[Any]]:
    """``{tf-link}`the issue tracker <Issues>```: a link to one of ``[project.urls]``."""
    from docutils import nodes

    match = _LINK.match(text)
    if match is None:
        message = inliner.reporter.error(f"tf-link: write `text <Key>`, got {text!r}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    config = inliner.document.settings.env.config
    try:
        url = _url(config, match["key"])
    except ValueError as exc:
        message = inliner.reporter.error(f"tf-link: {exc}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    return [nodes.reference(rawtext, match["text"], refuri=url)], []


class CodeDirective(SphinxDirective):
    """``{tunnelframe-code} LANGUAGE``: a code block whose ``{Repository}`` (any key of
    ``[project.urls]``) is replaced by that address, so install commands name the real one."""

    required_arguments = 1
    has_content = True

    def run(self) -> list[Any]:
        text = "\n".join(self.content)
        for key in re.findall(r"\{(\w+)\}", text):
            if key in self.config.tunnelframe_urls:
                text = text.replace("{" + key + "}", _url(self.config, key))
        from docutils import nodes

        block = nodes.literal_block(text, text, language=self.arguments[0])
        self.set_source_info(block)
        return [block]


_PRIVATE_PARAMETER = re.compile(r",\s*_\w+(?:=[^,()]*)?(?=[,)])")


class _Name:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _named_defaults(func: Any) -> str | None:
    """``func``'s signature with each default that is a public tuple or dict constant shown
    by its name, or None when it has none (their values would fill a screen)."""
    import tunnelframe

    constants = {
        id(value): name
        for module in (
            tunnelframe,
            *(
                sys.modules[m]
                for m in sorted(sys.modules)
                if m.startswith("tunnelframe.") and m.count(".") == 1
            ),
        )
        for name in getattr(module, "__all__", ())
        if isinstance(value := getattr(module, name, None), (tuple, dict))
    }
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = [
        p.replace(default=_Name(constants[id(p.default)])) if id(p.default) in constants else p
        for p in sig.parameters.values()
    ]
    if all(p.default is q.default for p, q in zip(params, sig.parameters.values(), strict=True)):
        return None
    params = [p.replace(annotation=inspect.Parameter.empty) for p in params]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _public_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """No internal names in a signature: a dataclass field's ``<factory>`` default shows the
    value the factory makes (``[]``), and a private parameter (``_cache``) is left out."""
    if not signature:
        return None
    if inspect.isroutine(obj):  # a default that is a public constant shows its name (RULES)
        named = _named_defaults(obj)
        if named:
            signature = named
    if dataclasses.is_dataclass(obj):
        for field in dataclasses.fields(obj):
            if field.default_factory is not dataclasses.MISSING:
                made = field.default_factory()
                shown = repr(made)
                if "\n" in shown or len(shown) > 30:  # an empty DataFrame: say what it is
                    shown = f"{type(made).__name__}()"
                signature = signature.replace(f"{field.name}=<factory>", f"{field.name}={shown}")
    return _PRIVATE_PARAMETER.sub("", signature), return_annotation


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-signature", _public_signature)
    app.add_config_value("tunnelframe_urls", {}, "env")
    app.add_role("tf-link", link_role)
    app.add_directive("tunnelframe-code", CodeDirective)
    app.add_directive("tunnelframe-rules", RulesDirective)
    app.add_directive("tunnelframe-series", SeriesDirective)
    app.add_directive("tunnelframe-webhook-schema", WebhookSchemaDirective)
    app.connect("missing-reference", _missing_reference)
    # before Sphinx looks for source files (and autosummary for the pages to stub)
    app.connect("config-inited", _generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
