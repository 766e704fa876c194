"""Exchange trading calendars: sessions in the exchange's own time zone, weekends and
holidays, and whether the market is open at a moment. ``NSE_CALENDAR`` for Indian equities;
``CONTINUOUS_CALENDAR`` for markets that never close (crypto), whose session is each UTC
day from midnight to midnight."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from exchange_server.protocol import MarketCalendar, MarketStatus, SessionTimes

# NSE equity trading holidays falling on weekdays, as listed in NSE's 2026 holiday circular
# (2026-01-15 is also confirmed by the zero-volume placeholder in the shared daily data).
# Operators extend the list for later years through ``TradingCalendar.holidays``.
NSE_HOLIDAYS_2026 = {
    date(2026, 1, 15): "Municipal Corporation Elections in Maharashtra",
    date(2026, 1, 26): "Republic Day",
    date(2026, 3, 3): "Holi",
    date(2026, 3, 26): "Shri Ram Navami",
    date(2026, 3, 31): "Shri Mahavir Jayanti",
    date(2026, 4, 3): "Good Friday",
    date(2026, 4, 14): "Dr. Baba Saheb Ambedkar Jayanti",
    date(2026, 5, 1): "Maharashtra Day",
    date(2026, 5, 28): "Bakri Id",
    date(2026, 6, 26): "Muharram",
    date(2026, 9, 14): "Ganesh Chaturthi",
    date(2026, 10, 2): "Mahatma Gandhi Jayanti",
    date(2026, 10, 20): "Dussehra",
    date(2026, 11, 10): "Diwali Balipratipada",
    date(2026, 11, 24): "Prakash Gurpurb Sri Guru Nanak Dev",
    date(2026, 12, 25): "Christmas",
}


@dataclass(frozen=True)
class TradingCalendar:
    exchange: str
    timezone: str
    pre_open: time
    open: time
    close: time
    holidays: dict[date, str] = field(default_factory=dict)
    weekend: frozenset[int] = frozenset({5, 6})  # ``date.weekday()`` numbers with no session

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def session(self, day: date) -> tuple[datetime, datetime] | None:
        """The session of ``day`` in UTC; a close at or before the open (00:00-00:00) means
        the session runs into the next day."""
        if not self.is_trading_day(day):
            return None
        zone = self.zone
        closes_on = day if self.close > self.open else day + timedelta(days=1)
        return (
            datetime.combine(day, self.open, zone).astimezone(UTC),
            datetime.combine(closes_on, self.close, zone).astimezone(UTC),
        )

    def phase(self, moment: datetime) -> str:
        session = self.session(moment.astimezone(self.zone).date())
        if session is None:
            return "closed"
        opens, closes = session
        if opens <= moment < closes:
            return "open"
        pre_open = datetime.combine(opens.astimezone(self.zone).date(), self.pre_open, self.zone)
        if pre_open <= moment < opens:
            return "pre_open"
        return "closed"

    def session_fraction(self, moment: datetime) -> float:
        """How much of the session in progress has passed (0..1); 0 outside a session."""
        session = self.session(moment.astimezone(self.zone).date())
        if session is None or not session[0] <= moment < session[1]:
            return 0.0
        opens, closes = session
        return (moment - opens) / (closes - opens)

    def next_session(self, moment: datetime) -> tuple[datetime, datetime]:
        """The session in progress at ``moment`` or the next one after it."""
        day = moment.astimezone(self.zone).date()
        for offset in range(0, 400):
            session = self.session(day + timedelta(days=offset))
            if session is not None and session[1] > moment:
                return session
        raise ValueError("no trading session within a year")

    def status(self, halted: list[str], moment: datetime | None = None) -> MarketStatus:
        moment = moment or datetime.now(UTC)
        phase = self.phase(moment)
        opens, closes = self.next_session(moment)
        return MarketStatus(
            exchange=self.exchange,
            timezone=self.timezone,
            is_open=phase == "open",
            session=phase,  # type: ignore[arg-type]
            next_open=opens if opens > moment else None,
            next_close=closes,
            halted_symbols=halted,
        )

    def calendar(self, days: int, start: date | None = None) -> MarketCalendar:
        first = start or datetime.now(UTC).astimezone(self.zone).date()
        entries = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            session = self.session(day)
            entries.append(
                SessionTimes(
                    date=day.isoformat(),
                    open=session[0] if session else None,
                    close=session[1] if session else None,
                    holiday=self.holidays.get(
                        day, "weekend" if day.weekday() in self.weekend else ""
                    ),
                )
            )
        return MarketCalendar(exchange=self.exchange, timezone=self.timezone, days=entries)


NSE_CALENDAR = TradingCalendar(
    exchange="NSE",
    timezone="Asia/Kolkata",
    pre_open=time(9, 0),
    open=time(9, 15),
    close=time(15, 30),
    holidays=NSE_HOLIDAYS_2026,
)

CONTINUOUS_CALENDAR = TradingCalendar(
    exchange="24x7",
    timezone="UTC",
    pre_open=time(0, 0),
    open=time(0, 0),
    close=time(0, 0),
    weekend=frozenset(),
)

CALENDARS = {"NSE": NSE_CALENDAR, "24x7": CONTINUOUS_CALENDAR}


def calendar_for(session: str) -> TradingCalendar:
    """The calendar of a listing's ``session`` ("NSE" or "24x7")."""
    try:
        return CALENDARS[session]
    except KeyError:
        raise ValueError(f"unknown market session {session!r}") from None
