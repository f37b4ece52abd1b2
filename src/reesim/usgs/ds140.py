"""Reader for USGS Data Series 140, rare-earth statistics 1900 onward (one sheet per commodity).

The long series calibrates how fast the market has grown and how prices swing. The header row is
found by its text, not its position, because USGS adds title and note rows between revisions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reesim.errors import UsgsLayoutError
from reesim.usgs.values import parse_usgs_value, read_sheet

SHEET = "Rare earths"
# Header text in the file (lower case, single spaces) -> reesim column.
COLUMNS = {
    "production": "us_production",
    "imports": "us_imports",
    "exports": "us_exports",
    "apparent consumption": "us_apparent_consumption",
    "unit value ($/t)": "unit_value_usd_per_t",
    "unit value (98$/t)": "unit_value_1998usd_per_t",
    "world production": "world_production",
}
FIX = "pass the Data Series 140 rare-earths workbook (ds140-rare-earths) as published by USGS"


def _text(cell: object) -> str:
    return " ".join(str(cell).split()).lower() if cell is not None else ""


def _year(cell: object) -> int | None:
    """The year in a first-column cell, or None when the row is not a data row."""
    if isinstance(cell, int | float) and float(cell).is_integer():
        year = int(cell)
    else:
        text = _text(cell)
        year = int(text) if text.isdigit() else None
    return year if year is not None and 1800 <= year <= 2200 else None


def _header(rows: list[tuple], path: str | Path) -> tuple[int, dict[str, int]]:
    """Row index of the header ('Year', ...) and the position of each reesim column in it."""
    for i, row in enumerate(rows):
        texts = [_text(c) for c in row]
        if texts and texts[0] == "year" and "world production" in texts:
            missing = [h for h in COLUMNS if h not in texts]
            if missing:
                raise UsgsLayoutError(path, f"sheet {SHEET}, header row {i + 1}",
                                      f"missing column(s) {', '.join(missing)}", FIX)
            return i, {col: texts.index(h) for h, col in COLUMNS.items()}
    problem = "no header row starting 'Year' with 'World production'"
    raise UsgsLayoutError(path, f"sheet {SHEET}", problem, FIX)


def _value(cell: object, path: str | Path, where: str) -> float:
    try:
        return parse_usgs_value(cell)[0]
    except ValueError as exc:
        raise UsgsLayoutError(path, where, str(exc), FIX) from exc


def read_ds140(path: str | Path) -> pd.DataFrame:
    """US and world rare-earth statistics by year (t REO; unit values in USD/t); NA and W read as NaN."""
    rows = read_sheet(path, SHEET, FIX)
    start, positions = _header(rows, path)
    records: dict[int, dict[str, float]] = {}
    for i, row in enumerate(rows[start + 1:], start=start + 2):
        year = _year(row[0]) if row else None
        if year is None:
            break
        records[year] = {
            col: _value(row[pos] if pos < len(row) else None, path, f"sheet {SHEET}, row {i}, column {col}")
            for col, pos in positions.items()
        }
    if not records:
        raise UsgsLayoutError(path, f"sheet {SHEET}", "no year rows below the header", FIX)
    df = pd.DataFrame.from_dict(records, orient="index", columns=list(COLUMNS.values()), dtype=float)
    df.index = df.index.astype(int).rename("year")
    return df
