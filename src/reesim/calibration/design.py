"""The prior ranges of the calibrated parameters and space-filling designs over them.

A Latin hypercube puts exactly one candidate in each of n equal-probability slices of every parameter,
so n candidates cover each range evenly whatever the number of parameters (McKay, Beckman and Conover,
1979). Parameters whose plausible values span orders of magnitude (precaution, stock response) are
sampled on a log scale. Written with numpy alone: the design is a few lines and needs no SciPy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reesim.engine.parameters import PARAMETERS


@dataclass(frozen=True)
class Prior:
    """A uniform prior on [low, high], on the parameter itself or on its logarithm."""

    name: str
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"

    def __post_init__(self) -> None:
        if self.name not in PARAMETERS:
            raise ValueError(f"unknown parameter {self.name!r}; known: {', '.join(sorted(PARAMETERS))}")
        spec = PARAMETERS[self.name]
        if not spec.lower <= self.low < self.high <= spec.upper:
            raise ValueError(f"prior of {self.name} [{self.low}, {self.high}] must be increasing and inside the "
                             f"parameter's bounds [{spec.lower}, {spec.upper}]")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log-scale prior of {self.name} needs a positive lower end, not {self.low}")

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values at quantiles u in [0, 1] (clipped to the range: exp(log(x)) may overshoot by a rounding)."""
        if self.scale == "log":
            values = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + u * (self.high - self.low)
        return np.clip(values, self.low, self.high)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Quantiles of values x (inverse of `from_unit`)."""
        if self.scale == "log":
            return (np.log(x) - np.log(self.low)) / (np.log(self.high) - np.log(self.low))
        return (x - self.low) / (self.high - self.low)


def latin_hypercube(priors: Sequence[Prior], n: int, rng: np.random.Generator,
                    box: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """n candidates, one per equal-probability slice of every prior (or of `box`, a sub-box of the unit
    cube of prior quantiles given by its low and high corners), slices paired at random."""
    if n < 1:
        raise ValueError(f"a design needs at least one candidate, not {n}")
    low, high = box if box is not None else (np.zeros(len(priors)), np.ones(len(priors)))
    out = {}
    for i, prior in enumerate(priors):
        u = (rng.permutation(n) + rng.random(n)) / n
        out[prior.name] = prior.from_unit(low[i] + u * (high[i] - low[i]))
    return out


def box_around(priors: Sequence[Prior], centre: Mapping[str, float], width: float) -> tuple[np.ndarray, np.ndarray]:
    """The box of `width` (a share of each prior's range, in its scale) centred on `centre`, clipped to the
    prior, as low and high corners in prior quantiles: where the next, finer stage of a search looks."""
    c = np.array([float(p.to_unit(np.asarray(centre[p.name]))) for p in priors])
    return np.clip(c - width / 2, 0.0, 1.0), np.clip(c + width / 2, 0.0, 1.0)


def to_units(priors: Sequence[Prior], values: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n, parameters) prior quantiles of a design."""
    return np.stack([p.to_unit(np.asarray(values[p.name], dtype=float)) for p in priors], axis=1)
