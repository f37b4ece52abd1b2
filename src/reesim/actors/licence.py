"""An export licence whose reference flows are kept by the actor that imposes it.

A timeline licence takes its reference (the flows its approvals are a share of) once, when it first acts.
An actor imposes controls in episodes, member by member, so a reference frozen at the first episode would
be stale in the next one, and one taken at the start of easing would already be depressed by the
controls. The actor instead keeps, per member, the mean flows of the months it had no controls in force,
grown with the market since that member's controls began, and hands them to the licence, which applies
them each month as they are (no growth of its own, no processing delay).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from pydantic import Field, PrivateAttr

from reesim.policy.event import EventRun
from reesim.policy.trade_measures import ExportLicence


class ReferencedLicence(ExportLicence):
    """`export_licence` with reference flows (M, P, R, R) set by the actor (`use_reference`)."""

    delay_months: int = Field(0, ge=0, le=0)
    _reference: np.ndarray | None = PrivateAttr(default=None)

    def use_reference(self, flows: np.ndarray) -> None:
        """Refer approvals to `flows` (M, P, origin, destination), an array the actor updates in place."""
        self._reference = flows

    def act(self, run: EventRun) -> None:
        if self._reference is None:
            raise RuntimeError(f"{run.label}: the actor gave the licence no reference flows")
        run.memo["reference"] = self._reference
        super().act(dataclasses.replace(run, since=0))
