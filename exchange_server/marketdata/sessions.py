"""Market sessions: instruments open and close with their exchange's calendar.

The keeper turns calendar phases into engine commands, so users and bots meet the same
rules: before the open (NSE 09:00-09:15) an instrument is post-only, during the session it
is open, after the close it is cancel-only and its DAY orders expire (``EndOfDay``). At each
new session the price band is re-centred on the last price, as exchanges re-base circuit
limits on the previous close. With ``always_open`` (offline practice) every instrument is
open all the time.

The keeper acts on transitions it sees, and never lifts or overrides a ``halted`` status:
that is an operator's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from exchange_server.domain.commands import (
    Command,
    EndOfDay,
    SetReferencePrice,
    SetTradingStatus,
)
from exchange_server.domain.enums import TradingStatus
from exchange_server.domain.exchange import Exchange
from exchange_server.marketdata.calendar import TradingCalendar, calendar_for
from exchange_server.marketdata.fair_value import seasonality

STATUS_OF_PHASE = {
    "pre_open": TradingStatus.POST_ONLY,
    "open": TradingStatus.OPEN,
    "closed": TradingStatus.CANCEL_ONLY,
}
REASON_OF_PHASE = {"pre_open": "pre-open", "open": "market open", "closed": "market closed"}


def moment_of(now_ns: int) -> datetime:
    return datetime.fromtimestamp(now_ns / 1e9, UTC)


class SessionKeeper:
    def __init__(
        self,
        sessions: dict[str, str],
        always_open: bool = False,
        reference: Callable[[Exchange, str], int] | None = None,
    ) -> None:
        """``sessions`` maps each tradable symbol to its session name ("NSE", "24x7");
        ``reference`` gives the price a new session's band is centred on (by default the
        last traded price)."""
        self.always_open = always_open
        self.reference = reference or (lambda exchange, symbol: exchange.last_price.get(symbol, 0))
        self.calendars: dict[str, TradingCalendar] = {}
        self.members: dict[str, list[str]] = {}
        for symbol, session in sessions.items():
            self.calendars.setdefault(session, calendar_for(session))
            self.members.setdefault(session, []).append(symbol)
        self.session_of = dict(sessions)
        self.phases: dict[str, str] = {}  # session -> its phase at the last update
        self.days: dict[str, date] = {}  # session -> the date of its current session

    def phase(self, symbol: str) -> str:
        return "open" if self.always_open else self.phases.get(self.session_of[symbol], "closed")

    def intensity(self, symbol: str, now_ns: int) -> float:
        """Volatility multiplier for the fair value now: 0 while the market is closed,
        the U-shaped intraday profile for sessions with an open and a close, 1 for
        continuous markets and always-open practice."""
        if self.always_open:
            return 1.0
        session = self.session_of[symbol]
        if self.phases.get(session) != "open":
            return 0.0
        calendar = self.calendars[session]
        if calendar.open == calendar.close:  # continuous: no open or close to be busy at
            return 1.0
        return seasonality(calendar.session_fraction(moment_of(now_ns)))

    def update(self, exchange: Exchange, now_ns: int) -> list[Command]:
        """The commands that bring every instrument to its phase at ``now_ns``; the first
        call also brings instruments left in another phase by an earlier run."""
        moment = moment_of(now_ns)
        commands: list[Command] = []
        for session, calendar in self.calendars.items():
            phase = "open" if self.always_open else calendar.phase(moment)
            local_day = moment.astimezone(calendar.zone).date()
            first = session not in self.phases
            changed = self.phases.get(session) != phase
            new_day = phase == "open" and self.days.get(session) not in (None, local_day)
            self.phases[session] = phase
            if phase == "open":
                self.days[session] = local_day
            if changed or new_day:
                commands.extend(
                    self._transition(exchange, self.members[session], phase, first, new_day)
                )
        return commands

    def _transition(
        self, exchange: Exchange, symbols: Iterable[str], phase: str, first: bool, new_day: bool
    ) -> list[Command]:
        target = STATUS_OF_PHASE[phase]
        commands: list[Command] = []
        for symbol in symbols:
            instrument = exchange.instruments.get(symbol)
            if instrument is None or not instrument.tradable:
                continue
            status = instrument.status
            if status == TradingStatus.HALTED:
                continue
            # A session that opens (or a continuous one that rolls over to a new day)
            # re-centres the band; on a restart mid-session an instrument already open
            # keeps the band it has.
            opening = phase == "open" and (status != TradingStatus.OPEN or new_day)
            if opening:
                price = self.reference(exchange, symbol)
                if price > 0 and price != instrument.reference_price:
                    commands.append(SetReferencePrice(symbol, price))
            if status != target:
                commands.append(SetTradingStatus(symbol, target, REASON_OF_PHASE[phase]))
            if phase == "closed" and not first:
                commands.append(EndOfDay(symbol))
        return commands
