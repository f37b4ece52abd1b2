"""The G-7 as a strategic actor (a coalition by default; a spec per country for the US, EU and Japan apart).

Its instruments: price floors for non-Chinese separation plants (contracts for difference), strategic
stockpiles released when prices spike, capital grants for non-Chinese plants, and tariffs on Chinese goods.
Floors and grants for plants in a region are paid by the member of the coalition that `payers` names for
it (by default the US for its own plants, Japan for Australian and Malaysian plants as JARE does, the EU
for plants in the EU, Canada and the UK). Measures start at `start`, or with `when: after_controls` only
in members where China has imposed controls. Tariffs provoke China (the board's `provoking`); while the
bargaining cycle records a G-7 concession, a coalition that `concedes` lifts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reesim.actors.board import Board
from reesim.actors.signals import Lens, lens, unmet_value
from reesim.actors.strategies import known_strategy, with_preset
from reesim.errors import InputError
from reesim.policy.event import Event
from reesim.policy.scope import Goods, Plants, Stage
from reesim.policy.support_measures import CapitalGrant, PriceFloor, Stockpile
from reesim.policy.timing import Month, month_index
from reesim.policy.trade_measures import Tariff

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult
    from reesim.policy.context import PolicyContext

DEFAULT_PAYERS = {"USA": ["USA"], "JPN": ["JPN", "AUS", "MYS"], "EU": ["EU", "CAN", "GBR"]}


class Floor(BaseModel):
    """A price floor (USD/kg) on one product for the non-Chinese plants of the covered stages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: str
    level: float = Field(gt=0.0)


class Reserve(BaseModel):
    """A strategic stockpile built over `build_months` and released above `release_multiple` x the
    base-year price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str
    product: str
    size: float = Field(gt=0.0, description="t")
    build_months: int = Field(24, ge=1, le=240)
    release_multiple: float = Field(2.0, gt=0.0)


class G7Spec(BaseModel):
    """The G-7's (or one member's) policy rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["g7"] = "g7"
    name: str = Field("g7", pattern=r"^[a-z0-9_-]+$", description="Prefix of the actor's event labels.")
    strategy: str = Field("custom", description="A built-in strategy the other fields override, or 'custom'.")
    start: Month = "2026-01"
    when: Literal["start", "after_controls", "after_shortfall"] = Field(
        "start", description="Floors, grants and tariffs from `start`; or only where China has imposed controls; "
        "or only where G-7 unmet demand has exceeded `shortfall_trigger` in a month.")
    shortfall_trigger: float = Field(50.0, ge=0.0, description="USD million/month of G-7 unmet demand at "
                                     "base-year prices that sets off an `after_shortfall` G-7.")
    payers: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_PAYERS),
                                         description="Payer region -> regions of the plants it supports.")
    floors: list[Floor] = []
    floor_stages: list[Stage] = ["separation"]
    reserves: list[Reserve] = Field([], description="Stockpiles, built from `start` in every member.")
    grant_share: float = Field(0.0, ge=0.0, le=1.0, description="Share of the capital cost of new non-Chinese "
                               "separation, metal and magnet capacity that the payers grant.")
    tariff: float = Field(0.0, ge=0.0, le=10.0, description="Tariff on Chinese goods into `importers`.")
    tariff_goods: Goods = Goods(elements=["Pr", "Nd", "Tb", "Dy"], stages=["oxide", "metal"])
    importers: list[str] = ["g7"]
    concedes: bool = Field(True, description="Lift tariffs while a concession holds.")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        return with_preset("g7", data)

    @field_validator("strategy")
    @classmethod
    def _known(cls, name: str) -> str:
        return known_strategy("g7", name)


class G7Actor:
    """The G-7's monthly decisions; `decide` follows `reesim.policy.schedule.Actor`."""

    def __init__(self, spec: G7Spec, board: Board) -> None:
        self.spec, self.name, self.board = spec, spec.name, board
        self._events: dict[str, tuple[Event, str]] | None = None  # label -> (event, 'support'|'reserve'|'tariff')
        self._view: Lens | None = None
        self._hit = np.zeros(0, dtype=bool)  # (M,) members where G-7 unmet demand has passed the trigger


    def decide(self, t: int, last: StepResult | None, ctx: PolicyContext) -> dict[str, tuple[Event, np.ndarray]]:
        if self._events is None:
            self.prepare(ctx)
        spec = self.spec
        if last is not None:
            self._hit |= unmet_value(self._view, last, self._view.g7) > spec.shortfall_trigger
        if t < month_index(spec.start, ctx.base_month):
            return {}
        everyone = np.ones(ctx.members, dtype=bool)
        acting = {"start": everyone, "after_controls": self.board.ever_controlled.copy(),
                  "after_shortfall": self._hit.copy()}[spec.when]
        tariffs_on = acting & ~(self.board.conceded(t) & spec.concedes)
        masks = {"reserve": everyone, "support": acting, "tariff": tariffs_on}
        moves = {label: (event, masks[group]) for label, (event, group) in self._events.items()
                 if masks[group].any()}
        has = {group for _, group in self._events.values()}
        self.board.provoking = tariffs_on if "tariff" in has else np.zeros(ctx.members, dtype=bool)
        self.board.club = acting if spec.floors else np.zeros(ctx.members, dtype=bool)
        return moves

    def prepare(self, ctx: PolicyContext) -> None:
        """Compile the rule against the world; InputError if it names something the world lacks."""
        self._events = self._build(ctx)
        self._view = lens(ctx)
        self._hit = np.zeros(ctx.members, dtype=bool)
        self.board.ensure(ctx.members)

    def _build(self, ctx: PolicyContext) -> dict[str, tuple[Event, str]]:
        spec, start = self.spec, self.spec.start
        events: dict[str, tuple[Event, str]] = {}
        for payer, regions in spec.payers.items():
            plants = Plants(regions=regions, controllers=["non-china"], stages=spec.floor_stages)
            for floor in spec.floors:
                events[f"floor-{floor.product.split(':')[-1].lower()}-{payer.lower()}"] = (
                    PriceFloor(start=start, producers=plants, product=floor.product, level=floor.level,
                               payer=payer), "support")
            if spec.grant_share > 0:
                grantees = Plants(regions=regions, controllers=["non-china"],
                                  stages=["separation", "metal", "magnet"])
                events[f"grant-{payer.lower()}"] = (CapitalGrant(start=start, plants=grantees,
                                                                 share=spec.grant_share, payer=payer), "support")
        for reserve in spec.reserves:
            try:
                base = float(ctx.structure.price_base[ctx.product(reserve.product)])
            except ValueError as exc:
                raise InputError(None, f"actors.{self.name}.reserves", str(exc), "name a traded product") from exc
            events[f"stockpile-{reserve.region.lower()}-{reserve.product.split(':')[-1].lower()}"] = (
                Stockpile(start=start, region=reserve.region, product=reserve.product, size=reserve.size,
                          build_months=reserve.build_months, release_price=reserve.release_multiple * base,
                          payer=reserve.region), "reserve")
        if spec.tariff > 0:
            events["tariff"] = (Tariff(start=start, importers=spec.importers, goods=spec.tariff_goods,
                                       rate=spec.tariff), "tariff")
        for event, _ in events.values():
            try:
                event.check(ctx)
            except ValueError as exc:
                raise InputError(None, f"actors.{self.name}", str(exc),
                                 "use names of the world's regions and products") from exc
        return events
