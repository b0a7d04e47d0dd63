"""The report as a small, format-neutral document: sections made of blocks.

Section builders produce these objects from the fleet's frames; the HTML and Markdown renderers
turn them into text. Every string in a block is plain text, exactly as it came from the data:
escaping is the renderer's job and only the renderer's, so no builder may pre-escape or embed
markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunnelframe.engine import ColumnKind, Severity

__all__: list[str] = []


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and, optionally, an in-report anchor it links to."""

    text: str
    anchor: str | None = None


@dataclass(frozen=True)
class Column:
    """A table column: its heading and how its cells are shown.

    ``lead`` columns come first when a narrow screen stacks each row as a card (the tunnel,
    its severity, what to do), before the rest in their order.
    """

    title: str
    kind: ColumnKind = "text"
    lead: bool = False


@dataclass(frozen=True)
class Table:
    """Rows of cells under column headings; ``empty`` is said when there are no rows."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    caption: str | None = None
    empty: str = "Nothing to show."
    #: rows left out of ``rows`` (a long table is capped), all of them in ``csv``
    more: int = 0
    #: every row as CSV text (with a header line) when the table is capped
    csv: str | None = None
    #: on a narrow screen, stack each row as a card (the tunnel, its severity and what to do
    #: first) instead of scrolling the table sideways
    cards: bool = False
    #: how the rows are ordered, in words ("longest down first"): a capped table keeps the
    #: first rows of this order, so it says which
    order: str | None = None


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text; ``note`` paragraphs are shown smaller and muted."""

    text: str
    note: bool = False


@dataclass(frozen=True)
class Stat:
    """One figure of the fleet at a glance: a label, its value and a line of detail."""

    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Stats:
    """A row of :class:`Stat` cards."""

    items: Sequence[Stat]


@dataclass(frozen=True)
class Figure:
    """A matplotlib drawing: ``draw(ax)`` draws on the Axes it is given.

    ``alt`` describes the figure for screen readers and for formats without images.
    """

    draw: Callable[[Any], object]
    alt: str
    caption: str | None = None
    size: tuple[float, float] = (9.0, 4.5)


@dataclass(frozen=True)
class Fields:
    """Label/value pairs, like the header ``cloudflared tunnel info`` prints."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Group:
    """Blocks under a one-line summary, collapsible in HTML (open when ``open``).

    ``status`` adds a coloured badge to the summary; ``anchor`` lets tables link here.
    """

    summary: str
    blocks: Sequence[Block]
    open: bool = False
    anchor: str | None = None
    status: str | None = None
    meta: str = ""


@dataclass(frozen=True)
class Finding:
    """A finding: a rule, how many rows break it, and the rows concerned."""

    rule: str
    title: str
    severity: Severity
    description: str
    count: int
    table: Table | None = None
    #: said instead of the table when the rule could not be evaluated (data missing)
    unavailable: str | None = None

    @property
    def passed(self) -> bool:
        """The rule was checked and no row breaks it (renderers list these in one line)."""
        return self.count == 0 and self.unavailable is None


Block = Text | Stats | Table | Figure | Fields | Group | Finding


@dataclass(frozen=True)
class Section:
    """A top-level section of the report, listed in its table of contents."""

    anchor: str
    title: str
    blocks: Sequence[Block] = field(default_factory=list)
    #: a few words beside the title in the table of contents, e.g. a count
    toc_note: str = ""


@dataclass(frozen=True)
class Document:
    """The whole report: a title, a few header fields and the sections."""

    title: str
    header: Sequence[tuple[str, str]]
    sections: Sequence[Section]
    notes: Sequence[str] = ()
