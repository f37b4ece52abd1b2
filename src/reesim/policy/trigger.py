"""Triggers: an event that acts only in the members where an observed condition has fired.

A calibrated control is re-imposed when something happens (China's share of a stage falls below a
level, a price passes a threshold), not on a date. Each member fires on its own path: once the
condition holds in last month's observation, the event acts there for `hold_months`, after which it
may fire again only when `cooldown_months` have passed. Members are masked, not looped over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from reesim.engine.structure import STAGES
from reesim.policy.context import PolicyContext
from reesim.policy.scope import Stage

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult


class Trigger(BaseModel):
    """When an event acts: `metric` of last month compared with `above` or `below`.

    metric: `price` (USD/kg of `product` in `region`), `relative_price` (that price over the base-year
    price), or `china_share` (China's share of the output of `stage`, by `by` = location or controller).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["price", "relative_price", "china_share"]
    region: str = "CHN"
    product: str | None = None
    stage: Stage | None = None
    by: Literal["location", "controller"] = "controller"
    above: float | None = None
    below: float | None = None
    hold_months: int = Field(6, ge=1, le=240)
    cooldown_months: int = Field(0, ge=0, le=240)

    @model_validator(mode="after")
    def _complete(self) -> Trigger:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of `above` or `below`")
        if self.metric == "china_share" and self.stage is None:
            raise ValueError("a china_share trigger needs a `stage`")
        if self.metric != "china_share" and self.product is None:
            raise ValueError(f"a {self.metric} trigger needs a `product`")
        return self

    def check(self, ctx: PolicyContext) -> None:
        ctx.region(self.region)
        if self.product:
            ctx.product(self.product)

    def value(self, ctx: PolicyContext, last: StepResult) -> np.ndarray:
        """(M,) the metric in last month's observation."""
        s = ctx.structure
        if self.metric == "china_share":
            lines = s.line_stage == STAGES.index(self.stage)
            holder = s.facility_controller[s.line_facility] if self.by == "controller" else s.line_region
            china = ctx.regions(["china"])[holder] & lines
            total = last.throughput[:, lines].sum(axis=1)
            return np.divide(last.throughput[:, china].sum(axis=1), total, out=np.ones_like(total), where=total > 0)
        price = last.price[:, ctx.region(self.region), ctx.product(self.product)]
        if self.metric == "relative_price":
            return price / s.price_base[ctx.product(self.product)]
        return price

    def holds(self, ctx: PolicyContext, last: StepResult) -> np.ndarray:
        """(M,) whether the condition holds in each member."""
        value = self.value(ctx, last)
        return value > self.above if self.above is not None else value < self.below


class TriggerState:
    """Per-member firing state of one triggered event."""

    def __init__(self, trigger: Trigger, members: int) -> None:
        self.trigger = trigger
        self.until = np.full(members, -1)  # acts while t < until
        self.quiet_until = np.full(members, -1)  # may fire again from this month
        self.active: dict[int, np.ndarray] = {}  # month -> mask of members in which the event acted

    def update(self, ctx: PolicyContext, t: int, last: StepResult | None) -> np.ndarray:
        """Fire where the condition holds and the event is neither acting nor cooling down; the mask for t."""
        if last is not None:
            fire = self.trigger.holds(ctx, last) & (t >= self.until) & (t >= self.quiet_until)
            self.until = np.where(fire, t + self.trigger.hold_months, self.until)
            self.quiet_until = np.where(fire, t + self.trigger.hold_months + self.trigger.cooldown_months,
                                        self.quiet_until)
        self.active[t] = t < self.until
        return self.active[t]
