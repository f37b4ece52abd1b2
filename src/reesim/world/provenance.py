"""Schema-level validation across tables: references resolve and every number carries its source.

These rules follow from the schema alone (ref attributes, provenance declarations); the economic
consistency of the numbers is checked separately in `reesim.world.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from reesim.errors import Problem
from reesim.world.schema import Schema


def _line(i: int) -> str:
    return f"line {i + 2}"


def check_references(folder: Path, schema: Schema, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Every `ref` cell names an existing key of the referenced table (blank allowed where optional)."""
    problems: list[Problem] = []
    for name, spec in schema.tables.items():
        df = tables[name]
        for col, attr in spec.attributes.items():
            if attr.type != "ref" or attr.ref is None:
                continue
            target = schema.tables[attr.ref]
            keys = set(tables[attr.ref][target.key[0]])
            for i, value in enumerate(df[col]):
                if value == "" and not attr.required:
                    continue
                if value not in keys:
                    problems.append(Problem(
                        str(folder / spec.file), f"{_line(i)}, column {col}",
                        f"{value!r} is not a known {attr.ref.removesuffix('s')}",
                        f"use one of the ids in {target.file} or add {value!r} there",
                    ))
    return problems


def _present(value: object) -> bool:
    return not (value is None or value == "" or (isinstance(value, float) and math.isnan(value)))


def check_provenance(folder: Path, schema: Schema, tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """No number without a source and a status; assumptions must say why in the row's note."""
    problems: list[Problem] = []
    sources = set(tables["sources"]["source"])
    for name, spec in schema.tables.items():
        df = tables[name]
        for attr in spec.sourced_attributes:
            src_col, status_col = spec.provenance_columns(attr)
            for i in range(len(df)):
                if not _present(df.at[i, attr]):
                    continue
                src, status = df.at[i, src_col], df.at[i, status_col]
                where = f"{_line(i)}, column {attr}"
                if src not in sources:
                    problems.append(Problem(str(folder / spec.file), where,
                                            f"the value has no known source ({src_col}={src!r})",
                                            f"cite a source id from sources.csv in {src_col}"))
                if status not in schema.statuses:
                    problems.append(Problem(str(folder / spec.file), where,
                                            f"the value has no status ({status_col}={status!r})",
                                            f"set {status_col} to one of {', '.join(schema.statuses)}"))
                if status == "assumed" and "note" in df.columns and not str(df.at[i, "note"]).strip():
                    problems.append(Problem(str(folder / spec.file), where, "an assumed value gives no reasoning",
                                            "say why in the note column"))
    return problems


def provenance_records(schema: Schema, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per sourced value: table, attribute, row key, source and status (for `reesim data sources`)."""
    rows = []
    for name, spec in schema.tables.items():
        df = tables[name]
        for attr in spec.sourced_attributes:
            src_col, status_col = spec.provenance_columns(attr)
            for i in range(len(df)):
                if _present(df.at[i, attr]):
                    key = "/".join(str(df.at[i, k]) for k in spec.key)
                    rows.append((name, attr, key, df.at[i, src_col], df.at[i, status_col]))
    return pd.DataFrame(rows, columns=["table", "attribute", "key", "source", "status"])
