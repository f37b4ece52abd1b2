"""Small dense linear programmes through HiGHS, for the LP-based solvers of this package.

Game LPs have a few dozen variables at most, and the flow problems of `reesim.market.flows` a few hundred,
so a dense constraint matrix is simplest. highspy is an optional dependency (`reesim[solver]`), imported
on first use so that the rest of the package works without it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def maximise(cost: np.ndarray, rows: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray,
             col_lower: np.ndarray, col_upper: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Maximise cost'x subject to row_lower <= rows @ x <= row_upper and col_lower <= x <= col_upper.

    Infinite bounds are numpy inf (HiGHS's kHighsInf is the same value). Returns (x, optimal value), or
    None when the LP is infeasible.
    """
    try:
        import highspy
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError("the LP-based solvers need highspy: pip install 'reesim[solver]'") from err

    n_row, n_col = rows.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lower, float), np.asarray(col_upper, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lower, float), np.asarray(row_upper, float)
    col_of, row_of = np.nonzero(rows.T)  # column-major order, as the colwise format wants
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(col_of, np.arange(n_col + 1)).astype(np.int32)
    lp.a_matrix_.index_ = row_of.astype(np.int32)
    lp.a_matrix_.value_ = rows.T[col_of, row_of].astype(float)

    with _quiet_stdout():  # HiGHS prints a banner from C on its first construction, before options apply
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("primal_feasibility_tolerance", 1e-10)
    highs.setOptionValue("dual_feasibility_tolerance", 1e-10)
    highs.passModel(lp)
    highs.run()
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS ended with status {highs.modelStatusToString(status)} on an LP")
    return np.asarray(highs.getSolution().col_value), float(highs.getInfo().objective_function_value)


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to the null device meanwhile, so C code cannot pollute JSON on stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
