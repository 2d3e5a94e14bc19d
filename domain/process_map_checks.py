"""What makes a process map unworkable, each problem in words that name the thing to fix.

- a function without an owner address or a lead to escalate to;
- a name that is not defined (a milestone's function, a dependency, a function to notify), or
  defined twice;
- a dependency cycle, named by its path ("a -> b -> c -> a");
- a timing that cannot be met: a stage gated on a milestone that can only start after that
  stage, or a milestone due before something it depends on may even start.
"""

from __future__ import annotations

from collections import Counter

from domain.addresses import is_valid_email
from domain.process_map import (
    ANCHOR_ORDER,
    ANCHOR_WORDS,
    GATE_ANCHOR,
    Anchor,
    Milestone,
    ProcessMap,
)


def map_problems(process_map: ProcessMap) -> list[str]:
    return [
        *_missing_owners(process_map),
        *_duplicate_names(process_map),
        *_unknown_names(process_map),
        *_cycles(process_map),
        *_impossible_timings(process_map),
    ]


def _missing_owners(process_map: ProcessMap) -> list[str]:
    problems = []
    for function in process_map.functions:
        for field, what in (("owner", "owner address"), ("lead", "lead to escalate to")):
            address = getattr(function, field)
            if not address:
                problems.append(f"function '{function.id}' has no {what} ({field})")
            elif not is_valid_email(address):
                problems.append(f"function '{function.id}': {field} {address!r} is not an email")
    return problems


def _duplicate_names(process_map: ProcessMap) -> list[str]:
    problems = []
    for kind, names in (
        ("function", [f.id for f in process_map.functions]),
        ("milestone", [m.id for m in process_map.milestones]),
    ):
        problems += [
            f"{kind} '{n}' is defined {c} times" for n, c in Counter(names).items() if c > 1
        ]
    return problems


def _unknown_names(process_map: ProcessMap) -> list[str]:
    functions = {f.id for f in process_map.functions}
    milestones = {m.id for m in process_map.milestones}
    known_functions = ", ".join(sorted(functions))
    problems = []
    for milestone in process_map.milestones:
        where = f"milestone '{milestone.id}'"
        if milestone.function not in functions:
            problems.append(
                f"{where}: function '{milestone.function}' is not defined "
                f"(functions: {known_functions})"
            )
        problems += [
            f"{where}: depends on '{d}', which is not a milestone of this map"
            for d in milestone.depends_on
            if d not in milestones
        ]
        problems += [
            f"{where}: notifies function '{n}', which is not defined (functions: {known_functions})"
            for n in milestone.notify
            if n not in functions
        ]
        if milestone.id in milestone.depends_on:
            problems.append(f"{where}: depends on itself")
    return problems


def _cycles(process_map: ProcessMap) -> list[str]:
    """Each dependency cycle once, as the path that closes it."""
    edges = {m.id: [d for d in m.depends_on if d != m.id] for m in process_map.milestones}
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = path[path.index(node) :]
            if not any(set(cycle) == set(seen) for seen in found):
                found.append(cycle)
            return
        if node in done:
            return
        for dependency in edges.get(node, []):
            visit(dependency, [*path, node])
        done.add(node)

    for milestone in edges:
        visit(milestone, [])
    return [f"dependency cycle (each waits for the next): {' -> '.join([*c, c[0]])}" for c in found]


def _impossible_timings(process_map: ProcessMap) -> list[str]:
    by_id = {m.id: m for m in process_map.milestones}
    problems = []
    for milestone in process_map.milestones:
        where = f"milestone '{milestone.id}'"
        if milestone.gates is not None:
            gate = GATE_ANCHOR[milestone.gates]
            if not _happens_before(milestone.starts.anchor, gate):
                problems.append(
                    f"{where}: cannot be met: it gates {milestone.gates.value} but starts only "
                    f"when {ANCHOR_WORDS[milestone.starts.anchor]}"
                )
        if milestone.repeat_every_days and milestone.starts.anchor == Anchor.CONTRACT_END:
            problems.append(
                f"{where}: repeats with every contract term already; drop repeat_every_days"
            )
        if milestone.starts.offset_days > process_map.horizon_days:
            problems.append(
                f"{where}: cannot be met: starts {milestone.starts.offset_days} days after its "
                f"anchor, beyond the map's {process_map.horizon_days}-day horizon"
            )
        for dependency_id in milestone.depends_on:
            dependency = by_id.get(dependency_id)
            if dependency is None or dependency.starts.anchor != milestone.starts.anchor:
                continue
            if _latest_due(milestone) < dependency.starts.offset_days:
                problems.append(
                    f"{where}: cannot be met: due {_latest_due(milestone)} days after "
                    f"{ANCHOR_WORDS[milestone.starts.anchor]}, but '{dependency_id}' it depends on "
                    f"starts only {dependency.starts.offset_days} days after"
                )
    return problems


def _latest_due(milestone: Milestone) -> int:
    return milestone.starts.offset_days + milestone.due_within_days


def _happens_before(anchor: Anchor, stage_anchor: Anchor) -> bool:
    """Whether `anchor` has happened by the time `stage_anchor` does, for every customer."""
    if anchor == stage_anchor:
        return True
    if anchor in ANCHOR_ORDER and stage_anchor in ANCHOR_ORDER:
        return ANCHOR_ORDER.index(anchor) < ANCHOR_ORDER.index(stage_anchor)
    # A renewal starts a segment-dependent time before the contract ends; everything of the
    # first year has happened by then.
    return stage_anchor == Anchor.RENEWAL_STARTED and anchor in ANCHOR_ORDER
