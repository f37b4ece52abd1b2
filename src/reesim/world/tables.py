"""Reading one CSV table against its schema: types, categories, bounds and required cells.

Cells are read as text and converted column by column, so that each bad cell is reported with its file,
line and column instead of pandas guessing a dtype and failing far away.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from reesim.errors import Problem
from reesim.world.schema import Attribute, TableSchema


def _where(df: pd.DataFrame, row: int, column: str) -> str:
    """Key for a problem: the file line (header is line 1) and column."""
    return f"line {int(df.index[row]) + 2}, column {column}"


def _convert(raw: str, attr: Attribute) -> object:
    """Convert one non-blank cell; raise ValueError with the reason if it does not fit the type."""
    if attr.type == "int":
        return int(raw)
    if attr.type == "float":
        value = float(raw)
        if math.isnan(value):
            raise ValueError("NaN is not a number; leave the cell blank if the attribute has a default")
        return value
    if attr.type == "date":
        return pd.Period(raw, freq="M")
    if attr.type == "category" and attr.values is not None and raw not in attr.values:
        raise ValueError(f"{raw!r} is not one of {', '.join(attr.values)}")
    return raw


def _blank_value(attr: Attribute) -> object:
    if attr.type == "float":
        return float("nan") if attr.default is None else float(attr.default)
    return attr.default if attr.default is not None else ""


def read_table(folder: Path, name: str, spec: TableSchema, problems: list[Problem]) -> pd.DataFrame:
    """Read `folder/spec.file`, convert its columns, and append every problem found to `problems`."""
    path = folder / spec.file
    if not path.exists():
        problems.append(Problem(str(path), None, f"table {name!r} is missing", f"add {spec.file} to the world folder"))
        return pd.DataFrame(columns=list(spec.attributes))
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in spec.attributes if c not in raw.columns and spec.attributes[c].required]
    unknown = [c for c in raw.columns if c not in spec.attributes]
    for col in missing:
        problems.append(Problem(str(path), col, "required column is missing", f"add a {col!r} column ({spec.attributes[col].description})"))
    for col in unknown:
        known = ", ".join(spec.attributes)
        problems.append(Problem(str(path), col, "unknown column", f"remove it or rename it to one of: {known}"))
    out = pd.DataFrame(index=raw.index)
    for col, attr in spec.attributes.items():
        cells = raw[col] if col in raw.columns else pd.Series("", index=raw.index)
        values: list[object] = []
        for i, cell in enumerate(cells.str.strip()):
            if cell == "":
                if attr.required:
                    problems.append(Problem(str(path), _where(raw, i, col), "required value is blank", f"fill in {col} ({attr.unit})"))
                values.append(_blank_value(attr))
                continue
            try:
                value = _convert(cell, attr)
            except ValueError as exc:
                problems.append(Problem(str(path), _where(raw, i, col), f"bad {attr.type} {cell!r}: {exc}", f"write a valid {attr.type} in {attr.unit}"))
                values.append(_blank_value(attr))
                continue
            if isinstance(value, (int, float)):
                if attr.min is not None and value < attr.min:
                    problems.append(Problem(str(path), _where(raw, i, col), f"{value} is below the minimum {attr.min}", f"use a value of at least {attr.min}"))
                if attr.max is not None and value > attr.max:
                    problems.append(Problem(str(path), _where(raw, i, col), f"{value} is above the maximum {attr.max}", f"use a value of at most {attr.max}"))
            values.append(value)
        out[col] = pd.Series(values, index=raw.index, dtype="float64" if attr.type == "float" else None)
    if spec.single_row and len(out) != 1:
        problems.append(Problem(str(path), None, f"the table has {len(out)} rows, not one",
                                f"keep exactly one row in {spec.file}"))
    duplicated = out.duplicated(subset=list(spec.key), keep=False) if len(out) else pd.Series(dtype=bool)
    for i in duplicated[duplicated].index:
        key = ", ".join(f"{k}={out.at[i, k]}" for k in spec.key)
        problems.append(Problem(str(path), f"line {int(i) + 2}", f"duplicate key ({key})", "keep one row per key"))
    return out.reset_index(drop=True)
