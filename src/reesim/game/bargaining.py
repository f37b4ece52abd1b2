"""The bargaining cycle over export controls, as a pure state machine vectorised over ensemble members.

Stylised on 2025 (facts.md C1): licences in April, easing after the London talks in June with the licensing
regime kept; an expansion in October, suspended for one year after Busan. Each member is in one phase:

    CALM (0)       no controls;
    CONTROLS (1)   controls on at `intensity`; the target's damage D and China's own cost C accumulate;
    EASED (2)      the target conceded; a residual regime stays on at `eased_intensity`;
    SUSPENDED (3)  China's own cost (or the maximum duration) ended the controls; none for a fixed time.

Each month, with this month's observations per member (target damage d, China's lost export revenue l,
diversification provoked v, tension signal s), a member that was in CONTROLS accumulates
D += d, C += l + diversification_weight * v, and then, in this order:

    concession  (D >= damage_threshold and U < min(1, concession_scale * D / damage_threshold)) -> EASED
    suspension  (C >= cost_threshold or months in CONTROLS >= max_duration)                    -> SUSPENDED

with U ~ Uniform(0, 1) drawn for every member every month (so the random stream does not depend on the
path, and a given generator state gives the same result). Then EASED returns to CALM after `eased_months`
and SUSPENDED after `suspension_months`; finally a member in CALM or EASED whose tension s >= trigger_tension
and whose last controls ended at least `cooldown_months` ago enters CONTROLS with D = C = 0. The output
`intensity` in [0, 1] for the coming month is 0, `intensity`, `eased_intensity` or 0 by phase; the policy
layer maps it to licence approval rates. Observations of the month controls start predate them and are
not accumulated.

All defaults are assumptions (the one-year suspension is Busan's, reported) and should be varied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, model_validator

from reesim.errors import InputError

CALM, CONTROLS, EASED, SUSPENDED = 0, 1, 2, 3
PHASES = ("calm", "controls", "eased", "suspended")


class BargainingParams(BaseModel):
    """Parameters of the bargaining cycle; money in USD million, durations in months."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger_tension: FiniteFloat = Field(0.5, description="Tension signal at or above which China imposes "
                                         "controls (from calm or eased). Assumption.")
    intensity: float = Field(0.7, ge=0, le=1, description="Controls intensity while controls are on: 0 none, "
                             "1 a full cut-off. Assumption (licences, not a ban).")
    eased_intensity: float = Field(0.2, ge=0, le=1, description="Intensity of the residual regime after a "
                                   "concession (April 2025 licences stayed after London). Assumption.")
    damage_threshold: float = Field(1000.0, gt=0, description="Target damage accumulated in an episode from "
                                    "which the target may concede, USD million. Assumption.")
    concession_scale: float = Field(0.5, ge=0, description="Monthly concession probability above the "
                                    "threshold is min(1, scale * D / damage_threshold). Assumption.")
    cost_threshold: float = Field(1500.0, gt=0, description="China's own cost accumulated in an episode at "
                                  "which it suspends the controls, USD million. Assumption.")
    diversification_weight: float = Field(1.0, ge=0, description="China's cost per unit of the "
                                          "diversification input (1 if it is already in USD million).")
    max_duration: int = Field(12, ge=1, description="Months of controls after which China suspends them "
                              "regardless. Assumption.")
    eased_months: int = Field(12, ge=1, description="Months the residual regime lasts before calm. "
                              "Assumption.")
    suspension_months: int = Field(12, ge=1, description="Months a suspension lasts (Busan: one year, "
                                   "reported).")
    cooldown_months: int = Field(3, ge=0, description="Months after controls end before a new trigger can "
                                 "start them again. Assumption.")

    @model_validator(mode="after")
    def _easing_eases(self) -> BargainingParams:
        if self.eased_intensity > self.intensity:
            raise ValueError(f"eased_intensity {self.eased_intensity} exceeds intensity {self.intensity}: "
                             "easing would escalate")
        return self


@dataclass(frozen=True, eq=False)
class CycleState:
    """State of every member, arrays of shape (members,).

    `damage` and `china_cost` are the totals of the current (or last) episode of controls;
    `months_since_controls` is inf before the first episode; `intensity` applies to the coming month.
    """

    phase: np.ndarray
    damage: np.ndarray
    china_cost: np.ndarray
    months_in_phase: np.ndarray
    months_since_controls: np.ndarray
    intensity: np.ndarray


@dataclass(frozen=True, eq=False)
class CycleTrace:
    """Monthly path of `run_cycle`, arrays of shape (members, months): the state after each month."""

    phase: np.ndarray
    intensity: np.ndarray
    damage: np.ndarray
    china_cost: np.ndarray


def initial_state(members: int) -> CycleState:
    """Every member calm, with no previous episode of controls."""
    return CycleState(np.full(members, CALM, dtype=np.int8), np.zeros(members), np.zeros(members),
                      np.zeros(members, dtype=np.int64), np.full(members, np.inf), np.zeros(members))


def step(state: CycleState, damage: np.ndarray, lost_revenue: np.ndarray, diversification: np.ndarray,
         tension: np.ndarray, params: BargainingParams, rng: np.random.Generator) -> CycleState:
    """Advance every member by one month; see the module docstring for the equations."""
    n = len(state.phase)
    d, lost, div, tens = (_member_array(x, name, n) for x, name in (
        (damage, "damage"), (lost_revenue, "lost_revenue"), (diversification, "diversification"),
        (tension, "tension")))
    draw = rng.random(n)
    phase = state.phase.copy()
    on = phase == CONTROLS
    acc_damage = np.where(on, state.damage + d, state.damage)
    acc_cost = np.where(on, state.china_cost + lost + params.diversification_weight * div, state.china_cost)
    months = state.months_in_phase + 1
    since = np.where(on, state.months_since_controls, state.months_since_controls + 1)

    pressure = acc_damage / params.damage_threshold
    concede = on & (pressure >= 1) & (draw < np.minimum(1.0, params.concession_scale * pressure))
    suspend = on & ~concede & ((acc_cost >= params.cost_threshold) | (months >= params.max_duration))
    phase[concede], phase[suspend] = EASED, SUSPENDED
    phase[(state.phase == EASED) & (months >= params.eased_months)] = CALM
    phase[(state.phase == SUSPENDED) & (months >= params.suspension_months)] = CALM
    ended = concede | suspend
    since[ended] = 0

    trigger = (((phase == CALM) | (phase == EASED)) & (tens >= params.trigger_tension)
               & (since >= params.cooldown_months))
    phase[trigger] = CONTROLS
    acc_damage[trigger], acc_cost[trigger] = 0.0, 0.0
    months[(phase != state.phase) | ended | trigger] = 0
    level = np.array([0.0, params.intensity, params.eased_intensity, 0.0])
    return CycleState(phase, acc_damage, acc_cost, months, since, level[phase])


def run_cycle(damage: np.ndarray, lost_revenue: np.ndarray, diversification: np.ndarray, tension: np.ndarray,
              params: BargainingParams, rng: np.random.Generator) -> CycleTrace:
    """The cycle driven by given monthly paths, each (members, months); for analyses without feedback.

    In a simulation the damage depends on the intensity chosen, so the engine calls `step` month by month
    instead.
    """
    tension = np.asarray(tension, dtype=float)
    if tension.ndim != 2:
        raise InputError(None, "tension", f"shape {tension.shape} is not (members, months)",
                         "give every input as a (members, months) array")
    members, months = tension.shape
    inputs = [np.broadcast_to(np.asarray(x, dtype=float), (members, months))
              for x in (damage, lost_revenue, diversification)]
    state = initial_state(members)
    out = {name: np.zeros((members, months)) for name in ("phase", "intensity", "damage", "china_cost")}
    for t in range(months):
        state = step(state, *(x[:, t] for x in inputs), tension[:, t], params, rng)
        for name, values in out.items():
            values[:, t] = getattr(state, name)
    return CycleTrace(out["phase"].astype(np.int8), out["intensity"], out["damage"], out["china_cost"])


def _member_array(values: np.ndarray, name: str, members: int) -> np.ndarray:
    """One finite number per member (a scalar applies to all)."""
    try:
        arr = np.broadcast_to(np.asarray(values, dtype=float), (members,))
    except ValueError as err:
        raise InputError(None, name, f"shape {np.shape(values)} does not fit {members} members",
                         "give one value per member") from err
    if not np.isfinite(arr).all():
        raise InputError(None, name, f"not finite for member {int(np.flatnonzero(~np.isfinite(arr))[0])}",
                         "give a finite observation for every member")
    return arr
