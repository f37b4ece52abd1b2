"""Compile a scenario's timeline into the engine's wedge schedule, and keep the instruments' accounts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from reesim.engine.wedges import MonthWedges
from reesim.policy.builder import Ledger, WedgeBuilder
from reesim.policy.context import PolicyContext
from reesim.policy.control import Amend, Suspend
from reesim.policy.event import Event, EventRun
from reesim.policy.timing import month_index
from reesim.policy.trigger import TriggerState

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult

REFERENCE_MONTHS = 12  # licence caps refer to the average flow over this many months


class Actor(Protocol):
    """A strategic player (see issue 5): each month it observes last month's step and says which events it
    has in force, in which members: {label: (event, members (M,) bool)}. Its events act exactly like
    timeline events with a trigger (masked by member); their labels are prefixed by the actor's name."""

    name: str

    def decide(self, t: int, last: StepResult | None, ctx: PolicyContext) -> dict[str, tuple[Event, np.ndarray]]:
        ...  # pragma: no cover


def event_labels(timeline: Sequence[Event]) -> list[str]:
    """The name of each event: its id, or instrument and position (e.g. 'tariff-3')."""
    return [e.id or f"{e.instrument}-{i + 1}" for i, e in enumerate(timeline)]


class PolicySchedule:
    """The wedges of a timeline month by month (the engine's `WedgeSchedule`), with a ledger of payments."""

    def __init__(self, timeline: Sequence[Event], ctx: PolicyContext, horizon: int,
                 actors: Sequence[Actor] = ()) -> None:
        self.ctx = ctx
        self.actors = list(actors)
        self._horizon = horizon
        self._moves: dict[int, dict[str, tuple[Event, np.ndarray]]] = {}  # month -> actors' events and masks
        base = ctx.base_month
        labels = event_labels(timeline)
        self._windows: dict[str, tuple[int, float]] = {}
        self._versions: dict[str, list[tuple[int, Event]]] = {}
        self._suspensions: dict[str, list[tuple[int, float]]] = {}
        for label, event in zip(labels, timeline):
            window = (month_index(event.start, base), month_index(event.end, base) if event.end else np.inf)
            if isinstance(event, Suspend):
                self._suspensions.setdefault(event.target, []).append(window)
            elif not isinstance(event, Amend):
                self._windows[label] = window
                self._versions[label] = [(window[0], event)]
        for event in sorted((e for e in timeline if isinstance(e, Amend)), key=lambda e: e.start):
            latest = self._versions[event.target][-1][1]  # amendments build on each other in date order
            changed = type(latest).model_validate({**latest.model_dump(), **event.set})
            self._versions[event.target].append((month_index(event.start, base), changed))
        self._memos: dict[str, dict] = {label: {} for label in self._windows}
        self._triggers = {label: TriggerState(versions[0][1].trigger, ctx.members)
                          for label, versions in self._versions.items() if versions[0][1].trigger is not None}
        s = ctx.structure
        self.ledger = Ledger(ctx.members, horizon, s.regions)
        self._shape = (ctx.members, len(s.regions), len(s.products), len(s.line_facility), len(s.sectors))
        self.in_force_log = {label: np.zeros((ctx.members, horizon), dtype=bool) for label in self._windows}
        self._trade_mean: np.ndarray | None = None
        self._observed = 0

    # -- which events act when ------------------------------------------------------------------------------
    def _version(self, label: str, t: int) -> Event:
        current = self._versions[label][0][1]
        for since, event in self._versions[label]:
            if since <= t:
                current = event
        return current

    def _suspended(self, label: str, t: int) -> bool:
        return any(a <= t <= b for a, b in self._suspensions.get(label, []))

    def in_force(self, t: int) -> Iterator[tuple[str, Event]]:
        """Events acting in month t (started, not ended, not suspended), in timeline order."""
        for label, (start, end) in self._windows.items():
            if start <= t <= end and not self._suspended(label, t):
                yield label, self._version(label, t)

    def _ended(self, t: int) -> Iterator[tuple[str, Event]]:
        for label, (start, end) in self._windows.items():
            if t >= start and (t > end or self._suspended(label, t)):
                yield label, self._version(label, t)

    # -- the engine's interface -----------------------------------------------------------------------------
    def __call__(self, t: int, last: StepResult | None) -> MonthWedges:
        if last is not None:
            self._observe(last)
            self._settle(t, last)
        builder = WedgeBuilder(*self._shape)
        for label, event in self.in_force(t):
            if label in self._triggers:
                members = self._triggers[label].update(self.ctx, t, last)
                own = WedgeBuilder(*self._shape)
                event.act(self._run(label, event, t, last, own))
                builder.merge(own, members)
                self.in_force_log[label][:, t] = members
            else:
                event.act(self._run(label, event, t, last, builder))
                self.in_force_log[label][:, t] = True
        for label, event in self._ended(t):
            event.after_end(self._run(label, event, t, last, builder))
        self._moves[t] = {}
        for actor in self.actors:
            for name, (event, members) in actor.decide(t, last, self.ctx).items():
                label = f"{actor.name}:{name}"
                memo = self._memos.setdefault(label, {})
                memo.setdefault("first", t)
                own = WedgeBuilder(*self._shape)
                event.act(self._run(label, event, t, last, own, since=t - memo["first"]))
                builder.merge(own, members)
                self.in_force_log.setdefault(label, np.zeros((self.ctx.members, self._horizon), dtype=bool))
                self.in_force_log[label][:, t] = members
                self._moves[t][label] = (event, members)
        return builder.build()

    def finish(self, last: StepResult, months: int) -> None:
        """Book the payments of the final month (called once after the last step)."""
        self._settle(months, last)

    def _settle(self, t: int, last: StepResult) -> None:
        for label, event in self.in_force(t - 1):
            run = self._run(label, event, t, last, WedgeBuilder(*self._shape))
            if label in self._triggers:  # book only where the event acted
                run.ledger = Ledger(self.ctx.members, self.ledger.months, self.ledger.regions)
                event.settle(run)
                self.ledger.merge(run.ledger, self._triggers[label].active[t - 1])
            else:
                event.settle(run)
        for label, (event, members) in self._moves.pop(t - 1, {}).items():
            run = self._run(label, event, t, last, WedgeBuilder(*self._shape), since=0)
            run.ledger = Ledger(self.ctx.members, self.ledger.months, self.ledger.regions)
            event.settle(run)
            self.ledger.merge(run.ledger, members)

    def _run(
        self, label: str, event: Event, t: int, last: StepResult | None, builder: WedgeBuilder,
        since: int | None = None,
    ) -> EventRun:
        return EventRun(
            ctx=self.ctx,
            label=label,
            t=t,
            since=t - self._windows[label][0] if since is None else since,
            last=last,
            memo=self._memos[label],
            wedges=builder,
            ledger=self.ledger,
            trade_reference=self._trade_mean,
        )

    def _observe(self, last: StepResult) -> None:
        """Running mean of trade flows over the last REFERENCE_MONTHS months (exponential after the first)."""
        self._observed += 1
        weight = 1.0 / min(self._observed, REFERENCE_MONTHS)
        if self._trade_mean is None:
            self._trade_mean = last.trade.copy()
        else:
            self._trade_mean += weight * (last.trade - self._trade_mean)
