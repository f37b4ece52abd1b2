"""A stored run on disk, and back: one long Parquet table per variable, `manifest.json`, `dataset.json`.

The tables have the layout of `Results.save` (a column per dimension, then the value), so DuckDB queries
and readers work on both. They are written here in row groups of bounded size with dictionary-encoded
dimension columns, because building one pandas frame per variable (trade of a 20-member, 12-year run is
26 million rows) took a minute and several GB. `dataset.json` keeps what the tables cannot: coordinate
order and dtypes, auxiliary coordinates (facility controller, product stage, ...) and the dataset's
attributes. Reading places every row at its index: every cell must appear once, nothing is filled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xarray as xr

DATASET_FILE = "dataset.json"
MANIFEST_FILE = "manifest.json"
ROWS_PER_GROUP = 1 << 21


def write_run(ds: xr.Dataset, manifest: dict, folder: Path) -> None:
    """Write every variable of `ds`, the manifest (with each variable's dims and attributes) and the
    coordinates into `folder` (which must exist)."""
    for name, var in ds.data_vars.items():
        _write_table(var, str(name), ds, folder / f"{name}.parquet")
    described = {str(n): {"dims": list(v.dims), **v.attrs} for n, v in ds.data_vars.items()}
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "variables": described}, indent=2, sort_keys=True))
    coords = {}
    for name, coord in ds.coords.items():
        values = coord.values
        listed = np.datetime_as_string(values, unit="ns").tolist() if values.dtype.kind == "M" else values.tolist()
        coords[str(name)] = {"dims": list(coord.dims), "dtype": values.dtype.str, "values": listed}
    meta = {"coords": coords, "attrs": {k: v for k, v in ds.attrs.items() if isinstance(v, str | int | float)}}
    (folder / DATASET_FILE).write_text(json.dumps(meta, sort_keys=True))


def _write_table(var: xr.DataArray, name: str, ds: xr.Dataset, path: Path) -> None:
    """One variable as a long table, written in row groups along its first dimension."""
    dims, values = var.dims, np.asarray(var.values)
    labels = [ds[d].values for d in dims]
    dictionaries = {d: pa.array(lab) for d, lab in zip(dims, labels, strict=True) if lab.dtype.kind in "UO"}
    fields = [pa.field(d, pa.dictionary(pa.int32(), pa.string()) if d in dictionaries else pa.from_numpy_dtype(
        lab.dtype)) for d, lab in zip(dims, labels, strict=True)]
    schema = pa.schema([*fields, pa.field(name, pa.from_numpy_dtype(values.dtype))])
    per_slice = int(np.prod(values.shape[1:], dtype=np.int64)) or 1
    step = max(1, ROWS_PER_GROUP // per_slice)
    with pq.ParquetWriter(path, schema) as writer:
        if values.size == 0:
            writer.write_table(schema.empty_table())
        for first in range(0, values.shape[0] if values.size else 0, step):
            block = values[first:first + step]
            columns = []
            for axis, (dim, lab) in enumerate(zip(dims, labels, strict=True)):
                shape = [1] * block.ndim
                shape[axis] = block.shape[axis]
                index = np.broadcast_to(np.arange(block.shape[axis]).reshape(shape), block.shape).ravel()
                if axis == 0:
                    index = index + first
                if dim in dictionaries:
                    columns.append(pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), dictionaries[dim]))
                else:
                    columns.append(pa.array(lab[index]))
            columns.append(pa.array(block.ravel()))
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))


def read_manifest(folder: Path) -> dict:
    """The run's manifest (with its per-variable dims, units and descriptions)."""
    return json.loads((folder / MANIFEST_FILE).read_text())


def read_dataset(folder: Path, variables: Iterable[str] | None = None,
                 select: Mapping[str, Sequence[object]] | None = None) -> xr.Dataset:
    """Rebuild the dataset of a stored run. `variables` limits which tables are read (all by default);
    `select` keeps only the given labels of a dimension (e.g. {"origin": ["CHN"]}), filtered while reading,
    which is what keeps reading the trade of a large run cheap."""
    meta = json.loads((folder / DATASET_FILE).read_text())
    described = read_manifest(folder)["variables"]
    names = list(described) if variables is None else list(variables)
    unknown = sorted(set(names) - set(described))
    if unknown:
        raise KeyError(f"run in {folder} has no variable(s) {unknown}; it has {', '.join(described)}")
    coords = {name: (c["dims"], np.asarray(c["values"], dtype=c["dtype"])) for name, c in meta["coords"].items()}
    index = {dim: pd.Index(values, name=dim) for dim, (dims, values) in coords.items() if dims == [dim]}
    for dim, labels in (select or {}).items():
        chosen = pd.Index(np.asarray(labels, dtype=coords[dim][1].dtype), name=dim)
        missing = chosen[index[dim].get_indexer(chosen) < 0]
        if len(missing):
            raise KeyError(f"run in {folder} has no {dim} {list(missing)}")
        index[dim] = chosen
        coords = {n: c for n, c in coords.items() if dim not in c[0] or c[0] == [dim]}
        coords[dim] = ([dim], chosen.to_numpy())
    data_vars = {}
    for name in names:
        dims = described[name]["dims"]
        attrs = {k: v for k, v in described[name].items() if k != "dims"}
        filters = [(d, "in", index[d].tolist()) for d in dims if d in (select or {})]
        table = pq.read_table(folder / f"{name}.parquet", filters=filters or None)
        data_vars[name] = xr.Variable(dims, _grid(table, name, [index[d] for d in dims], folder), attrs=attrs)
    used = {d for v in data_vars.values() for d in v.dims}
    kept = {n: c for n, c in coords.items() if set(c[0]) <= used}
    return xr.Dataset(data_vars, coords=kept, attrs=meta["attrs"])


def _codes(column: pa.ChunkedArray, axis: pd.Index, where: str) -> np.ndarray:
    """Position of each row's label on `axis`, looking up each distinct label once (dictionary encoding)."""
    parts = []
    for chunk in column.chunks:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
        labels = encoded.dictionary.to_numpy(zero_copy_only=False)
        if axis.dtype.kind == "M":
            labels = labels.astype(axis.dtype)
        if encoded.indices.null_count:
            raise ValueError(f"{where}: {axis.name} has empty values")
        indices = encoded.indices.to_numpy()
        code = axis.get_indexer(labels)[indices]  # a dictionary may hold labels no row uses (filtered reads)
        if (code < 0).any():
            raise ValueError(f"{where}: {axis.name} value {labels[indices[code < 0][0]]!r} is not in the run's "
                             "coordinates")
        parts.append(code)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def _grid(table: pa.Table, name: str, axes: list[pd.Index], folder: Path) -> np.ndarray:
    """Place each row's value at the cell its dimension columns name; every cell exactly once."""
    where = str(folder / f"{name}.parquet")
    shape = tuple(len(a) for a in axes)
    codes = [_codes(table.column(axis.name), axis, where) for axis in axes]
    flat = np.ravel_multi_index(codes, shape) if codes else np.zeros(table.num_rows, dtype=np.intp)
    size = int(np.prod(shape))
    if table.num_rows != size or (np.bincount(flat, minlength=size) != 1).any():
        raise ValueError(f"{where} does not hold each of the {size} cells exactly once; "
                         "the run folder was altered after it was stored")
    column = table.column(name).to_numpy()
    values = np.empty(size, dtype=column.dtype)
    values[flat] = column
    return values.reshape(shape)
