"""Scenarios: frozen, validated descriptions of a run (horizon, ensemble, uncertain parameters).

The policy issue extends this object with a timeline of dated policy events and the full YAML language;
here it carries what the engine needs to run the baseline and its ensembles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reesim.engine.parameters import PARAMETERS, Distribution
from reesim.errors import InputError

BASE_MONTH = "2024-01"
DEFAULT_END = "2035-12"


class Scenario(BaseModel):
    """What to simulate. Frozen: a run can always cite the exact scenario it used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    world: str = "world2024"
    start: str = BASE_MONTH
    end: str = DEFAULT_END
    members: int = Field(default=1, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    uncertain: dict[str, Distribution] = Field(default_factory=dict)

    @field_validator("start", "end")
    @classmethod
    def _month(cls, value: str) -> str:
        try:
            return str(pd.Period(value, freq="M"))
        except (ValueError, TypeError):
            raise ValueError(f"{value!r} is not a month; write YYYY-MM") from None

    @field_validator("uncertain")
    @classmethod
    def _known(cls, value: dict[str, Distribution]) -> dict[str, Distribution]:
        unknown = sorted(set(value) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; known: {', '.join(sorted(PARAMETERS))}")
        return value

    @model_validator(mode="after")
    def _horizon(self) -> Scenario:
        if pd.Period(self.start, freq="M") < pd.Period(BASE_MONTH, freq="M"):
            raise ValueError(f"start {self.start} is before the base month {BASE_MONTH}")
        if pd.Period(self.end, freq="M") < pd.Period(self.start, freq="M"):
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def months(self) -> pd.PeriodIndex:
        """Simulated months: always from the base month (the engine starts from the 2024 state)."""
        return pd.period_range(BASE_MONTH, self.end, freq="M")


BASELINE = Scenario(
    name="baseline",
    description="The world at the end of 2024 with announced projects only and no 2025 controls; "
                "behavioural parameters uncertain within the ranges of facts.md F.",
    uncertain={
        "elasticity_short": Distribution(kind="uniform", low=0.1, high=0.3),
        "elasticity_long": Distribution(kind="uniform", low=0.5, high=1.0),
        "growth_scale": Distribution(kind="normal", mean=1.0, sd=0.15),
        "project_delay_max": Distribution(kind="uniform", low=0.0, high=24.0),
    },
)

BUILTIN_SCENARIOS: dict[str, Scenario] = {"baseline": BASELINE}


def load_scenario(spec: str | Path | Scenario, **overrides: Any) -> Scenario:
    """A scenario from a built-in name, a YAML file or an object, with keyword overrides applied."""
    if isinstance(spec, Scenario):
        base = spec
    elif isinstance(spec, str) and spec in BUILTIN_SCENARIOS:
        base = BUILTIN_SCENARIOS[spec]
    else:
        path = Path(spec)
        if not path.is_file():
            raise InputError(str(spec), None, "no such built-in scenario or file",
                             f"use one of {', '.join(BUILTIN_SCENARIOS)} or a path to a YAML scenario file")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            base = Scenario.model_validate(data)
        except yaml.YAMLError as exc:
            raise InputError(str(path), None, f"not valid YAML: {exc}", "fix the YAML syntax") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(x) for x in first["loc"])
            raise InputError(str(path), key or None, first["msg"],
                             "see `reesim` docs for the scenario keys; unknown keys are not allowed") from exc
    updates = {k: v for k, v in overrides.items() if v is not None}
    if not updates:
        return base
    try:
        return Scenario.model_validate({**base.model_dump(), **updates})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(None, ".".join(str(x) for x in first["loc"]), first["msg"], "pass a valid value") from exc
