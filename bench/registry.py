"""The plug-in interface: a suite is a function that measures something and returns ``Result`` rows.

Adding a suite is one small module in ``bench/suites/`` with one decorated function::

    @suite("fanout", "Events/s through the in-process bus")
    def fanout(ctx: Context) -> Outcome:
        ...measure...
        return Outcome([Result("fanout", "in-process", "wisetrader bus", "ours", {"events_per_s": v})])

Every module in ``bench/suites/`` is imported by ``load_suites()``; a suite whose code or peers are not
installed reports them in ``Outcome.missing`` instead of numbers. Register only what really measures.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Role = Literal["ours", "peer", "floor"]
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Context:
    """How much to measure: ``quick`` is for CI (a few minutes at most on a small input)."""

    quick: bool
    frames: int  # length of generated streams
    runs: int  # repetitions; medians are reported
    seed: int
    cache_dir: Path  # generated streams are cached here by (venue, frames, seed)


@dataclass(frozen=True)
class Result:
    """One subject measured on one case. ``primary`` names the metric ratios are taken on."""

    suite: str
    case: str
    subject: str
    role: Role
    metrics: dict[str, float]
    primary: str = "frames_per_s"
    higher_is_better: bool = True
    detail: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Missing:
    """A subject that could not be measured here, and why (not installed, not built yet, ...)."""

    suite: str
    subject: str
    reason: str


@dataclass
class Outcome:
    results: list[Result] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """A promise from the issue, checked against a run: ``subject``'s ``metric`` (or, with
    ``metric="ratio_to_best_peer"``, its ratio to the best peer) must reach ``threshold``, at least when
    ``higher_is_better`` and at most otherwise. The worst case over the suite's cases counts."""

    suite: str
    goal: str
    subject: str
    metric: str
    threshold: float
    higher_is_better: bool = True
    case_contains: str = ""  # only the cases whose name contains this


TARGETS: list[Target] = []


def target(t: Target) -> None:
    """Declare a target next to the suite that measures it."""
    TARGETS.append(t)


SuiteFn = Callable[[Context], Outcome]


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    run: SuiteFn


SUITES: dict[str, Suite] = {}


def suite(name: str, description: str) -> Callable[[SuiteFn], SuiteFn]:
    """Register ``fn`` as the suite ``name`` (run by ``python -m bench --suite name``)."""

    def register(fn: SuiteFn) -> SuiteFn:
        if name in SUITES:
            raise ValueError(f"suite {name!r} registered twice")
        SUITES[name] = Suite(name, description, fn)
        return fn

    return register


def load_suites() -> dict[str, Suite]:
    """Import every module of ``bench.suites`` so their ``@suite`` functions register."""
    from bench import suites

    for info in pkgutil.iter_modules(suites.__path__):
        importlib.import_module(f"bench.suites.{info.name}")
    return SUITES
