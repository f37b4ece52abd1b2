"""Readers for the official USGS rare-earth files, read as published (MCS data release, DS140, MYB tables).

Each reader checks the layout it relies on and raises UsgsLayoutError naming the file, the place and the
fix, so that a new edition with a changed layout fails loudly instead of yielding wrong numbers.
"""

from __future__ import annotations

from reesim.usgs.ds140 import read_ds140
from reesim.usgs.mcs import (
    mcs_prices,
    mcs_production_table,
    mcs_reserves_table,
    mcs_us_salient,
    mcs_world_total,
    read_mcs_rare_earths,
)
from reesim.usgs.myb import read_myb_compositions, read_myb_world_production
from reesim.usgs.values import parse_usgs_value

__all__ = [
    "mcs_prices",
    "mcs_production_table",
    "mcs_reserves_table",
    "mcs_us_salient",
    "mcs_world_total",
    "parse_usgs_value",
    "read_ds140",
    "read_mcs_rare_earths",
    "read_myb_compositions",
    "read_myb_world_production",
]
