"""Measuring the full-name matcher on a labelled corpus (SPEC §14): the confusion matrix per
category, precision and recall. Used by the test gate and `manage.py screening_report`."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from risk.names import compare_names, name_keys, query_keys


def screens_as_match(listed: str, screened: str) -> bool:
    """The verdict screening reaches: a shared index key, then a positive comparison."""
    return (
        bool(name_keys(listed) & query_keys(screened)) and compare_names(screened, listed).matched
    )


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


@dataclass(frozen=True)
class Miss:
    category: str
    listed: str
    screened: str
    expected: bool


def read_corpus(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def evaluate(rows: Iterable[Mapping[str, str]]) -> tuple[dict[str, Confusion], list[Miss]]:
    """Per category (and `all`) the confusion matrix, and the misclassified pairs."""
    table: dict[str, Confusion] = {"all": Confusion()}
    misses: list[Miss] = []
    for row in rows:
        expected = row["expected"] == "1"
        got = screens_as_match(row["listed"], row["screened"])
        for name in (row["category"], "all"):
            cell = table.setdefault(name, Confusion())
            if got and expected:
                cell.tp += 1
            elif got:
                cell.fp += 1
            elif expected:
                cell.fn += 1
            else:
                cell.tn += 1
        if got != expected:
            misses.append(Miss(row["category"], row["listed"], row["screened"], expected))
    return table, misses


def report_lines(table: Mapping[str, Confusion]) -> list[str]:
    lines = [
        f"{'category':<24}{'pairs':>6}{'TP':>6}{'FP':>6}{'FN':>6}{'TN':>6}{'prec':>8}{'recall':>8}"
    ]
    for name in sorted(table, key=lambda n: (n == "all", n)):
        c = table[name]
        lines.append(
            f"{name:<24}{c.total:>6}{c.tp:>6}{c.fp:>6}{c.fn:>6}{c.tn:>6}"
            f"{c.precision:>8.3f}{c.recall:>8.3f}"
        )
    return lines
