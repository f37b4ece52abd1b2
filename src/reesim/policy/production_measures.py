"""Measures on production: China's quotas, environmental enforcement, consolidation toward a price target,
the technology export ban, throttling, and new plants (including China-controlled refineries abroad)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from reesim.policy.context import PolicyContext
from reesim.policy.event import Event, EventRun, gather
from reesim.policy.scope import Plants, Stage


class Quota(Event):
    """China's mining or separation quota for the year, t REO/yr, held by the two state groups' plants.

    It replaces the engine's quota path (the base-year quota growing at `quota_growth`) while in force.

    `relative_to` is for quotas that output ran above: before 2014 China mined more than its published
    quotas (the 2009 output the USGS records, 129,000 t, against quotas under 90,000 t), so a published
    level read as a cap would cut output the record does not show cut. Given the published quota of a year
    whose output the world's base year represents, the quota binds on its change since then: the holders
    may produce their base-year output times `level / relative_to`.

    `plants` makes the event one part of a quota split among groups of holders, as China published its
    mining quota in a light and a medium-heavy part: `level` is the part's published level, and the
    listed holders share what it allows by their base-year output (with `relative_to`, the published total
    of the base year, the part allows all holders' base-year output times `level / relative_to`).
    """

    instrument: Literal["quota"] = "quota"
    kind: Literal["mining", "separation"]
    level: float = Field(gt=0.0)
    relative_to: float | None = Field(None, gt=0.0, description="t/yr: the published quota of the base year")
    plants: Plants | None = None

    def check(self, ctx: PolicyContext) -> None:
        if self.plants is not None:
            self._part(ctx)

    def act(self, run: EventRun) -> None:
        if self.plants is None:
            column = np.array([self.kind == "mining", self.kind == "separation"])
            run.wedges.combine("quota", self.allowed(run.ctx), where=column[None])
        else:
            run.wedges.combine("line_limit", self.allowed(run.ctx) / 12.0 * self._part(run.ctx)[None])

    def allowed(self, ctx: PolicyContext) -> float:
        """The quota (or this part of it) on the engine's basis, t/yr: the published level, or the
        holders' base-year output scaled by the level over the base year's published total."""
        if self.relative_to is None:
            return self.level
        s = ctx.structure
        return float(s.line_base_output[self._holders(ctx)].sum()) * 12.0 * self.level / self.relative_to

    def _holders(self, ctx: PolicyContext) -> np.ndarray:
        return ctx.structure.line_quota == (1 if self.kind == "mining" else 2)

    def _part(self, ctx: PolicyContext) -> np.ndarray:
        """(N,) each line's share of this part: the listed holders by base-year output, inf elsewhere."""
        assert self.plants is not None
        lines = self.plants.mask(ctx) & self._holders(ctx)
        base = np.where(lines, ctx.structure.line_base_output, 0.0)
        if base.sum() <= 0:
            raise ValueError(f"no plant of {self.plants.model_dump(exclude_defaults=True)} holds a {self.kind} "
                             "quota with base-year output; list the quota holders this part covers")
        return np.where(lines, base / base.sum(), np.inf)


class EnvironmentalEnforcement(Event):
    """Tighter environmental standards on selected plants: a cash-cost increase (USD/kg of throughput) and
    the closure of a share of their capacity (e.g. 0.3 of the southern ionic-clay mines)."""

    instrument: Literal["environmental_enforcement"] = "environmental_enforcement"
    plants: Plants
    cost_increase: float = Field(0.0, ge=0.0)
    capacity_cut: float = Field(0.0, ge=0.0, le=1.0)

    def check(self, ctx: PolicyContext) -> None:
        self.plants.mask(ctx)

    def act(self, run: EventRun) -> None:
        lines = self.plants.mask(run.ctx)[None]
        run.wedges.combine("cost_offset", self.cost_increase, where=lines)
        run.wedges.combine("capacity_factor", 1.0 - self.capacity_cut, where=lines)


class Consolidation(Event):
    """The state groups coordinate output toward a price: quotas are scaled each month by
    (last price / target) ** gain, within [min_scale, max_scale], so output is withheld when the price in
    `region` falls below `target_price` (USD/kg) and released when it rises above it."""

    instrument: Literal["consolidation"] = "consolidation"
    stateful = True
    product: str = "oxide:NdPr"
    region: str = "CHN"
    target_price: float = Field(gt=0.0)
    gain: float = Field(0.3, ge=0.0, le=2.0)
    min_scale: float = Field(0.6, gt=0.0, le=1.0)
    max_scale: float = Field(1.2, ge=1.0, le=3.0)

    def check(self, ctx: PolicyContext) -> None:
        gather(lambda: ctx.product(self.product), lambda: ctx.region(self.region))

    def act(self, run: EventRun) -> None:
        price = run.last_price()[:, run.ctx.region(self.region), run.ctx.product(self.product)]
        scale = run.memo.get("scale", np.ones(run.ctx.members))
        scale = np.clip(scale * (price / self.target_price) ** self.gain, self.min_scale, self.max_scale)
        run.memo["scale"] = scale
        run.wedges.combine("quota_scale", scale[:, None])


class TechnologyBan(Event):
    """China's ban on exporting separation, metal and magnet technology (catalogue of December 2023).

    New capacity outside China's control in the selected stages must develop its own process: lines that
    start on or after the ban's start slip by `delay_months`, cost `cost_increase_share` more per unit and
    yield `yield_loss` less; expansions of existing non-Chinese lines take `delay_months` longer. The
    effects last while the ban is in force. Defaults are assumptions (facts.md F: brownfield separation
    1-4 years, greenfield refineries about 5 years).
    """

    instrument: Literal["technology_ban"] = "technology_ban"
    regions: list[str] = ["non-china"]
    stages: list[Stage] = ["separation", "metal", "magnet"]
    delay_months: float = Field(12.0, ge=0.0, le=120.0)
    cost_increase_share: float = Field(0.2, ge=0.0, le=5.0)
    yield_loss: float = Field(0.05, ge=0.0, lt=1.0)

    def check(self, ctx: PolicyContext) -> None:
        ctx.regions(self.regions)

    def act(self, run: EventRun) -> None:
        ctx, s = run.ctx, run.ctx.structure
        china = ctx.regions(["china"])
        covered = (
            ctx.lines(regions=self.regions, stages=self.stages)
            & ~china[s.facility_controller[s.line_facility]]
        )
        start = run.t - run.since
        new = covered & (s.line_start >= start)
        run.wedges.combine("start_delay", self.delay_months, where=new[None])
        run.wedges.combine("cost_offset", self.cost_increase_share * s.line_unit_cost, where=new[None])
        run.wedges.combine("yield_factor", 1.0 - self.yield_loss, where=new[None])
        run.wedges.combine("lead_delay", self.delay_months, where=covered[None])


class Throttle(Event):
    """A controller holds back plants it controls (e.g. China throttling a refinery it runs abroad):
    their capacity is multiplied by `factor` while in force."""

    instrument: Literal["throttle"] = "throttle"
    plants: Plants
    factor: float = Field(ge=0.0, le=1.0)

    def check(self, ctx: PolicyContext) -> None:
        self.plants.mask(ctx)

    def act(self, run: EventRun) -> None:
        run.wedges.combine("capacity_factor", self.factor, where=self.plants.mask(run.ctx)[None])


class NewPlant(Event):
    """A plant built under a policy (an allied project, a partnership): added to the world before the run,
    starting at the event's start with a ramp, located in `region` and controlled by `controller`.
    It closes when the event ends or is suspended. `feed` is the deposit type a separation plant takes
    (its oxide basket) or a mine produces; metal and magnet plants follow the dataset's recipes."""

    instrument: Literal["new_plant"] = "new_plant"
    facility: str = Field(pattern=r"^[A-Z0-9_]+$")
    name: str = ""
    region: str
    controller: str | None = None
    process: Literal["mine", "separation", "metal", "magnet"]
    product: str
    feed: str = ""
    capacity: float = Field(gt=0.0, description="t/yr (REO for mines and separation)")
    unit_cost: float = Field(ge=0.0, description="USD/kg of throughput")
    ramp_months: int = Field(12, ge=0, le=120)

    def check(self, ctx: PolicyContext) -> None:
        ctx.region(self.region)
        if self.controller:
            ctx.region(self.controller)

    def after_end(self, run: EventRun) -> None:
        lines = run.ctx.lines(facilities=[self.facility])
        run.wedges.combine("capacity_factor", 0.0, where=lines[None])


class OffshoreRefinery(NewPlant):
    """China's inducement abroad: a refinery in a partner country (e.g. Malaysia) whose controller is China.
    Its output counts as the partner's, but China can throttle it (`throttle` with controllers [CHN])."""

    instrument: Literal["offshore_refinery"] = "offshore_refinery"  # type: ignore[assignment]
    controller: str | None = "CHN"
    process: Literal["separation"] = "separation"  # type: ignore[assignment]
