"""The order ticket's widgets and layout; the dock (``order_ticket``) gives them behaviour."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimeZone
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workstation.docks.live_text import LiveText
from workstation.docks.table_format import DOWN, UP
from workstation.docks.table_model import fixed_font

# (label, wire order type): SL and SL-M are what Indian traders call stop-limit and
# stop-market orders.
ORDER_TYPES = (
    ("Limit", "limit"),
    ("Market", "market"),
    ("SL", "stop_limit"),
    ("SL-M", "stop_market"),
)
TIFS = (("DAY", "day"), ("GTC", "gtc"), ("GTD", "gtd"), ("IOC", "ioc"), ("FOK", "fok"))
EXPIRY_FORMAT = "yyyy-MM-dd HH:mm:ss"


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("fieldError")
    label.setStyleSheet(f"color: {DOWN};")
    label.setWordWrap(True)
    label.hide()
    return label


def _number_edit(parent: QWidget, placeholder: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setPlaceholderText(placeholder)
    edit.setAlignment(Qt.AlignmentFlag.AlignRight)
    edit.setFont(fixed_font())
    return edit


class TicketForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        mono = fixed_font()

        self.symbol_edit = QLineEdit(self)
        self.symbol_edit.setPlaceholderText("Symbol")
        bold = QFont(self.symbol_edit.font())
        bold.setBold(True)
        self.symbol_edit.setFont(bold)
        self.symbol_error = _error_label(self)
        # Bid / ask of the symbol: changes with every quote, so never a QLabel (see LiveText).
        self.touch = LiveText(self, width_chars=28, horizontal=QSizePolicy.Policy.Fixed)
        self.touch.setFont(mono)
        self.name = QLabel(self)
        self.name.setObjectName("instrumentName")

        self.buy_button = QPushButton("Buy", self)
        self.sell_button = QPushButton("Sell", self)
        self.sides = QButtonGroup(self)
        for button in (self.buy_button, self.sell_button):
            button.setCheckable(True)
            button.setMinimumHeight(26)
            self.sides.addButton(button)
        self.buy_button.setChecked(True)

        self.order_type = QComboBox(self)
        for label, value in ORDER_TYPES:
            self.order_type.addItem(label, value)
        self.tif = QComboBox(self)
        for label, value in TIFS:
            self.tif.addItem(label, value)

        self.quantity = _number_edit(self, "Quantity")
        self.lots = _number_edit(self, "Lots")
        self.lots.setMaximumWidth(64)
        self.lot_hint = QLabel(self)
        self.quantity_error = _error_label(self)
        self.price = _number_edit(self, "Limit price")
        self.price_error = _error_label(self)
        self.trigger = _number_edit(self, "Trigger price")
        self.trigger_error = _error_label(self)
        self.tif_error = _error_label(self)
        # GTD: the expiry as the exchange's wall clock shows it. The editor holds bare
        # date and time fields (kept in UTC so no local time zone or daylight saving of this
        # machine shifts them); the dock reads them in the exchange's zone, named beside.
        self.expiry_box = QWidget(self)
        self.expiry = QDateTimeEdit(self.expiry_box)
        self.expiry.setTimeZone(QTimeZone.utc())
        self.expiry.setDisplayFormat(EXPIRY_FORMAT)
        self.expiry.setCalendarPopup(True)
        self.expiry.setFont(mono)
        self.expiry_zone = QLabel(self.expiry_box)
        expiry_row = QHBoxLayout(self.expiry_box)
        expiry_row.setContentsMargins(0, 0, 0, 0)
        expiry_row.setSpacing(6)
        expiry_row.addWidget(self.expiry, 1)
        expiry_row.addWidget(self.expiry_zone)
        self.expiry_label = QLabel("Expires", self)
        self.expiry_error = _error_label(self)
        self.post_only = QCheckBox("Post-only (rest, never take)", self)
        self.post_only.setToolTip(
            "The order only adds liquidity: if it would trade on arrival the exchange refuses "
            "it, so it always pays the maker fee. Limit orders only."
        )
        self.post_only_error = _error_label(self)

        self.value = QLabel(self)
        self.fee = QLabel(self)
        self.fee_label = QLabel("Est. fee", self)
        self.total = QLabel(self)
        self.total_label = QLabel("Total cost", self)
        self.reserve = QLabel(self)
        self.buying_power = QLabel(self)
        for figure in (self.value, self.fee, self.total, self.reserve, self.buying_power):
            figure.setFont(mono)
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.funds_error = _error_label(self)

        self.confirm = QCheckBox("Confirm before sending", self)
        self.submit = QPushButton("Buy", self)
        self.submit.setObjectName("submitOrder")
        self.submit.setMinimumHeight(30)
        self.submit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        # Inline confirmation (no modal dialog: it would stall the event loop).
        self.confirm_box = QFrame(self)
        self.confirm_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.confirm_text = QLabel(self.confirm_box)
        self.confirm_text.setWordWrap(True)
        self.confirm_send = QPushButton("Send", self.confirm_box)
        self.confirm_back = QPushButton("Back", self.confirm_box)
        confirm_layout = QVBoxLayout(self.confirm_box)
        confirm_layout.setContentsMargins(6, 4, 6, 4)
        confirm_layout.addWidget(self.confirm_text)
        confirm_buttons = QHBoxLayout()
        confirm_buttons.addWidget(self.confirm_send)
        confirm_buttons.addWidget(self.confirm_back)
        confirm_layout.addLayout(confirm_buttons)
        self.confirm_box.hide()

        self.status = QLabel(self)
        self.status.setObjectName("ticketStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._lay_out()

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.addWidget(self.symbol_edit, 1)
        top.addWidget(self.touch)
        layout.addLayout(top)
        layout.addWidget(self.name)
        layout.addWidget(self.symbol_error)
        sides = QHBoxLayout()
        sides.setSpacing(0)
        sides.addWidget(self.buy_button)
        sides.addWidget(self.sell_button)
        layout.addLayout(sides)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(3)
        form.addRow("Type", self.order_type)
        quantity_row = QHBoxLayout()
        quantity_row.setSpacing(6)
        quantity_row.addWidget(self.quantity, 1)
        quantity_row.addWidget(QLabel("Lots", self))
        quantity_row.addWidget(self.lots)
        form.addRow("Quantity", quantity_row)
        form.addRow("", self.lot_hint)
        form.addRow("", self.quantity_error)
        self.price_label = QLabel("Price", self)
        form.addRow(self.price_label, self.price)
        form.addRow("", self.price_error)
        self.trigger_label = QLabel("Trigger", self)
        form.addRow(self.trigger_label, self.trigger)
        form.addRow("", self.trigger_error)
        form.addRow("Validity", self.tif)
        form.addRow("", self.tif_error)
        form.addRow(self.expiry_label, self.expiry_box)
        form.addRow("", self.expiry_error)
        form.addRow("", self.post_only)
        form.addRow("", self.post_only_error)
        layout.addLayout(form)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        estimates = QFormLayout()
        estimates.setVerticalSpacing(2)
        estimates.addRow("Est. value", self.value)
        estimates.addRow(self.fee_label, self.fee)
        estimates.addRow(self.total_label, self.total)
        estimates.addRow("Cash reserved", self.reserve)
        estimates.addRow("Buying power", self.buying_power)
        layout.addLayout(estimates)
        layout.addWidget(self.funds_error)
        layout.addWidget(self.confirm)
        layout.addWidget(self.submit)
        layout.addWidget(self.confirm_box)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def style_side(self, side: str) -> None:
        """The side buttons and the send button wear the side's colour, so a sell never
        looks like a buy."""
        colour = UP if side == "buy" else DOWN
        for button, button_side in ((self.buy_button, "buy"), (self.sell_button, "sell")):
            own = UP if button_side == "buy" else DOWN
            if button_side == side:
                button.setStyleSheet(
                    f"QPushButton {{ background: {own}; color: white; font-weight: bold;"
                    f" border: 1px solid {own}; padding: 3px; }}"
                )
            else:
                button.setStyleSheet(f"QPushButton {{ color: {own}; padding: 3px; }}")
        self.submit.setStyleSheet(
            f"QPushButton {{ background: {colour}; color: white; font-weight: bold;"
            f" border: 1px solid {colour}; border-radius: 3px; }}"
            "QPushButton:disabled { background: palette(mid); border-color: palette(mid); }"
        )
        self.confirm_send.setStyleSheet(
            f"QPushButton {{ background: {colour}; color: white; font-weight: bold; }}"
        )
