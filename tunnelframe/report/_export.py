"""A fleet's frames as files: Parquet, CSV or one Excel workbook.

Text a spreadsheet would run as a formula is defused; nested values become JSON text. Nothing
here judges or fetches.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Literal

import pandas as pd

from tunnelframe._types import FleetSource, TimeLike
from tunnelframe.engine import Analysis, FleetData, acted_findings, resolve

__all__ = ["export_frames"]


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested values (the tunnel ``metadata`` dicts) as JSON text: both formats can hold it."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = (
                out[col]
                .map(
                    lambda v: (
                        json.dumps(v, sort_keys=True, default=str)
                        if isinstance(v, (dict, list))
                        else v
                    )
                )
                .astype("string")
            )
    return out


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ``'``."""
    out = frame.copy()
    for col in out.columns:
        kind = out[col].dtype
        if (
            pd.api.types.is_object_dtype(kind)
            or pd.api.types.is_string_dtype(kind)
            or isinstance(kind, pd.CategoricalDtype)
        ):
            text = out[col].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                out[col] = text.mask(risky, "'" + text)
    return out


def export_frames(
    source: FleetSource,
    directory: str | os.PathLike[str],
    *,
    format: Literal["parquet", "csv", "xlsx"] = "parquet",
    as_of: TimeLike | None = None,
) -> dict[str, Path]:
    """Write the connections, connectors and tunnels frames of a fleet as Parquet, CSV or Excel.

    Parameters
    ----------
    source : Snapshot, str, PathLike, dict or pandas.DataFrame
        As in :func:`write_report`.
    directory : str or PathLike
        Where to write ``connections``, ``connectors`` and ``tunnels`` (``.parquet`` or
        ``.csv``), and ``hostnames``, ``routes`` and ``tunnel_dns`` when the source holds what
        the tunnels serve (:func:`tunnelframe.fetch_routing`); created when missing,
        existing files of those names are replaced.
    format : {"parquet", "csv", "xlsx"}, default "parquet"
        Parquet keeps the dtypes (categories, nullable integers, UTC times); CSV writes
        times as ISO 8601. ``"xlsx"`` writes one workbook, ``fleet.xlsx``, laid out to be
        read: a ``findings`` sheet first (one row per finding, as ``check`` reports them,
        with since when and what to do, in the report's fix-first order), then one sheet per
        frame. Each sheet has its header row frozen and filtered, columns fitted to their
        values, the tunnel's name first and identifiers (``*_id``) last. Times are Excel
        date-times; Excel has no time zones, so they are in UTC and their header says so
        (``opened_at (UTC)``). It needs openpyxl (``pip install "tunnelframe[xlsx]"``). The
        tunnels' ``metadata`` is written as JSON text. In CSV and Excel, a text cell that
        starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
        ``'``, as spreadsheet-safe CSV writers do, so that a spreadsheet shows a hostile
        tunnel name instead of running it as a formula (numbers are left alone).
    as_of : datetime-like, optional
        As in :func:`write_report`: "now" for the ``findings`` sheet's judgements (default:
        the snapshot's time).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"connections": ..., "connectors": ..., "tunnels": ...}`` (for ``"xlsx"`` these and
        ``"findings"`` are the one workbook).

    Examples
    --------
    >>> import tempfile
    >>> import tunnelframe as tf
    >>> paths = tf.export_frames(tf.simulator.generate_fleet(3, seed=1), tempfile.mkdtemp(),
    ...                          format="csv")
    >>> sorted(p.name for p in paths.values())
    ['connections.csv', 'connectors.csv', 'tunnels.csv']
    """
    if format not in ("parquet", "csv", "xlsx"):
        raise ValueError(f"format must be 'parquet', 'csv' or 'xlsx', not {format!r}")
    data: FleetData = resolve(source, as_of=as_of)
    root = Path(directory)
    frames = {
        "connections": data.connections,
        "connectors": data.connectors,
        "tunnels": data.tunnels,
    }
    analysis = Analysis(data)
    if data.routing is not None:  # what the tunnels serve, when it was read
        serving = analysis.serving
        frames["hostnames"] = serving.hostnames
        frames["routes"] = serving.routes
        frames["tunnel_dns"] = serving.dns
    if format == "xlsx":
        # a person opens a workbook to act: what to fix first, then the fleet, largest last
        book = {
            "findings": acted_findings(analysis),
            "tunnels": frames.pop("tunnels"),
            "connectors": frames.pop("connectors"),
            "connections": frames.pop("connections"),
        }
        return _write_xlsx(book | frames, root)
    root.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in frames.items():
        path = root / f"{name}.{format}"
        flat = _flat(frame)
        if format == "parquet":
            flat.to_parquet(path, index=False)
        else:
            safe = _spreadsheet_safe(flat)
            # \r\n line ends make the writer quote every cell holding a CR or LF: a bare CR
            # would end the row for a CSV reader and start the next at a live formula.
            safe.to_csv(
                path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ", lineterminator="\r\n"
            )
        written[name] = path
    return written


def _write_xlsx(frames: dict[str, pd.DataFrame], root: Path) -> dict[str, Path]:
    """One workbook, one sheet per frame, laid out to be read: see :func:`_sheet`."""
    if importlib.util.find_spec("openpyxl") is None:  # pandas' xlsx writer
        raise ImportError(
            'export_frames(format="xlsx") needs openpyxl: pip install "tunnelframe[xlsx]"'
        )
    from openpyxl.styles import Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    for name, frame in frames.items():
        if len(frame) > _XLSX_MAX_ROWS:
            raise ValueError(
                f"the {name} frame has {len(frame):,} rows, more than an Excel sheet holds "
                f"({_XLSX_MAX_ROWS:,} below its header): export it as CSV or Parquet instead"
            )
    root.mkdir(parents=True, exist_ok=True)
    path = root / "fleet.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl", datetime_format=_XLSX_TIME) as writer:
        for name, frame in frames.items():
            sheet = _sheet(frame, first=_XLSX_FIRST.get(name, ()))
            sheet.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # text, never a formula
                        cell.data_type = "s"
            # the header row stays in view and filters; the first column (the tunnel's
            # name: identifiers come last) stays in view when scrolling right
            ws.freeze_panes = "B2" if sheet.columns[:1].tolist() == ["tunnel_name"] else "A2"
            ws.auto_filter.ref = ws.dimensions
            for cell in ws[1]:
                cell.font = Font(name=cell.font.name, size=cell.font.size, bold=True)
            # printed: landscape, the header row on every page
            ws.page_setup.orientation = "landscape"
            ws.print_title_rows = "1:1"
            for i, col in enumerate(sheet.columns, start=1):
                ws.column_dimensions[get_column_letter(i)].width = _width(sheet[col], str(col))
    return dict.fromkeys(frames, path)


#: Excel's number format for times (written as naive UTC; the header says ``(UTC)``).
_XLSX_TIME = "yyyy-mm-dd hh:mm:ss"
#: Columns that lead a sheet, in this order (the rest keep the frame's order, ids last).
_XLSX_FIRST = {
    "findings": (
        "tunnel_name",
        "severity",
        "title",
        "since",
        "since_at",
        "host",
        "action",
        "message",
        "serves",
        "impact",
        "fix_first",
        "rule",
    )
}


def _sheet(frame: pd.DataFrame, *, first: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` as Excel cells: the human columns first and identifiers (``*_id``) last, times
    as naive UTC under a ``(UTC)`` header, plain Python values, no illegal character."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

    def cell_text(value: object) -> object:
        # Excel cannot hold most control characters (openpyxl refuses them): show them as
        # escapes (\x1b), as the terminal does.
        if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
            return ILLEGAL_CHARACTERS_RE.sub(
                lambda m: m.group(0).encode("unicode_escape").decode("ascii"), value
            )
        return value

    lead = [c for c in first if c in frame.columns]
    rest = [c for c in frame.columns if c not in lead]
    ids = [c for c in rest if str(c).endswith("_id")]
    columns = lead + [c for c in rest if c not in ids] + ids
    # Typed cells need no ' prefix: a text cell is text; only the cells openpyxl would store
    # as formulas (text starting with "=") are made text after writing.
    sheet = _flat(frame[columns])
    for col in sheet.columns:
        dtype = sheet[col].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            sheet[col] = sheet[col].dt.tz_convert("UTC").dt.tz_localize(None)
        elif not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            # Excel cells hold plain values: categories, pyarrow text and nullable flags as
            # Python objects, NA as an empty cell.
            values = sheet[col].astype(object).where(sheet[col].notna(), None)
            sheet[col] = values.map(cell_text)
    utc = [c for c in columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    return sheet.rename(columns={c: f"{c} (UTC)" for c in utc})


def _width(values: pd.Series, header: str) -> float:
    """A column's width in characters: its longest value or header (room for the filter
    button), within bounds so that one long message does not push the rest off screen."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        longest = len("2026-08-20 12:00:00")
    elif values.empty:
        longest = 0
    else:
        longest = int(values.map(lambda v: 0 if v is None or v is pd.NA else len(str(v))).max())
    # a width counts digits of the default font: a little more for wider letters and a gap
    return float(min(max(round(longest * 1.1) + 2, len(header) + 4, 8), 60))


#: Rows an Excel sheet holds below its header row (1,048,576 in all).
_XLSX_MAX_ROWS = 1_048_575
