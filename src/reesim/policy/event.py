"""The base of every timeline event, and what an event sees when it acts in a month."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from reesim.policy.builder import Ledger, WedgeBuilder
from reesim.policy.context import PolicyContext
from reesim.policy.timing import Month
from reesim.policy.trigger import Trigger

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult


@dataclass
class EventRun:
    """One event acting in one month: the world, the month, last month's observation and the event's memory."""

    ctx: PolicyContext
    label: str
    t: int  # month index from the base month
    since: int  # months since the event started
    last: StepResult | None  # what the engine did last month (None in the base month)
    memo: dict[str, Any]  # the event's own state, kept across months and amendments
    wedges: WedgeBuilder
    ledger: Ledger
    trade_reference: np.ndarray | None = field(
        default=None
    )  # (M, P, R, R) 12-month average of observed trade

    def last_price(self) -> np.ndarray:
        """(M, R, P) last month's cleared prices, or the base-year prices in the base month."""
        s = self.ctx.structure
        if self.last is None:
            return np.broadcast_to(s.price_base, (self.ctx.members, len(s.regions), len(s.products)))
        return self.last.price


def gather(*checks: Callable[[], object]) -> None:
    """Run every name check and raise one `ValueError` listing all that failed (not only the first)."""
    failures = []
    for check in checks:
        try:
            check()
        except ValueError as exc:
            failures.append(str(exc))
    if failures:
        raise ValueError("; ".join(failures))


class Event(BaseModel):
    """A dated policy event: an instrument, when it acts (start to end, inclusive) and its parameters.

    `id` names the event so that a later `suspend` or `amend` event can refer to it; `end` may be left
    out for a measure that stays in force to the end of the horizon. With a `trigger`, the event acts
    between start and end only in the members where the trigger has fired (see `reesim.policy.trigger`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    id: str | None = None
    start: Month
    end: Month | None = None
    note: str = ""
    trigger: Trigger | None = None

    stateful: ClassVar[bool] = False  # keeps a memory (or acts on events): a member-masked trigger would corrupt it

    @model_validator(mode="after")
    def _ordered(self) -> Event:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.trigger is not None and self.stateful:
            raise ValueError(f"a {self.instrument} event cannot take a trigger: it keeps a memory from month to "
                             "month or acts on other events")
        return self

    def act(self, run: EventRun) -> None:
        """Add this month's wedges (called only while the event is in force)."""

    def settle(self, run: EventRun) -> None:
        """Book last month's payments now that the engine has reported what happened (`run.last`)."""

    def after_end(self, run: EventRun) -> None:
        """Act in months after the event has ended or been suspended (most events do nothing)."""

    def check(self, ctx: PolicyContext) -> None:
        """Raise `ValueError` if a name in the event is not in the world (regions, products, facilities)."""
