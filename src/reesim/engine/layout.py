"""Where each demand and each line's input demand sits among the K net-supply pieces of a market node.

The layout is fixed for a world, so each month the engine fills preallocated (B, R, K) arrays with
vectorised scatters instead of building the clearing problem in Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reesim.engine.structure import Structure

HOLDERS, STOCKPILE, EPSILON, DEMAND = 0, 1, 2, 3
FIXED_PIECES = 4  # the sectors of a node bend at the same prices, so their demands share one piece


@dataclass(frozen=True)
class PieceLayout:
    """Slots of line input demands in the piece axis, and the entries of final demand: the few (region,
    sector, product) cells with base demand, whose sectors add up into their node's one demand piece."""

    demand_region: np.ndarray  # (D,) region of each entry with base demand
    demand_sector: np.ndarray  # (D,) its sector
    demand_product: np.ndarray  # (D,) its product
    demand_rank: np.ndarray  # (D,) its place among its node's entries, in sector order
    input_line: np.ndarray  # (E,) line of each input-demand entry
    input_product: np.ndarray  # (E,) product bought
    input_region: np.ndarray  # (E,) region of the buying line
    input_slot: np.ndarray  # (E,) piece slot k
    k: int  # total pieces per node


def build_layout(structure: Structure) -> PieceLayout:
    n_r, n_p, _, _ = structure.shape
    regions, sectors, products = np.nonzero(structure.demand_base)  # C order: sectors ascend within a node
    rank = np.zeros(len(regions), dtype=int)
    seen = np.zeros((n_r, n_p), dtype=int)
    for d, (r, p) in enumerate(zip(regions, products)):
        rank[d] = seen[r, p]
        seen[r, p] += 1
    lines, inputs = np.nonzero(structure.inputs)
    buyers = structure.line_region[lines]
    used = np.zeros((n_r, n_p), dtype=int)
    slots = np.empty(len(lines), dtype=int)
    for e, (r, p) in enumerate(zip(buyers, inputs)):
        slots[e] = FIXED_PIECES + used[r, p]
        used[r, p] += 1
    k = FIXED_PIECES + max(int(used.max()), 0)
    return PieceLayout(regions, sectors, products, rank, lines, inputs, buyers, slots, k)
