"""A consistent base-year balance of the whole chain, from the dataset's figures.

The dataset's numbers come from different sources and do not balance by themselves: USGS mine output,
quota-based separation output and estimated magnet output leave some concentrate unprocessed and some
oxides short. Calibrating the base year to a balanced state is standard practice; prices are never
overridden. The rules, applied stage by stage:

- mines and scrap collection run at their reported base-year output (USGS for mines);
- each concentrate is processed by the separation lines that take it as feed, shared in proportion to
  their base-year output, so no concentrate is left over;
- magnet lines run at their base-year output; metal lines make what the magnet lines need, shared in
  proportion to their base-year output;
- final demand of each product is scaled so that, at base-year prices, world demand equals world supply net
  of plants' use (the regional and sector split of demand.csv is kept).

The resulting utilisations (base-year throughput over capacity) anchor each line's supply response, and the
demand scale factors are reported so analysts can see how far the raw dataset was from balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reesim.engine.structure import Structure


@dataclass(frozen=True)
class BaseYear:
    """Balanced base-year throughput of each line (t/month) and the demand scale factor of each product."""

    throughput: np.ndarray  # (N,)
    demand_scale: np.ndarray  # (P,)
    unabsorbed: np.ndarray  # (P,) t/month of supply with no buyer in the base year (should be ~0)


def _share_out(total: float, weights: np.ndarray) -> np.ndarray:
    if weights.sum() > 0:
        return total * weights / weights.sum()
    return np.full(len(weights), total / max(len(weights), 1))


def balance_base_year(s: Structure, recovery: float) -> BaseYear:
    """Balance the base year stage by stage (see the module docstring)."""
    x0 = np.where(s.line_stage == 0, s.line_base_output, 0.0)
    x0 = np.where((s.line_stage == 3) & (s.inputs.sum(axis=1) == 0), s.line_base_output, x0)  # magnet recycling
    supply = x0 @ s.outputs  # concentrates (and recycled magnets)
    for p in np.flatnonzero(s.product_stage == 0):
        buyers = np.flatnonzero(s.inputs[:, p] > 0)
        if len(buyers) == 0:
            continue
        x0[buyers] = _share_out(supply[p], s.line_base_output[buyers]) / s.inputs[buyers, p]
    magnets = (s.line_stage == 3) & (s.inputs.sum(axis=1) > 0)
    x0[magnets] = s.line_base_output[magnets]
    need = x0[magnets] @ s.inputs[magnets]
    for p in np.flatnonzero(s.product_stage == 2):
        makers = np.flatnonzero(s.outputs[:, p] > 0)
        if len(makers) and need[p] > 0:
            x0[makers] = _share_out(need[p], s.line_base_output[makers]) / s.outputs[makers, p]
    rec = np.where(s.line_stage == 1, recovery, 1.0)
    made = (x0 * rec) @ s.outputs
    used = x0 @ s.inputs
    final = s.demand_base.sum(axis=(0, 1))
    net = made - used
    scale = np.where((final > 0) & (net > 0), net / np.where(final > 0, final, 1.0), 1.0)
    unabsorbed = np.where(final > 0, 0.0, np.maximum(net, 0.0))
    return BaseYear(throughput=x0, demand_scale=scale, unabsorbed=unabsorbed)
