"""The `World`: the component tables of a dataset, loaded and validated against the schema.

A world is read-only data: engines and analyses derive arrays from it but never change it, so a
scenario run can always cite the exact dataset (`World.version`) it used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from reesim.errors import DatasetError, Problem
from reesim.world.provenance import check_provenance, check_references
from reesim.world.schema import Schema, load_schema
from reesim.world.tables import read_table

BUILTIN_WORLDS = ("world2024", "world2009")
DEFAULT_WORLD = "world2024"
META = "meta"  # the one-row table that says what the world is (world.csv): base year and description


@dataclass(frozen=True)
class World:
    """Tables of one world dataset, keyed by table name (see `datasets/schema.yaml`)."""

    name: str
    path: Path
    schema: Schema
    tables: Mapping[str, pd.DataFrame] = field(repr=False)
    version: str

    @property
    def base_year(self) -> int:
        """Year whose state the tables hold (output_base, quantity_base, prices); runs start in January."""
        return int(self.tables[META]["base_year"].iloc[0])

    def __getitem__(self, table: str) -> pd.DataFrame:
        """A copy of one table, so callers cannot change the world by accident."""
        if table not in self.tables:
            raise KeyError(f"no table {table!r}; tables are: {', '.join(self.tables)}")
        return self.tables[table].copy()

    def composition(self) -> pd.DataFrame:
        """Element shares of each deposit type's REO (deposit_type x element), the joint-production matrix."""
        comp = self.tables["compositions"].pivot(index="deposit_type", columns="element", values="share")
        return comp.reindex(columns=list(self.tables["elements"]["element"]), fill_value=0.0)

    def describe(self) -> pd.DataFrame:
        """One row per table: rows, description, file."""
        return pd.DataFrame(
            [(n, len(self.tables[n]), s.description, s.file) for n, s in self.schema.tables.items()],
            columns=["table", "rows", "description", "file"],
        )


def world_path(world: str | Path | None = None) -> Path:
    """Folder of a built-in world (by name, 'world2009', or by year, '2009') or of a world on disk."""
    if world is None:
        world = DEFAULT_WORLD
    if isinstance(world, str) and f"world{world}" in BUILTIN_WORLDS:
        world = f"world{world}"
    if isinstance(world, str) and world in BUILTIN_WORLDS:
        return Path(str(resources.files("reesim.datasets").joinpath(world)))
    path = Path(world)
    if not path.is_dir():
        raise DatasetError([Problem(str(path), None, "no such world folder or built-in world",
                                    f"pass a folder of world CSV files or one of: {', '.join(BUILTIN_WORLDS)}")])
    return path


def base_year_of(world: str | Path | None = None) -> int:
    """Base year of a world read from its world.csv alone, without loading or checking the other tables.

    Cheap enough for validating a scenario against its world; a missing or malformed world.csv raises
    `DatasetError` naming the file and the fix.
    """
    folder = world_path(world)
    schema = load_schema()
    problems: list[Problem] = []
    meta = read_table(folder, META, schema.tables[META], problems)
    if problems:
        raise DatasetError(problems)
    return int(meta["base_year"].iloc[0])


def _version(folder: Path, schema: Schema) -> str:
    """Content hash of the dataset files, recorded in run manifests."""
    digest = hashlib.sha256()
    for spec in sorted(schema.tables.values(), key=lambda s: s.file):
        path = folder / spec.file
        digest.update(spec.file.encode())
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_world(world: str | Path | None = None, *, check: bool = True) -> World:
    """Load and validate a world dataset; raise `DatasetError` listing every problem.

    `check=False` skips the consistency checks of `reesim.world.checks` (schema validation always runs),
    which lets `reesim data check` load a dataset with inconsistent numbers and report them.
    """
    folder = world_path(world)
    schema = load_schema()
    problems: list[Problem] = []
    tables = {name: read_table(folder, name, spec, problems) for name, spec in schema.tables.items()}
    if not problems:
        problems += check_references(folder, schema, tables)
        problems += check_provenance(folder, schema, tables)
    if problems:
        raise DatasetError(problems)
    result = World(
        name=folder.name, path=folder, schema=schema,
        tables=MappingProxyType(tables), version=_version(folder, schema),
    )
    if check:
        from reesim.world.checks import run_checks

        failures = [c for c in run_checks(result) if not c.ok]
        if failures:
            raise DatasetError([c.problem for c in failures])
    return result
