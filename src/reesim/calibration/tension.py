"""Profile of the loss over the quota's tension, at the calibrated point.

`tension` (the perceived supply risk a quota or ban signals to holders abroad) is a field of the
scenario's events, the same in every member, so it cannot be a dimension of a design that puts one
candidate in each member. It is profiled instead: the scenario is run with the least-squares parameters
and each tension in turn on every event that has one, and the loss of each run is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from reesim.calibration.batch import run_design
from reesim.calibration.fit import Target
from reesim.calibration.objective import loss
from reesim.scenario import Scenario

TENSIONS = (0.0, 0.3, 1.0, 3.0)


def with_tension(scenario: Scenario, tension: float) -> Scenario:
    """The scenario with `tension` on every timeline event that signals one (quotas, licences, bans)."""
    timeline = [e.model_copy(update={"tension": tension}) if hasattr(e, "tension") else e for e in scenario.timeline]
    return scenario.model_copy(update={"timeline": timeline})


def tension_profile(scenario: Scenario, parameters: Mapping[str, float], target: Target,
                    tensions: Sequence[float] = TENSIONS) -> pd.DataFrame:
    """Loss (mean squared log residual of the fitted figures) and RMS of each tension at `parameters`."""
    used = target.used()
    rows = []
    for tension in tensions:
        run = run_design(with_tension(scenario, tension), {k: np.array([v]) for k, v in parameters.items()},
                         target.points)
        value = float(loss(target.residuals(run)[:, used])[0])
        rows.append({"tension": tension, "loss": value, "rmse": float(np.sqrt(value))})
    return pd.DataFrame(rows)
