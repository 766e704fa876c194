"""The status bar: connection, staleness, round-trip latency, server time, market, account."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from workstation.session.session import Session

_STATE_TEXT = {
    "connecting": "Connecting",
    "connected": "Connected",
    "reconnecting": "Reconnecting",
    "offline": "Offline",
}


class StatusBar(QStatusBar):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.connection = QLabel()
        self.connection.setObjectName("statusConnection")
        self.stale = QLabel("STALE DATA - reconnecting")
        self.stale.setObjectName("staleBanner")
        self.stale.setToolTip(
            "The connection to the server was lost; prices and account data shown may be "
            "out of date until it is back and resynchronised."
        )
        self.latency = QLabel()
        self.latency.setObjectName("statusLatency")
        self.clock = QLabel()
        self.clock.setObjectName("statusClock")
        self.market = QLabel()
        self.market.setObjectName("statusMarket")
        self.account = QLabel()
        self.account.setObjectName("statusAccount")
        self.addWidget(self.connection)
        self.addWidget(self.stale)
        for label in (self.market, self.latency, self.clock, self.account):
            self.addPermanentWidget(label)
        session.connection_changed.connect(self._refresh)
        session.stale_changed.connect(self._refresh)
        session.market_changed.connect(self._refresh)
        session.notice.connect(self._notice)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)  # the clock's seconds
        self._ticker.timeout.connect(self._refresh_clock)
        self._ticker.start()
        self._refresh()

    def _refresh(self, *_: object) -> None:
        session = self.session
        state = session.connection_state
        where = "embedded exchange" if session.is_embedded else session.server_url
        self.connection.setText(f"\u25cf {_STATE_TEXT.get(state, state)} \u2014 {where}")
        self.connection.setProperty("state", state)
        self.connection.style().unpolish(self.connection)
        self.connection.style().polish(self.connection)
        self.stale.setVisible(session.stale)
        latency = session.latency_ms
        self.latency.setText("RTT \u2013" if latency is None else f"RTT {latency:.0f} ms")
        self.latency.setToolTip("Round trip to the server (HTTP health check)")
        status = session.market_status
        if status is None:
            self.market.setText("Market \u2013")
        else:
            session_name = {"pre_open": "pre-open", "open": "open", "closed": "closed"}
            text = f"{status.exchange} {session_name.get(status.session, status.session)}"
            if status.halted_symbols:
                text += f" ({len(status.halted_symbols)} halted)"
            self.market.setText(text)
        self.account.setText(session.account_label)
        self._refresh_clock()

    def _refresh_clock(self) -> None:
        status = self.session.market_status
        zone_name = status.timezone if status is not None else "UTC"
        try:
            zone = ZoneInfo(zone_name)
        except Exception:
            zone, zone_name = ZoneInfo("UTC"), "UTC"
        now = datetime.fromtimestamp(self.session.server_time_ns / 1e9, UTC).astimezone(zone)
        self.clock.setText(f"Server {now:%H:%M:%S} {now.tzname() or zone_name}")

    def _notice(self, level: str, text: str) -> None:
        self.showMessage(text, 10_000 if level == "error" else 5_000)
