"""The analysis `reesim game` reports for one ensemble of payoff tables, China leading.

Nash equilibria (pure and mixed) and pure-commitment Stackelberg outcomes come with the share of members
in which they hold (`robustness`); the member-median game adds the mixed-commitment Stackelberg outcome
(`stackelberg_mixed`, which needs highspy). `as_record` turns it all into plain JSON-able data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reesim.game.normal_form import PayoffLike, Profile
from reesim.game.robustness import Robustness, robustness
from reesim.game.stackelberg import stackelberg_mixed


@dataclass(frozen=True, eq=False)
class GameAnalysis:
    """Outcomes across members (`robustness.table`), the median game, and China's best mixed commitment there
    (None when highspy is not installed)."""

    robustness: Robustness
    commitment: Profile | None


def analyse(china: PayoffLike, g7: PayoffLike, *, tol: float = 1e-9) -> GameAnalysis:
    """Equilibria and Stackelberg outcomes (China leading) of payoff tables (member, china, g7)."""
    report = robustness(china, g7, tol=tol)
    try:
        commitment = stackelberg_mixed(report.median_row, report.median_col, tol=tol)
    except ImportError:
        commitment = None
    return GameAnalysis(report, commitment)


def as_record(analysis: GameAnalysis) -> dict[str, Any]:
    """Plain data: outcomes with supports, shares, median mixes and payoffs; the median payoff tables."""
    report = analysis.robustness

    def number(x: Any) -> Any:
        return None if isinstance(x, float) and np.isnan(x) else x

    outcomes = [{k: (list(v) if isinstance(v, tuple) else number(v)) for k, v in row.items()}
                for row in report.table.to_dict(orient="records")]
    record: dict[str, Any] = {
        "members": report.members,
        "degenerate_members": report.degenerate_members,
        "median_payoffs": {"china": report.median_row.to_dict(orient="index"),
                           "g7": report.median_col.to_dict(orient="index")},
        "outcomes": outcomes,
        "mixed_commitment": None,
    }
    if analysis.commitment is not None:
        c = analysis.commitment
        record["mixed_commitment"] = {
            "china_mix": dict(zip(c.row_labels, map(float, c.row_mix), strict=True)),
            "g7_reply": dict(zip(c.col_labels, map(float, c.col_mix), strict=True)),
            "china_payoff": c.row_payoff, "g7_payoff": c.col_payoff}
    return record
