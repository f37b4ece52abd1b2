"""Two-player normal-form games: payoff tables with labelled strategies, and strategy profiles.

The row player (the leader candidate, e.g. China) picks a row, the column player (e.g. the G-7) a column;
`row[i, j]` and `col[i, j]` are their payoffs. Solvers accept plain arrays, pandas DataFrames (index = row
strategies, columns = column strategies) or xarray DataArrays (dims in the order row, column, with an optional
leading member dim), and return results that carry the strategy labels, so that a payoff table built from
simulations never loses track of which strategy is which. Labels of the two players' tables must match
exactly (order may differ); a mismatch is an error, never a silent reindex with NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reesim.errors import InputError

PayoffLike = Any  # numpy array, nested sequence, pandas DataFrame or xarray DataArray


@dataclass(frozen=True, eq=False)
class Game:
    """Payoff tables of both players, shape (m, n) or (members, m, n), with strategy labels."""

    row: np.ndarray
    col: np.ndarray
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(row strategies, column strategies)."""
        return self.row.shape[-2], self.row.shape[-1]

    @property
    def scale(self) -> float:
        """The largest payoff magnitude, at least 1: the unit of tolerances and of scaled LPs."""
        return max(1.0, float(np.abs(self.row).max()), float(np.abs(self.col).max()))

    def tolerance(self, tol: float) -> float:
        """Absolute payoff tolerance: `tol` times `scale`.

        Payoffs built from simulations are often in USD million, so a fixed absolute tolerance would be
        either too tight for large tables or too loose for small ones.
        """
        return tol * self.scale


@dataclass(frozen=True, eq=False)
class Profile:
    """A (possibly mixed) strategy profile with both players' expected payoffs.

    Used for Nash equilibria and Stackelberg outcomes alike. Mixes are probability vectors over all
    strategies (zeros off the support).
    """

    row_mix: np.ndarray
    col_mix: np.ndarray
    row_payoff: float
    col_payoff: float
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]

    @property
    def row_support(self) -> tuple[str, ...]:
        """Row strategies played with positive probability."""
        return tuple(lab for lab, p in zip(self.row_labels, self.row_mix, strict=True) if p > 0)

    @property
    def col_support(self) -> tuple[str, ...]:
        """Column strategies played with positive probability."""
        return tuple(lab for lab, p in zip(self.col_labels, self.col_mix, strict=True) if p > 0)

    @property
    def is_pure(self) -> bool:
        """Both players play a single strategy."""
        return len(self.row_support) == 1 and len(self.col_support) == 1

    def __repr__(self) -> str:
        def mix(labels: tuple[str, ...], p: np.ndarray) -> str:
            return ", ".join(f"{lab}: {q:.4g}" for lab, q in zip(labels, p, strict=True) if q > 0)

        return (f"Profile(row={{{mix(self.row_labels, self.row_mix)}}}, "
                f"col={{{mix(self.col_labels, self.col_mix)}}}, "
                f"payoffs=({self.row_payoff:.6g}, {self.col_payoff:.6g}))")


def profile(game: Game, row_mix: np.ndarray, col_mix: np.ndarray) -> Profile:
    """The profile of two mixes in a single (2-D) game, with expected payoffs x'Ay and x'By."""
    return Profile(row_mix, col_mix, float(row_mix @ game.row @ col_mix), float(row_mix @ game.col @ col_mix),
                   game.row_labels, game.col_labels)


def clean_mix(mix: np.ndarray, tol: float) -> np.ndarray:
    """Zero probabilities below `tol` and renormalise: solver output carries round-off like 1e-17."""
    out = np.where(mix > tol, mix, 0.0)
    return out / out.sum()


def as_game(row_payoff: PayoffLike, col_payoff: PayoffLike) -> Game:
    """A single game from two (m, n) payoff tables; see the module docstring for accepted types."""
    return _as_game(row_payoff, col_payoff, ndim=2)


def as_ensemble(row_payoff: PayoffLike, col_payoff: PayoffLike) -> Game:
    """An ensemble of games from two (members, m, n) payoff tables sharing strategy labels."""
    return _as_game(row_payoff, col_payoff, ndim=3)


def _as_game(row_payoff: PayoffLike, col_payoff: PayoffLike, ndim: int) -> Game:
    if _is_dataarray(row_payoff) and _is_dataarray(col_payoff):
        if set(row_payoff.dims) != set(col_payoff.dims):
            raise InputError(None, "col_payoff", f"dims {col_payoff.dims} differ from {row_payoff.dims}",
                             "name the dims of both players' payoffs alike")
        col_payoff = col_payoff.transpose(*row_payoff.dims)
    row, labels = _to_array(row_payoff, "row", ndim)
    col, col_labels = _to_array(col_payoff, "col", ndim, like=labels)
    if row.shape != col.shape:
        raise InputError(None, "col_payoff", f"shape {col.shape} differs from the row player's {row.shape}",
                         "give both players' payoffs on the same strategy grid")
    m, n = row.shape[-2:]
    default = (tuple(str(i) for i in range(m)), tuple(str(j) for j in range(n)))
    row_labels, col_labels_ = labels or col_labels or default
    return Game(row, col, row_labels, col_labels_)


def _is_dataarray(obj: Any) -> bool:
    """True for an xarray DataArray, tested without importing xarray."""
    return hasattr(obj, "dims") and hasattr(obj, "coords")


def _to_array(obj: PayoffLike, who: str, ndim: int,
              like: tuple[tuple[str, ...], tuple[str, ...]] | None = None
              ) -> tuple[np.ndarray, tuple[tuple[str, ...], tuple[str, ...]] | None]:
    """Float array and (row, column) labels if the input carries them; aligned to `like` if given."""
    key = f"{who}_payoff"
    labels: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    if isinstance(obj, pd.DataFrame):
        if ndim != 2:
            raise InputError(None, key, "a DataFrame holds one game, not an ensemble",
                             "pass an xarray DataArray or an array with a leading member axis")
        _check_distinct((tuple(map(str, obj.index)), tuple(map(str, obj.columns))), key)
        if like is not None:
            obj = _align_frame(obj, like, key)
        labels = (tuple(map(str, obj.index)), tuple(map(str, obj.columns)))
        arr = obj.to_numpy(dtype=float)
    elif _is_dataarray(obj):
        arr, labels = _from_dataarray(obj, key, ndim, like)
    else:
        arr = np.asarray(obj, dtype=float)
    if arr.ndim != ndim or 0 in arr.shape:
        want = "(strategies, strategies)" if ndim == 2 else "(members, strategies, strategies)"
        raise InputError(None, key, f"payoffs have shape {arr.shape}",
                         f"give a non-empty array of shape {want}")
    if not np.isfinite(arr).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise InputError(None, key, f"payoff at index {where} is not finite",
                         "fill or drop the strategy profile whose payoff is missing")
    return arr, labels


def _check_distinct(labels: tuple[tuple[str, ...], tuple[str, ...]], key: str
                    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The labels, if no strategy label repeats (they identify strategies in results)."""
    for name, labs in zip(("row", "column"), labels, strict=True):
        if len(set(labs)) != len(labs):
            raise InputError(None, key, f"{name} strategy labels {list(labs)} repeat",
                             "give every strategy a distinct label")
    return labels


def _align_frame(frame: pd.DataFrame, like: tuple[tuple[str, ...], tuple[str, ...]],
                 key: str) -> pd.DataFrame:
    """Reorder the second player's table to the first's labels; differing label sets are an error."""
    index = {str(x): x for x in frame.index}
    columns = {str(x): x for x in frame.columns}
    if set(index) != set(like[0]) or set(columns) != set(like[1]):
        raise InputError(None, key, "strategy labels differ from the row player's table",
                         f"use rows {list(like[0])} and columns {list(like[1])} in both tables")
    return frame.loc[[index[x] for x in like[0]], [columns[x] for x in like[1]]]


def _from_dataarray(arr: Any, key: str, ndim: int, like: tuple[tuple[str, ...], tuple[str, ...]] | None
                    ) -> tuple[np.ndarray, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Values and labels of a DataArray whose last two dims are (row, column) strategies."""
    if arr.ndim != ndim:
        raise InputError(None, key, f"DataArray has dims {arr.dims}",
                         "give dims (row strategy, column strategy), with a leading member dim for ensembles")

    def coord(dim: str) -> tuple[str, ...]:
        if dim in arr.coords:
            return tuple(map(str, arr.coords[dim].values))
        return tuple(str(i) for i in range(arr.sizes[dim]))

    row_dim, col_dim = arr.dims[-2:]
    labels = _check_distinct((coord(row_dim), coord(col_dim)), key)
    if like is not None:
        if set(labels[0]) != set(like[0]) or set(labels[1]) != set(like[1]):
            raise InputError(None, key, "strategy labels differ from the row player's table",
                             f"use rows {list(like[0])} and columns {list(like[1])} in both tables")
        order_r = [labels[0].index(x) for x in like[0]]
        order_c = [labels[1].index(x) for x in like[1]]
        values = np.asarray(arr.values, dtype=float)[..., order_r, :][..., order_c]
        return values, like
    return np.asarray(arr.values, dtype=float), labels
