"""Rendering DataFrames as rich tables, shared by every command."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table


def console() -> Console:
    """A console for this call, so the terminal width (or $COLUMNS) is read when printing, not at import."""
    return Console()


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.4g}"
    return str(value)


def show_frame(df: pd.DataFrame, title: str | None = None, max_rows: int | None = None) -> None:
    """Print a frame as a table; numbers right-aligned, NaN blank, long frames cut with a count."""
    table = Table(title=title, header_style="bold", show_lines=False)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold")
    shown = df if max_rows is None else df.head(max_rows)
    for row in shown.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    out = console()
    out.print(table)
    if max_rows is not None and len(df) > max_rows:
        out.print(f"[dim]... {len(df) - max_rows} more rows (use --rows to show more)[/dim]")
