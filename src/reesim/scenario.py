"""Scenarios: frozen, validated descriptions of a run (world, horizon, ensemble, uncertain parameters and
a timeline of dated policy events), written in YAML and checked with pydantic (`extra="forbid"`).

A scenario may `extend` another (a built-in name or a file): it inherits every field, overrides the ones
it sets, appends its timeline events to the parent's and merges its uncertain parameters. Built-in
scenarios are YAML files in `reesim/scenarios/`, each with a page of notes and sources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reesim.actors.specs import ActorSpec
from reesim.calibration.posterior import SHIPPED_POSTERIORS, posterior_exists, posterior_fingerprint
from reesim.engine.parameters import PARAMETERS, Distribution
from reesim.errors import InputError
from reesim.policy.instruments import TimelineEvent
from reesim.policy.timing import Month

DEFAULT_END = "2035-12"


class Scenario(BaseModel):
    """What to simulate. Frozen: a run can always cite the exact scenario it used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short name, used in reports and the run store.")
    description: str = Field("", description="One line: what the scenario encodes.")
    notes: str = Field("", description="The scenario's page: what it encodes, dated, with its reasoning.")
    sources: list[str] = Field(default_factory=list, description="Sources of the dated events (facts.md keys, URLs).")
    extends: str | None = Field(None, description="Built-in scenario or file this one overrides (resolved on load).")
    world: str = Field("world2024", description="World dataset: a built-in name or a folder.")
    start: Month | None = Field(None, description="First month reported (default: the world's base month, "
                                                  "where the engine always starts).")
    end: Month = Field(DEFAULT_END, description="Last month simulated.")
    members: int = Field(default=1, ge=1, le=100_000, description="Ensemble members.")
    seed: int = Field(default=0, ge=0, description="Seed of the ensemble's SeedSequence.")
    uncertain: dict[str, Distribution] = Field(default_factory=dict,
                                               description="Engine parameters drawn per member.")
    posterior: str | None = Field(None, description="Calibration whose posterior sample gives the behavioural "
                                  "parameters, one whole accepted vector per member: `calibrated_2010` (shipped) "
                                  "or the path of a calibration.json. `uncertain` overrides it parameter by "
                                  "parameter; without it members take the defaults.")
    timeline: list[TimelineEvent] = Field(default_factory=list, description="Dated policy events.")
    actors: list[ActorSpec] = Field(default_factory=list, description="Strategic actors (China, the G-7, partner "
                                    "states) that move instruments each month; see docs/actors.md.")

    @field_validator("uncertain")
    @classmethod
    def _known(cls, value: dict[str, Distribution]) -> dict[str, Distribution]:
        unknown = sorted(set(value) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; known: {', '.join(sorted(PARAMETERS))}")
        return value

    def record(self) -> dict[str, Any]:
        """The scenario as a run's manifest records it: its fields, with the posterior it draws from named
        with a hash of that calibration's content, so that a run drawn from a recalibrated or edited
        calibration is another run (its key differs) though the scenario names the same file."""
        record = self.model_dump(mode="json")
        if self.posterior is not None:
            record["posterior"] = posterior_fingerprint(self.posterior)
        return record

    @field_validator("posterior")
    @classmethod
    def _posterior_found(cls, value: str | None) -> str | None:
        if value is not None and not posterior_exists(value):
            raise ValueError(f"no calibration {value!r}: name a shipped one ({', '.join(SHIPPED_POSTERIORS)}) or "
                             "the path of a calibration.json written by `reesim calibrate`")
        return value

    @model_validator(mode="after")
    def _horizon(self) -> Scenario:
        base = self.base_month
        if self.start is not None and pd.Period(self.start, freq="M") < base:
            raise ValueError(f"start {self.start} is before the base month {base} of the world {self.world}")
        if pd.Period(self.end, freq="M") < pd.Period(self.first_month, freq="M"):
            raise ValueError(f"end {self.end} is before start {self.first_month}")
        return self

    @model_validator(mode="after")
    def _events(self) -> Scenario:
        ids: set[str] = set()
        base = str(self.base_month)
        for i, event in enumerate(self.timeline):
            if event.start < base:
                raise ValueError(f"timeline.{i}: start {event.start} is before the base month {base}")
            if event.start > self.end:
                raise ValueError(f"timeline.{i}: start {event.start} is after the end of the horizon {self.end}")
            if event.id is not None:
                if event.id in ids:
                    raise ValueError(f"timeline.{i}: id {event.id!r} is used twice")
                ids.add(event.id)
        for i, event in enumerate(self.timeline):
            target = getattr(event, "target", None)
            if target is not None and target not in ids:
                raise ValueError(f"timeline.{i}: target {target!r} is not the id of an event in the timeline")
        return self

    @property
    def base_month(self) -> pd.Period:
        """January of the world's base year: the engine's month 0 (read from the world's metadata only)."""
        from reesim.world import base_year_of

        return pd.Period(f"{base_year_of(self.world)}-01", freq="M")

    @property
    def first_month(self) -> str:
        """The first reported month: `start`, or the base month when it is not set."""
        return self.start or str(self.base_month)

    def months(self) -> pd.PeriodIndex:
        """Simulated months: always from the base month (the engine starts from the base-year state)."""
        return pd.period_range(self.base_month, self.end, freq="M")


class _BuiltIns(Mapping[str, Scenario]):
    """The built-in scenarios, read from `reesim/scenarios/*.yaml` on first use (keeps imports fast)."""

    def __init__(self) -> None:
        self._cache: dict[str, Scenario] | None = None

    def _load(self) -> dict[str, Scenario]:
        if self._cache is None:
            folder = resources.files("reesim.scenarios")
            names = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
            self._cache = {}
            for name in ["baseline"] + [n for n in names if n != "baseline"]:
                self._cache[name] = _from_file(Path(str(folder.joinpath(f"{name}.yaml"))), self._cache)
        return self._cache

    def __getitem__(self, name: str) -> Scenario:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __contains__(self, name: object) -> bool:
        return name in self._load()


BUILTIN_SCENARIOS: Mapping[str, Scenario] = _BuiltIns()


def read_yaml(path: Path) -> dict[str, Any]:
    """A scenario file's mapping, or an InputError naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(str(path), None, f"not valid YAML: {exc}", "fix the YAML syntax") from exc
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the file: {exc}", "check the path") from exc
    if not isinstance(data, dict):
        raise InputError(str(path), None, "a scenario file must be a mapping of keys to values",
                         "start the file with `name: ...`")
    return data


def resolve_extends(data: dict[str, Any], folder: Path | None,
                    known: Mapping[str, Scenario] | None = None) -> dict[str, Any]:
    """The scenario's fields with its parent's merged in: the parent's timeline first, then its own. A
    posterior given as a path is read relative to the scenario file, as `extends` is."""
    posterior = data.get("posterior")
    if folder is not None and isinstance(posterior, str) and posterior not in SHIPPED_POSTERIORS \
            and not Path(posterior).is_absolute() and (folder / posterior).is_file():
        data = {**data, "posterior": str(folder / posterior)}
    parent_ref = data.get("extends")
    if not parent_ref:
        return data
    builtins = known if known is not None else BUILTIN_SCENARIOS
    if parent_ref in builtins:
        parent = builtins[parent_ref]
    else:
        path = Path(parent_ref) if folder is None else folder / parent_ref
        if not path.is_file():
            raise InputError(str(path), "extends", f"no built-in scenario or file {parent_ref!r}",
                             f"use one of {', '.join(builtins)} or a path relative to the scenario file")
        parent = _from_file(path, builtins)
    merged = parent.model_dump(exclude={"notes", "sources"} if "notes" in data else set())
    merged.update({k: v for k, v in data.items() if k not in ("timeline", "uncertain")})
    merged["timeline"] = merged.get("timeline", []) + list(data.get("timeline") or [])
    merged["uncertain"] = {**merged.get("uncertain", {}), **(data.get("uncertain") or {})}
    return merged


def _from_file(path: Path, known: Mapping[str, Scenario] | None = None) -> Scenario:
    data = resolve_extends(read_yaml(path), path.parent, known)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        from reesim.scenario_files import first_problem

        raise InputError(**first_problem(exc, path)) from exc


def load_scenario(spec: str | Path | Scenario | Mapping[str, Any], **overrides: Any) -> Scenario:
    """A scenario from a built-in name, a YAML file, a mapping or an object, with keyword overrides."""
    if isinstance(spec, Scenario):
        base = spec
    elif isinstance(spec, Mapping):
        try:
            base = Scenario.model_validate(resolve_extends(dict(spec), None))
        except ValidationError as exc:
            from reesim.scenario_files import first_problem

            raise InputError(**first_problem(exc, None)) from exc
    elif isinstance(spec, str) and spec in BUILTIN_SCENARIOS:
        base = BUILTIN_SCENARIOS[spec]
    else:
        path = Path(spec)
        if not path.is_file():
            raise InputError(str(spec), None, "no such built-in scenario or file",
                             f"use one of {', '.join(BUILTIN_SCENARIOS)} or a path to a YAML scenario file")
        base = _from_file(path)
    updates = {k: v for k, v in overrides.items() if v is not None}
    if not updates:
        return base
    try:
        return Scenario.model_validate({**base.model_dump(), **updates})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(None, ".".join(str(x) for x in first["loc"]), first["msg"], "pass a valid value") from exc
