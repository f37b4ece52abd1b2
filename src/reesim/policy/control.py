"""Events that act on other events: the bargaining chip is the power to suspend or ease a measure."""

from __future__ import annotations

from typing import Any, Literal

from reesim.policy.event import Event


class Suspend(Event):
    """From its start, the event named `target` stops acting (e.g. the October 2025 controls after Busan).
    With an `end`, the target acts again after it (a suspension for a year)."""

    instrument: Literal["suspend"] = "suspend"
    stateful = True
    target: str


class Amend(Event):
    """From its start, the event named `target` acts with the parameters in `set` changed (e.g. a licence's
    approval_rate raised after the London talks). The target keeps its memory (its reference flows)."""

    instrument: Literal["amend"] = "amend"
    stateful = True
    target: str
    set: dict[str, Any]
