"""The public record of one run's strategic moves, per member: what each actor has announced.

Policies are announced, so actors see each other's moves, not only their effects on the market. Each
actor writes its own entries when it decides and reads the others'; actors decide in a fixed order each
month (China, then the G-7, then partners), so a later actor sees this month's moves of an earlier one
and an earlier actor sees last month's moves of a later one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Board:
    """Per-member entries, shape (members,), allocated at the first `ensure`.

    controls: intensity of China's export controls in force this month (0 none, 1 a full cut-off);
    ever_controlled: China has imposed controls at least once;
    conceded_until: month index until which the G-7 keeps a concession (its provocative measures off);
    provoking: the G-7 has measures in force that China reads as provocation (tariffs on Chinese goods);
    club: the G-7 runs a club of price floors for non-Chinese producers.
    """

    members: int = 0
    controls: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ever_controlled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    conceded_until: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    provoking: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    club: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def ensure(self, members: int) -> None:
        """Allocate the entries for `members` members (once; a second size is an error)."""
        if self.members == members:
            return
        if self.members:
            raise ValueError(f"the board holds {self.members} members, not {members}: build actors per run")
        self.members = members
        self.controls = np.zeros(members)
        self.ever_controlled = np.zeros(members, dtype=bool)
        self.conceded_until = np.full(members, -1)
        self.provoking = np.zeros(members, dtype=bool)
        self.club = np.zeros(members, dtype=bool)

    def conceded(self, t: int) -> np.ndarray:
        """(M,) members where the G-7's concession holds in month t."""
        return t < self.conceded_until
