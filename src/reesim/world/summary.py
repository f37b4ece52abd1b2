"""Summaries of a world's base year that analysts ask for first: who holds each stage."""

from __future__ import annotations

import pandas as pd

from reesim.world.world import World

STAGE_ORDER = ("mining", "separation", "metal", "magnet")


def _counted(fac: pd.DataFrame) -> pd.DataFrame:
    """Facilities whose output counts at their stage: at mining, mines only (no crackers, no scrap)."""
    return fac[~((fac["stage"] == "mining") & (fac["process"] != "mine"))]


def stage_shares(world: World, holder: str = "CHN") -> pd.DataFrame:
    """Base-year output by stage and the share of one region by location and by controller.

    Mining counts mines only (crackers re-process mine output, scrap is not mined); each stage is in its own unit
    (t REO, t REO, t metal, t magnet), so shares compare within a stage, never across.
    """
    fac = _counted(world.tables["facilities"])
    rows = []
    for stage in STAGE_ORDER:
        part = fac[fac["stage"] == stage]
        total = part["output_base"].sum()
        located = part.loc[part["region"] == holder, "output_base"].sum()
        controlled = part.loc[part["controller"] == holder, "output_base"].sum()
        rows.append((stage, total, located / total if total else float("nan"),
                     controlled / total if total else float("nan")))
    columns = ["stage", "output_base", f"{holder}_share_location", f"{holder}_share_controller"]
    return pd.DataFrame(rows, columns=columns)


def output_by_region(world: World, stage: str) -> pd.DataFrame:
    """Base-year output and capacity of one stage by region, largest first."""
    fac = _counted(world.tables["facilities"])
    fac = fac[fac["stage"] == stage]
    grouped = fac.groupby("region")[["output_base", "capacity"]].sum()
    return grouped.sort_values("output_base", ascending=False).reset_index()
