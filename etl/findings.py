"""Problems found by validate's rules: every hit counted, Problem objects built for the first few only.

A hostile file can break every rule on every row (an all-invalid 19 MB csv once made millions of
Problem objects and pushed the app server past 2 GB). Rules register their hits as frame positions;
`Found.total` counts them all, `Found.first` builds the first MAX_PROBLEMS by row and no others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.errors import Problem
from etl.normalise import Normalised

# Problems kept as objects (the first by row); the rest are only counted (Checked.problems_total).
MAX_PROBLEMS = 1000
# A value quoted in a problem is cut to this many characters (a cell may hold a megabyte).
MAX_VALUE_CHARS = 200


def clip(value: object) -> str | None:
    """A cell's text as quoted in a problem: at most MAX_VALUE_CHARS characters, "…" marking a cut."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


# Builds the problems of one rule for the given frame positions (only ever the first few hundred).
Builder = Callable[[np.ndarray], list[Problem]]


@dataclass
class Found:
    """The rules' hits, as frame positions, before any Problem object exists."""

    n: Normalised
    hits: list[tuple[np.ndarray, Builder]] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)

    def add(self, mask: pd.Series | np.ndarray, build: Builder) -> None:
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if positions.size:
            self.hits.append((positions, build))

    def same(self, mask: pd.Series | np.ndarray, field_: str, raw_col: str | None, zh: str, en: str) -> None:
        """A rule whose reason is the same on every row."""
        self.add(mask, lambda pos: build_problems(self.n, pos, field_, raw_col, [zh] * len(pos), [en] * len(pos)))

    def per_row(
        self,
        mask: pd.Series | np.ndarray,
        field_: str,
        raw_col: str,
        zh: Callable[[np.ndarray], list[str]],
        en: Callable[[np.ndarray], list[str]],
    ) -> None:
        """A rule whose reason quotes something of its row (a name, a month); worded for kept rows only."""
        self.add(mask, lambda pos: build_problems(self.n, pos, field_, raw_col, zh(pos), en(pos)))

    def bad(self, length: int) -> np.ndarray:
        """Rows with at least one problem, as a mask over the frame."""
        out = np.zeros(length, dtype=bool)
        for positions, _ in self.hits:
            out[positions] = True
        return out

    def total(self) -> int:
        return len(self.file_problems) + sum(len(positions) for positions, _ in self.hits)

    def first(self, limit: int) -> list[Problem]:
        """The first `limit` problems by row (then column); no Problem is built for a row beyond them."""
        rows = self.n.frame["row"].to_numpy()
        kept = list(self.file_problems)[:limit]
        room = limit - len(kept)
        if room <= 0:
            return kept
        # a rule flags a row at most once: the `room` smallest rows of each rule hold the overall cut
        candidates = [_smallest(rows[positions], room) for positions, _ in self.hits]
        pooled = np.concatenate(candidates) if candidates else np.array([], dtype=np.int64)
        cut = np.partition(pooled, room - 1)[room - 1] if len(pooled) > room else None
        for positions, build in self.hits:
            chosen = positions if cut is None else positions[rows[positions] <= cut]
            kept += build(chosen)
        kept.sort(key=lambda p: (p.row or 0, p.column or ""))
        return kept[:limit]


def _smallest(values: np.ndarray, count: int) -> np.ndarray:
    return values if len(values) <= count else np.partition(values, count - 1)[:count]


def build_problems(
    n: Normalised, pos: np.ndarray, field_: str, raw_col: str | None, zh: list[str], en: list[str]
) -> list[Problem]:
    frame = n.frame
    label = n.columns.get(field_) or n.columns.get("kpi_name")
    rows = frame["row"].to_numpy()[pos].tolist()
    values = frame[raw_col].take(pos).tolist() if raw_col else [None] * len(pos)
    return [Problem(n.file_name, int(r), label, clip(v), z, e) for r, v, z, e in zip(rows, values, zh, en, strict=True)]
