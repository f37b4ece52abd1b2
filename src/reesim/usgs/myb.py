"""Readers for the Minerals Yearbook rare-earth advance tables: T2 (element shares) and T8 (world mines).

T2 gives the element split of each deposit type, which turns tonnes of REO into tonnes of NdPr or Dy;
T8 gives mine production before the MCS window. Both are typeset tables: names run over two rows,
'Do.' repeats the cell above, and footnotes and e/r flags are superscripts glued to names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl.cell.rich_text import CellRichText, TextBlock

from reesim.errors import UsgsLayoutError
from reesim.usgs.values import parse_usgs_value, read_sheet

FIX = "pass the Minerals Yearbook rare-earths advance tables workbook (myb1-YYYY-raree.xlsx) as published"
ELEMENTS = ("La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y",
            "Sc")
FLAG_LETTERS = ("e", "r")
_T2_FIELDS = ("source", "country", "location")  # header words of the text columns of T2
# Marks typed inline at the end of a plain string: 'China3', 'Indiae, 4'.
_INLINE_MARKS = re.compile(r"(?<=[^\d\s])((?:[er],\s*)?\d+(?:\s*,\s*\d+)*)\s*$")


def _split(cell: object) -> tuple[str, str]:
    """(text, marks) of a cell, marks being its superscripts: footnote numbers and e/r flags.

    In a plain string (a workbook saved without rich text) only marks that end in a footnote number are
    found: 'China3' and 'Indiae, 4' are, a bare flag letter as in 'Australiae' cannot be told from the name.
    """
    if cell is None:
        return "", ""
    if isinstance(cell, CellRichText):
        text, sup = [], []
        for run in cell:
            is_sup = isinstance(run, TextBlock) and run.font.vertAlign == "superscript"
            (sup if is_sup else text).append(run.text if isinstance(run, TextBlock) else str(run))
        return " ".join("".join(text).split()), "".join(sup)
    text = " ".join(str(cell).split())
    m = _INLINE_MARKS.search(text)
    return (text[: m.start()].rstrip(), m.group(1)) if m else (text, "")


def _flag(marks: str) -> str:
    """The e/r flag among superscript marks such as 'e, 4'; footnote numbers are dropped."""
    return next((t for t in re.split(r"[,\s]+", marks) if t in FLAG_LETTERS), "")


def _cell(row: tuple, idx: int) -> object:
    return row[idx] if idx < len(row) else None


def _parse(cell: object, path: str | Path, where: str) -> tuple[float, str]:
    try:
        return parse_usgs_value(cell)
    except ValueError as exc:
        raise UsgsLayoutError(path, where, str(exc), FIX) from exc


def _ditto(text: str, above: str) -> str:
    """'Do.' / 'do.' (ditto) stands for the value in the row above."""
    return above if text.lower().rstrip(".") == "do" else text


def _t2_header(rows: list[tuple], path: str | Path) -> tuple[int, dict[str, int], dict[str, int]]:
    """Header row of T2, the positions of its text columns and of its element columns."""
    for i, row in enumerate(rows):
        texts = [_split(c)[0] for c in row]
        lower = [t.lower() for t in texts]
        if "location" not in lower or "La" not in texts:
            continue
        fields = {f: next((j for j, t in enumerate(lower) if f in t), -1) for f in _T2_FIELDS}
        missing = ", ".join(f for f, j in fields.items() if j < 0)
        if missing:
            raise UsgsLayoutError(path, f"sheet T2, header row {i + 1}", f"missing column(s) {missing}", FIX)
        return i, fields, {t: j for j, t in enumerate(texts) if t in ELEMENTS}
    problem = "no header row with 'Location' and element symbols (La ... Y)"
    raise UsgsLayoutError(path, "sheet T2", problem, FIX)


def _t2_records(rows: list[tuple], path: str | Path) -> list[dict]:
    """One record per source mineral and location, its location joined from the rows it spans."""
    start, fields, elements = _t2_header(rows, path)
    records: list[dict] = []
    source = country = ""
    for i, row in enumerate(rows[start + 1:], start=start + 2):
        texts = {f: _split(_cell(row, j))[0] for f, j in fields.items()}
        values = {el: _cell(row, j) for el, j in elements.items()}
        if any(v is not None for v in values.values()):
            source, country = _ditto(texts["source"], source), _ditto(texts["country"], country)
            records.append({"source_mineral": source, "country": country, "location": [texts["location"]],
                            "values": values, "row": i})
        elif texts["location"] and records and not texts["source"] and not texts["country"]:
            records[-1]["location"].append(texts["location"])
        elif any(c is not None for c in row):
            break  # the notes below the table
    if not records:
        raise UsgsLayoutError(path, "sheet T2", "no data rows below the header", FIX)
    return records


def read_myb_compositions(path: str | Path) -> pd.DataFrame:
    """Percent of total REO by element for each source mineral and location (MYB table T2), long form."""
    out = []
    for rec in _t2_records(read_sheet(path, "T2", FIX, rich_text=True), path):
        location = " ".join(" ".join(rec["location"]).split())
        for element, cell in rec["values"].items():
            percent, flag = _parse(cell, path, f"sheet T2, row {rec['row']}, column {element}")
            out.append({"source_mineral": rec["source_mineral"], "country": rec["country"],
                        "location": location, "element": element, "percent": percent, "flag": flag})
    return pd.DataFrame(out).astype({"percent": float})


def _year(cell: object) -> int | None:
    text = _split(cell)[0]
    return int(text) if text.isdigit() and 1800 <= int(text) <= 2200 else None


def _t8_header(rows: list[tuple], path: str | Path) -> tuple[int, dict[int, int]]:
    """Header row of T8 and the position of each year column (its flag sits in the next cell)."""
    for i, row in enumerate(rows):
        if _split(_cell(row, 0))[0].lower().startswith("country"):
            years = {j: y for j, c in enumerate(row) if (y := _year(c)) is not None}
            if not years:
                raise UsgsLayoutError(path, f"sheet T8, header row {i + 1}", "no year columns", FIX)
            return i, years
    raise UsgsLayoutError(path, "sheet T8", "no header row starting 'Country or locality'", FIX)


def _country(name: str) -> str:
    return "World total" if name.lower() in {"total", "world total"} else name


def read_myb_world_production(path: str | Path) -> pd.DataFrame:
    """World mine production by country and year (t REO, MYB table T8), with USGS flags.

    A flag set on the country name ('Australiae': all figures estimated) applies to each of its cells
    that carries no flag of its own; footnote numbers in the flag cells are dropped.
    """
    rows = read_sheet(path, "T8", FIX, rich_text=True)
    start, years = _t8_header(rows, path)
    out = []
    for i, row in enumerate(rows[start + 1:], start=start + 2):
        name, marks = _split(_cell(row, 0))
        if all(_cell(row, j) is None for j in years):
            if name:
                break  # the notes below the table
            continue
        for j, year in years.items():
            value, flag = _parse(_cell(row, j), path, f"sheet T8, row {i}, year {year}")
            cell_flag = _flag(" ".join(_split(_cell(row, j + 1))))
            out.append({"country": _country(name), "year": year, "value": value,
                        "flag": flag or cell_flag or _flag(marks)})
    if not out:
        raise UsgsLayoutError(path, "sheet T8", "no data rows below the header", FIX)
    return pd.DataFrame(out).astype({"year": int, "value": float})
