"""Plants that a scenario adds to the world (allied projects, China-controlled refineries abroad).

They are added as rows of the facilities table before the engine compiles the world, so they take part
in every stage's market, in China's share by location and by controller, and in capacity dynamics
exactly like the dataset's plants. The new world's version records the change.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from types import MappingProxyType

import pandas as pd

from reesim.policy.event import Event
from reesim.policy.production_measures import NewPlant
from reesim.world import World

STAGE_OF_PROCESS = {"mine": "mining", "separation": "separation", "metal": "metal", "magnet": "magnet"}


def plant_row(event: NewPlant, columns: Sequence[str], world: World) -> dict:
    """A facilities row for a policy plant, in the dataset's columns; base-year output is zero."""
    products = set(world.tables["products"]["product"])
    deposits = set(world.tables["deposit_types"]["deposit_type"])
    if event.product not in products:
        raise ValueError(
            f"plant {event.facility}: unknown product {event.product!r}; see `reesim data show products`"
        )
    if event.process in ("mine", "separation") and event.feed not in deposits:
        raise ValueError(
            f"plant {event.facility}: feed {event.feed!r} is not a deposit type; use one of "
            f"{', '.join(sorted(deposits))}"
        )
    if event.facility in set(world.tables["facilities"]["facility"]):
        raise ValueError(f"plant {event.facility} already exists in the world; choose a new facility id")
    row: dict = {}
    for column in columns:
        dtype = world.tables["facilities"][column].dtype
        row[column] = 0.0 if pd.api.types.is_numeric_dtype(dtype) else ""
    row.update(
        {
            "facility": event.facility,
            "name": event.name or event.facility,
            "process": event.process,
            "stage": STAGE_OF_PROCESS[event.process],
            "region": event.region,
            "controller": event.controller or event.region,
            "operator": "scenario",
            "product": event.product,
            "feed": event.feed if event.process == "separation" else "",
            "quota": "",
            "capacity": event.capacity,
            "status": "announced",
            "start": pd.Period(event.start, freq="M"),
            "ramp_months": event.ramp_months,
            "unit_cost": event.unit_cost,
            "source": "scenario",
            "note": event.note or f"added by {event.instrument}",
        }
    )
    return row


def add_policy_plants(world: World, timeline: Sequence[Event]) -> World:
    """The world with the plants of `new_plant` and `offshore_refinery` events added (unchanged if none)."""
    plants = [e for e in timeline if isinstance(e, NewPlant)]
    if not plants:
        return world
    facilities = world.tables["facilities"]
    rows = [plant_row(p, list(facilities.columns), world) for p in plants]
    extra = pd.DataFrame(rows, columns=facilities.columns).astype(
        facilities.dtypes.to_dict(), errors="ignore"
    )
    tables = dict(world.tables)
    tables["facilities"] = pd.concat([facilities, extra], ignore_index=True)
    digest = hashlib.sha256("".join(p.model_dump_json() for p in plants).encode()).hexdigest()[:8]
    return dataclasses.replace(
        world, tables=MappingProxyType(tables), version=f"{world.version}+plants-{digest}"
    )
