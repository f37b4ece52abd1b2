"""Play every profile of a grid of strategies (China x G-7) over an ensemble, for the game analysis.

Each profile is played as its own run of the same scenario, so every profile sees the same members
(parameter draws, project delays, outages): payoff differences between profiles come from the strategies,
not from sampling. Partner states play their rules in every profile. The result holds, per member and
profile, the metrics of the objectives (`outcomes`), a yearly summary, and the leverage index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from reesim.actors.china import ChinaSpec
from reesim.actors.g7 import G7Spec
from reesim.actors.leverage import LeverageSpec
from reesim.actors.metrics import yearly
from reesim.actors.partner import PartnerSpec
from reesim.actors.runner import play
from reesim.errors import InputError
from reesim.scenario import Scenario

KEYS = ["member", "china_strategy", "g7_strategy"]


@dataclass(frozen=True, eq=False)
class GridResult:
    """outcomes: one row per member and profile (KEYS + metrics); yearly: the same per year; leverage: the
    index per member, profile and start month (damage, loss, index)."""

    outcomes: pd.DataFrame
    yearly: pd.DataFrame
    leverage: pd.DataFrame


def china_spec(choice: str | ChinaSpec) -> ChinaSpec:
    """A China spec from a built-in strategy name or a spec."""
    return choice if isinstance(choice, ChinaSpec) else _named(ChinaSpec, choice, "china")


def g7_spec(choice: str | G7Spec) -> G7Spec:
    """A G-7 spec from a built-in strategy name or a spec."""
    return choice if isinstance(choice, G7Spec) else _named(G7Spec, choice, "g7")


def _named(model: type[ChinaSpec | G7Spec], name: str, key: str) -> ChinaSpec | G7Spec:
    try:
        return model(strategy=name)
    except ValueError as exc:
        raise InputError(None, key, f"unknown strategy {name!r}", str(exc).splitlines()[-1].strip()) from exc


def evaluate_grid(scenario: Scenario, china: Sequence[str | ChinaSpec], g7: Sequence[str | G7Spec],
                  partners: Sequence[PartnerSpec] = (), *, leverage: LeverageSpec | None = None,
                  progress: Callable[[int, int, str], None] | None = None) -> GridResult:
    """Play every (China, G-7) profile; strategies are labelled by their `strategy` (names must differ)."""
    chinas, g7s = [china_spec(c) for c in china], [g7_spec(g) for g in g7]
    for key, specs in (("china", chinas), ("g7", g7s)):
        labels = [s.strategy for s in specs]
        if not labels or len(set(labels)) != len(labels):
            raise InputError(None, key, f"strategies {labels} are empty or repeat a label",
                             "give at least one strategy per player, each with its own `strategy` label")
    leverage = leverage or LeverageSpec()
    outcomes, years, levers = [], [], []
    total = len(chinas) * len(g7s)
    for k, (c, g) in enumerate((c, g) for c in chinas for g in g7s):
        label = f"{c.strategy} x {g.strategy}"
        if progress is not None:
            progress(k, total, label)
        played = play(scenario, [c, g, *partners], leverage=leverage)
        keys = {"china_strategy": c.strategy, "g7_strategy": g.strategy}
        outcomes.append(played.outcomes().assign(**keys))
        years.append(yearly(played.metrics).assign(**keys))
        if played.leverage is not None:
            levers.append(played.leverage.to_dataframe().reset_index().assign(**keys))
    if progress is not None:
        progress(total, total, "done")

    def stacked(frames: list[pd.DataFrame], extra: list[str]) -> pd.DataFrame:
        if not frames:
            return pd.DataFrame(columns=KEYS + extra)
        frame = pd.concat(frames, ignore_index=True)
        return frame[KEYS + extra + [col for col in frame.columns if col not in KEYS + extra]]

    return GridResult(stacked(outcomes, []), stacked(years, ["year"]), stacked(levers, ["start"]))
