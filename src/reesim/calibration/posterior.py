"""The posterior sample of a calibration, from which scenarios draw their behavioural parameters.

A rejection ABC leaves a set of accepted candidate vectors, equally weighted. Drawing a member's
parameters as one whole accepted vector (not each parameter on its own) keeps the trade-offs the record
imposes between them: holders' `precaution` and the speculation's risk, or the short- and long-run
elasticities, are only plausible together. Parameters fitted to one world alone (`growth_scale`, the
2009 world's demand path) are left out, so a scenario of another world keeps its own.

Kept apart from `reesim.calibration.result` so that a run can read a sample without importing the
calibration machinery (which imports the engine).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from reesim.calibration.priors import WORLD_SPECIFIC
from reesim.engine.parameters import PARAMETERS
from reesim.errors import InputError

SHIPPED_POSTERIORS = {"calibrated_2010": "calibrated_2010.json"}  # name in a scenario -> packaged file


def posterior_exists(source: str) -> bool:
    """Whether `source` names a shipped calibration or an existing file (checked when a scenario loads)."""
    return source in SHIPPED_POSTERIORS or Path(source).is_file()


def _text(source: str) -> tuple[str, str]:
    """(where, text) of a shipped calibration's name or a calibration.json path."""
    if source in SHIPPED_POSTERIORS:
        name = SHIPPED_POSTERIORS[source]
        return f"reesim/calibration/{name}", resources.files("reesim.calibration").joinpath(name).read_text(encoding="utf-8")
    try:
        return source, Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(source, "posterior", f"cannot read the calibration: {exc}",
                         f"name a shipped calibration ({', '.join(SHIPPED_POSTERIORS)}) or the calibration.json "
                         "written by `reesim calibrate`") from exc


def posterior_fingerprint(source: str) -> str:
    """`source` with the SHA-256 of its content (12 hex digits), for a run's identity: a run drawn from a
    recalibrated or edited calibration is another run, though the scenario names the same file."""
    return f"{source}@sha256:{hashlib.sha256(_text(source)[1].encode()).hexdigest()[:12]}"


def read_posterior(source: str, world_specific: bool = False) -> dict[str, np.ndarray]:
    """The accepted candidates of a calibration: parameter -> (n,) values, world-specific ones left out
    unless `world_specific` (for a run of the world they were fitted on, such as the back-test's).

    `source` is a shipped calibration's name (`calibrated_2010`) or the path of a calibration.json written
    by `reesim calibrate`.
    """
    where, text = _text(source)
    try:
        sample = json.loads(text)["sample"]
        names = sorted({k for row in sample for k in row} - {"loss"})
        values = {k: np.array([float(row[k]) for row in sample]) for k in names}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(where, "sample", "no posterior sample (a list of accepted candidates) in the calibration",
                         "rerun `reesim calibrate` with this version of reesim, which writes one") from exc
    if not sample:
        raise InputError(where, "sample", "the posterior sample is empty", "calibrate with a larger --accept share")
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise InputError(where, "sample", f"unknown parameter(s) {unknown}", "recalibrate with this version of reesim")
    return {k: v for k, v in values.items() if world_specific or k not in WORLD_SPECIFIC}
