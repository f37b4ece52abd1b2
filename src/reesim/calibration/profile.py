"""Profiles of the loss over scenario fields at the calibrated point: the quota's tension and the risk of
a speculative episode.

`tension` (the perceived supply risk a quota or ban signals to holders abroad) and `risk` (the perceived
risk on which a `speculation` event's holders hoard) are fields of the scenario's events, the same in
every member, so they cannot be dimensions of a design that puts one candidate in each member. They are
profiled instead: the scenario is run with the least-squares parameters and each value in turn on every
event that has the field, and the loss of each run is reported. The scenario keeps the best value (a
profile, not a joint fit: the other parameters are not refitted at each value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from reesim.calibration.batch import run_design
from reesim.calibration.fit import Target
from reesim.calibration.objective import loss
from reesim.scenario import Scenario

PROFILED: dict[str, tuple[float, ...]] = {
    "tension": (0.0, 0.3, 1.0, 3.0),
    "risk": (0.0, 1.0, 2.5, 4.0, 5.0),
}


def with_field(scenario: Scenario, field: str, value: float) -> Scenario:
    """The scenario with `field` set to `value` on every timeline event that has the field."""
    timeline = [e.model_copy(update={field: value}) if field in type(e).model_fields else e
                for e in scenario.timeline]
    return scenario.model_copy(update={"timeline": timeline})


def field_profile(scenario: Scenario, parameters: Mapping[str, float], target: Target, field: str,
                  values: Sequence[float]) -> pd.DataFrame:
    """Loss (mean squared log residual of the fitted figures) and RMS for each value of `field`."""
    used = target.used()
    rows = []
    for value in values:
        run = run_design(with_field(scenario, field, value), {k: np.array([v]) for k, v in parameters.items()},
                         target.points, domestic=target.domestic)
        result = float(loss(target.residuals(run)[:, used])[0])
        rows.append({field: value, "loss": result, "rmse": float(np.sqrt(result))})
    return pd.DataFrame(rows)


def profiles(scenario: Scenario, parameters: Mapping[str, float], target: Target) -> dict[str, pd.DataFrame]:
    """The profile of every field in `PROFILED` that some event of the scenario has."""
    return {field: field_profile(scenario, parameters, target, field, values)
            for field, values in PROFILED.items()
            if any(field in type(e).model_fields for e in scenario.timeline)}
