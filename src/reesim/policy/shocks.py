"""Events that are not policies but that analysts put in scenarios: supply outages, demand shifts,
speculative hoarding and smuggling."""

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


class Smuggling(Event):
    """An informal export channel that can carry `capacity` t/yr of the covered goods from `origin` to the
    destinations outside the customs record: no export tax, tariff or licence, at an evasion cost of
    `cost` times the origin price (mislabelling, false declarations, bribes, seizures). Whether it is used
    is the engine's decision each month (`Engine._smuggle`): only while the margin over that cost is
    positive, so a channel carries goods when controls make the official route dear and none when they
    are lifted. The capacity is shared among the destinations and goods in proportion to last month's
    absorption there (final demand served plus plants' purchases): smugglers serve the markets that buy.
    It needs last month's observation, so it carries nothing in a scenario's first month."""

    instrument: Literal["smuggling"] = "smuggling"
    origin: str = "CHN"
    goods: Goods
    destinations: list[str] = ["all"]
    capacity: float = Field(ge=0.0, description="t/yr")
    cost: float = Field(0.1, ge=0.0, le=2.0, description="share of the origin price")

    def check(self, ctx: PolicyContext) -> None:
        ctx.region(self.origin)
        ctx.regions(self.destinations)
        self.goods.mask(ctx)

    def act(self, run: EventRun) -> None:
        if run.last is None:
            return
        ctx = run.ctx
        origin, goods = ctx.region(self.origin), self.goods.mask(ctx)
        destinations = ctx.regions(self.destinations)
        destinations[origin] = False
        served = (run.last.consumption + run.last.purchases) * (destinations[:, None] & goods[None, :])[None]
        total = served.sum(axis=(1, 2), keepdims=True)
        share = np.divide(served, total, out=np.zeros_like(served), where=total > 0)  # (M, R, P)
        cap = np.zeros((ctx.members, len(destinations), len(destinations), len(goods)))
        cap[:, origin] = share * self.capacity / 12.0
        route = np.zeros(cap.shape[1:], dtype=bool)
        route[origin] = destinations[:, None] & goods[None, :]
        run.wedges.combine("informal_cap", cap, where=route[None])
        run.wedges.combine("informal_cost", self.cost, where=route[None])
