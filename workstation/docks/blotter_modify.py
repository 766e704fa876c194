"""Modify a working order: new total quantity, limit and trigger, checked before sending."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from exchange_server.protocol import InstrumentOut, ModifyOrderRequest, OrderOut
from workstation.docks.table_format import DOWN, fmt_quantity
from workstation.docks.table_model import fixed_font
from workstation.validation import Checked, validate_modify


class ModifyOrderDialog(QDialog):
    """Opened with ``open()`` (window-modal, never a nested event loop); ``send`` is called
    with the request when the trader confirms a valid change."""

    def __init__(
        self,
        order: OrderOut,
        instrument: InstrumentOut | None,
        last_price: Decimal | None,
        send: Callable[[OrderOut, ModifyOrderRequest], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.order, self.instrument, self.last_price, self._send = (
            order,
            instrument,
            last_price,
            send,
        )
        self.setWindowTitle(f"Modify order {order.order_id}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        heading = QLabel(
            f"{order.side.upper()} {order.symbol}  filled {fmt_quantity(order.filled)}"
            f" of {fmt_quantity(order.quantity)}",
            self,
        )
        self.quantity = self._edit(fmt_quantity(order.quantity).replace(",", ""))
        self.price = self._edit(str(order.price) if order.price is not None else "")
        self.trigger = self._edit(
            str(order.trigger_price) if order.trigger_price is not None else ""
        )
        self.error = QLabel(self)
        self.error.setStyleSheet(f"color: {DOWN};")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Total quantity", self.quantity)
        if order.price is not None:
            form.addRow("Price", self.price)
        if order.trigger_price is not None and order.status == "new":
            form.addRow("Trigger", self.trigger)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Modify")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _edit(self, text: str) -> QLineEdit:
        edit = QLineEdit(text, self)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.setFont(fixed_font())
        return edit

    def check(self) -> Checked:
        return validate_modify(
            self.order,
            self.instrument,
            quantity=self.quantity.text(),
            price=self.price.text(),
            trigger_price=self.trigger.text(),
            last_price=self.last_price,
        )

    def submit(self) -> None:
        checked = self.check()
        if not checked.ok:
            self.error.setText(checked.problems[0].message)
            return
        request = ModifyOrderRequest(
            quantity=checked.quantity, price=checked.price, trigger_price=checked.trigger_price
        )
        self._send(self.order, request)
        self.accept()
