"""Where the run store lives when the user does not say."""

from __future__ import annotations

import os
from pathlib import Path

STORE_ENV = "REESIM_STORE"


def default_store_path() -> Path:
    """`$REESIM_STORE` if set, else `runs` in the user's data folder (XDG_DATA_HOME on Linux).

    platformdirs follows each platform's convention, so runs survive in the place users back up and
    never land inside a source checkout by accident.
    """
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("reesim", appauthor=False) / "runs"
