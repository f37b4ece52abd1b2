"""Objectives: how simulated outcome metrics become the payoffs of the China x G-7 game.

Each player's payoff is a weighted sum of outcome metrics, one number per run (e.g. a sum over the horizon):

    payoff(member, china, g7) = sum_k weight_k * metric_k(member, china, g7)

A weight converts its metric into a common unit, USD million by default, and its sign says whether the player
wants more or less of it. The defaults below are assumptions, not estimates: they encode a reading of the
players' aims (China: revenue, value added and leverage, against its own losses and the diversification it
provokes; the G-7: fewer shortfalls, lower fiscal cost and prices, more non-China capacity) and should be
varied in any analysis whose conclusion depends on them. Metric names are free strings, so new metrics need
no code change, only a column in the metrics table and a weight here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from reesim.errors import InputError

KEYS = ("member", "china_strategy", "g7_strategy")

# Assumed weights, USD million per unit of each metric; units of the metrics in docs/game.md.
DEFAULT_CHINA_WEIGHTS: dict[str, float] = {
    "china_export_revenue": 1.0,  # USD million of revenue over the horizon, at China's own price
    "china_licence_rent": 0.5,  # USD million of rent on capped export routes: half assumed kept by China
    "china_value_added_share": 5000.0,  # share 0-1 of the chain's value added: 50 per percentage point
    "leverage_index": 1000.0,  # dimensionless damage-to-own-loss ratio of a cut-off (the metrics layer's)
    "china_own_loss": -1.0,  # USD million China's treasury pays (export rebates less taxes collected)
    "diversification_provoked": -0.05,  # t/yr of non-China separation and magnet capacity added: 50 per kt/yr
}
DEFAULT_G7_WEIGHTS: dict[str, float] = {
    "g7_shortfall_value": -1.0,  # USD million of demand unmet
    "g7_fiscal_cost": -1.0,  # USD million of floors, subsidies and stockpiles
    "non_china_capacity": 0.05,  # t/yr of non-China separation and magnet capacity at the horizon: 50 per kt/yr
    "g7_prices_paid": -1.0,  # USD million paid for rare-earth inputs
}


class Objective(BaseModel):
    """A player's objective: a weight per metric name; payoff = sum of weight * metric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, FiniteFloat] = Field(
        min_length=1,
        description="Weight per metric name, payoff units per metric unit; sign = wanted direction.")


class Objectives(BaseModel):
    """Both players' objectives; the defaults are the assumed weights of this module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    china: Objective = Field(default_factory=lambda: Objective(weights=DEFAULT_CHINA_WEIGHTS),
                             description="The row player's (leader candidate's) objective.")
    g7: Objective = Field(default_factory=lambda: Objective(weights=DEFAULT_G7_WEIGHTS),
                          description="The column player's objective.")


def payoff_tables(metrics: pd.DataFrame, objectives: Objectives | None = None, *,
                  source: str | None = None) -> tuple[xr.DataArray, xr.DataArray]:
    """China's and the G-7's payoffs, each a DataArray with dims (member, china, g7).

    `metrics` has one row per run with columns member, china_strategy, g7_strategy (or those as index
    levels) and one column per metric; other columns are ignored. Every (member, china, g7) combination must
    appear exactly once. Strategies and members keep their order of first appearance. `source` names the
    file the metrics came from, for error messages.
    """
    objectives = objectives or Objectives()
    frame = metrics.reset_index() if set(KEYS) & set(metrics.index.names) else metrics
    missing_keys = [k for k in KEYS if k not in frame.columns]
    if missing_keys:
        raise InputError(source, ", ".join(missing_keys), "key column(s) missing from the metrics table",
                         f"give one row per run with columns {', '.join(KEYS)}")
    if frame[list(KEYS)].isna().any().any():
        raise InputError(source, ", ".join(KEYS), "a key is empty in some row",
                         "name the member and both strategies in every row")
    _check_metrics(frame, objectives, source)
    codes, labels = zip(*(pd.factorize(frame[k]) for k in KEYS), strict=True)
    shape = tuple(len(lab) for lab in labels)
    flat = np.ravel_multi_index(codes, shape)
    _check_grid(np.bincount(flat, minlength=int(np.prod(shape))), shape, labels, source)
    coords = {"member": list(labels[0]), "china": [str(x) for x in labels[1]],
              "g7": [str(x) for x in labels[2]]}
    tables = []
    for player, objective in (("china", objectives.china), ("g7", objectives.g7)):
        values = np.zeros(int(np.prod(shape)))
        values[flat] = sum(w * frame[name].to_numpy(dtype=float) for name, w in objective.weights.items())
        tables.append(xr.DataArray(values.reshape(shape), dims=("member", "china", "g7"), coords=coords,
                                   name=f"{player}_payoff",
                                   attrs={"description": f"{player} payoff: weighted sum of metrics",
                                          "weights": dict(objective.weights)}))
    return tables[0], tables[1]


def _check_metrics(frame: pd.DataFrame, objectives: Objectives, source: str | None) -> None:
    """Every weighted metric is a column with a number in every row."""
    for player, objective in (("china", objectives.china), ("g7", objectives.g7)):
        for name in objective.weights:
            if name not in frame.columns:
                raise InputError(source, name, f"metric {name!r} of the {player} objective is not in the "
                                 "metrics table",
                                 f"add a column {name!r} (one value per member, china_strategy, g7_strategy) "
                                 f"or drop it from objectives.{player}.weights")
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            if not np.isfinite(values).all():
                row = frame.iloc[int(np.flatnonzero(~np.isfinite(values))[0])]
                where = ", ".join(f"{k}={row[k]}" for k in KEYS)
                raise InputError(source, name, f"metric {name!r} is missing or not a number at {where}",
                                 "rerun or fill that run, or drop the metric from the objective")


def _check_grid(counts: np.ndarray, shape: tuple[int, ...], labels: tuple, source: str | None) -> None:
    """Each (member, china, g7) cell has exactly one run."""
    for bad, problem in ((counts > 1, "more than one run"), (counts == 0, "no run")):
        if bad.any():
            cells = [", ".join(f"{k}={lab[i]}" for k, lab, i in zip(KEYS, labels, idx, strict=True))
                     for idx in zip(*np.unravel_index(np.flatnonzero(bad)[:3], shape), strict=True)]
            raise InputError(source, ", ".join(KEYS), f"{int(bad.sum())} cell(s) of the grid have {problem}, "
                             "e.g. " + "; ".join(f"({c})" for c in cells),
                             "give exactly one row per member and strategy pair")
