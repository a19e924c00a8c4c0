"""Why an object gets the format it gets: what `loglake formats test FILE` shows a user writing a format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from loglake.config import RulesConfig
from loglake.formats import FormatRegistry, first_lines
from loglake.formats.base import Format, ParseFailure
from loglake.formats.reader import iter_line_batches, open_decompressed
from loglake.rules import RuleSet


@dataclass
class Trial:
    name: str
    user: bool
    matched: int
    first_miss: dict[str, Any] | None = None
    """A user format's first sample line it did not read: `line`, `text`, `reason` (pattern, timestamp, rule)."""


@dataclass
class Report:
    sample: int
    winner: str
    why: str
    trials: list[Trial] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sample_lines": self.sample,
            "winner": self.winner,
            "why": self.why,
            "formats": [t.__dict__ for t in self.trials],
        }


def sample_of(stream: BinaryIO, uri: str, lines: int) -> list[tuple[int, bytes]]:
    """The first `lines` non-blank lines, with their line numbers (decompressed as processing would)."""
    text, _ = open_decompressed(stream, uri)
    return first_lines(iter_line_batches(text, uri, 1 << 20), lines)[1]


def _miss(fmt: Format, rules: RuleSet, numbered: list[tuple[int, bytes]]) -> dict[str, Any] | None:
    now = datetime.now(UTC).replace(tzinfo=None)
    for lineno, raw in numbered:
        outcome = fmt.parse_line(raw)
        if type(outcome) is ParseFailure:
            reason = outcome.message
        else:
            failures = rules.validate(dict(outcome), now)  # type: ignore[arg-type]
            if not failures:
                continue
            reason = "; ".join(f"{f.code}: {f.message}" for f in failures)
        return {"line": lineno, "text": raw.decode("utf-8", "replace")[:200], "reason": reason}
    return None


def explain(registry: FormatRegistry, numbered: list[tuple[int, bytes]], rules: RulesConfig) -> Report:
    """Every format's score on the sample, each user format's first miss, and detection's choice."""
    sample = [raw for _, raw in numbered]
    users = {spec.name for spec in registry.config.custom}
    trials = []
    for fmt in registry.ordered:
        trial = Trial(fmt.name, fmt.name in users, fmt.sniff(sample))
        if trial.user:
            trial.first_miss = _miss(fmt, RuleSet(rules, fmt.provides_level), numbered)
        trials.append(trial)
    chosen = registry.detect(sample)
    best = max(trials, key=lambda t: t.matched, default=None)
    if chosen is registry.unrecognised:
        why = "no format read any of these lines; describe them as [[formats.custom]] in loglake.toml"
    elif chosen.name == "text":
        trials.append(Trial("text", False, chosen.sniff(sample)))
        top = f"the best specific format, `{best.name}`, read {best.matched}" if best and best.matched else "none"
        why = f"no specific format read half of the {len(sample)} lines ({top}); {chosen.description}"
    else:
        score = next(t.matched for t in trials if t.name == chosen.name)
        tied = [t.name for t in trials if t.matched == score and t.name != chosen.name]
        why = f"it reads {score} of the {len(sample)} lines, the most"
        if tied:
            why += f" (as many as {', '.join(tied)}: ties go to the format listed first)"
    return Report(len(sample), chosen.name, why, trials)
