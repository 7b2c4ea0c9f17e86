"""Small-count suppression for the demand report: counts under 5 are hidden, and more cells besides,
so that no hidden count can be worked out from the totals that are shown.

A table has rows (values of one dimension), two columns (match, no match), and its totals: a total
column, a total row and the grand total, all of them cells that may be hidden. With the totals the
table is a grid in which every row and every column adds up. A hidden cell can be worked out exactly
when it is a bridge of the graph whose nodes are the grid's rows and columns and whose edges are the
hidden cells: then no change to the hidden cells along a cycle can move it. So after hiding the small
counts (primary suppression), every hidden cell that is not on a cycle gets one by hiding the cheapest
further cells of a rectangle through it (complementary suppression), preferring cells that are not
zero, so that the values along the cycle can move both up and down.

Tables that split the same callers (region, kind of living, budget) share their total row: a total
hidden in one is hidden in all, or it could be read off another table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

THRESHOLD = 5  # counts 1..4 are hidden; 0 is shown (nobody asked)
COLUMNS = ("match", "no_match")
TOTAL = "total"
ZERO_PENALTY = 10_000  # hide a zero only when nothing else closes the cycle
SHARED_ROW_PENALTY = 1_000  # hiding a shared total spreads to the other tables: avoid it when possible


@dataclass
class Table:
    """One dimension's counts: rows are its values; cells by (row, column), totals included."""

    dimension: str
    rows: tuple[str, ...]
    counts: dict[tuple[str, str], int]  # (row, column) for column in COLUMNS; totals are computed
    shares_callers: bool = True  # rows split the callers (one value each): the total row is shared
    hidden: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for row in self.rows:
            self.counts[(row, TOTAL)] = sum(self.counts.get((row, c), 0) for c in COLUMNS)
        for column in COLUMNS + (TOTAL,):
            self.counts[(TOTAL, column)] = sum(self.counts.get((row, column), 0) for row in self.rows)
        for row in self.rows:
            for column in COLUMNS:
                self.counts.setdefault((row, column), 0)

    @property
    def grid_rows(self) -> tuple[str, ...]:
        return self.rows + (TOTAL,)

    @property
    def grid_columns(self) -> tuple[str, ...]:
        return COLUMNS + (TOTAL,)

    def cells(self) -> list[tuple[str, str]]:
        return [(r, c) for r in self.grid_rows for c in self.grid_columns]

    def shown(self, row: str, column: str) -> int | None:
        """The count as published: None when hidden."""
        return None if (row, column) in self.hidden else self.counts[(row, column)]


def primary(table: Table) -> set[tuple[str, str]]:
    """The small counts: 1 to THRESHOLD - 1."""
    return {cell for cell in table.cells() if 0 < table.counts[cell] < THRESHOLD}


def determined(table: Table) -> list[tuple[str, str]]:
    """Hidden cells that the shown cells and the sums give away (bridges of the hidden-cell graph)."""
    return [cell for cell in sorted(table.hidden) if not _on_cycle(table.hidden, cell)]


def _on_cycle(hidden: set[tuple[str, str]], cell: tuple[str, str]) -> bool:
    """Whether row and column of `cell` stay connected through the other hidden cells."""
    others = hidden - {cell}
    start, goal = ("r", cell[0]), ("c", cell[1])
    seen, todo = {start}, [start]
    while todo:
        side, name = todo.pop()
        for r, c in others:
            if side == "r" and r == name:
                node = ("c", c)
            elif side == "c" and c == name:
                node = ("r", r)
            else:
                continue
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.append(node)
    return False


def _close_cycles(table: Table) -> None:
    """Hide further cells until every hidden cell is on a cycle."""
    while True:
        open_cells = determined(table)
        if not open_cells:
            return
        row, column = open_cells[0]
        best = None
        for other_row in table.grid_rows:
            for other_column in table.grid_columns:
                if other_row == row or other_column == column:
                    continue
                added = {(row, other_column), (other_row, other_column), (other_row, column)} - table.hidden
                cost = sum(_cost(table, cell) for cell in added)
                if best is None or cost < best[0]:
                    best = (cost, added)
        if best is None:  # a grid without a second row or column: nothing can protect it but hiding all
            table.hidden |= set(table.cells())
            return
        table.hidden |= best[1]


def _cost(table: Table, cell: tuple[str, str]) -> int:
    value = table.counts[cell]
    penalty = ZERO_PENALTY if value == 0 else 0
    if cell[0] == TOTAL and table.shares_callers:
        penalty += SHARED_ROW_PENALTY
    return value + penalty


def suppress(tables: list[Table]) -> list[Table]:
    """Hide small counts and their complements in every table, keeping shared totals hidden alike."""
    for table in tables:
        table.hidden = primary(table)
    shared: set[str] = set()
    while True:
        for table in tables:
            if table.shares_callers:
                table.hidden |= {(TOTAL, column) for column in shared}
            _close_cycles(table)
        now_shared = {c for t in tables if t.shares_callers for (r, c) in t.hidden if r == TOTAL}
        if now_shared == shared:
            return tables
        shared = now_shared
