"""Writing a calibration to disk, and reading the calibration shipped with reesim.

`calibration.json` holds the settings, the fit statistics, the least-squares point, the posterior summary,
the posterior sample (the accepted candidates, equally weighted, which scenarios draw from:
`reesim.calibration.posterior`) and the fit figure by figure; `candidates.csv` every candidate with its loss and ABC weight, so the
posterior can be re-analysed without rerunning. The file shipped in the package (`calibrated_2010.json`)
is the output of `reesim calibrate` for the 2010-crisis scenario; the back-test runs its point estimate.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from reesim.calibration.fit import Calibration
from reesim.engine.parameters import PARAMETERS
from reesim.errors import InputError

SHIPPED = "calibrated_2010.json"


def calibration_record(cal: Calibration) -> dict:
    """The JSON-ready content of a calibration (everything but the candidates)."""
    drawn = cal.candidates.iloc[cal.sample]  # equally weighted: an SMC posterior is resampled by its weights
    sample = drawn[[p.name for p in cal.priors] + ["loss"]].to_dict(orient="records")
    record = {"settings": cal.settings, "summary": cal.summary(), "best": cal.best,
              "posterior": cal.posterior.to_dict(orient="records"), "sample": sample,
              "fit": cal.fit.to_dict(orient="records")}
    for name, table in cal.profiles.items():
        record[f"{name}_profile"] = table.to_dict(orient="records")
    return record


def write_calibration(cal: Calibration, folder: Path) -> tuple[Path, Path]:
    """Write calibration.json and candidates.csv into `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = folder / "calibration.json"
    table = folder / "candidates.csv"
    summary.write_text(json.dumps(calibration_record(cal), indent=2) + "\n", encoding="utf-8")
    cal.candidates.to_csv(table, index=False)
    return summary, table


def read_parameters(path: Path | None = None) -> dict[str, float]:
    """The point estimate (`best`) of a calibration.json, by default the one shipped with reesim."""
    if path is None:
        text = resources.files("reesim.calibration").joinpath(SHIPPED).read_text(encoding="utf-8")
        where = f"reesim/calibration/{SHIPPED}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(path, None, f"cannot read the file: {exc}", "give a calibration.json written by "
                             "`reesim calibrate`") from exc
        where = str(path)
    try:
        best = json.loads(text)["best"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(where, "best", "not a calibration written by `reesim calibrate`",
                         "rerun `reesim calibrate` and pass its calibration.json") from exc
    unknown = sorted(set(best) - set(PARAMETERS))
    if unknown:
        raise InputError(where, "best", f"unknown parameter(s) {unknown}", "recalibrate with this version of reesim")
    return {name: float(value) for name, value in best.items()}
