"""The stage vocabulary (``logmaps/stages.yaml``): activities, tie order, groups, timescales."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ._yaml import Strict, load_model, logmaps_dir

LEFT_CARE = "Left care"


class Activity(Strict):
    name: str = Field(min_length=1)
    order: int
    group: str = Field(min_length=1)
    terminal: bool = False


class LeftCareOutcomes(Strict):
    default: str
    rec_codes: dict[str, list[str]]
    annex_a_letters: dict[str, list[str]]


class TimescaleRule(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    from_: str = Field(alias="from")
    to: str
    within: int = Field(gt=0)
    unit: Literal["working_days", "days", "weeks", "months"]
    exclude_when: dict[str, str] = Field(default_factory=dict)
    #: activities that end the wait without meeting or breaching the rule (besides the
    #: terminal ones): a CP plan that ends before its first review is not stuck
    stop_when: list[str] = Field(default_factory=list)


class Vocabulary(Strict):
    version: int
    activities: list[Activity]
    left_care_outcomes: LeftCareOutcomes
    timescales: list[TimescaleRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Vocabulary:
        names = [a.name for a in self.activities]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"activities listed twice: {', '.join(dupes)}")
        for rule in self.timescales:
            for end in (rule.from_, rule.to, *rule.stop_when):
                if end not in names:
                    raise ValueError(f"timescale {rule.name!r} names unknown activity {end!r}")
        for outcome in self.left_care_outcomes.rec_codes:
            if f"{LEFT_CARE}: {outcome}" not in names:
                raise ValueError(f"outcome {outcome!r} has no activity '{LEFT_CARE}: {outcome}'")
        return self

    @cached_property
    def by_name(self) -> dict[str, Activity]:
        return {a.name: a for a in self.activities}

    @cached_property
    def order(self) -> dict[str, int]:
        return {a.name: a.order for a in self.activities}

    @cached_property
    def group(self) -> dict[str, str]:
        return {a.name: a.group for a in self.activities}

    @cached_property
    def terminal(self) -> frozenset[str]:
        return frozenset(a.name for a in self.activities if a.terminal)

    @cached_property
    def groups(self) -> list[str]:
        """Groups in the order of their first activity: the reading order of a summary map."""
        seen: dict[str, int] = {}
        for a in sorted(self.activities, key=lambda a: a.order):
            seen.setdefault(a.group, a.order)
        return list(seen)

    def rule(self, name: str) -> TimescaleRule:
        for rule in self.timescales:
            if rule.name == name:
                return rule
        known = ", ".join(r.name for r in self.timescales)
        raise KeyError(f"no timescale rule {name!r} (known: {known})")

    def with_activities(self, extra: list[Activity]) -> Vocabulary:
        """A copy that also knows the activities a user logmap declares."""
        known = self.by_name
        added = [a for a in extra if a.name not in known]
        if not added:
            return self
        # validate afresh (a model_copy would carry over the cached lookups)
        data = self.model_dump(by_alias=True)
        data["activities"] += [a.model_dump() for a in added]
        return Vocabulary.model_validate(data)

    def left_care_from_rec(self, code: str) -> str:
        for outcome, codes in self.left_care_outcomes.rec_codes.items():
            if code in codes:
                return f"{LEFT_CARE}: {outcome}"
        return f"{LEFT_CARE}: {self.left_care_outcomes.default}"


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Read the stage vocabulary; the shipped ``stages.yaml`` unless another file is given."""
    return load_model(path or logmaps_dir() / "stages.yaml", Vocabulary)
