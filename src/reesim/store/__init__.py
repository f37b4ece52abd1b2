"""A local store of runs: results in Parquet, a catalog queryable with DuckDB, atomic writes.

`RunStore(path)` opens a store; `default_store_path()` says where one lives when no folder is given.
DuckDB is imported only by `RunStore.query`, so opening a store and listing runs stay light.
"""

from __future__ import annotations

from reesim.store.identity import planned_key, run_key
from reesim.store.location import STORE_ENV, default_store_path
from reesim.store.store import RunEntry, RunStore

__all__ = ["STORE_ENV", "RunEntry", "RunStore", "default_store_path", "planned_key", "run_key"]
