"""Engine data (integers in instrument and cash units) to wire models (exact decimals).

Pure functions shared by the REST routes and the WebSocket stream, so both say the same
thing about the same order, fill or quote.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from exchange_server.domain.events import TradeExecuted
from exchange_server.domain.instruments import CASH_DECIMALS, Instrument, cash_to_decimal
from exchange_server.marketdata.candles import CandleBar
from exchange_server.marketdata.market_state import MarketState
from exchange_server.protocol import (
    Balance,
    Candle,
    Depth,
    DepthLevel,
    FeeSchedule,
    Fill,
    InstrumentOut,
    OrderOut,
    Position,
    PublicTrade,
    Quote,
)

HUNDRED = Decimal(100)
AVERAGE_PRICE_STEP = Decimal(1).scaleb(-CASH_DECIMALS)


def price_or_none(instrument: Instrument, price: int) -> Decimal | None:
    return instrument.price_to_decimal(price) if price else None


def instrument_out(instrument: Instrument) -> InstrumentOut:
    price, quantity = instrument.price_to_decimal, instrument.quantity_to_decimal
    return InstrumentOut(
        symbol=instrument.symbol,
        name=instrument.name,
        asset_class=instrument.asset_class,
        exchange=instrument.exchange,
        currency=instrument.currency,
        sector=instrument.sector,
        isin=instrument.isin,
        tick_size=price(instrument.tick_size),
        lot_size=quantity(instrument.lot_size),
        price_decimals=instrument.price_decimals,
        quantity_decimals=instrument.quantity_decimals,
        status=instrument.status,
        reference_price=price(instrument.reference_price),
        band_low=price(instrument.band_low),
        band_high=price(instrument.band_high),
    )


def average_price(instrument: Instrument, notional: int, quantity: int) -> Decimal | None:
    """Cash-weighted average price of ``quantity`` costing ``notional`` cash units, exact to
    the cash precision (the division is exact in Decimal for every value we can hold)."""
    if not quantity:
        return None
    average = cash_to_decimal(notional) / instrument.quantity_to_decimal(quantity)
    return average.quantize(AVERAGE_PRICE_STEP)


def order_out(instrument: Instrument, order: Any) -> OrderOut:
    """From an ``OrderUpdated`` event or an ``orders`` read-model row (same field names)."""
    quantity = instrument.quantity_to_decimal
    # Built without validation: every value is computed here from engine integers, and an
    # order answer is on the hot path of order entry.
    return OrderOut.model_construct(
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        tif=order.tif,
        status=order.status,
        quantity=quantity(order.quantity),
        price=price_or_none(instrument, order.price),
        trigger_price=price_or_none(instrument, order.trigger_price),
        filled=quantity(order.filled),
        remaining=quantity(order.remaining),
        average_price=average_price(instrument, order.filled_notional, order.filled),
        fees=cash_to_decimal(order.fees),
        post_only=order.post_only,
        expire_at=order.expire_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
        reason=order.reason,
    )


def fill_out(instrument: Instrument, trade: Any, account: int) -> Fill:
    """One side of a trade as the given account sees it (from an event or a fills row)."""
    is_buyer = trade.buyer == account
    side: Literal["buy", "sell"] = "buy" if is_buyer else "sell"
    ts = trade.ts if isinstance(trade, TradeExecuted) else trade.ts_ns  # event or row
    return Fill(
        trade_id=trade.trade_id,
        order_id=trade.buy_order_id if is_buyer else trade.sell_order_id,
        symbol=trade.symbol,
        side=side,
        price=instrument.price_to_decimal(trade.price),
        quantity=instrument.quantity_to_decimal(trade.quantity),
        notional=cash_to_decimal(trade.notional),
        fee=cash_to_decimal(trade.buyer_fee if is_buyer else trade.seller_fee),
        liquidity="taker" if trade.aggressor == side else "maker",
        ts=ts,
    )


def public_trade(instrument: Instrument, trade: TradeExecuted) -> PublicTrade:
    return PublicTrade(
        trade_id=trade.trade_id,
        symbol=trade.symbol,
        price=instrument.price_to_decimal(trade.price),
        quantity=instrument.quantity_to_decimal(trade.quantity),
        aggressor=trade.aggressor,  # type: ignore[arg-type]
        ts=trade.ts,
    )


def balance_out(asset: str, balance: int, reserved: int) -> Balance:
    """Cash is in cash units; an instrument holding is in that instrument's quantity units,
    which the caller converts (see ``holding_out``)."""
    return Balance(
        asset=asset,
        balance=cash_to_decimal(balance),
        reserved=cash_to_decimal(reserved),
        available=cash_to_decimal(balance - reserved),
    )


def holding_out(instrument: Instrument, balance: int, reserved: int) -> Balance:
    quantity = instrument.quantity_to_decimal
    return Balance(
        asset=instrument.symbol,
        balance=quantity(balance),
        reserved=quantity(reserved),
        available=quantity(balance - reserved),
    )


def asset_balance(market: MarketState, asset: str, balance: int, reserved: int) -> Balance:
    instrument = market.instruments.get(asset)
    if instrument is None:
        return balance_out(asset, balance, reserved)
    return holding_out(instrument, balance, reserved)


def position_out(
    instrument: Instrument, quantity: int, cost: int, realised: int, last_price: int
) -> Position:
    value = instrument.notional(last_price, quantity) if last_price else None
    return Position(
        symbol=instrument.symbol,
        quantity=instrument.quantity_to_decimal(quantity),
        average_price=average_price(instrument, cost, quantity) if quantity > 0 else None,
        cost=cash_to_decimal(cost),
        last_price=price_or_none(instrument, last_price),
        market_value=cash_to_decimal(value) if value is not None else None,
        unrealised_pnl=cash_to_decimal(value - cost) if value is not None else None,
        realised_pnl=cash_to_decimal(realised),
    )


def quote_out(market: MarketState, symbol: str) -> Quote:
    instrument = market.instruments[symbol]
    ticker = market.tickers[symbol]
    book = market.books[symbol]
    price = instrument.price_to_decimal
    quantity = instrument.quantity_to_decimal
    bid, ask = book.best_bid(), book.best_ask()
    previous = instrument.reference_price
    change = change_percent = None
    if ticker.last and previous:
        change = price(ticker.last - previous)
        change_percent = (change * HUNDRED / price(previous)).quantize(Decimal("0.01"))
    return Quote(
        symbol=symbol,
        status=instrument.status,
        bid=price(bid[0]) if bid else None,
        bid_size=quantity(bid[1]) if bid else Decimal(0),
        ask=price(ask[0]) if ask else None,
        ask_size=quantity(ask[1]) if ask else Decimal(0),
        last=price_or_none(instrument, ticker.last),
        last_size=quantity(ticker.last_size),
        open=price_or_none(instrument, ticker.open),
        high=price_or_none(instrument, ticker.high),
        low=price_or_none(instrument, ticker.low),
        previous_close=price_or_none(instrument, previous),
        change=change,
        change_percent=change_percent,
        volume=quantity(ticker.volume),
        turnover=cash_to_decimal(ticker.turnover),
        trades=ticker.trades,
        ts=max(ticker.ts, book.ts),
    )


def depth_out(market: MarketState, symbol: str, levels: int) -> Depth:
    instrument = market.instruments[symbol]
    book = market.books[symbol]
    price = instrument.price_to_decimal
    quantity = instrument.quantity_to_decimal
    bids, asks = book.depth(levels)
    return Depth(
        symbol=symbol,
        bids=[DepthLevel(price=price(p), quantity=quantity(q), orders=n) for p, q, n in bids],
        asks=[DepthLevel(price=price(p), quantity=quantity(q), orders=n) for p, q, n in asks],
        ts=book.ts,
    )


def candle_out(instrument: Instrument, bar: CandleBar) -> Candle:
    price = instrument.price_to_decimal
    return Candle(
        ts=bar.start,
        open=price(bar.open),
        high=price(bar.high),
        low=price(bar.low),
        close=price(bar.close),
        volume=instrument.quantity_to_decimal(bar.volume),
        trades=bar.trades,
    )


def fee_schedule(maker_ppm: int, taker_ppm: int) -> FeeSchedule:
    return FeeSchedule(
        maker_fee_ppm=maker_ppm,
        taker_fee_ppm=taker_ppm,
        # As risk.buy_reservation is called by the engine: with the higher of the two.
        reserve_fee_ppm=max(maker_ppm, taker_ppm),
        cash_decimals=CASH_DECIMALS,
    )
