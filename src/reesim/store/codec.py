"""Read a saved run back into the `xarray.Dataset` it came from.

`Results.save` writes each variable as a long Parquet table; those tables hold dimension values but not
the auxiliary coordinates (facility controller, product stage, ...) nor the dataset's attributes, and
the reports need both. The store therefore adds `dataset.json` beside them, and rebuilds each array by
placing every row at its index (exact: every cell must appear once, nothing is filled silently).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

DATASET_FILE = "dataset.json"
MANIFEST_FILE = "manifest.json"


def write_dataset_meta(ds: xr.Dataset, folder: Path) -> None:
    """Write coordinates (order, dtype, auxiliary ones) and attributes of `ds` to `folder/dataset.json`."""
    coords = {}
    for name, coord in ds.coords.items():
        values = coord.values
        listed = np.datetime_as_string(values, unit="ns").tolist() if values.dtype.kind == "M" else values.tolist()
        coords[str(name)] = {"dims": list(coord.dims), "dtype": values.dtype.str, "values": listed}
    meta = {"coords": coords, "attrs": {k: v for k, v in ds.attrs.items() if isinstance(v, str | int | float)}}
    (folder / DATASET_FILE).write_text(json.dumps(meta, sort_keys=True))


def read_manifest(folder: Path) -> dict:
    """The run's manifest (with its per-variable dims, units and descriptions)."""
    return json.loads((folder / MANIFEST_FILE).read_text())


def read_dataset(folder: Path, variables: Iterable[str] | None = None) -> xr.Dataset:
    """Rebuild the dataset of a stored run; `variables` limits which tables are read (all by default)."""
    meta = json.loads((folder / DATASET_FILE).read_text())
    described = read_manifest(folder)["variables"]
    names = list(described) if variables is None else list(variables)
    unknown = sorted(set(names) - set(described))
    if unknown:
        raise KeyError(f"run in {folder} has no variable(s) {unknown}; it has {', '.join(described)}")
    coords = {name: (c["dims"], np.asarray(c["values"], dtype=c["dtype"])) for name, c in meta["coords"].items()}
    index = {dim: pd.Index(values, name=dim) for dim, (dims, values) in coords.items() if dims == [dim]}
    data_vars = {}
    for name in names:
        dims = described[name]["dims"]
        attrs = {k: v for k, v in described[name].items() if k != "dims"}
        values = _grid(pd.read_parquet(folder / f"{name}.parquet"), name, [index[d] for d in dims], folder)
        data_vars[name] = xr.Variable(dims, values, attrs=attrs)
    used = {d for v in data_vars.values() for d in v.dims}
    kept = {n: c for n, c in coords.items() if set(c[0]) <= used}
    return xr.Dataset(data_vars, coords=kept, attrs=meta["attrs"])


def _grid(frame: pd.DataFrame, name: str, axes: list[pd.Index], folder: Path) -> np.ndarray:
    """Place each row's value at the cell its dimension columns name; every cell exactly once."""
    shape = tuple(len(a) for a in axes)
    codes = []
    for axis in axes:
        column = frame[axis.name]
        if axis.dtype.kind == "M":
            column = pd.to_datetime(column).astype(axis.dtype)
        code = axis.get_indexer(column)
        if (code < 0).any():
            bad = pd.Series(column)[code < 0].iloc[0]
            raise ValueError(f"{folder / name}.parquet: {axis.name} value {bad!r} is not in the run's coordinates")
        codes.append(code)
    flat = np.ravel_multi_index(codes, shape) if codes else np.zeros(len(frame), dtype=np.intp)
    size = int(np.prod(shape))
    if len(frame) != size or (np.bincount(flat, minlength=size) != 1).any():
        raise ValueError(f"{folder / name}.parquet does not hold each of the {size} cells exactly once; "
                         "the run folder was altered after it was stored")
    values = np.empty(size, dtype=frame[name].to_numpy().dtype)
    values[flat] = frame[name].to_numpy()
    return values.reshape(shape)
