"""Which behavioural parameters the 2010-2011 back-test calibrates, and over which prior ranges.

The ranges are wide on purpose: facts.md F found no published rare-earth elasticity, so the priors
span what the crude bounds there allow (short-run -0.1 to -0.4, long-run -0.5 to -1.0, widened by half)
and, for stock behaviour, from almost none to far more than the two months assumed by default. Ranges
that span orders of magnitude are sampled on a log scale.

`growth_scale` multiplies the 2009 world's demand growth rates, which are assumptions of that dataset
(world2009 demand.csv): it is fitted so that the behavioural parameters are not bent to make up for a
wrong demand path, and it is specific to the 2009 world, so it is not carried over to the 2024 world.
"""

from __future__ import annotations

from reesim.calibration.design import Prior

PRIORS: tuple[Prior, ...] = (
    Prior("elasticity_short", 0.05, 0.6),
    Prior("elasticity_long", 0.3, 1.5),
    Prior("substitution_months", 6.0, 48.0),
    Prior("stock_cover_months", 0.5, 6.0, "log"),
    Prior("stock_price_response", 0.1, 5.0, "log"),
    Prior("precaution", 0.1, 10.0, "log"),
    Prior("expectation_speed", 0.05, 0.8, "log"),
    Prior("utilisation_response", 0.2, 5.0, "log"),
    Prior("mine_response", 0.05, 1.0, "log"),
    Prior("reservation_price_share", 0.05, 0.6),
    Prior("price_ceiling_multiple", 20.0, 80.0),
    Prior("growth_scale", 0.2, 1.5),
)
WORLD_SPECIFIC = frozenset({"growth_scale"})  # fitted on the 2009 world only, never a default elsewhere
