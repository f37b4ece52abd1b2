"""The attribute schema of world datasets, read from `datasets/schema.yaml`.

One declarative file documents every attribute (type, unit, default, description) and drives loading,
validation and the `reesim data show` listing, as PyPSA's component attribute files do. Unknown keys in
the schema itself are errors (`extra="forbid"`), so a typo cannot silently switch a check off.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

AttrType = Literal["str", "int", "float", "date", "category", "ref"]


class Attribute(BaseModel):
    """One column of a table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: AttrType
    unit: str
    description: str
    default: Any = Field(default=None)
    values: tuple[str, ...] | None = None
    ref: str | None = None
    min: float | None = None
    max: float | None = None
    provenance: str | None = None

    @property
    def required(self) -> bool:
        """An attribute without a declared default must be filled in every row."""
        return "default" not in self.model_fields_set


class TableSchema(BaseModel):
    """One table (CSV file) of a world dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    description: str
    key: tuple[str, ...]
    attributes: dict[str, Attribute]
    status_columns: dict[str, str] = Field(default_factory=dict)
    single_row: bool = False  # the table describes the world itself (world.csv): exactly one row

    def provenance_columns(self, attribute: str) -> tuple[str, str]:
        """Columns (source, status) that say where a numeric attribute's values come from."""
        prov = self.attributes[attribute].provenance
        if prov is None:
            raise KeyError(f"attribute {attribute!r} declares no provenance")
        source = "source" if prov == "row" else f"{prov}_source"
        status = self.status_columns.get(source, source.replace("source", "status"))
        return source, status

    @property
    def sourced_attributes(self) -> list[str]:
        return [name for name, attr in self.attributes.items() if attr.provenance is not None]


class Schema(BaseModel):
    """All tables of a world dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statuses: tuple[str, ...]
    tables: dict[str, TableSchema]


@cache
def load_schema() -> Schema:
    """The schema shipped with the package (read once, then cached)."""
    text = resources.files("reesim.datasets").joinpath("schema.yaml").read_text(encoding="utf-8")
    return Schema.model_validate(yaml.safe_load(text))
