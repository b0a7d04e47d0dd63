"""The sample notebooks run top to bottom, offline, on this interpreter, with clean output.

Each notebook in ``notebooks/`` is executed with nbclient in a fresh ``python3`` kernel.
jupyter_client starts the ``python3`` kernel spec with ``sys.executable`` when the spec names
plain ``python`` (as ipykernel's does), so the kernel runs the test's own interpreter and
imports the tunnelframe under test; a last cell appended in memory checks that.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = [
    "01-quickstart",
    "02-version-drift",
    "03-colo-distribution",
    "04-fleet-history",
    "05-your-own-account",
]

_CHECK = "import sys, tunnelframe\nprint(sys.executable)\nprint(tunnelframe.__file__)"


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_every_notebook_is_listed() -> None:
    assert sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    nb = _read(name)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_shows_long_text_in_full_from_its_first_cell(name: str) -> None:
    # pandas cuts cells at 50 characters by default: a finding's reason or an edge string
    # would end in "..." in every table below
    first = next(cell for cell in _read(name).cells if cell.cell_type == "code")
    widths = re.findall(r'pd\.set_option\("display\.max_colwidth", (\d+)\)', first.source)
    assert widths and int(widths[0]) >= 100, first.source


@pytest.mark.parametrize("name", NAMES)
def test_notebook_uses_only_the_public_api(name: str) -> None:
    sources = "\n".join(cell.source for cell in _read(name).cells if cell.cell_type == "code")
    assert "import tunnelframe as tf" in sources
    assert "from tunnelframe" not in sources
    assert "tf._" not in sources  # nothing private
    # a guided analysis: markdown says what to look for and what to do
    text = "\n".join(cell.source for cell in _read(name).cells if cell.cell_type == "markdown")
    assert "What to look for" in text
    assert "What to do" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the kernel inherits the environment: let it pick its own inline backend
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = _read(name)
    nb.cells.append(nbformat.v4.new_code_cell(_CHECK))
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure

    executable, package = nb.cells[-1].outputs[0]["text"].split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    import tunnelframe

    assert Path(package) == Path(tunnelframe.__file__)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            # warnings and tracebacks print to stderr: the output must stay clean
            assert output.get("name") != "stderr", f"{cell.source!r} wrote {output['text']!r}"
            assert output["output_type"] != "error"
    images = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, "no figure was drawn"
    # run offline, a notebook writes nothing where it runs (a checkout): temporary folders only
    assert list(tmp_path.iterdir()) == []
