"""Which products a run puts under export control, resolved exactly as the policy instruments do."""

from __future__ import annotations

from collections.abc import Iterable

LICENSING = ("export_licence", "export_ban")
APRIL_2025_ELEMENTS = ("Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y")  # MOFCOM/GAC announcement No. 18 (2025)


def licensed_goods(manifest: dict) -> list[dict]:
    """The `goods` of every export licence or ban in the run's timeline that comes into force (one
    suspended before it starts, as the October 2025 expansion was after Busan, controls nothing)."""
    timeline = manifest["scenario"].get("timeline") or []
    suspended: dict[str, str] = {}
    for event in timeline:
        if event.get("instrument") == "suspend":
            suspended[event["target"]] = min(event["start"], suspended.get(event["target"], event["start"]))
    return [event["goods"] for event in timeline if event.get("instrument") in LICENSING
            and not (event.get("id") in suspended and suspended[event["id"]] <= event["start"])]


def controlled_products(manifests: Iterable[dict]) -> tuple[list[str], str]:
    """Products covered by the runs' export licences and bans, and a phrase saying where the list comes from.

    With no licence in any run, the list is the April 2025 licence list (its elements as oxides and metals,
    and the magnets containing them), so that a baseline still shows the flows a control would hit.
    """
    from reesim.engine.simulate import policy_context
    from reesim.policy.scope import Goods
    from reesim.scenario import Scenario

    manifests = list(manifests)
    goods = [g for m in manifests for g in licensed_goods(m)]
    context = policy_context(Scenario(name="report", world=manifests[0]["world"]))
    origin = "covered by the runs' export licences"
    if not goods:
        known = set(context.product_element)
        goods = [{"elements": [e for e in APRIL_2025_ELEMENTS if e in known]}]
        origin = "of China's April 2025 licence list (no licence in these runs)"
    mask = sum((Goods.model_validate(g).mask(context) for g in goods), start=0) > 0
    return [p for p, chosen in zip(context.structure.products, mask, strict=True) if chosen], origin
