"""Render a report :class:`~tunnelframe.report._doc.Document` as Markdown (CommonMark + GFM tables).

The Markdown report carries the same header, findings and tables as the HTML one; figures are
named but not embedded. Every string from the document goes through :func:`_md`, which makes it
inert: ``<``, ``>`` and ``&`` become entities (so no renderer turns a tunnel name into HTML), the
characters that make links, emphasis, code or table cells are backslash-escaped, and line breaks
become spaces (a table row is one line). This module must not fetch, compute, or touch frames.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tunnelframe.report._doc import (
    Block,
    Document,
    Fields,
    Figure,
    Finding,
    Group,
    Section,
    Stats,
    Table,
    Text,
)

__all__: list[str] = []

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BACKSLASHED = set("\\`*_[]|~#$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# Text that would start a list, heading or block quote when it begins a line.
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])")

# GitHub-style renderers turn bare URLs (http://, https://, ftp://, www.) and e-mail addresses
# into live links (the "extended autolinks"): a backslash before the ":", the "." of "www." and
# the "@" keeps the text as it is and makes no link.
_AUTOLINK_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp):")
_AUTOLINK_WWW = re.compile(r"(?i)\b(www)\.")

_SEVERITY = {"high": "high", "warn": "warning", "info": "info"}


def _md(text: object, *, block_start: bool = False) -> str:
    """Make ``text`` inert Markdown: it renders as exactly these characters, on one line.

    ``block_start``: the text begins a paragraph, list item or quote, where a leading ``-``,
    ``+``, ``=`` or ``1.`` would start a list or an underline.
    """
    flat = _CONTROL.sub(" ", str(text))
    out = []
    for i, ch in enumerate(flat):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif (
            ch == "_" and 0 < i < len(flat) - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum()
        ):
            out.append(ch)  # inside a word (linux_amd64) an underscore never makes emphasis
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    escaped = "".join(out).replace("@", "\\@")
    escaped = _AUTOLINK_SCHEME.sub(r"\1\\:", escaped)
    escaped = _AUTOLINK_WWW.sub(r"\1\\.", escaped)
    if block_start:
        escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return escaped


def render_markdown(doc: Document) -> str:
    """Return the whole Markdown report for ``doc``."""
    out = [f"# {_md(doc.title)}", ""]
    out += [f"- **{_md(k)}:** {_md(v)}" for k, v in doc.header]
    out.append("")
    for note in doc.notes:
        out += [f"> {_md(note, block_start=True)}", ""]
    out += ["## Contents", ""]
    for i, s in enumerate(doc.sections, 1):
        note = f" ({_md(s.toc_note)})" if s.toc_note else ""
        out.append(f"{i}. [{_md(s.title)}](#{s.anchor}){note}")
    out.append("")
    for section in doc.sections:
        out += _section(section)
    return "\n".join(out).rstrip("\n") + "\n"


def _section(section: Section) -> list[str]:
    # The anchor is ours (letters, digits, dashes), never data: safe as raw HTML.
    out = [f'<a id="{section.anchor}"></a>', "", f"## {_md(section.title)}", ""]
    out += _blocks(section.blocks, level=3)
    return out


def _blocks(blocks: Sequence[Block], *, level: int) -> list[str]:
    out: list[str] = []
    clean = [b for b in blocks if isinstance(b, Finding) and b.passed]
    for block in blocks:
        if not (isinstance(block, Finding) and block.passed):
            out += _block(block, level=level)
    if clean:
        names = ", ".join(_md(f.title) for f in clean)
        out += [f"Nothing to report for: {names}.", ""]
    return out


def _block(block: Block, *, level: int) -> list[str]:
    if isinstance(block, Text):
        text = f"*{_md(block.text)}*" if block.note else _md(block.text, block_start=True)
        return [text, ""]
    if isinstance(block, Stats):
        rows = [[s.label, s.value, s.detail] for s in block.items]
        return _pipe_table(["", "Value", "Detail"], rows, right={1})
    if isinstance(block, Table):
        if not block.rows:
            return [f"*{_md(block.empty)}*", ""]
        out = [f"*{_md(block.caption)}*", ""] if block.caption else []
        right = {i for i, c in enumerate(block.columns) if c.kind == "num"}
        rows = [[c.text for c in row] for row in block.rows]
        out += _pipe_table([c.title for c in block.columns], rows, right=right)
        if block.more and block.csv is not None:
            # Nothing lost: the rows past the cap follow as CSV, in a fence longer than any
            # run of backticks in the data.
            runs = re.findall(r"`+", block.csv)
            fence = "`" * max(3, 1 + max((len(r) for r in runs), default=0))
            total = len(block.rows) + block.more
            order = f", {block.order}" if block.order else ""
            out += [
                f"*{len(block.rows):,} of {total:,} rows shown{_md(order)}; all {total:,} as CSV:*",
                "",
                f"{fence}csv",
                block.csv.rstrip("\n"),
                fence,
                "",
            ]
        return out
    if isinstance(block, Figure):
        return [f"*Figure (embedded in the HTML report): {_md(block.alt)}*", ""]
    if isinstance(block, Fields):
        return [*(f"- {_md(k, block_start=True)}: {_md(v)}" for k, v in block.items), ""]
    if isinstance(block, Group):
        anchor = [f'<a id="{block.anchor}"></a>', ""] if block.anchor else []
        status = f" ({_md(block.status)})" if block.status else ""
        meta = f" · {_md(block.meta)}" if block.meta else ""
        head = f"{'#' * min(level, 6)} {_md(block.summary)}{status}{meta}"
        return [*anchor, head, "", *_blocks(block.blocks, level=level + 1)]
    if isinstance(block, Finding):
        count = "?" if block.unavailable is not None else str(block.count)
        head = f"{'#' * min(level, 6)} {count} · {_md(block.title)} ({_SEVERITY[block.severity]})"
        out = [head, "", _md(block.description, block_start=True), ""]
        if block.unavailable is not None:
            out += [f"*{_md(block.unavailable)}*", ""]
        elif block.table is not None:
            out += _block(block.table, level=level + 1)
        return out
    raise TypeError(f"cannot render a {type(block).__name__} block")


def _pipe_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: set[int]
) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(_md(c) for c in cells) + " |"

    rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"
    return [line(headers), rule, *(line(r) for r in rows), ""]
