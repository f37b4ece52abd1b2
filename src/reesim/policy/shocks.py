"""Events that are not policies but that analysts put in scenarios: supply outages and demand shifts."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from reesim.policy.context import PolicyContext
from reesim.policy.event import Event, EventRun
from reesim.policy.scope import Plants


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
