"""Behavioural and technical parameters of the engine, and their uncertainty.

No source gives most of these numbers (facts.md F: no rare-earth elasticity was found in any source
read), so each default says where it comes from and every parameter can be drawn per ensemble member
from a distribution named in the scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Parameter(BaseModel):
    """One parameter: default value, unit, bounds, and why the default is what it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: float
    unit: str
    description: str
    basis: str
    lower: float = -np.inf
    upper: float = np.inf


def _calibrated(low: float, high: float, note: str = "") -> str:
    """The basis of a default fitted to the 2010-2011 crisis: the calibration's least-squares point, with the
    90 % interval of its ABC posterior, which the 2024 scenarios draw from (docs/calibration.md)."""
    text = f"calibrated on the 2010-11 crisis (docs/calibration.md): least-squares point; 90 % posterior {low:g}-{high:g}"
    return f"{text}; {note}" if note else text


PARAMETERS: dict[str, Parameter] = {
    "elasticity_short": Parameter(
        default=0.2398, unit="-", lower=0.0, upper=2.0,
        description="Short-run price elasticity of final demand (absolute value).",
        basis=_calibrated(0.14, 0.55, "facts.md F assumed -0.1 to -0.3 (unverified)")),
    "elasticity_long": Parameter(
        default=0.4598, unit="-", lower=0.0, upper=3.0,
        description="Long-run price elasticity of final demand (substitution and thrifting), absolute value.",
        basis=_calibrated(0.55, 1.3,
                          "facts.md F assumed -0.5 to -1.0; US consumption 2010-12 arc about -0.8")),
    "substitution_months": Parameter(
        default=27.84, unit="months", lower=1.0, upper=240.0,
        description="Time constant with which the long-run demand response builds up.",
        basis=_calibrated(9.8, 47,
                          "Toyota, Honda and Nissan redesigns after 2011 took two to four years (facts.md D)")),
    "growth_scale": Parameter(
        default=1.0, unit="-", lower=0.0, upper=3.0,
        description="Multiplier on the dataset's demand growth rates.",
        basis="assumed; 1 reproduces demand.csv"),
    "stock_cover_months": Parameter(
        default=0.5, unit="months", lower=0.0, upper=24.0,
        description="Inventory that holders in a region target, in months of the region's base throughput.",
        basis=_calibrated(0.56, 4.2)),
    "input_cover_months": Parameter(
        default=1.0, unit="months", lower=0.0, upper=12.0,
        description="Input stock that plants keep beyond the current month's needs, in months of use.",
        basis="assumed"),
    "stock_price_response": Parameter(
        default=0.5758, unit="-", lower=0.0, upper=5.0,
        description="Relative cut in desired stocks per 100% of price above its expected level.",
        basis=_calibrated(0.21, 4.8)),
    "precaution": Parameter(
        default=0.8123, unit="-", lower=0.0, upper=10.0,
        description="Extra desired cover per unit of perceived supply risk (precautionary buying).",
        basis=_calibrated(0.11, 5.9,
                          "trades off with the 2010-crisis speculation's risk (5), which it multiplies")),
    "expectation_speed": Parameter(
        default=0.2102, unit="1/month", lower=0.01, upper=1.0,
        description="Weight of the latest price in adaptive price expectations.",
        basis=_calibrated(0.067, 0.59)),
    "utilisation_response": Parameter(
        default=0.9555, unit="-", lower=0.0, upper=10.0,
        description="Elasticity of a plant's output to its margin as a share of its output value at expected prices.",
        basis=_calibrated(0.31, 3.5)),
    "mine_response": Parameter(
        default=1.0, unit="-", lower=0.0, upper=10.0,
        description="Elasticity of a mine's output to its margin as a share of its output value at expected prices.",
        basis=_calibrated(0.066, 0.81, "facts.md F: ex-China short-run supply about 0")),
    "separation_recovery": Parameter(
        default=0.95, unit="-", lower=0.5, upper=1.0,
        description="Share of the REO fed to a separation plant recovered as saleable oxides.",
        basis="assumed: typical solvent-extraction recoveries of 90-98%"),
    "transport_concentrate": Parameter(
        default=0.3, unit="USD/kg", lower=0.0, upper=10.0,
        description="Cost of moving one kg REO of concentrate between regions.",
        basis="assumed: bulk freight and handling"),
    "transport_oxide": Parameter(
        default=0.5, unit="USD/kg", lower=0.0, upper=10.0,
        description="Cost of moving one kg of oxide between regions.", basis="assumed"),
    "transport_metal": Parameter(
        default=0.5, unit="USD/kg", lower=0.0, upper=10.0,
        description="Cost of moving one kg of metal or alloy between regions.", basis="assumed"),
    "transport_magnet": Parameter(
        default=1.0, unit="USD/kg", lower=0.0, upper=20.0,
        description="Cost of moving one kg of magnets between regions.", basis="assumed: air and sea freight mix"),
    "lag_mining": Parameter(default=1.0, unit="months", lower=0.0, upper=12.0,
                            description="Months from mining to concentrate available for sale.", basis="assumed"),
    "lag_separation": Parameter(default=2.0, unit="months", lower=0.0, upper=12.0,
                                description="Months from buying concentrate to selling oxides.",
                                basis="assumed: solvent-extraction circuits hold weeks of inventory"),
    "lag_metal": Parameter(default=1.0, unit="months", lower=0.0, upper=12.0,
                           description="Months from buying oxide to selling metal.", basis="assumed"),
    "lag_magnet": Parameter(default=2.0, unit="months", lower=0.0, upper=12.0,
                            description="Months from buying metal to selling magnets.",
                            basis="assumed: sintering, machining and coating"),
    "quota_growth": Parameter(
        default=0.07, unit="1/yr", lower=-0.5, upper=0.5,
        description="Yearly growth of China's mining and separation quotas from their 2024 levels.",
        basis="facts.md C1: +21.4% in 2023 and +5.9% in 2024; assumed 7%/yr, near the 7.5-8.7%/yr growth "
              "of NdFeB demand (Adamas), so the baseline quota follows demand"),
    "price_ceiling_multiple": Parameter(
        default=30.19, unit="-", lower=1.5, upper=1000.0,
        description="Price (as a multiple of the base price) at which remaining demand goes unserved.",
        basis=_calibrated(23, 73)),
    "reservation_price_share": Parameter(
        default=0.6, unit="-", lower=0.0, upper=0.9,
        description="Price, as a share of the base-year price, below which holders keep a product rather than "
                    "sell it: a glut goes into stock at that price instead of clearing at zero.",
        basis=_calibrated(0.2, 0.55)),
    "project_delay_max": Parameter(
        default=0.0, unit="months", lower=0.0, upper=120.0,
        description="Upper bound of the uniform delay drawn for announced projects' start dates.",
        basis="assumed; facts.md F: projects slip by years (Arafura 18+ years before FID)"),
    "investment_hurdle": Parameter(
        default=0.25, unit="-", lower=0.0, upper=5.0,
        description="Trailing cash margin, as a share of output value at long-run expected prices, that new "
                    "capacity must earn: owners expand a plant running above 90% of capacity, and build a "
                    "greenfield candidate, when it is exceeded.",
        basis="assumed: a capital charge of about 15%/yr on capex of 1-2 years of revenue (facts.md E capex)"),
    "expansion_share": Parameter(
        default=0.2, unit="-", lower=0.0, upper=2.0,
        description="Capacity added by one expansion decision, as a share of the plant's nameplate.",
        basis="assumed"),
    "lead_mining": Parameter(default=60.0, unit="months", lower=0.0, upper=360.0,
                             description="Lead time of a mine expansion.",
                             basis="facts.md F: brownfield faster than the 15.7-year greenfield average (S&P)"),
    "lead_separation": Parameter(default=36.0, unit="months", lower=0.0, upper=240.0,
                                 description="Lead time of new separation capacity.",
                                 basis="facts.md F: brownfield separation 1-5 years"),
    "lead_metal": Parameter(default=24.0, unit="months", lower=0.0, upper=240.0,
                            description="Lead time of new metal capacity.", basis="assumed"),
    "lead_magnet": Parameter(default=30.0, unit="months", lower=0.0, upper=240.0,
                             description="Lead time of new magnet capacity.",
                             basis="facts.md F: magnet plants 2-3 years (Neo Narva 2.5, e-VAC 2)"),
    "greenfield_lead_factor": Parameter(
        default=1.5, unit="-", lower=1.0, upper=5.0,
        description="Lead time of a greenfield plant (a candidate in the dataset) as a multiple of its stage's "
                    "lead time for expansions.",
        basis="facts.md F: a funded greenfield refinery about 5 years (Iluka) against 1-4 for brownfield "
              "separation; new mines far longer (15.7 years from discovery, S&P)"),
    "learning_rate": Parameter(
        default=0.1, unit="-", lower=0.0, upper=0.5,
        description="Cut in a new entrant's unit cost per doubling of its cumulative output.",
        basis="assumed: typical process-industry learning rates of 5-20%"),
    "closure_months": Parameter(
        default=18.0, unit="months", lower=1.0, upper=120.0,
        description="Months of cash losses after which a plant closes.",
        basis="assumed: Molycorp ran at a loss for years before its 2015 bankruptcy"),
    "outage_probability": Parameter(
        default=0.0, unit="1/month", lower=0.0, upper=1.0,
        description="Monthly probability that a facility suffers an outage.", basis="assumed; 0 in the baseline"),
    "outage_depth": Parameter(default=0.5, unit="-", lower=0.0, upper=1.0,
                              description="Share of capacity lost during an outage.", basis="assumed"),
    "outage_months": Parameter(default=3.0, unit="months", lower=1.0, upper=36.0,
                               description="Length of an outage.", basis="assumed"),
}


class Distribution(BaseModel):
    """A distribution of one parameter across ensemble members."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["fixed", "uniform", "normal", "lognormal", "triangular"]
    value: float | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        needed = {"fixed": ("value",), "uniform": ("low", "high"), "normal": ("mean", "sd"),
                  "lognormal": ("mean", "sd"), "triangular": ("low", "mode", "high")}[self.kind]
        missing = [n for n in needed if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.kind} distribution needs {', '.join(needed)}; missing {', '.join(missing)}")
        if self.kind in {"uniform", "triangular"} and not self.low <= self.high:  # type: ignore[operator]
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.kind == "triangular" and not self.low <= self.mode <= self.high:  # type: ignore[operator]
            raise ValueError("mode must lie between low and high")
        if self.kind == "lognormal" and self.mean is not None and self.mean <= 0:
            raise ValueError("a lognormal distribution needs a positive mean")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        """One draw (mean and sd of a lognormal are those of the variable itself)."""
        if self.kind == "fixed":
            return float(self.value)  # type: ignore[arg-type]
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "normal":
            return float(rng.normal(self.mean, self.sd))
        if self.kind == "triangular":
            return float(rng.triangular(self.low, self.mode, self.high))
        sigma2 = np.log1p((self.sd / self.mean) ** 2)  # type: ignore[operator]
        return float(rng.lognormal(np.log(self.mean) - sigma2 / 2, np.sqrt(sigma2)))  # type: ignore[arg-type]


def draw_parameters(uncertain: dict[str, Distribution], rngs: list[np.random.Generator],
                    posterior: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per-member values of every parameter, clipped to the bounds: one draw per member from `uncertain`;
    else, for the parameters of a `posterior` sample (name -> (n,) accepted values), one whole accepted
    vector per member, so their joint distribution is kept; else the default.

    The posterior's pick comes from a stream spawned off each member's generator, so adding a posterior to
    a scenario leaves every other draw of the member (parameters, outages, project delays) as it was.
    """
    unknown = set(uncertain) - set(PARAMETERS)
    if unknown:
        raise KeyError(f"unknown parameter(s) {sorted(unknown)}; known: {', '.join(sorted(PARAMETERS))}")
    joint = {k: np.asarray(v, dtype=float) for k, v in (posterior or {}).items() if k not in uncertain}
    pick = np.zeros(len(rngs), dtype=int)
    if joint:
        size = len(next(iter(joint.values())))
        pick = np.array([rng.spawn(1)[0].integers(size) for rng in rngs])
    out: dict[str, np.ndarray] = {}
    for name, spec in PARAMETERS.items():
        if name in uncertain:
            values = np.array([uncertain[name].draw(rng) for rng in rngs])
        elif name in joint:
            values = joint[name][pick]
        else:
            values = np.full(len(rngs), spec.default)
        out[name] = np.clip(values, spec.lower, spec.upper)
    return out
