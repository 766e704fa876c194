"""The blotters' table model: only what changed is repainted, sorting is by exact value,
the filter matches what is shown, CSV export writes what is shown with exact values."""

from __future__ import annotations

import csv
import gc
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFontInfo

from workstation.docks.blotter_actions import spawn
from workstation.docks.table_model import Column, KeyedTableModel
from workstation.docks.table_view import BlotterTable


@dataclass(frozen=True)
class Row:
    key: int
    symbol: str
    price: Decimal


COLUMNS: list[Column[Row]] = [
    Column("Symbol", lambda r: r.symbol),
    Column("Price", lambda r: r.price, lambda r: f"{r.price:,.2f}", numeric=True),
]


def model() -> KeyedTableModel[Row]:
    return KeyedTableModel(COLUMNS, key=lambda r: r.key)


def record(table: KeyedTableModel[Row]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    table.dataChanged.connect(
        lambda a, b, *_: seen.append(("changed", (a.row(), a.column(), b.row(), b.column())))
    )
    table.rowsInserted.connect(lambda _p, first, last: seen.append(("inserted", (first, last))))
    table.rowsRemoved.connect(lambda _p, first, last: seen.append(("removed", (first, last))))
    table.modelReset.connect(lambda: seen.append(("reset", None)))
    return seen


def test_updates_touch_only_the_changed_cells() -> None:
    table = model()
    table.set_rows([Row(1, "TCS", Decimal("3500")), Row(2, "INFY", Decimal("1500"))])
    seen = record(table)
    table.set_rows([Row(1, "TCS", Decimal("3500.05")), Row(2, "INFY", Decimal("1500"))])
    assert seen == [("changed", (0, 1, 0, 1))]  # one cell: TCS's price
    seen.clear()
    table.set_rows([Row(2, "INFY", Decimal("1500")), Row(3, "SBIN", Decimal("800"))])
    assert seen == [("removed", (0, 0)), ("inserted", (1, 1))]  # never a reset
    assert [r.symbol for r in table.rows()] == ["INFY", "SBIN"]
    seen.clear()
    table.set_rows([Row(2, "INFY", Decimal("1500")), Row(3, "SBIN", Decimal("800"))])
    assert seen == []


def test_numbers_are_right_aligned_in_a_fixed_font(qtbot: Any) -> None:
    table = model()
    table.set_rows([Row(1, "TCS", Decimal("3500"))])
    price = table.index(0, 1)
    assert table.data(price) == "3,500.00"
    assert table.data(price, Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert QFontInfo(table.data(price, Qt.ItemDataRole.FontRole)).fixedPitch()
    assert table.data(table.index(0, 0), Qt.ItemDataRole.FontRole) is None


def test_sort_by_value_filter_and_export(qtbot: Any, tmp_path: Path) -> None:
    table = model()
    widget = BlotterTable(table, "prices")
    qtbot.addWidget(widget)
    # As text "900.00" > "1,000.00"; as numbers it is the other way round.
    table.set_rows(
        [
            Row(1, "A", Decimal("900")),
            Row(2, "B", Decimal("1000")),
            Row(3, "C", Decimal("95.5")),
        ]
    )
    widget.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    shown = [widget.proxy.index(r, 0).data() for r in range(widget.proxy.rowCount())]
    assert shown == ["C", "A", "B"]
    # A new row lands in sorted place.
    table.set_rows([*table.rows(), Row(4, "D", Decimal("950"))])
    shown = [widget.proxy.index(r, 0).data() for r in range(widget.proxy.rowCount())]
    assert shown == ["C", "A", "D", "B"]

    widget.filter.setText("1,000")  # what the trader sees, not the raw value
    assert widget.proxy.rowCount() == 1
    path = tmp_path / "prices.csv"
    assert widget.export_to(str(path)) == 1
    with path.open(newline="") as handle:
        assert list(csv.reader(handle)) == [["Symbol", "Price"], ["B", "1000"]]
    assert widget.status.text() == "Exported 1 rows"


def test_a_ranked_list_takes_the_new_order_and_the_selection_follows_its_row() -> None:
    table = model()
    table.set_rows([Row(1, "TCS", Decimal(3)), Row(2, "INFY", Decimal(2))], reorder=True)
    selected = QPersistentModelIndex(table.index(1, 0))  # INFY
    seen = record(table)
    table.set_rows(
        [Row(3, "SBIN", Decimal(5)), Row(2, "INFY", Decimal(4)), Row(1, "TCS", Decimal(3))],
        reorder=True,
    )
    assert [r.symbol for r in table.rows()] == ["SBIN", "INFY", "TCS"]
    assert ("reset", None) not in seen
    assert selected.row() == 1 and selected.data() == "INFY"


def test_a_tape_adds_newest_first_and_keeps_a_bounded_length() -> None:
    big = QColor("#3730a46c")
    table = KeyedTableModel(
        COLUMNS,
        key=lambda r: r.key,
        tooltip=lambda r: f"row {r.key}",
        highlight=lambda r: big if r.price > 100 else None,
    )
    table.prepend([Row(2, "B", Decimal(1)), Row(1, "A", Decimal(1))], limit=3)
    seen = record(table)
    table.prepend([Row(4, "D", Decimal(500)), Row(3, "C", Decimal(1))], limit=3)
    assert [r.key for r in table.rows()] == [4, 3, 2]
    assert seen == [("inserted", (0, 1)), ("removed", (3, 3))]
    assert table.data(table.index(0, 0), Qt.ItemDataRole.FontRole).bold()
    assert table.data(table.index(0, 1), Qt.ItemDataRole.BackgroundRole) == big
    assert table.data(table.index(1, 1), Qt.ItemDataRole.BackgroundRole) is None
    assert table.data(table.index(1, 0), Qt.ItemDataRole.ToolTipRole) == "row 3"
    table.clear()
    assert table.rowCount() == 0


def test_a_call_started_when_no_loop_runs_is_dropped_quietly(
    recwarn: pytest.WarningsRecorder,
) -> None:
    # A panel's Qt timer can fire between event-loop turns (a closing app; in the suite, a
    # window from an earlier test whose ledger refresh came due): nothing to run it on.
    outcomes: list[object] = []

    async def call_the_exchange() -> str:
        return "answer"

    started = spawn(call_the_exchange(), on_done=outcomes.append, on_error=outcomes.append)
    assert started is None and outcomes == []
    gc.collect()
    assert not [w for w in recwarn if "never awaited" in str(w.message)]
