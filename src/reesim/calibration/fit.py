"""Calibrate behavioural parameters to the record: a staged least-squares search and an ABC posterior.

Stage 1 draws a Latin hypercube over the priors; each later stage draws one in a box around the best
candidate so far, half as wide as the one before; then, with `polish`, a compass search refines the best
candidate (`reesim.calibration.polish`; on in `reesim calibrate` and the shipped calibration). A known
point (`start`, e.g. an earlier calibration's) may join the candidates before the polish, so that a
refit on a changed scenario can begin where the last fit ended. Every
candidate is one ensemble member, so a stage, or an iteration of the polish, is one batched simulation.
The point estimate is the candidate with the least mean squared log residual (least squares), whichever
stage found it.

Parameter uncertainty is an approximate Bayesian computation by rejection (Pritchard et al. 1999;
Beaumont, Zhang and Balding 2002) on the stage-1 candidates, which are draws from the prior: those whose
loss is within the `accept` quantile of stage 1 form the posterior sample, and its quantiles are the
parameters' uncertainty. The later stages sample near the best more densely than the prior does, so they
sharpen the point estimate but do not enter the posterior (weighting a box's draws back to the prior would
leave a handful of effective draws in a dozen dimensions). With `smc`, the later stages are instead
generations of population Monte Carlo ABC (`reesim.calibration.smc`): the first keeps the `accept` share
of its prior draws; each later one perturbs the last generation's particles, keeps the proposals within a
tighter tolerance (the weighted median of the last generation's losses) and weights them back to the
prior, and the last generation is the posterior.

With `until`, only the record up to that year is fitted; the rest is held back and reported as a
prediction of the candidates fitted without it. A target may also fit China's own prices (`domestic`,
`reesim calibrate --fit-domestic`): the shipped calibration does not, and the back-test reports them as
a check it did not see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from reesim.backtest.record import EXPORTS, PRICES, ExportYear, PricePoint
from reesim.calibration.batch import DesignRun, run_design
from reesim.calibration.design import Prior, box_around, latin_hypercube, to_units
from reesim.calibration.objective import export_residuals, log_residuals, loss
from reesim.calibration.polish import compass_search
from reesim.calibration.priors import PRIORS
from reesim.calibration.smc import (
    effective_size,
    importance_weights,
    kernel_covariance,
    propose,
    resample,
    weighted_quantile,
)
from reesim.scenario import Scenario

SMC_SHRINK = 0.5  # an SMC generation's tolerance: this quantile of the last generation's losses


@dataclass(frozen=True)
class Target:
    """The recorded figures a calibration fits, and those it holds back."""

    points: tuple[PricePoint, ...] = PRICES
    exports: tuple[ExportYear, ...] = EXPORTS
    until: int | None = None  # last year fitted; later figures are held back
    domestic: tuple[PricePoint, ...] = ()  # China's own prices, fitted too where given (record.DOMESTIC)

    def _fitted(self, points: Sequence[PricePoint]) -> np.ndarray:
        return np.array([self.until is None or p.year <= self.until for p in points], dtype=bool)

    def used_points(self) -> np.ndarray:
        return self._fitted(self.points)

    def used_domestic(self) -> np.ndarray:
        return self._fitted(self.domestic)

    def used_exports(self) -> np.ndarray:
        recorded = [e for e in self.exports if e.exports is not None]
        return np.array([self.until is None or e.year <= self.until for e in recorded], dtype=bool)

    def residuals(self, run: DesignRun) -> np.ndarray:
        """(n, figures) log residuals of every recorded figure: price points, export years, China's prices."""
        return np.concatenate([log_residuals(run.prices, self.points),
                               export_residuals(run.exports, run.years, self.exports),
                               log_residuals(run.domestic, self.domestic)], axis=1)

    def used(self) -> np.ndarray:
        return np.concatenate([self.used_points(), self.used_exports(), self.used_domestic()])

    def labels(self) -> list[tuple[str, str, float]]:
        """(figure, label, recorded value) in the order of `residuals`."""
        rows = [(p.product, p.label, p.value) for p in self.points]
        rows += [("exports", str(e.year), float(e.exports)) for e in self.exports if e.exports is not None]
        return rows + [(f"{p.product} in China", p.label, p.value) for p in self.domestic]


@dataclass
class Calibration:
    """The outcome: every candidate, the least-squares point, the ABC posterior and the fit."""

    priors: tuple[Prior, ...]
    candidates: pd.DataFrame  # one row per candidate: parameters, stage, loss, held_rmse, accepted
    best: dict[str, float]
    epsilon: float  # ABC acceptance threshold on the loss
    posterior: pd.DataFrame  # per parameter: prior range, best, posterior mean, sd, 5/50/95 % quantiles
    fit: pd.DataFrame  # per recorded figure, for the best candidate: recorded, simulated, residual, used
    settings: dict = field(default_factory=dict)
    profiles: dict[str, pd.DataFrame] = field(default_factory=dict)  # loss by scenario field (calibration.profile)
    sample: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # candidate rows, equally weighted

    def summary(self) -> dict:
        """Fit statistics: RMS log residual of the fitted and the held-back figures, best and posterior."""
        used = self.fit["used"].to_numpy()
        res = self.fit["residual"].to_numpy()
        acc = self.candidates[self.candidates["accepted"]]
        w = acc["weight"].to_numpy()
        out = {"rmse_fitted": float(np.sqrt(np.mean(res[used] ** 2))), "candidates": len(self.candidates),
               "accepted": len(acc), "epsilon": self.epsilon,
               "rmse_fitted_posterior_median": _median(np.sqrt(acc["loss"].to_numpy()), w)}
        if self.settings.get("smc"):
            out["effective_sample_size"] = effective_size(w)
        if (~used).any():
            out["rmse_held_back"] = float(np.sqrt(np.mean(res[~used] ** 2)))
            out["rmse_held_back_posterior_median"] = _median(acc["held_rmse"].to_numpy(), w)
        return out


def _median(values: np.ndarray, weights: np.ndarray) -> float:
    """The median of an equally weighted sample as pandas takes it, of a weighted one by its weights."""
    if np.allclose(weights, weights[0]):
        return float(np.median(values))
    return float(weighted_quantile(values, weights, 0.5))


def calibrate(scenario: Scenario, *, members: int, seed: int = 0, stages: int = 2, target: Target | None = None,
              priors: Sequence[Prior] = PRIORS, accept: float = 0.1, width: float = 0.5, polish: bool = True,
              start: Mapping[str, float] | None = None, smc: bool = False,
              progress: Callable[[int, int], None] | None = None) -> Calibration:
    """Search `stages` designs of `members` candidates each, add the `start` point if given (a stage of its
    own, numbered `stages`), then (with `polish`) refine the best by compass search
    (`reesim.calibration.polish`; its trials are the next stage), and return the fit and its posterior.
    The posterior comes from the first stage alone, or with `smc` from the last SMC generation."""
    if stages < 1 or members < 2:
        raise ValueError("a calibration needs at least one stage of at least two candidates")
    if not 0 < accept <= 1:
        raise ValueError(f"accept is the share of candidates kept by the ABC, in (0, 1], not {accept}")
    target = target or Target()
    priors = tuple(priors)
    if start is not None:
        missing = sorted({p.name for p in priors} - set(start))
        if missing:
            raise ValueError(f"the start point lacks {missing}; give every calibrated parameter")
        outside = [p.name for p in priors if not p.low <= start[p.name] <= p.high]
        if outside:
            raise ValueError(f"the start point lies outside the priors of {outside}")
    rng = np.random.default_rng(seed)
    used = target.used()
    runs: list[DesignRun] = []
    stage_of: list[np.ndarray] = []
    total = members * stages
    keep = max(2, round(accept * members))  # particles the first SMC generation keeps
    population: _Population | None = None  # SMC: the last generation
    for s in range(stages):
        if s == 0:
            design = latin_hypercube(priors, members, rng, (np.zeros(len(priors)), np.ones(len(priors))))
        elif smc:
            proposed = propose(population.units, population.weights, population.kernel, members, rng)
            design = {p.name: p.from_unit(proposed[:, i]) for i, p in enumerate(priors)}
        else:
            so_far = DesignRun.concat(runs)
            best = int(np.argmin(loss(target.residuals(so_far)[:, used])))
            box = box_around(priors, {k: v[best] for k, v in so_far.params.items()}, width / 2 ** (s - 1))
            design = latin_hypercube(priors, members, rng, box)
        done = s * members
        report = None if progress is None else lambda k, n, done=done: progress(done + k, total)
        runs.append(run_design(scenario, design, target.points, domestic=target.domestic, progress=report))
        stage_of.append(np.full(members, s))
        if smc:
            population = _next_generation(population, runs[-1], target, used, priors, keep, s * members)
    if start is not None:  # a stage of one: the given point
        runs.append(run_design(scenario, {p.name: np.array([float(start[p.name])]) for p in priors}, target.points,
                               domestic=target.domestic))
        stage_of.append(np.full(1, stages))
    if polish:  # one more stage: the compass search's trial points, not in the posterior
        so_far = DesignRun.concat(runs)
        losses = loss(target.residuals(so_far)[:, used])
        best = int(np.argmin(losses))

        def evaluate(units: np.ndarray) -> np.ndarray:
            design = {p.name: p.from_unit(units[:, i]) for i, p in enumerate(priors)}
            runs.append(run_design(scenario, design, target.points, domestic=target.domestic))
            return loss(target.residuals(runs[-1])[:, used])

        origin = to_units(priors, {k: v[best:best + 1] for k, v in so_far.params.items()})[0]
        tried, _ = compass_search(evaluate, origin, float(losses[best]))
        stage_of.extend(np.full(len(t), stages + (start is not None)) for t in tried)
    run = DesignRun.concat(runs)
    residuals = target.residuals(run)
    losses = loss(residuals[:, used])
    held = np.sqrt(loss(residuals[:, ~used])) if (~used).any() else np.full(len(run), np.nan)
    stage = np.concatenate(stage_of)
    weight = np.zeros(len(run))
    if smc:  # the last generation, weighted, drawn equally weighted for the scenarios' sample
        weight[population.rows] = population.weights
        epsilon = population.tolerance
        sample = population.rows[resample(population.weights, len(population.rows), rng)]
    else:
        epsilon = float(np.quantile(losses[stage == 0], accept))
        sample = np.flatnonzero((stage == 0) & (losses <= epsilon))
        weight[sample] = 1.0 / len(sample)
    accepted = weight > 0
    candidates = pd.DataFrame({**run.params, "stage": stage, "loss": losses, "held_rmse": held,
                               "accepted": accepted, "weight": weight})
    best_index = int(np.argmin(losses))
    best = {p.name: float(run.params[p.name][best_index]) for p in priors}
    rows = []
    w = weight[accepted]
    for p in priors:
        x = run.params[p.name][accepted]
        q05, q50, q95 = (weighted_quantile(x, w, np.array([0.05, 0.5, 0.95])) if smc
                         else np.quantile(x, [0.05, 0.5, 0.95]))
        mean = float(w @ x)
        rows.append({"parameter": p.name, "prior_low": p.low, "prior_high": p.high, "scale": p.scale,
                     "best": best[p.name], "mean": mean, "sd": float(np.sqrt(w @ (x - mean) ** 2)),
                     "q05": float(q05), "q50": float(q50), "q95": float(q95)})
    simulated = np.concatenate([run.prices[best_index], run.exports[best_index][
        [run.years.index(e.year) for e in target.exports if e.exports is not None]], run.domestic[best_index]])
    fit = pd.DataFrame([{"figure": f, "label": label, "recorded": rec} for f, label, rec in target.labels()])
    fit["simulated"] = simulated
    fit["residual"] = residuals[best_index]
    fit["used"] = used
    settings = {"scenario": scenario.name, "members_per_stage": members, "stages": stages, "seed": seed,
                "accept": accept, "width": width, "polish": polish, "until": target.until,
                "fit_domestic": bool(target.domestic), "smc": smc,
                "start": None if start is None else {p.name: float(start[p.name]) for p in priors}}
    return Calibration(priors=priors, candidates=candidates, best=best, epsilon=epsilon,
                       posterior=pd.DataFrame(rows), fit=fit, settings=settings, sample=sample)


@dataclass(frozen=True)
class _Population:
    """An SMC generation's particles: candidate rows, unit coordinates, weights, losses and tolerance."""

    rows: np.ndarray
    units: np.ndarray
    weights: np.ndarray
    losses: np.ndarray
    tolerance: float

    @cached_property
    def kernel(self) -> np.ndarray:
        """The covariance of the kernel that perturbs these particles into the next generation's proposals."""
        return kernel_covariance(self.units, self.weights)


def _next_generation(population: _Population | None, run: DesignRun, target: Target, used: np.ndarray,
                     priors: Sequence[Prior], keep: int, offset: int) -> _Population:
    """The SMC population after a stage (its candidates numbered from `offset`). The first stage, drawn
    from the prior, keeps its `keep` best, equally weighted. A later one keeps every proposal within a
    tolerance set at the weighted `SMC_SHRINK` quantile of the last generation's losses, weighted back to
    the prior; if fewer than two are within it, the last generation stands."""
    losses = loss(target.residuals(run)[:, used])
    units = to_units(priors, run.params)
    if population is None:
        order = np.argsort(losses, kind="stable")[:keep]
        return _Population(offset + order, units[order], np.full(len(order), 1.0 / len(order)), losses[order],
                           float(losses[order[-1]]))
    tolerance = float(weighted_quantile(population.losses, population.weights, SMC_SHRINK))
    kept = np.flatnonzero(losses <= tolerance)
    if len(kept) < 2:
        return population
    weights = importance_weights(units[kept], population.units, population.weights, population.kernel)
    return _Population(offset + kept, units[kept], weights, losses[kept], tolerance)
