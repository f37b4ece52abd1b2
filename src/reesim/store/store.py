"""The run store: one folder per run under `runs/`, a Parquet catalog, and a lock for writers.

Layout of a store folder:

    catalog.parquet      one row per stored run (the commit point: a run exists once it is listed here)
    runs/<run id>/       a Parquet table per variable (the layout of Results.save), manifest.json, dataset.json
    tmp/                 staging of writes in progress; anything left here belongs to a dead writer
    .lock                held by every write

A write stages the run in `tmp/`, renames it into `runs/`, then rewrites the catalog by atomic replace.
A writer killed at any point leaves either nothing listed (staging is cleared by the next writer; a
complete folder in `runs/` that missed its catalog row is adopted) or, for a delete, a listed row
without a folder, which readers skip and the next writer drops. Readers never take the lock.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reesim.errors import InputError
from reesim.results import Results
from reesim.store.codec import DATASET_FILE, read_dataset, read_manifest, write_run
from reesim.store.identity import run_id, run_key
from reesim.store.location import STORE_ENV, default_store_path
from reesim.store.lock import exclusive

CATALOG_FILE = "catalog.parquet"
COLUMNS = ("run_id", "key", "scenario", "description", "members", "seed", "start", "end", "world",
           "data_version", "code_version", "variables", "created", "bytes")


@dataclass(frozen=True)
class RunEntry:
    """One stored run as the catalog lists it."""

    run_id: str
    key: str
    scenario: str
    members: int
    seed: int
    start: str  # first reported month, YYYY-MM
    end: str
    data_version: str
    code_version: str
    variables: tuple[str, ...]
    created: pd.Timestamp
    bytes: int
    path: Path


class RunStore:
    """A folder of stored runs. Opening one does no I/O; reads need it to exist, writes create it."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_store_path()
        self.runs = self.root / "runs"
        self.tmp = self.root / "tmp"

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------------

    def catalog(self) -> pd.DataFrame:
        """The stored runs, oldest first; rows whose folder is gone (an interrupted delete) are skipped."""
        self._require()
        frame = self._read_catalog()
        return frame.loc[self._has_folder(frame)].reset_index(drop=True)

    def resolve(self, ref: str) -> str:
        """The id of the run named by `ref`: a full run id or an unambiguous start of one."""
        ids = self.catalog()["run_id"].tolist()
        return self._match(ids, ref)

    def entry(self, ref: str) -> RunEntry:
        """Catalog entry of the run named by `ref`."""
        frame = self.catalog()
        row = frame.loc[frame["run_id"] == self._match(frame["run_id"].tolist(), ref)].iloc[0]
        return self._entry(row)

    def find(self, key: str) -> RunEntry | None:
        """The stored run with this manifest key (see `reesim.store.run_key`), if any."""
        if not (self.root / CATALOG_FILE).is_file():
            return None
        frame = self.catalog()
        hits = frame.loc[frame["key"] == key]
        return self._entry(hits.iloc[-1]) if len(hits) else None

    def load(self, ref: str, variables: list[str] | None = None,
             select: Mapping[str, Sequence[object]] | None = None) -> Results:
        """The results of a stored run: only `variables` when given, and only the labels in `select` of
        the dimensions it names (e.g. {"origin": ["CHN"]}); both make reading a big run faster."""
        return Results(read_dataset(self.runs / self.resolve(ref), variables, select))

    def manifest(self, ref: str) -> dict:
        """The manifest of a stored run, with its per-variable dims, units and descriptions."""
        return read_manifest(self.runs / self.resolve(ref))

    def query(self, sql: str) -> pd.DataFrame:
        """Run DuckDB SQL over the store: view `catalog`, and one view per variable across all runs.

        Each variable view has the run's long table plus a `run_id` column, e.g.
        `select run_id, avg(price) from price where region = 'USA' group by run_id`.
        """
        import duckdb

        frame = self.catalog()
        con = duckdb.connect()
        try:
            con.register("catalog", frame)
            by_variable: dict[str, list[str]] = {}
            for rid, names in zip(frame["run_id"], frame["variables"], strict=True):
                for name in names.split(","):
                    by_variable.setdefault(name, []).append(str(self.runs / rid / f"{name}.parquet"))
            for name, files in by_variable.items():
                listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                con.execute(f'CREATE VIEW "{name}" AS SELECT regexp_extract(filename, \'([^/\\\\]+)[/\\\\][^/\\\\]+$\', 1) '
                            f"AS run_id, * EXCLUDE (filename) FROM read_parquet([{listed}], filename = true)")
            return con.execute(sql).df()
        finally:
            con.close()

    # -- writing ---------------------------------------------------------------------------------

    def put(self, results: Results, *, force: bool = False) -> tuple[RunEntry, bool]:
        """Store `results`; returns its entry and whether it was written (False: the same manifest was
        already stored and `force` was not given, so the stored run is kept)."""
        rid = run_id(results.manifest)
        self.runs.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        with exclusive(self.root / ".lock"):
            frame = self._reconcile()
            if rid in set(frame["run_id"]) and not force:
                return self._entry(frame.loc[frame["run_id"] == rid].iloc[0]), False
            staging = Path(tempfile.mkdtemp(prefix="put-", dir=self.tmp))
            try:
                folder = staging / rid
                folder.mkdir()
                write_run(results.dataset, results.manifest, folder)
                target = self.runs / rid
                if target.exists():
                    target.rename(staging / "replaced")
                folder.rename(target)
                row = _row(target, pd.Timestamp.now(tz="UTC"))
                frame = pd.concat([frame.loc[frame["run_id"] != rid], row], ignore_index=True)
                self._write_catalog(frame)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return self._entry(frame.iloc[-1]), True

    def delete(self, ref: str) -> str:
        """Remove a stored run; returns its id. Its folder leaves `runs/` before its catalog row goes."""
        self._require()
        self.tmp.mkdir(exist_ok=True)
        with exclusive(self.root / ".lock"):
            frame = self._reconcile()
            rid = self._match(frame["run_id"].tolist(), ref)
            trash = Path(tempfile.mkdtemp(prefix="delete-", dir=self.tmp))
            (self.runs / rid).rename(trash / rid)
            self._write_catalog(frame.loc[frame["run_id"] != rid])
            shutil.rmtree(trash, ignore_errors=True)
        return rid

    # -- internals -------------------------------------------------------------------------------

    def _require(self) -> None:
        if not self.root.is_dir():
            raise InputError(str(self.root), None, "no run store here",
                             f"run `reesim run` to create one, or pass --store (or set {STORE_ENV}) "
                             "to the folder of an existing store")

    def _match(self, ids: list[str], ref: str) -> str:
        if ref in ids:
            return ref
        hits = [i for i in ids if i.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise InputError(str(self.root), ref, f"the id is ambiguous, it starts {len(hits)} runs: "
                             f"{', '.join(hits[:5])}", "give more of the run id")
        raise InputError(str(self.root), ref, "no such run in this store",
                         "see `reesim runs list` (with the same --store) for the stored run ids")

    def _read_catalog(self) -> pd.DataFrame:
        path = self.root / CATALOG_FILE
        if not path.is_file():
            return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, object)) for c in COLUMNS})
        return pd.read_parquet(path)

    def _write_catalog(self, frame: pd.DataFrame) -> None:
        """Replace the catalog atomically: write a temporary file beside it, then rename over it."""
        fd, tmp = tempfile.mkstemp(prefix="catalog-", suffix=".parquet", dir=self.tmp)
        os.close(fd)
        try:
            frame.reset_index(drop=True).to_parquet(tmp, index=False)
            os.replace(tmp, self.root / CATALOG_FILE)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _reconcile(self) -> pd.DataFrame:
        """Under the lock: clear dead writers' staging, drop rows without folders, adopt complete orphans."""
        for leftover in self.tmp.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        frame = self._read_catalog()
        present = frame.loc[self._has_folder(frame)]
        known = set(present["run_id"])
        orphans = sorted(d for d in self.runs.iterdir() if d.name not in known and _complete(d))
        if orphans or len(present) != len(frame):
            adopted = [_row(d, pd.Timestamp(d.stat().st_mtime, unit="s", tz="UTC")) for d in orphans]
            frame = pd.concat([present, *adopted], ignore_index=True) if adopted else present
            self._write_catalog(frame)
        return frame.reset_index(drop=True)

    def _has_folder(self, frame: pd.DataFrame) -> np.ndarray:
        return np.array([(self.runs / r).is_dir() for r in frame["run_id"]], dtype=bool)

    def _entry(self, row: pd.Series) -> RunEntry:
        return RunEntry(run_id=row["run_id"], key=row["key"], scenario=row["scenario"], members=int(row["members"]),
                        seed=int(row["seed"]), start=row["start"], end=row["end"], data_version=row["data_version"],
                        code_version=row["code_version"], variables=tuple(row["variables"].split(",")),
                        created=row["created"], bytes=int(row["bytes"]), path=self.runs / row["run_id"])


_DTYPES = {"members": "int64", "seed": "int64", "bytes": "int64", "created": "datetime64[ns, UTC]"}


def _complete(folder: Path) -> bool:
    """A folder that a writer finished: named by its manifest's run id, with every file it lists."""
    try:
        manifest = read_manifest(folder)
        names = [f"{v}.parquet" for v in manifest["variables"]] + [DATASET_FILE]
        return folder.is_dir() and folder.name == run_id(manifest) and all((folder / n).is_file() for n in names)
    except (OSError, ValueError, KeyError):
        return False


def _row(folder: Path, created: pd.Timestamp) -> pd.DataFrame:
    """The catalog row of a complete run folder."""
    manifest = read_manifest(folder)
    scenario = manifest["scenario"]
    months = [m[:7] for m in json.loads((folder / DATASET_FILE).read_text())["coords"]["time"]["values"]] or [""]
    return pd.DataFrame([{
        "run_id": folder.name, "key": run_key(manifest), "scenario": scenario["name"],
        "description": scenario.get("description", ""), "members": int(manifest["members"]),
        "seed": int(manifest["seed"]), "start": months[0], "end": months[-1],
        "world": manifest["world"], "data_version": manifest["data_version"],
        "code_version": manifest["code_version"], "variables": ",".join(manifest["variables"]),
        "created": created, "bytes": sum(f.stat().st_size for f in folder.iterdir()),
    }]).astype(_DTYPES)
