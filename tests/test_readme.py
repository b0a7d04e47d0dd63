"""The README's promises: its tour runs as written, its quick start names real commands, its
links lead somewhere, and it stays a front page (the rest lives in docs/guide/)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DATA_MODEL = ROOT / "docs" / "guide" / "data-model.md"


def _blocks(language: str, page: Path = README) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def test_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in _blocks("python"):  # in order, as a notebook runs its cells
        exec(compile(block, str(README), "exec"), namespace)
    # The two plots of the tour land on two Axes, not on top of each other.
    left, right = namespace["left"], namespace["right"]
    assert left is not right and left.has_data() and right.has_data()  # type: ignore[attr-defined]
    # The tour fetched the whole sample, both kinds: the 207 tunnels the README explains.
    assert len(namespace["snap"].fleet["tunnels"]) == 207  # type: ignore[attr-defined]
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


def test_ci_runs_the_readme_test_command() -> None:
    readme_test = _blocks("bash")[0].splitlines()[1].split("#")[0].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    last = [line for line in ci if line.strip() and not line.startswith("#")][-1]
    # .ci/run adds only pip's --quiet to the README's command
    assert last.replace(" --quiet", "") == readme_test


def test_every_cli_command_in_the_readme_exists() -> None:
    from tunnelframe.cli import main

    (usage,) = _blocks("text")
    for name in sorted({line.split()[1] for line in usage.splitlines() if line.strip()}):
        assert main([name, "--help"]) == 0, name


def test_the_readme_explains_the_tunnel_counts_and_a_large_fleet() -> None:
    import tunnelframe as tf

    text = " ".join(README.read_text(encoding="utf-8").split())
    # "200 + 12 tunnels, 5 deleted, 207 fetched", as the sample really is
    tunnels = tf.load_sample()["tunnels"]
    kinds = [t.get("tun_type", "cfd_tunnel") for t in tunnels]
    deleted = sum(bool(t.get("deleted_at")) for t in tunnels)
    counts = (len(tunnels), kinds.count("cfd_tunnel"), kinds.count("warp_connector"), deleted)
    assert counts == (212, 200, 12, 5)
    for said in ("212 tunnels", "200 cloudflared", "12 WARP", "5 of the 200 are deleted"):
        assert said in text, said
    assert "reports 207" in text
    assert "tf.simulator.generate_fleet(3000, seed=0)" in text


def test_the_readme_is_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 130, f"{len(lines)} lines: move the detail to docs/guide/"


def _anchors(page: Path) -> set[str]:
    """The heading anchors GitHub (and MyST's heading anchors) give a Markdown page."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
        anchors.add(slug.replace(" ", "-"))
    return anchors


def test_every_link_of_the_readme_and_the_guide_leads_somewhere() -> None:
    pages = [README, *sorted((ROOT / "docs").rglob("*.md"))]
    pages = [p for p in pages if "_build" not in p.parts]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an address on the web: not checked offline
            path, _, anchor = target.partition("#")
            found = (page.parent / path).resolve() if path else page
            if not found.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and found.suffix == ".md" and anchor not in _anchors(found):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_the_guide_categorical_one_liner_drops_unused_categories() -> None:
    import tunnelframe as tf

    (snippet,) = [b for b in _blocks("python", DATA_MODEL) if "remove_unused_categories" in b]
    namespace: dict[str, object] = {"conns": tf.load_sample(frame="connections")}
    exec(compile(snippet, str(DATA_MODEL), "exec"), namespace)
    web = namespace["web"]
    assert len(web) > 0  # type: ignore[arg-type]
    assert all(  # the one-liner leaves no unused category
        set(web[c].cat.categories) == set(web[c].dropna().unique())  # type: ignore[index]
        for c in web.select_dtypes("category").columns  # type: ignore[attr-defined]
    )


def test_every_payload_shape_in_the_guide_flattens_as_it_says() -> None:
    import json

    import tunnelframe as tf

    text = DATA_MODEL.read_text(encoding="utf-8")
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
