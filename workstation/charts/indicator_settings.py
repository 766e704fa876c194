"""Indicator periods the user picks (SMA/EMA length, Bollinger length and width, RSI length,
MACD fast/slow/signal), the labels that name them, and the small dialog that edits them.

They are saved with the chart in the workspace; a saved value that is missing, of the wrong
type or out of range falls back to the default rather than failing the restore.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workstation.charts.style import DOWN

MAX_LENGTH = 500


@dataclass(frozen=True)
class IndicatorParams:
    sma_length: int = 20
    ema_length: int = 50
    bb_length: int = 20
    bb_width: float = 2.0
    rsi_length: int = 14
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9

    def problems(self) -> list[str]:
        """Why these parameters cannot be used (empty: they can)."""
        found = []
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "bb_width":
                if not (isinstance(value, float) and math.isfinite(value) and 0 < value <= 10):
                    found.append("Bollinger width must be above 0 and at most 10")
            elif not (isinstance(value, int) and 1 <= value <= MAX_LENGTH):
                found.append(f"{spec.name} must be a whole number from 1 to {MAX_LENGTH}")
        if self.macd_fast >= self.macd_slow:
            found.append("MACD fast length must be shorter than the slow length")
        return found

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: object) -> IndicatorParams:
        """Parameters from a saved workspace: each readable, valid value is taken, the rest
        keep their defaults."""
        params = cls()
        if not isinstance(state, dict):
            return params
        for spec in fields(cls):
            raw = state.get(spec.name)
            if raw is None or isinstance(raw, bool):
                continue
            try:
                value: int | float = float(raw) if spec.name == "bb_width" else int(raw)
            except (TypeError, ValueError, OverflowError):
                continue
            if spec.name != "bb_width" and value != raw:
                continue  # 20.5 is not a length
            changes: dict[str, Any] = {spec.name: value}
            candidate = replace(params, **changes)
            if not candidate.problems():
                params = candidate
        return params

    # -- labels ---------------------------------------------------------------------------
    def label(self, key: str) -> str:
        """How the indicator ``key`` is named in the menu and the readout."""
        width = f"{self.bb_width:g}"
        return {
            "sma": f"SMA {self.sma_length}",
            "ema": f"EMA {self.ema_length}",
            "bollinger": f"BB {self.bb_length} {width}",
            "vwap": "VWAP",
            "rsi": f"RSI {self.rsi_length}",
            "macd": f"MACD {self.macd_fast} {self.macd_slow} {self.macd_signal}",
        }[key]

    def menu_label(self, key: str) -> str:
        width = f"{self.bb_width:g}"
        return {
            "sma": f"SMA {self.sma_length}",
            "ema": f"EMA {self.ema_length}",
            "bollinger": f"Bollinger bands {self.bb_length}, {width}",
            "vwap": "VWAP",
            "rsi": f"RSI {self.rsi_length}",
            "macd": f"MACD {self.macd_fast}, {self.macd_slow}, {self.macd_signal}",
        }[key]


class IndicatorDialog(QDialog):
    """Edits a copy of the parameters; ``params()`` reads the result once accepted."""

    def __init__(self, params: IndicatorParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("indicatorSettings")
        self.setWindowTitle("Indicator settings")
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        layout = QVBoxLayout(self)
        groups = (
            ("Moving averages", (("sma_length", "SMA length"), ("ema_length", "EMA length"))),
            (
                "Bollinger bands",
                (("bb_length", "Length"), ("bb_width", "Width (standard deviations)")),
            ),
            ("RSI", (("rsi_length", "Length"),)),
            (
                "MACD",
                (
                    ("macd_fast", "Fast length"),
                    ("macd_slow", "Slow length"),
                    ("macd_signal", "Signal length"),
                ),
            ),
        )
        # One form for every section, so the fields line up in one column.
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(24)
        for index, (title, rows) in enumerate(groups):
            heading = QLabel(title, self)
            heading.setObjectName("indicatorSettingsSection")
            heading.setStyleSheet(
                f"font-weight: bold; padding-top: {8 if index else 0}px; padding-bottom: 2px;"
            )
            form.addRow(heading)
            for name, label in rows:
                spin: QSpinBox | QDoubleSpinBox
                if name == "bb_width":
                    spin = QDoubleSpinBox(self)
                    spin.setRange(0.1, 10.0)
                    spin.setSingleStep(0.1)
                    spin.setDecimals(1)
                    spin.setValue(params.bb_width)
                else:
                    spin = QSpinBox(self)
                    spin.setRange(1, MAX_LENGTH)
                    spin.setValue(int(getattr(params, name)))
                spin.setObjectName(name)
                spin.setFixedWidth(88)
                spin.setAlignment(Qt.AlignmentFlag.AlignRight)
                spin.valueChanged.connect(self._check)
                self.spins[name] = spin
                form.addRow("    " + label, spin)
        layout.addLayout(form)
        self.problem = QLabel(self)
        self.problem.setObjectName("indicatorSettingsProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {DOWN};")
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            parent=self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        defaults = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.clicked.connect(lambda: self.set_params(IndicatorParams()))
        layout.addWidget(self.buttons)

    def set_params(self, params: IndicatorParams) -> None:
        for name, spin in self.spins.items():
            spin.setValue(getattr(params, name))

    def params(self) -> IndicatorParams:
        values: dict[str, Any] = {
            name: float(spin.value()) if name == "bb_width" else int(spin.value())
            for name, spin in self.spins.items()
        }
        return IndicatorParams(**values)

    def _check(self) -> None:
        problems = self.params().problems()
        self.problem.setText("; ".join(problems))
        self.problem.setVisible(bool(problems))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problems)
