"""China as a strategic actor: its three pillars as strategy parameters, controls run as a bargaining cycle.

- Pillar 1, domestic upgrading (`UpgradingSpec`): an export tax on oxides, a rebate on magnet exports and
  state-group consolidation toward an NdPr price, from a start month.
- Pillar 2, inducements abroad (`InducementSpec`): China-controlled refineries in partner states (plants
  committed before the run) and the ban on exporting separation, metal and magnet technology.
- Pillar 3, controls (`ControlsSpec`): export licences on chosen goods to chosen destinations, imposed,
  eased and suspended member by member by the bargaining cycle of `reesim.game.bargaining`, driven by what
  China observes each month (`TensionSpec` for the trigger). A blunt ban is the same cycle with a full
  cut-off of every rare earth that neither eases on a concession nor stops for its cost.

Each month the actor reads last month's step: the target's damage (unmet demand valued at base prices,
times `damage_multiplier`, plus the premium paid over the prices of calm months), China's lost export
revenue (against calm months, counting `rent_capture` of the licence rent as revenue), the windfall
margins of non-Chinese producers (the money that finances diversification), and the tension signal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reesim.actors.board import Board
from reesim.actors.licence import ReferencedLicence
from reesim.actors.signals import (
    Lens,
    china_stage_share,
    export_revenue,
    lens,
    licence_rent,
    price_premium,
    unmet_value,
    windfall,
)
from reesim.actors.strategies import EVERY_ELEMENT, known_strategy, with_preset
from reesim.engine.structure import STAGES
from reesim.errors import InputError
from reesim.game.bargaining import CONTROLS, EASED, BargainingParams, CycleState, initial_state, step
from reesim.policy.event import Event
from reesim.policy.production_measures import Consolidation, OffshoreRefinery, TechnologyBan, Throttle
from reesim.policy.scope import Goods, Stage
from reesim.policy.timing import Month, month_index
from reesim.policy.trade_measures import ExportTax, market_growth

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult
    from reesim.policy.context import PolicyContext

CALM_MONTHS = 12  # calm references are running means over about this many months


class UpgradingSpec(BaseModel):
    """Pillar 1: measures that move China's exports up the value chain, in force from `start`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Month = "2026-01"
    oxide_export_tax: float = Field(0.0, ge=0.0, le=5.0, description="Ad-valorem export tax on oxides.")
    tax_destinations: list[str] = Field(["all"], description="Destinations the oxide tax applies to.")
    magnet_export_rebate: float = Field(0.0, ge=0.0, le=0.5, description="Rebate on magnet exports (share).")
    consolidation_price: float | None = Field(None, gt=0.0, description="NdPr oxide price (USD/kg) the state "
                                              "groups steer output toward; none: no consolidation.")


class InducementSpec(BaseModel):
    """Pillar 2: China-run refineries in partner states and the technology-export ban."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Month = "2026-01"
    technology_ban: bool = Field(False, description="Ban on exporting separation, metal and magnet technology.")
    refineries: list[OffshoreRefinery] = Field([], description="Refineries China builds abroad and controls, "
                                               "committed before the run (their own start dates).")


class Provocation(BaseModel):
    """A dated provocation (e.g. a G-7 technology or trade measure): `level` added to the tension signal
    from `start` to `end` in every member where the G-7 has not conceded since it began. The default is
    hypothetical: a measure in the second half of 2026."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Month = "2026-07"
    end: Month | None = "2026-12"
    level: float = Field(1.0, ge=0.0)


class TensionSpec(BaseModel):
    """What provokes China: dated provocations, diversification and the G-7's decoupling measures.

    tension = sum of the levels of provocations in force that the G-7 has not conceded since they began
              + share_gain x max(0, share_floor - China's share of `share_stage` (`share_of` output or
                                capacity, by `share_by`))
              + decoupling_gain x (the G-7 has decoupling measures in force)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    provocations: list[Provocation] = Field(default_factory=lambda: [Provocation()])
    share_stage: Stage = "separation"
    share_by: Literal["location", "controller"] = "controller"
    share_of: Literal["output", "capacity"] = Field("output", description="China's share of the stage's output, "
                                                    "or of its capacity (rivals' capacity, built or not used).")
    share_floor: float = Field(0.86, ge=0.0, le=1.0, description="China's share below which diversification "
                               "provokes (three-pillars-2026 uses 0.86 for separation by controller).")
    share_gain: float = Field(10.0, ge=0.0, description="Tension per unit of share below the floor.")
    decoupling_gain: float = Field(0.6, ge=0.0, description="Tension while the G-7 decouples (tariffs).")


class ControlsSpec(BaseModel):
    """Pillar 3: export controls run by the bargaining cycle (`cycle`), licences at approval 1 - intensity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    goods: Goods = Goods(elements=["Dy", "Tb"])
    destinations: list[str] = ["g7"]
    extraterritorial_threshold: float | None = Field(0.001, ge=0.0, le=1.0)
    cycle: BargainingParams = Field(default_factory=lambda: BargainingParams(max_duration=6))
    throttle_abroad: bool = Field(False, description="Also throttle China-controlled plants outside China to "
                                  "1 - intensity of their capacity while controls are on.")
    damage_multiplier: float = Field(1.0, ge=0.0, description="Downstream damage per USD of unmet demand at "
                                     "base prices (1: the input's value only).")
    rent_capture: float = Field(0.5, ge=0.0, le=1.0, description="Share of the licence rent China counts as "
                                "its revenue (assumed: licensed exporters and traders split it).")


class ChinaSpec(BaseModel):
    """China's strategy: three pillars, and the trigger its controls react to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["china"] = "china"
    name: str = Field("china", pattern=r"^[a-z0-9_-]+$", description="Prefix of the actor's event labels.")
    strategy: str = Field("custom", description="A built-in strategy the other fields override, or 'custom'.")
    exporter: str = "CHN"
    upgrading: UpgradingSpec = UpgradingSpec()
    inducement: InducementSpec = InducementSpec()
    controls: ControlsSpec | None = None
    tension: TensionSpec = TensionSpec()

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        return with_preset("china", data)

    @field_validator("strategy")
    @classmethod
    def _known(cls, name: str) -> str:
        return known_strategy("china", name)


class ChinaActor:
    """China's monthly decisions; `decide` follows `reesim.policy.schedule.Actor`."""

    def __init__(self, spec: ChinaSpec, board: Board, rng: np.random.Generator) -> None:
        self.spec, self.name, self.board, self.rng = spec, spec.name, board, rng
        self.view: Lens | None = None
        self.state: CycleState | None = None
        self.concessions: np.ndarray = np.zeros(0, dtype=int)  # (M,) concessions obtained
        self.episodes: np.ndarray = np.zeros(0, dtype=int)  # (M,) episodes of controls started

    # -- the month ------------------------------------------------------------------------------------------
    def decide(self, t: int, last: StepResult | None, ctx: PolicyContext) -> dict[str, tuple[Event, np.ndarray]]:
        if self.view is None:
            self.prepare(ctx)
        everyone = np.ones(ctx.members, dtype=bool)
        moves = {label: (event, everyone) for label, (event, start) in self._standing.items() if t >= start}
        controls = self.spec.controls
        if controls is None:
            return moves
        if last is not None:
            self._bargain(t, last, controls)
        intensity = self.state.intensity
        self.board.controls = intensity.copy()
        self.board.ever_controlled |= intensity > 0
        for phase, label in ((CONTROLS, "controls"), (EASED, "eased")):
            mask = (self.state.phase == phase) & (intensity > 0)
            if mask.any():
                moves[label] = (self._licences[phase], mask)
                if controls.throttle_abroad:
                    moves[f"{label}-throttle"] = (self._throttles[phase], mask)
        return moves

    def tension(self, t: int, last: StepResult) -> np.ndarray:
        """(M,) the tension signal for month t from last month's observation (see `TensionSpec`)."""
        spec, base = self.spec.tension, self.view.ctx.base_month
        level = np.zeros(self.view.ctx.members)
        for p in spec.provocations:
            start = month_index(p.start, base)
            end = month_index(p.end, base) if p.end else np.inf
            if start <= t <= end:
                level += p.level * (self._conceded_at < start)
        share = china_stage_share(self.view, last, spec.share_by, spec.share_of)[:, STAGES.index(spec.share_stage)]
        level += spec.share_gain * np.maximum(spec.share_floor - share, 0.0)
        return level + spec.decoupling_gain * self.board.provoking

    def prepare(self, ctx: PolicyContext) -> None:
        """Compile the strategy against the world; InputError if it names something the world lacks."""
        self.view = lens(ctx, self.spec.exporter)
        members = ctx.members
        self.board.ensure(members)
        self.state = initial_state(members)
        self.concessions = np.zeros(members, dtype=int)
        self.episodes = np.zeros(members, dtype=int)
        self._conceded_at = np.full(members, -1)
        self._calm_months = np.zeros(members)
        self._calm_revenue: np.ndarray | None = None
        self._episode_start = np.zeros(members, dtype=int)  # month the current run of controls began
        self._standing = self._standing_events(ctx)
        controls = self.spec.controls
        if controls is not None:
            cycle = controls.cycle
            self._licences, self._throttles = {}, {}
            for phase, level in ((CONTROLS, cycle.intensity), (EASED, cycle.eased_intensity)):
                licence = ReferencedLicence(start=str(ctx.base_month), exporter=self.spec.exporter,
                                            goods=controls.goods, destinations=controls.destinations,
                                            approval_rate=1.0 - level,
                                            extraterritorial_threshold=controls.extraterritorial_threshold)
                self._licences[phase] = licence
                self._throttles[phase] = Throttle(start=str(ctx.base_month), factor=1.0 - level,
                                                  plants={"controllers": ["china"], "regions": ["non-china"]})
            self._check(ctx, [*self._licences.values(), *self._throttles.values()])
        self._check(ctx, [event for event, _ in self._standing.values()])

    # -- internals ------------------------------------------------------------------------------------------
    def _standing_events(self, ctx: PolicyContext) -> dict[str, tuple[Event, int]]:
        """Measures of pillars 1 and 2 that stay in force from their start month, with that month's index."""
        up, ind, base = self.spec.upgrading, self.spec.inducement, ctx.base_month
        events: dict[str, tuple[Event, int]] = {}
        first = month_index(up.start, base)
        if up.oxide_export_tax > 0:
            oxides = Goods(elements=EVERY_ELEMENT, stages=["oxide"], magnets_containing=False)
            events["oxide-export-tax"] = (ExportTax(start=up.start, exporter=self.spec.exporter, goods=oxides,
                                                    destinations=up.tax_destinations,
                                                    rate=up.oxide_export_tax), first)
        if up.magnet_export_rebate > 0:
            magnets = Goods(products=[p for p in ctx.structure.products if p.startswith("magnet:")])
            events["magnet-export-rebate"] = (ExportTax(start=up.start, exporter=self.spec.exporter,
                                                        goods=magnets, rate=-up.magnet_export_rebate), first)
        if up.consolidation_price is not None:
            events["consolidation"] = (Consolidation(start=up.start, region=self.spec.exporter,
                                                     target_price=up.consolidation_price), first)
        if ind.technology_ban:
            events["technology-ban"] = (TechnologyBan(start=ind.start), month_index(ind.start, base))
        return events

    def _check(self, ctx: PolicyContext, events: list[Event]) -> None:
        for event in events:
            try:
                event.check(ctx)
            except ValueError as exc:
                raise InputError(None, f"actors.{self.name}", str(exc),
                                 "use names of the world's regions, products and facilities") from exc

    def _bargain(self, t: int, last: StepResult, controls: ControlsSpec) -> None:
        """Observe last month, remember calm months, and advance the bargaining cycle by one month."""
        view, state = self.view, self.state
        calm = state.intensity == 0  # no controls were in force last month
        self._remember(last, calm)
        target = view.ctx.regions(controls.destinations)
        target[view.exporter] = False
        damage = (controls.damage_multiplier * unmet_value(view, last, target)
                  + price_premium(last, self._calm_price, target))
        earned = export_revenue(view, last) + controls.rent_capture * licence_rent(view, last)
        lost = np.maximum(self._calm_revenue - earned, 0.0)
        rivals = ~view.line_china["controller"]
        provoked = windfall(last, self._calm_margin, rivals)
        before = state.phase
        self.state = step(state, damage, lost, provoked, self.tension(t, last), controls.cycle, self.rng)
        started = calm & (self.state.intensity > 0)
        self._episode_start = np.where(started, t, self._episode_start)
        age = np.where(self.state.intensity > 0, t - self._episode_start, 0)
        self._reference[:] = self._calm_trade * market_growth(view.ctx, age[:, None])[:, :, None, None]
        conceded = (before == CONTROLS) & (self.state.phase == EASED)
        self.concessions += conceded
        self.episodes += (self.state.phase == CONTROLS) & (before != CONTROLS)
        self._conceded_at = np.where(conceded, t, self._conceded_at)
        self.board.conceded_until = np.where(conceded, t + controls.cycle.eased_months, self.board.conceded_until)

    def _remember(self, last: StepResult, calm: np.ndarray) -> None:
        """Running means, over the months without controls, of what controls are judged against."""
        observed = {"revenue": export_revenue(self.view, last), "price": last.price, "margin": last.margin,
                    "trade": last.trade}
        if self._calm_revenue is None:  # the first observation starts every reference
            self._calm_revenue = observed["revenue"].copy()
            self._calm_price, self._calm_margin = last.price.copy(), last.margin.copy()
            self._calm_trade = last.trade.copy()
            self._reference = last.trade.copy()  # calm flows grown with the market since controls began
            for licence in self._licences.values():
                licence.use_reference(self._reference)
        self._calm_months += calm
        weight = np.where(calm, 1.0 / np.minimum(np.maximum(self._calm_months, 1), CALM_MONTHS), 0.0)
        for name, held in (("revenue", self._calm_revenue), ("price", self._calm_price),
                           ("margin", self._calm_margin), ("trade", self._calm_trade)):
            w = weight.reshape((-1,) + (1,) * (held.ndim - 1))
            held += w * (observed[name] - held)

