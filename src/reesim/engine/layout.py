"""Where each demand and each line's input demand sits among the K net-supply pieces of a market node.

The layout is fixed for a world, so each month the engine fills preallocated (B, R, K) arrays with
vectorised scatters instead of building the clearing problem in Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reesim.engine.structure import Structure

HOLDERS, STOCKPILE, EPSILON = 0, 1, 2
FIXED_PIECES = 3


@dataclass(frozen=True)
class PieceLayout:
    """Slots of sector demands and line input demands in the piece axis."""

    sector_slots: np.ndarray  # (P, Ks) sector index per slot, -1 if unused
    input_line: np.ndarray  # (E,) line of each input-demand entry
    input_product: np.ndarray  # (E,) product bought
    input_region: np.ndarray  # (E,) region of the buying line
    input_slot: np.ndarray  # (E,) piece slot k
    k: int  # total pieces per node

    @property
    def sector_offset(self) -> int:
        return FIXED_PIECES


def build_layout(structure: Structure) -> PieceLayout:
    n_r, n_p, _, _ = structure.shape
    demand_any = structure.demand_base.sum(axis=0) > 0  # (S, P)
    per_product = [np.flatnonzero(demand_any[:, p]) for p in range(n_p)]
    ks = max((len(s) for s in per_product), default=0)
    sector_slots = np.full((n_p, max(ks, 1)), -1)
    for p, sectors in enumerate(per_product):
        sector_slots[p, : len(sectors)] = sectors
    lines, products = np.nonzero(structure.inputs)
    regions = structure.line_region[lines]
    used = np.zeros((n_r, n_p), dtype=int)
    slots = np.empty(len(lines), dtype=int)
    for e, (r, p) in enumerate(zip(regions, products)):
        slots[e] = FIXED_PIECES + sector_slots.shape[1] + used[r, p]
        used[r, p] += 1
    k = FIXED_PIECES + sector_slots.shape[1] + max(int(used.max()), 0)
    return PieceLayout(sector_slots, lines, products, regions, slots, k)
