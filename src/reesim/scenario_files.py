"""Checking scenario files: every problem with its file, line, key and fix.

Pydantic reports where in the data a value is wrong (a path of keys and list positions); the YAML
composer knows on which line each key sits. Joining the two gives messages an analyst can act on,
e.g. `my.yaml:14 [timeline.2.approval_rate]: Input should be less than or equal to 1. Fix: ...`.
Names that only the world knows (regions, products, facilities) are checked by compiling each event
against the world.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reesim.errors import InputError, Problem

FIXES = {
    "extra_forbidden": "remove the key or correct its spelling; `reesim schema` lists the allowed keys",
    "union_tag_invalid": "use one of the instruments listed by `reesim schema` (key `instrument`)",
    "union_tag_not_found": "give each timeline event an `instrument` key",
    "missing": "add the key",
    "greater_than_equal": "use a value within the range the message gives (rates and shares lie in 0..1)",
    "less_than_equal": "use a value within the range the message gives (rates and shares lie in 0..1)",
    "greater_than": "use a value above the bound the message gives",
    "less_than": "use a value below the bound the message gives",
    "literal_error": "use one of the listed values",
    "value_error": "correct the value as the message says",
}


def _key(loc: tuple[Any, ...], data: Any) -> list[str | int]:
    """The error path without pydantic's union tags (e.g. drop 'export_licence' after a timeline index)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)):
            node = node[part]
            path.append(part)
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and part not in node
            and node.get("instrument") == part
        ):
            continue  # the discriminator's tag
        else:
            path.append(part)
            node = None
    return path


def _line(root: yaml.Node | None, path: list[str | int]) -> int | None:
    """1-based line of the deepest node on `path` in a composed YAML document."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == part]
            if not match:
                break
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _problems(exc: ValidationError, path: Path | None, data: Any, root: yaml.Node | None) -> list[Problem]:
    problems = []
    for error in exc.errors():
        keys = _key(tuple(error["loc"]), data)
        # A model-level check reports its position in the message ("timeline.3: ..."); point at it.
        message = error["msg"].removeprefix("Value error, ")
        if not keys and message.startswith("timeline."):
            head, _, message = message.partition(": ")
            keys = [int(x) if x.isdigit() else x for x in head.split(".")]
        line = _line(root, keys) if root is not None else None
        where = None if path is None else f"{path}:{line}" if line else str(path)
        problems.append(
            Problem(
                where,
                ".".join(str(k) for k in keys) or None,
                message,
                FIXES.get(error["type"], "see `reesim schema` for the allowed values"),
            )
        )
    return problems


def first_problem(exc: ValidationError, path: Path | None) -> dict[str, Any]:
    """The first validation problem as InputError keyword arguments (file with line, key, problem, fix)."""
    root = data = None
    if path is not None:
        text = path.read_text(encoding="utf-8")
        root, data = yaml.compose(text), yaml.safe_load(text)
    p = _problems(exc, path, data, root)[0]
    return {"file": p.file, "key": p.key, "problem": p.problem, "fix": p.fix}


def check_file(path: Path) -> list[Problem]:
    """Every problem in a scenario file: syntax, keys and values, dates, and names unknown to its world.

    Each timeline event is also checked on its own, so an event with a bad value does not hide a date
    outside the horizon or an unknown region in another event.
    """
    from reesim.scenario import Scenario, read_yaml, resolve_extends

    try:
        data = read_yaml(path)
        root = yaml.compose(path.read_text(encoding="utf-8"))
        merged = resolve_extends(data, path.parent)
    except InputError as exc:
        return [exc.detail]
    own = len(data.get("timeline") or [])
    offset = len(merged.get("timeline", [])) - own  # the parent's events come first
    problems: list[Problem] = []
    try:
        scenario = Scenario.model_validate(merged)
        valid = True
    except ValidationError as exc:
        problems += _problems(exc, path, merged, None)
        valid = False
    problems += _event_problems(merged, check_dates=not valid)
    if valid and scenario.actors:
        problems += _actor_problems(scenario)
    return [_relocate(p, offset, data, root, path) for p in problems]


def _actor_problems(scenario: Any) -> list[Problem]:
    """Names an actor's spec refers to that the scenario's world lacks (importers, reserves' products, ...):
    each actor is compiled against the world, with the plants its strategy commits to."""
    from reesim.actors.specs import check_actors, with_commitments
    from reesim.engine.simulate import policy_context_for

    full = with_commitments(scenario, scenario.actors)
    try:
        check_actors(scenario.actors, policy_context_for(full.world, list(full.timeline)))
    except InputError as exc:
        return [exc.detail]
    except ValueError as exc:
        return [Problem(None, "actors", str(exc), "name regions, products and plants the world has")]
    return []


def _event_problems(merged: dict[str, Any], check_dates: bool) -> list[Problem]:
    """Problems of each event that parses on its own: dates outside the horizon, names unknown to the world."""
    from pydantic import TypeAdapter

    from reesim.engine.simulate import policy_context_for
    from reesim.policy.instruments import TimelineEvent
    from reesim.scenario import DEFAULT_END
    from reesim.world import base_year_of

    adapter = TypeAdapter(TimelineEvent)
    events: list[tuple[int, Any]] = []
    for i, raw in enumerate(merged.get("timeline") or []):
        event = _lenient(adapter, raw)
        if event is not None:
            events.append((i, event))
    world = merged.get("world", "world2024")
    problems: list[Problem] = []
    try:
        base = f"{base_year_of(world)}-01"
        ctx = policy_context_for(world, [e for _, e in events])
    except (ValueError, InputError) as exc:
        return [
            Problem(None, "world", str(exc), "use a built-in world or a world folder; check new plants' ids")
        ]
    end = str(merged.get("end") or DEFAULT_END)
    for i, raw in enumerate(merged.get("timeline") or [] if check_dates else []):
        start = str(raw.get("start", "")) if isinstance(raw, dict) else ""
        if start and (start < base or start > end):
            problems.append(
                Problem(
                    None,
                    f"timeline.{i}.start",
                    f"start {start} is outside the horizon {base} to {end}",
                    "move the event into the horizon or extend `end`",
                )
            )
    for i, event in events:
        try:
            event.check(ctx)
        except ValueError as exc:
            problems.append(Problem(None, f"timeline.{i}", str(exc), "use a name that the world defines"))
    return problems


def _lenient(adapter: Any, raw: Any) -> Any:
    """The event, or the event with its invalid optional keys dropped (their errors are reported already),
    so its other keys can still be checked; None if it cannot be parsed even so."""
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        if not isinstance(raw, dict):
            return None
        bad = {str(e["loc"][1]) for e in exc.errors() if len(e["loc"]) >= 2}
        try:
            return adapter.validate_python({k: v for k, v in raw.items() if k not in bad})
        except ValidationError:
            return None


def _relocate(problem: Problem, offset: int, data: dict, root: yaml.Node, path: Path) -> Problem:
    """Map a key of the merged scenario back to the line of the file (timeline positions shift by the parent's)."""
    keys: list[str | int] = [int(k) if k.isdigit() else k for k in (problem.key or "").split(".") if k]
    if len(keys) >= 2 and keys[0] == "timeline" and isinstance(keys[1], int):
        if keys[1] < offset:
            return Problem(
                f"{path} (in the extended scenario {data.get('extends')})",
                problem.key,
                problem.problem,
                problem.fix,
            )
        keys[1] -= offset
    line = _line(root, keys)
    return Problem(
        f"{path}:{line}" if line else str(path),
        ".".join(str(k) for k in keys) or None,
        problem.problem,
        problem.fix,
    )
