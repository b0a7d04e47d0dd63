"""The README's promises: its tour runs as written, its quick start names real commands."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in _blocks("python"):  # in order, as a notebook runs its cells
        exec(compile(block, str(README), "exec"), namespace)
    # The two plots of the tour land on two Axes, not on top of each other.
    left, right = namespace["left"], namespace["right"]
    assert left is not right and left.has_data() and right.has_data()  # type: ignore[attr-defined]
    web = namespace["web"]
    assert all(  # the one-liner leaves no unused category
        set(web[c].cat.categories) == set(web[c].dropna().unique())  # type: ignore[index]
        for c in web.select_dtypes("category").columns  # type: ignore[attr-defined]
    )
    assert (tmp_path / "fleet.html").stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "connections.parquet",
        "connectors.parquet",
        "tunnels.parquet",
    ]


def test_quick_start_is_two_commands_demo_and_tests() -> None:
    quick_start = _blocks("bash")[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines() if line.strip()]
    assert commands == ["pip install . && tunnelframe demo", 'pip install -e ".[dev]" && pytest']


def test_every_cli_command_in_the_readme_exists() -> None:
    from tunnelframe.cli import main

    (usage,) = _blocks("text")
    for name in sorted({line.split()[1] for line in usage.splitlines() if line.strip()}):
        assert main([name, "--help"]) == 0, name


def test_every_payload_shape_in_the_readme_flattens_as_it_says() -> None:
    import json

    import tunnelframe as tf

    text = README.read_text(encoding="utf-8")
    table = text[text.index("| what you hold |") :].split("\n\n")[0].splitlines()[2:]
    assert len(table) >= 9
    for row in table:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        example = json.loads(cells[1].strip("`"))
        for build, says in (
            (tf.connections_frame, cells[2]),
            (tf.connectors_frame, cells[2]),
            (tf.tunnels_frame, cells[3]),
        ):
            if says.startswith("SchemaError"):
                with pytest.raises(tf.SchemaError):
                    build(example)
            else:
                frame = build(example)
                assert ("empty" in says) == frame.empty, (row, build)
