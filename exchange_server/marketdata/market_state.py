"""The committed market: instruments, L2 books, tickers, recent trades and candles, as of the
last journal commit.

The engine's own state runs a few commands ahead of the journal (it applies before the
group commit). Everything served to clients is built here from committed events only, so
nobody ever sees a price that a crash could take back. It lives on the event loop and is
fed by the sequencer's commit listener.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from sortedcontainers import SortedDict

from exchange_server.domain.enums import AssetClass, TradingStatus
from exchange_server.domain.events import (
    BookChanged,
    InstrumentListed,
    InstrumentStatusChanged,
    TradeExecuted,
)
from exchange_server.domain.exchange import Exchange
from exchange_server.domain.instruments import Instrument
from exchange_server.engine.sequencer import Committed
from exchange_server.marketdata.candles import CandleBar, CandleBook, exchange_timezone

RECENT_TRADES = 1000


@dataclass(slots=True)
class Ticker:
    """Session statistics of one symbol, in the instrument's integer units."""

    symbol: str
    last: int = 0
    last_size: int = 0
    open: int = 0
    high: int = 0
    low: int = 0
    volume: int = 0
    turnover: int = 0  # cash units
    trades: int = 0
    ts: int = 0

    def add_trade(self, price: int, quantity: int, notional: int, ts: int) -> None:
        if not self.trades:
            self.open = self.high = self.low = price
        elif price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.last, self.last_size, self.ts = price, quantity, ts
        self.volume += quantity
        self.turnover += notional
        self.trades += 1


class CommittedBook:
    """Aggregated price levels of one symbol: price -> (quantity, orders)."""

    __slots__ = ("asks", "bids", "ts")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # keyed by -price: best first
        self.asks: SortedDict = SortedDict()
        self.ts = 0

    def set_level(self, is_buy: bool, price: int, quantity: int, orders: int) -> None:
        levels, key = (self.bids, -price) if is_buy else (self.asks, price)
        if quantity:
            levels[key] = (quantity, orders)
        else:
            levels.pop(key, None)

    def depth(self, levels: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        bids = [(-key, q, n) for key, (q, n) in self.bids.items()[:levels]]
        asks = [(key, q, n) for key, (q, n) in self.asks.items()[:levels]]
        return bids, asks

    def best_bid(self) -> tuple[int, int] | None:
        if not self.bids:
            return None
        key, (quantity, _) = self.bids.peekitem(0)
        return -key, quantity

    def best_ask(self) -> tuple[int, int] | None:
        if not self.asks:
            return None
        key, (quantity, _) = self.asks.peekitem(0)
        return key, quantity


@dataclass(slots=True)
class MarketChanges:
    """What one committed batch changed, for publishing."""

    books: set[str] = field(default_factory=set)
    tickers: set[str] = field(default_factory=set)
    trades: list[TradeExecuted] = field(default_factory=list)
    candles: list[tuple[str, str, CandleBar]] = field(default_factory=list)  # symbol, interval
    instruments: set[str] = field(default_factory=set)


class MarketState:
    def __init__(self, exchange: Exchange, recent_trades: int = RECENT_TRADES) -> None:
        """Start from a recovered (so wholly committed) exchange."""
        self.instruments: dict[str, Instrument] = {}  # copies: the engine's run ahead
        self.books: dict[str, CommittedBook] = {}
        self.tickers: dict[str, Ticker] = {}
        self.trades: dict[str, deque[TradeExecuted]] = {}
        self.candles = CandleBook()
        self._recent_trades = recent_trades
        for symbol, instrument in exchange.instruments.items():
            self._list(InstrumentListed.of(instrument))
            ticker = self.tickers[symbol]
            ticker.last = exchange.last_price.get(symbol, 0)
            book = exchange.books.get(symbol)
            if book is not None:
                committed = self.books[symbol]
                bids, asks = book.depth(1 << 30)
                for price, quantity, orders in bids:
                    committed.set_level(True, price, quantity, orders)
                for price, quantity, orders in asks:
                    committed.set_level(False, price, quantity, orders)

    def _list(self, listed: InstrumentListed) -> None:
        symbol = listed.symbol
        self.instruments[symbol] = instrument_of(listed)
        self.books.setdefault(symbol, CommittedBook())
        self.tickers.setdefault(symbol, Ticker(symbol))
        self.trades.setdefault(symbol, deque(maxlen=self._recent_trades))
        self.candles.set_zone(symbol, exchange_timezone(listed.exchange))

    def apply(self, batch: Iterable[Committed]) -> MarketChanges:
        changes = MarketChanges()
        for entry in batch:
            for event in entry.events:
                if type(event) is BookChanged:
                    book = self.books[event.symbol]
                    book.set_level(event.side == "buy", event.price, event.quantity, event.orders)
                    book.ts = entry.ts_ns
                    changes.books.add(event.symbol)
                elif type(event) is TradeExecuted:
                    self._trade(event, changes)
                elif type(event) is InstrumentStatusChanged:
                    instrument = self.instruments[event.symbol]
                    instrument.status = TradingStatus(event.status)
                    instrument.reference_price = event.reference_price
                    instrument.band_low, instrument.band_high = event.band_low, event.band_high
                    changes.instruments.add(event.symbol)
                    changes.tickers.add(event.symbol)
                elif type(event) is InstrumentListed:
                    self._list(event)
                    changes.instruments.add(event.symbol)
        changes.candles = self.candles.changed()
        return changes

    def _trade(self, trade: TradeExecuted, changes: MarketChanges) -> None:
        symbol = trade.symbol
        self.tickers[symbol].add_trade(trade.price, trade.quantity, trade.notional, trade.ts)
        self.trades[symbol].append(trade)
        changes.trades.append(trade)
        changes.tickers.add(symbol)
        self.candles.add_trade(symbol, trade.price, trade.quantity, trade.ts)


def instrument_of(listed: InstrumentListed) -> Instrument:
    """A fresh instrument as a listing event describes it."""
    instrument = Instrument(
        listed.symbol,
        listed.name,
        AssetClass(listed.asset_class),
        listed.exchange,
        listed.currency,
        sector=listed.sector,
        isin=listed.isin,
        price_decimals=listed.price_decimals,
        quantity_decimals=listed.quantity_decimals,
        tick_size=listed.tick_size,
        lot_size=listed.lot_size,
        status=TradingStatus(listed.status),
        band_ppm=listed.band_ppm,
        max_order_quantity=listed.max_order_quantity,
        max_order_notional=listed.max_order_notional,
    )
    instrument.reference_price = listed.reference_price
    instrument.band_low, instrument.band_high = listed.band_low, listed.band_high
    return instrument
