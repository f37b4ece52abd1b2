"""What actors and metrics read from one month of the engine, per member (arrays of shape (members,)).

Actors and the metrics layer observe the same quantities, computed here once, so that a strategy reacts to
exactly what the analysis reports. Money is in USD million per month; quantities in t per month unless
stated. Every function takes a `Lens` (index masks compiled once from the policy context) and the month's
`StepResult`; nothing loops over members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from reesim.engine.structure import STAGES
from reesim.policy.context import PolicyContext

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult

MUSD_PER_T_USD_KG = 1e-3  # 1 t at 1 USD/kg is USD 0.001 million
BY = ("location", "controller")


@dataclass(frozen=True, eq=False)
class Lens:
    """Masks and coefficients of one world that the signals need, compiled once per run."""

    ctx: PolicyContext
    exporter: int  # region index of China
    china: np.ndarray  # (R,) regions aligned with China
    g7: np.ndarray  # (R,) G-7 regions
    line_china: dict[str, np.ndarray]  # 'location' / 'controller' -> (N,) lines held by China
    stage_lines: np.ndarray  # (4, N) lines counted at each stage (mines only at the mining stage)
    recovery: np.ndarray  # (M, N) saleable output per unit of output coefficient (separation recovery)

    @property
    def structure(self):
        return self.ctx.structure


def lens(ctx: PolicyContext, exporter: str = "CHN") -> Lens:
    """The lens of a policy context; `exporter` is China's region code."""
    s = ctx.structure
    china = ctx.regions(["china"])
    mines = ctx.lines(processes=["mine"])
    stage_lines = np.stack([(s.line_stage == i) & (mines if name == "mining" else True)
                            for i, name in enumerate(STAGES)])
    separation = s.line_stage == STAGES.index("separation")
    recovery = np.where(separation[None, :], ctx.params["separation_recovery"][:, None], 1.0)
    return Lens(ctx=ctx, exporter=ctx.region(exporter), china=china, g7=ctx.regions(["g7"]),
                line_china={"location": china[s.line_region],
                            "controller": china[s.facility_controller[s.line_facility]]},
                stage_lines=stage_lines, recovery=recovery)


def export_revenue(view: Lens, last: StepResult) -> np.ndarray:
    """China's export revenue at its own price: sum of exports x China's price (licence rent excluded)."""
    c = view.exporter
    exports = last.trade[:, :, c, :].sum(axis=2) - last.trade[:, :, c, c]  # (M, P)
    return (exports * last.price[:, c, :]).sum(axis=1) * MUSD_PER_T_USD_KG


def licence_rent(view: Lens, last: StepResult) -> np.ndarray:
    """Scarcity rent on China's capped export routes: exports x (destination price - delivered cost).

    Who keeps it (licensed exporters, traders) is an assumption of the objectives, not of the model.
    """
    c = view.exporter
    return (last.trade[:, :, c, :] * last.rent[:, :, c, :]).sum(axis=(1, 2)) * MUSD_PER_T_USD_KG


def unmet_value(view: Lens, last: StepResult, regions: np.ndarray) -> np.ndarray:
    """Final demand unmet in `regions` (R,) mask, valued at base-year prices."""
    short = last.shortfall[:, regions].sum(axis=(1, 2))  # (M, P)
    return (short * view.structure.price_base[None, :]).sum(axis=1) * MUSD_PER_T_USD_KG


def price_premium(last: StepResult, reference: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Extra paid on final demand served in `regions` over `reference` prices (M, R, P); rises only."""
    extra = np.maximum(last.price - reference, 0.0)[:, regions]
    return (last.consumption[:, regions] * extra).sum(axis=(1, 2)) * MUSD_PER_T_USD_KG


def spending(last: StepResult, regions: np.ndarray) -> np.ndarray:
    """What `regions` paid for rare-earth goods: final demand and plants' purchases at local prices."""
    bought = (last.consumption + last.purchases)[:, regions]
    return (bought * last.price[:, regions]).sum(axis=(1, 2)) * MUSD_PER_T_USD_KG


def stage_output(view: Lens, last: StepResult) -> np.ndarray:
    """(M, 4) throughput at each stage (t REO for mining and separation, t metal, t magnet)."""
    return (last.throughput * view.recovery) @ view.stage_lines.T


def china_stage_share(view: Lens, last: StepResult, by: str, of: str = "output") -> np.ndarray:
    """(M, 4) China's share of each stage's throughput (`of`='output') or available capacity ('capacity'),
    by location or by controller (1 where the stage has none)."""
    output = (last.throughput if of == "output" else last.capacity) * view.recovery
    held = (output * view.line_china[by]) @ view.stage_lines.T
    total = output @ view.stage_lines.T
    return np.divide(held, total, out=np.ones_like(total), where=total > 0)


def capacity(view: Lens, last: StepResult, lines: np.ndarray) -> np.ndarray:
    """(M, 4) available capacity of the `lines` (N,) mask at each stage, t/yr."""
    return (last.capacity * lines) @ view.stage_lines.T * 12.0


def value_added(view: Lens, last: StepResult) -> np.ndarray:
    """(M, N) value added by each line: throughput x (output value - input cost) at local prices.

    Thrifting of heavy rare earths in magnets is not visible here (the recipe's coefficients are used), so
    magnet makers' value added is slightly understated when Dy and Tb are dear.
    """
    s = view.structure
    at_line = last.price[:, s.line_region, :]  # (M, N, P)
    value = (at_line * s.outputs[None]).sum(axis=2) * view.recovery
    cost = (at_line * s.inputs[None]).sum(axis=2)
    return last.throughput * (value - cost) * MUSD_PER_T_USD_KG


def windfall(last: StepResult, reference_margin: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Margin earned by `lines` (N,) above `reference_margin` (M, N): the rents that finance rivals."""
    extra = np.maximum(last.margin - reference_margin, 0.0) * lines
    return (last.throughput * extra).sum(axis=1) * MUSD_PER_T_USD_KG


def requirement(view: Lens, final: np.ndarray) -> np.ndarray:
    """(M, 4) what final demand `final` (M, P) needs from each stage, in that stage's units.

    Magnets and metals are rolled up the chain with the capacity-weighted input coefficients of the lines
    that make them; oxides need their own weight in separated REO, and mining as much REO as separation
    over its recovery. Joint production is ignored (the basket's unwanted co-products are not counted), so
    the requirement is a lower bound for the mining and separation stages.
    """
    s = view.structure
    total = final.astype(float).copy()
    for stage in ("magnet", "metal"):
        makers = s.line_stage == STAGES.index(stage)
        for p in np.flatnonzero(s.product_stage == STAGES.index(stage)):
            lines = makers & (s.outputs[:, p] > 0) & (s.inputs.sum(axis=1) > 0)  # recyclers buy no input
            if not lines.any():
                continue
            weight = s.line_capacity[lines] * s.outputs[lines, p]
            per_unit = (s.inputs[lines] * s.line_capacity[lines, None]).sum(axis=0) / weight.sum()  # (P,)
            total += total[:, [p]] * per_unit[None, :]
    oxides = s.product_stage == STAGES.index("separation")
    reo = total[:, oxides].sum(axis=1)
    recovery = view.ctx.params["separation_recovery"]
    magnet = total[:, s.product_stage == STAGES.index("magnet")].sum(axis=1)
    metal = total[:, s.product_stage == STAGES.index("metal")].sum(axis=1)
    return np.stack([reo / recovery, reo, metal, magnet], axis=1)


def final_demand(last: StepResult, regions: np.ndarray) -> np.ndarray:
    """(M, P) final demand of `regions`: served plus unmet (demand at the expected price)."""
    return last.consumption[:, regions].sum(axis=1) + last.shortfall[:, regions].sum(axis=(1, 2))
