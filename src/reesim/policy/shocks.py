"""Events that are not policies but that analysts put in scenarios: supply outages and demand shifts."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from reesim.policy.context import PolicyContext
from reesim.policy.event import Event, EventRun
from reesim.policy.scope import Goods, Plants


class Outage(Event):
    """Selected plants lose `share` of their capacity (a conflict, a border closure, a flood)."""

    instrument: Literal["outage"] = "outage"
    plants: Plants
    share: float = Field(ge=0.0, le=1.0)

    def check(self, ctx: PolicyContext) -> None:
        self.plants.mask(ctx)

    def act(self, run: EventRun) -> None:
        run.wedges.combine("capacity_factor", 1.0 - self.share, where=self.plants.mask(run.ctx)[None])


class DemandShift(Event):
    """Final demand of the selected regions, sectors and products is multiplied by `factor`
    (e.g. 1.2 for a faster EV uptake; empty lists select all)."""

    instrument: Literal["demand_shift"] = "demand_shift"
    regions: list[str] = ["all"]
    sectors: list[str] = []
    products: list[str] = []
    factor: float = Field(gt=0.0, le=10.0)

    def check(self, ctx: PolicyContext) -> None:
        self._where(ctx)

    def _where(self, ctx: PolicyContext) -> np.ndarray:
        s = ctx.structure
        unknown = sorted(set(self.sectors) - set(s.sectors))
        if unknown:
            raise ValueError(f"unknown sector(s) {unknown}; use {', '.join(s.sectors)}")
        sectors = np.isin(s.sectors, self.sectors) if self.sectors else np.ones(len(s.sectors), dtype=bool)
        products = np.zeros(len(s.products), dtype=bool)
        for name in self.products:
            products[ctx.product(name)] = True
        if not self.products:
            products[:] = True
        return ctx.regions(self.regions)[:, None, None] & sectors[None, :, None] & products[None, None, :]

    def act(self, run: EventRun) -> None:
        run.wedges.combine("demand_factor", self.factor, where=self._where(run.ctx)[None])


class Speculation(Event):
    """Holders in `regions` buy the covered goods for stock as if they saw a perceived supply risk of
    `risk`: their desired stock is (1 + precaution x risk) times their normal cover while the event is in
    force, and they sell it back when it ends. It stands for buying that no policy of the scenario signals:
    speculative funds hoarding ahead of an expected shortage (China's domestic market from February to
    July 2011, China Daily, 30 March 2011) or panic buying by users. Where a policy in force signals a
    higher risk to the same holders, the higher one counts."""

    instrument: Literal["speculation"] = "speculation"
    regions: list[str]
    goods: Goods
    risk: float = Field(ge=0.0, le=5.0, description="perceived supply risk, in the unit of a policy's tension")

    def check(self, ctx: PolicyContext) -> None:
        ctx.regions(self.regions)
        self.goods.mask(ctx)

    def act(self, run: EventRun) -> None:
        where = run.ctx.regions(self.regions)[:, None] & self.goods.mask(run.ctx)[None, :]
        run.wedges.combine("tension", self.risk, where=where[None])
