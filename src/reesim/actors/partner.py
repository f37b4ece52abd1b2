"""Partner and neutral states as actors: resource holders that choose whom their output serves.

Two rules, each optional: a ban on exporting raw concentrate, so ore is refined at home (Malaysia bans raw
rare-earth exports, facts.md E); and joining the G-7's club while it runs one (the board's `club`):
reserving `club_offtake` of the region's non-Chinese separation output for G-7 buyers and granting
`club_grant_share` of the capital cost of new non-Chinese capacity at home (as Japan's JARE deal with
Lynas and the US-Australia framework do, facts.md E). Outside the club the state sells to whoever pays
most, China included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from reesim.actors.board import Board
from reesim.errors import InputError
from reesim.policy.event import Event
from reesim.policy.scope import Goods, Plants
from reesim.policy.support_measures import CapitalGrant
from reesim.policy.timing import Month, month_index
from reesim.policy.trade_measures import ExportBan, Offtake

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult
    from reesim.policy.context import PolicyContext


class PartnerSpec(BaseModel):
    """A partner or neutral state's rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["partner"] = "partner"
    name: str = Field(pattern=r"^[a-z0-9_-]+$", description="Prefix of the actor's event labels.")
    region: str
    start: Month = "2026-01"
    raw_export_ban: bool = Field(False, description="Ban exports of the region's concentrate from `start`.")
    club_offtake: float = Field(0.0, ge=0.0, le=1.0, description="Share of the region's non-Chinese separation "
                                "output reserved for G-7 buyers while the G-7 club is in force.")
    club_grant_share: float = Field(0.0, ge=0.0, le=1.0, description="Capital-cost share the state grants to "
                                    "new non-Chinese capacity at home while the club is in force.")


class PartnerActor:
    """A partner's monthly decisions; `decide` follows `reesim.policy.schedule.Actor`."""

    def __init__(self, spec: PartnerSpec, board: Board) -> None:
        self.spec, self.name, self.board = spec, spec.name, board
        self._events: dict[str, tuple[Event, bool]] | None = None  # label -> (event, only while the club runs)


    def decide(self, t: int, last: StepResult | None, ctx: PolicyContext) -> dict[str, tuple[Event, np.ndarray]]:
        if self._events is None:
            self.prepare(ctx)
        if t < month_index(self.spec.start, ctx.base_month):
            return {}
        everyone = np.ones(ctx.members, dtype=bool)
        club = self.board.club.copy()
        return {label: (event, club if with_club else everyone) for label, (event, with_club) in self._events.items()
                if (club if with_club else everyone).any()}

    def prepare(self, ctx: PolicyContext) -> None:
        """Compile the rule against the world; InputError if it names something the world lacks."""
        self._events = self._build(ctx)
        self.board.ensure(ctx.members)

    def _build(self, ctx: PolicyContext) -> dict[str, tuple[Event, bool]]:
        spec, start = self.spec, self.spec.start
        events: dict[str, tuple[Event, bool]] = {}
        if spec.raw_export_ban:
            concentrates = Goods(products=[p for p in ctx.structure.products if p.startswith("concentrate:")])
            events["raw-export-ban"] = (ExportBan(start=start, exporter=spec.region, goods=concentrates,
                                                  tension=0.0), False)
        home = Plants(regions=[spec.region], controllers=["non-china"], stages=["separation"])
        if spec.club_offtake > 0:
            oxides = Goods(products=[p for p in ctx.structure.products if p.startswith("oxide:")])
            events["club-offtake"] = (Offtake(start=start, producers=home, goods=oxides, buyers=["g7"],
                                              share=spec.club_offtake), True)
        if spec.club_grant_share > 0:
            plants = Plants(regions=[spec.region], controllers=["non-china"],
                            stages=["separation", "metal", "magnet"])
            events["club-grant"] = (CapitalGrant(start=start, plants=plants, share=spec.club_grant_share,
                                                 payer=spec.region), True)
        for event, _ in events.values():
            try:
                event.check(ctx)
            except ValueError as exc:
                raise InputError(None, f"actors.{self.name}", str(exc), "use a region of the world") from exc
        return events
