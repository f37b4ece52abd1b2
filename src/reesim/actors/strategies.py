"""Built-in strategies: the named presets a spec's `strategy` starts from (its other fields override them).

Plain data, so scenario files and the CLI can name them; every number is an assumption unless marked.
China's calibrated and blunt strategies share the trigger (the default `TensionSpec`: a hypothetical
provocation in the second half of 2026, diversification below 86 % of separation by controller, G-7
tariffs) and differ only in what the controls cover and how the cycle runs, so they can be compared.
"""

from __future__ import annotations

from typing import Any

APRIL_2025_ELEMENTS = ["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"]  # MOFCOM No. 18, 4 Apr 2025 (facts.md C1)
EVERY_ELEMENT = ["La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y", "Sc"]

CALIBRATED_CONTROLS: dict[str, Any] = {
    "goods": {"elements": APRIL_2025_ELEMENTS, "stages": ["oxide", "metal"]},
    "destinations": ["g7"],
    "extraterritorial_threshold": 0.001,  # No. 61's 0.1 % rule (facts.md C1)
    # Short and reversible: licences at 30 % approval for at most six months, 80 % after a concession.
    "cycle": {"intensity": 0.7, "eased_intensity": 0.2, "max_duration": 6},
}

CHINA_PRESETS: dict[str, dict[str, Any]] = {
    "status-quo": {},
    "calibrated-coercion": {"inducement": {"technology_ban": True}, "controls": CALIBRATED_CONTROLS},
    "blunt-ban": {
        "inducement": {"technology_ban": True},
        "controls": {
            "goods": {"elements": EVERY_ELEMENT, "stages": ["oxide", "metal"]},
            "destinations": ["g7"],
            "extraterritorial_threshold": 0.001,
            # A sustained cut-off: no easing on a concession, no suspension for cost, 24 months at most.
            "cycle": {"intensity": 1.0, "eased_intensity": 1.0, "max_duration": 24, "cost_threshold": 1e9},
        },
    },
    "inducement-first": {
        "upgrading": {"oxide_export_tax": 0.1, "tax_destinations": ["g7"], "magnet_export_rebate": 0.05},
        "inducement": {
            "technology_ban": True,
            "refineries": [{  # the Khazanah talks (Reuters 2 Oct 2025, facts.md E); size and dates assumed
                "start": "2027-01", "facility": "MYS_CHN_INDUCEMENT", "name": "China-run refinery in Malaysia",
                "region": "MYS", "product": "oxide:NdPr", "feed": "ionic_clay_heavy", "capacity": 10000,
                "unit_cost": 5.0, "ramp_months": 18}],
        },
        # Controls held in reserve: the same calibrated licences, fired only at a higher tension.
        "controls": {**CALIBRATED_CONTROLS, "cycle": {**CALIBRATED_CONTROLS["cycle"], "trigger_tension": 1.5}},
    },
}

FLOORS = [  # the g7-price-floor-club scenario's levels: the DoD-MP NdPr floor (facts.md E), Dy and Tb assumed
    {"product": "oxide:NdPr", "level": 110.0},
    {"product": "oxide:Dy", "level": 450.0},
    {"product": "oxide:Tb", "level": 1400.0},
]

G7_PRESETS: dict[str, dict[str, Any]] = {
    "passive": {},
    "price-floor-club": {"floors": FLOORS},
    "stockpile-and-floor": {
        "floors": FLOORS,
        "reserves": [  # sizes assumed: a few months of each region's use
            {"region": "USA", "product": "oxide:Dy", "size": 300},
            {"region": "USA", "product": "oxide:Tb", "size": 100},
            {"region": "JPN", "product": "oxide:Dy", "size": 200},
            {"region": "EU", "product": "oxide:NdPr", "size": 3000},
        ],
    },
    "decouple": {"floors": FLOORS, "grant_share": 0.5, "tariff": 0.25},
}

PARTNER_PRESETS: dict[str, dict[str, Any]] = {
    # Malaysia bans raw rare-earth exports and hosts Lynas, whose NdPr Japan holds priority rights to.
    "malaysia": {"name": "malaysia", "region": "MYS", "raw_export_ban": True, "club_offtake": 0.5},
    # Australia co-funds projects and steers output to allies within the US-Australia framework.
    "australia": {"name": "australia", "region": "AUS", "club_offtake": 0.5, "club_grant_share": 0.2},
}


def known_strategy(kind: str, name: str) -> str:
    """`name` if it is 'custom' or a preset of a China or G-7 spec; ValueError listing the choices if not."""
    presets = {"china": CHINA_PRESETS, "g7": G7_PRESETS}[kind]
    if name != "custom" and name not in presets:
        raise ValueError(f"unknown {kind} strategy {name!r}; use 'custom' or one of {', '.join(presets)}")
    return name


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`, mapping by mapping (lists and values replace)."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def with_preset(kind: str, data: Any) -> Any:
    """Spec data with its named strategy's preset under it (unchanged for 'custom', none, or an unknown name,
    which the spec's `strategy` field then rejects)."""
    presets = {"china": CHINA_PRESETS, "g7": G7_PRESETS}[kind]
    if isinstance(data, dict) and data.get("strategy") in presets:
        return merged(presets[data["strategy"]], data)
    return data
