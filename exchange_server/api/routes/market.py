"""Public market data: instruments, quotes, depth, recent trades, candles, status, calendar.

Served from the committed market state in memory, so these are cheap; candles also read the
stored history (shipped daily history, imported bars, saved live candles) when the server
has a history store (``context.history``), merged with the live candles in memory.
No sign-in needed (rate limits still apply).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from exchange_server.api.convert import (
    candle_out,
    depth_out,
    instrument_out,
    public_trade,
    quote_out,
)
from exchange_server.api.deps import Context
from exchange_server.api.errors import ApiError
from exchange_server.marketdata.calendar import calendar_for
from exchange_server.marketdata.candles import INTERVALS, STORED_INTERVALS
from exchange_server.marketdata.history import HistoryStore, merge_bars
from exchange_server.protocol import (
    API_PREFIX,
    CandleSeries,
    Depth,
    InstrumentOut,
    MarketCalendar,
    MarketStatus,
    PublicTrade,
    Quote,
)

router = APIRouter(prefix=API_PREFIX, tags=["market data"])

SymbolPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9&._-]+$")]
MAX_SYMBOLS_PER_QUOTE = 200


def _known(context: Context, symbol: str) -> str:
    symbol = symbol.upper()
    if symbol not in context.market.instruments:
        raise ApiError(404, "unknown_instrument", f"no instrument {symbol!r}", "symbol")
    return symbol


@router.get("/instruments", response_model=list[InstrumentOut])
async def list_instruments(
    context: Context,
    search: Annotated[str | None, Query(max_length=100)] = None,
    sector: Annotated[str | None, Query(max_length=100)] = None,
    asset_class: Annotated[str | None, Query(max_length=20)] = None,
) -> list[InstrumentOut]:
    """Every instrument, or those whose symbol or name contains ``search`` (any case)."""
    needle = search.strip().lower() if search else ""
    chosen = []
    for instrument in context.market.instruments.values():
        if (
            needle
            and needle not in instrument.symbol.lower()
            and needle not in (instrument.name.lower())
        ):
            continue
        if sector and instrument.sector.lower() != sector.lower():
            continue
        if asset_class and instrument.asset_class != asset_class.lower():
            continue
        chosen.append(instrument)
    # Exact symbol matches first, then symbols starting with the search, then the rest.
    chosen.sort(
        key=lambda i: (
            i.symbol.lower() != needle,
            not i.symbol.lower().startswith(needle),
            i.symbol,
        )
    )
    return [instrument_out(i) for i in chosen]


@router.get("/instruments/{symbol}", response_model=InstrumentOut)
async def get_instrument(context: Context, symbol: SymbolPath) -> InstrumentOut:
    return instrument_out(context.market.instruments[_known(context, symbol)])


@router.get("/quotes", response_model=list[Quote])
async def list_quotes(
    context: Context,
    symbols: Annotated[str | None, Query(max_length=4000, description="comma separated")] = None,
) -> list[Quote]:
    market = context.market
    if not symbols:
        return [quote_out(market, symbol) for symbol in market.instruments]
    names = [name.strip() for name in symbols.split(",") if name.strip()]
    if len(names) > MAX_SYMBOLS_PER_QUOTE:
        raise ApiError(
            422, "too_many_symbols", f"at most {MAX_SYMBOLS_PER_QUOTE} symbols", "symbols"
        )
    return [quote_out(market, _known(context, name)) for name in names]


@router.get("/quotes/{symbol}", response_model=Quote)
async def get_quote(context: Context, symbol: SymbolPath) -> Quote:
    return quote_out(context.market, _known(context, symbol))


@router.get("/depth/{symbol}", response_model=Depth)
async def get_depth(
    context: Context,
    symbol: SymbolPath,
    levels: Annotated[int, Query(ge=1, le=100)] = 5,
) -> Depth:
    return depth_out(context.market, _known(context, symbol), levels)


@router.get("/trades/{symbol}", response_model=list[PublicTrade])
async def recent_trades(
    context: Context,
    symbol: SymbolPath,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[PublicTrade]:
    """Most recent first."""
    symbol = _known(context, symbol)
    instrument = context.market.instruments[symbol]
    trades = list(context.market.trades[symbol])[-limit:]
    return [public_trade(instrument, trade) for trade in reversed(trades)]


@router.get("/candles/{symbol}", response_model=CandleSeries)
async def candles(
    context: Context,
    symbol: SymbolPath,
    interval: Annotated[str, Query(max_length=4)] = "1m",
    start: Annotated[int, Query(ge=0, le=2**62, description="epoch ns, inclusive")] = 0,
    end: Annotated[int, Query(ge=0, le=2**62, description="epoch ns, exclusive")] = 2**62,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> CandleSeries:
    """Candles starting in [start, end), oldest first: the latest ``limit`` of them.

    Daily candles start at midnight in the exchange's time zone (NSE: Asia/Kolkata), and
    history before today is split/bonus adjusted; the last candle may still be forming."""
    symbol = _known(context, symbol)
    if interval not in INTERVALS:
        raise ApiError(
            422, "invalid_interval", f"interval must be one of {', '.join(INTERVALS)}", "interval"
        )
    if end <= start:
        raise ApiError(422, "invalid_range", "end must be after start", "end")
    instrument = context.market.instruments[symbol]
    series = context.market.candles.get(symbol, interval)
    bars = series.between(start, end, limit) if series is not None else []
    store: HistoryStore | None = getattr(context, "history", None)
    if store is not None and interval in STORED_INTERVALS:
        await context.history_seeded()
        stored = await asyncio.to_thread(store.bars, symbol, interval, start, end, limit)
        bars = merge_bars(stored, bars, limit)
    return CandleSeries(
        symbol=symbol, interval=interval, candles=[candle_out(instrument, bar) for bar in bars]
    )


Session = Annotated[
    Literal["NSE", "24x7"], Query(description="NSE hours, or round the clock (crypto)")
]


@router.get("/market/status", response_model=MarketStatus)
async def market_status(context: Context, session: Session = "NSE") -> MarketStatus:
    """Whether the session is open now (always, when the server runs "always open"), and
    which instruments an operator or a circuit breaker has halted."""
    halted = sorted(s for s, i in context.market.instruments.items() if i.status == "halted")
    status = calendar_for(session).status(halted)
    if context.settings.always_open and not status.is_open:
        status.is_open, status.session = True, "open"
    return status


@router.get("/market/calendar", response_model=MarketCalendar)
async def market_calendar(
    days: Annotated[int, Query(ge=1, le=366)] = 14, session: Session = "NSE"
) -> MarketCalendar:
    return calendar_for(session).calendar(days)
