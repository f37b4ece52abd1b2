"""Support for producers and buffers for users: price floors, capital grants, production subsidies,
recycling incentives and strategic stockpiles. Each books what it pays to the ledger of its payer."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from reesim.engine.structure import STAGES
from reesim.policy.context import PolicyContext
from reesim.policy.event import Event, EventRun, gather
from reesim.policy.scope import Plants
from reesim.policy.trade_measures import MUSD_PER_T_USD_KG, _floor_offer, _floor_settle

# Capital cost of new capacity, USD per t/yr of capacity, by stage. Derived from facts.md E (assumed
# where marked): separation from Iluka Eneabba (about US$1.15 bn for 23 kt/yr REO) and Energy Fuels
# Phase 2 ($410 M for about 6.3 kt/yr); magnets from Vulcan ($1.4 bn for 10 kt/yr) and Neo Narva
# (EUR 75 M for 2 kt/yr); mining and metal assumed.
CAPEX_PER_T_YR = {"mining": 30_000.0, "separation": 55_000.0, "metal": 20_000.0, "magnet": 100_000.0}


class PriceFloor(Event):
    """A price floor (contract for difference) for selected producers of a product: when last month's price
    in their region is below `level` (USD/kg), the payer tops up the difference on every kg they make, so
    they produce as if the price were the floor. The payments are the instrument's fiscal cost."""

    instrument: Literal["price_floor"] = "price_floor"
    producers: Plants
    product: str
    level: float = Field(gt=0.0)
    payer: str

    def check(self, ctx: PolicyContext) -> None:
        gather(
            lambda: self.producers.mask(ctx),
            lambda: ctx.product(self.product),
            lambda: ctx.region(self.payer),
        )

    def act(self, run: EventRun) -> None:
        goods = np.zeros(len(run.ctx.structure.products), dtype=bool)
        goods[run.ctx.product(self.product)] = True
        _floor_offer(run, self.producers.mask(run.ctx), goods, self.level)

    def settle(self, run: EventRun) -> None:
        _floor_settle(run, self.payer)


class CapitalGrant(Event):
    """Capital grants or concessional loans covering `share` of the capital cost of new capacity at the
    selected plants: the margin their owners require before expanding falls by that share, and the payer
    books the share of the capital cost (CAPEX_PER_T_YR by stage) of every expansion decided."""

    instrument: Literal["capital_grant"] = "capital_grant"
    plants: Plants
    share: float = Field(ge=0.0, le=1.0)
    payer: str

    def check(self, ctx: PolicyContext) -> None:
        gather(lambda: self.plants.mask(ctx), lambda: ctx.region(self.payer))

    def act(self, run: EventRun) -> None:
        run.wedges.combine("hurdle_factor", 1.0 - self.share, where=self.plants.mask(run.ctx)[None])

    def settle(self, run: EventRun) -> None:
        s = run.ctx.structure
        capex = np.array([CAPEX_PER_T_YR[STAGES[i]] for i in s.line_stage])
        added = run.last.expansion * 12.0 * self.plants.mask(run.ctx)  # t/yr decided last month
        run.ledger.add(
            run.label, run.t - 1, run.ctx.region(self.payer), self.share * (added * capex).sum(axis=1) * 1e-6
        )


class ProductionSubsidy(Event):
    """A subsidy of `amount` USD per kg of throughput at the selected plants, paid by `payer`."""

    instrument: Literal["production_subsidy"] = "production_subsidy"
    plants: Plants
    amount: float = Field(gt=0.0)
    payer: str

    def check(self, ctx: PolicyContext) -> None:
        gather(lambda: self.plants.mask(ctx), lambda: ctx.region(self.payer))

    def act(self, run: EventRun) -> None:
        lines = self.plants.mask(run.ctx)
        run.memo["offer"] = np.broadcast_to(self.amount * lines, (run.ctx.members, len(lines)))
        run.wedges.combine("cost_offset", -self.amount, where=lines[None])

    def settle(self, run: EventRun) -> None:
        _floor_settle(run, self.payer)


class RecyclingIncentive(Event):
    """Support for recycling in `regions`: a subsidy per kg of throughput at recycling plants (scrap
    collection and magnet recycling) and a higher collection rate (`collection_boost` x their capacity)."""

    instrument: Literal["recycling_incentive"] = "recycling_incentive"
    regions: list[str]
    subsidy: float = Field(0.0, ge=0.0)
    collection_boost: float = Field(1.0, ge=1.0, le=5.0)
    payer: str

    def check(self, ctx: PolicyContext) -> None:
        gather(lambda: ctx.regions(self.regions), lambda: ctx.region(self.payer))

    def _lines(self, ctx: PolicyContext) -> np.ndarray:
        recycling = ctx.lines(processes=["recycling"]) | ctx.lines(deposits=["magnet_scrap"])
        return recycling & ctx.regions(self.regions)[ctx.structure.line_region]

    def act(self, run: EventRun) -> None:
        lines = self._lines(run.ctx)
        run.memo["offer"] = np.broadcast_to(self.subsidy * lines, (run.ctx.members, len(lines)))
        run.wedges.combine("cost_offset", -self.subsidy, where=lines[None])
        run.wedges.combine("capacity_factor", self.collection_boost, where=lines[None])

    def settle(self, run: EventRun) -> None:
        _floor_settle(run, self.payer)


class Stockpile(Event):
    """A strategic stockpile of one product in one region: bought at `size / build_months` t/month until it
    holds `size` t, and released at `release_rate` t/month while last month's price there is above
    `release_price` (USD/kg). The payer books purchases as costs and releases as revenues at the month's
    price. Without `release_price` the stockpile is only built and held."""

    instrument: Literal["stockpile"] = "stockpile"
    stateful = True
    region: str
    product: str
    size: float = Field(gt=0.0, description="t")
    build_months: int = Field(12, ge=1, le=240)
    release_price: float | None = Field(None, gt=0.0)
    release_rate: float | None = Field(None, gt=0.0, description="t/month; default size / 6")
    payer: str | None = None

    def check(self, ctx: PolicyContext) -> None:
        ctx.region(self.region)
        ctx.product(self.product)
        if self.payer:
            ctx.region(self.payer)

    def act(self, run: EventRun) -> None:
        ctx = run.ctx
        r, p = ctx.region(self.region), ctx.product(self.product)
        level = run.memo.get("level", np.zeros(ctx.members))
        price = run.last_price()[:, r, p]
        buy = np.minimum(self.size / self.build_months, np.maximum(self.size - level, 0.0))
        flow = buy
        if self.release_price is not None:
            release = np.minimum(self.release_rate or self.size / 6.0, level)
            flow = np.where(price > self.release_price, -release, buy)
        run.memo["level"] = level + flow
        run.memo["flow"] = flow
        where = np.zeros((len(ctx.structure.regions), len(ctx.structure.products)), dtype=bool)
        where[r, p] = True
        run.wedges.combine("stock_flow", flow[:, None, None], where=where[None])

    def settle(self, run: EventRun) -> None:
        flow = run.memo.pop("flow", None)
        if flow is not None:
            price = run.last.price[:, run.ctx.region(self.region), run.ctx.product(self.product)]
            run.ledger.add(
                run.label,
                run.t - 1,
                run.ctx.region(self.payer or self.region),
                flow * price * MUSD_PER_T_USD_KG,
            )
