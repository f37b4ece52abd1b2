"""The leverage index: what a six-month cut-off starting in month t would cost the target, per USD it costs China.

For a start month t, the run is forked: a copy of the engine (every member, with its actors, stocks,
expectations and pending investments) steps through a window of W months (default 12) with an export ban
from China to the target (default the G-7: every rare-earth oxide, metal and the magnets that contain
them, with the 0.1 % extraterritorial rule) for the first K months (default 6), while the run itself
continues without it. Over the window, per member,

    damage D(t) = sum_months [ m (U_cut - U_run) + sum_{target regions, products} q_cut (p_cut - p_run) ]
    loss   C(t) = sum_months [ (X_run - X_cut) + w (Pi_cut - Pi_run) ]
    index  L(t) = D(t) / max(C(t), f sum_months X_run)

with U the target's unmet final demand valued at base-year prices (USD million), m the damage multiplier,
q and p the target's final demand served and its prices (the extra paid for what it still gets), X China's
export revenue at its own price, Pi the cash margin earned by plants China does not control (the windfall
that finances diversification, weighted by w as in the bargaining cycle), and f a floor on the loss as a
share of the export revenue at stake (default 0.1), so that a cut-off that costs China almost nothing (or
gains it something) gives a large but finite index on the same scale in every year. L > 1: China can
hurt the target more than itself. Export revenue alone would understate China's loss: the target rebuilds
its stocks when the cut-off ends and buys back most of the forgone volume within the window.

The fork shares the run's history exactly, so D and C isolate the cut-off; all members are forked at once,
so one fork costs W months of the run. Starts where controls already cut the target off give small D and
C: the index then says little, and D and C are reported beside it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from reesim.actors import signals
from reesim.actors.strategies import EVERY_ELEMENT
from reesim.errors import InputError
from reesim.policy.event import Event
from reesim.policy.scope import Goods
from reesim.policy.timing import Month, month_index
from reesim.policy.trade_measures import ExportBan

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import Engine, StepResult
    from reesim.policy.context import PolicyContext


class LeverageSpec(BaseModel):
    """How the leverage index is computed; see the module docstring for the formula."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cutoff_months: int = Field(6, ge=1, le=60, description="K: months of the hypothetical cut-off.")
    window_months: int = Field(12, ge=1, le=120, description="W: months over which damage and loss count.")
    starts: list[Month] | None = Field(None, description="Start months; none: the last start whose window "
                                       "ends within the run.")
    target: list[str] = ["g7"]
    goods: Goods = Goods(elements=EVERY_ELEMENT, stages=["oxide", "metal"])
    extraterritorial_threshold: float | None = Field(0.001, ge=0.0, le=1.0)
    damage_multiplier: float = Field(1.0, ge=0.0, description="m: damage per USD of unmet demand at base prices.")
    rival_weight: float = Field(1.0, ge=0.0, description="w: China's loss per USD of extra margin its cut-off "
                                "hands to plants it does not control.")
    min_loss_share: float = Field(0.1, gt=0.0, le=1.0, description="f: the loss counts as at least this share "
                                  "of China's export revenue over the window.")

    def start_indices(self, base: pd.Period, horizon: int) -> list[int]:
        """Month indices of the starts; each window must end within the run's `horizon` months."""
        if self.window_months < self.cutoff_months:
            raise InputError(None, "leverage.window_months", "the window is shorter than the cut-off",
                             "count damage over at least the cut-off's months")
        if self.starts is None:
            return [horizon - self.window_months] if horizon >= self.window_months + 1 else []
        starts = [month_index(m, base) for m in self.starts]
        for month, t in zip(self.starts, starts, strict=True):
            if not 1 <= t <= horizon - self.window_months:
                raise InputError(None, "leverage.starts", f"the window from {month} does not fit in the run",
                                 f"start after {base} and at least {self.window_months} months before the end")
        return sorted(set(starts))


@dataclass(frozen=True)
class Probe:
    """What the index needs from one month: the target's unmet value, prices and demand served; China's export
    revenue; the margin earned by plants China does not control."""

    unmet: np.ndarray  # (M,)
    price: np.ndarray  # (M, Rt, P)
    served: np.ndarray  # (M, Rt, P)
    revenue: np.ndarray  # (M,)
    rivals: np.ndarray  # (M,)


def probe(view: signals.Lens, last: StepResult, target: np.ndarray) -> Probe:
    rivals = ~view.line_china["controller"]
    margin = (last.throughput * last.margin * rivals).sum(axis=1) * signals.MUSD_PER_T_USD_KG
    return Probe(signals.unmet_value(view, last, target), last.price[:, target], last.consumption[:, target],
                 signals.export_revenue(view, last), margin)


class CutOff:
    """The hypothetical cut-off as an actor added to the fork: the ban in every member for K months."""

    name = "leverage-cutoff"

    def __init__(self, ban: Event, start: int, months: int) -> None:
        self.ban, self.start, self.months = ban, start, months

    def decide(self, t: int, last: StepResult | None, ctx: PolicyContext) -> dict[str, tuple[Event, np.ndarray]]:
        if self.start <= t < self.start + self.months:
            return {"ban": (self.ban, np.ones(ctx.members, dtype=bool))}
        return {}


def cut_off(engine: Engine, t: int, spec: LeverageSpec, view: signals.Lens, target: np.ndarray,
            warm: np.ndarray | None) -> list[Probe]:
    """Fork the engine before month t, run the window with the cut-off, and probe every month."""
    ctx = view.ctx
    fork = copy.deepcopy(engine, memo={id(engine.s): engine.s, id(ctx): ctx})
    ban = ExportBan(start=str(ctx.base_month), goods=spec.goods, destinations=spec.target,
                    extraterritorial_threshold=spec.extraterritorial_threshold)
    fork.wedges.actors.append(CutOff(ban, t, spec.cutoff_months))
    probes = []
    for month in range(t, t + spec.window_months):
        step = fork.step(month, warm_price=warm)
        warm = step.price.transpose(0, 2, 1).reshape(-1, step.price.shape[1])
        probes.append(probe(view, step, target))
    return probes


def leverage_dataset(run: Sequence[Probe], forks: dict[int, list[Probe]], spec: LeverageSpec,
                     months: pd.PeriodIndex) -> xr.Dataset:
    """Damage, loss and index (member, start) from the run's monthly probes and each fork's."""
    damage, loss, stake = [], [], []
    for t, cut in forks.items():
        ref = run[t: t + len(cut)]
        stake.append(sum(r.revenue for r in ref))
        damage.append(sum(spec.damage_multiplier * (c.unmet - r.unmet)
                          + ((c.price - r.price) * c.served).sum(axis=(1, 2)) * signals.MUSD_PER_T_USD_KG
                          for c, r in zip(cut, ref, strict=True)))
        loss.append(sum(r.revenue - c.revenue + spec.rival_weight * (c.rivals - r.rivals)
                        for c, r in zip(cut, ref, strict=True)))
    d, c, x = (np.stack(values, axis=1) for values in (damage, loss, stake))
    starts = months[list(forks)].to_timestamp().values
    coords = {"member": np.arange(d.shape[0]), "start": starts}
    return xr.Dataset({"damage": (("member", "start"), d, {"units": "USD million"}),
                       "loss": (("member", "start"), c, {"units": "USD million"}),
                       "index": (("member", "start"), d / np.maximum(c, spec.min_loss_share * x), {"units": "1"})},
                      coords=coords)
