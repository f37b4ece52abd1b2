"""The registry of instruments: one pydantic model per instrument, told apart by the `instrument` key.

`TimelineEvent` is the discriminated union a scenario's timeline is validated against, so a typo in an
instrument name or an unknown parameter is reported with its key, and `reesim schema` exports every
instrument's parameters with their documentation.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from reesim.policy.control import Amend, Suspend
from reesim.policy.event import Event
from reesim.policy.production_measures import (
    Consolidation,
    EnvironmentalEnforcement,
    NewPlant,
    OffshoreRefinery,
    Quota,
    TechnologyBan,
    Throttle,
)
from reesim.policy.shocks import DemandShift, Outage, Smuggling, Speculation
from reesim.policy.support_measures import (
    CapitalGrant,
    PriceFloor,
    ProductionSubsidy,
    RecyclingIncentive,
    Stockpile,
)
from reesim.policy.trade_measures import ExportBan, ExportLicence, ExportQuota, ExportTax, Offtake, Tariff

CLASSES: tuple[type[Event], ...] = (
    Quota, EnvironmentalEnforcement, Consolidation, ExportTax, ExportLicence, ExportBan, ExportQuota,
    TechnologyBan, OffshoreRefinery, NewPlant, Throttle, Suspend, Amend, PriceFloor, Offtake, CapitalGrant,
    ProductionSubsidy, Tariff, Stockpile, RecyclingIncentive, Outage, DemandShift, Speculation, Smuggling,
)

INSTRUMENTS: dict[str, type[Event]] = {cls.model_fields["instrument"].default: cls for cls in CLASSES}

TimelineEvent = Annotated[Union[CLASSES], Field(discriminator="instrument")]  # noqa: UP007 - built from the tuple
