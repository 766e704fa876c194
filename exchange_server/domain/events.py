"""Events: what applying a command did. Published after the journal commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from exchange_server.domain.instruments import Instrument


@dataclass
class Event:
    kind: ClassVar[str] = ""


@dataclass
class CommandRejected(Event):
    """The command changed nothing. ``reason`` is a ``Reject`` code."""

    kind: ClassVar[str] = "rejected"
    command: str
    reason: str
    message: str
    account: int = 0
    client_order_id: str = ""
    order_id: int = 0
    symbol: str = ""


@dataclass
class OrderUpdated(Event):
    """The full state of an order after it changed (accepted, filled, modified, ...)."""

    kind: ClassVar[str] = "order"
    order_id: int
    account: int
    symbol: str
    side: str
    order_type: str
    tif: str
    status: str
    quantity: int
    price: int
    trigger_price: int
    filled: int
    remaining: int
    filled_notional: int
    fees: int
    client_order_id: str
    post_only: bool
    expire_at: int
    created_at: int
    updated_at: int
    reason: str


@dataclass
class OrderResubmitted(Event):
    """A client order id was sent again with the same order: the original stands."""

    kind: ClassVar[str] = "resubmitted"
    order_id: int
    account: int
    client_order_id: str


@dataclass
class TradeExecuted(Event):
    kind: ClassVar[str] = "trade"
    trade_id: int
    symbol: str
    price: int
    quantity: int
    notional: int
    aggressor: str  # side of the taker
    buy_order_id: int
    sell_order_id: int
    buyer: int
    seller: int
    buyer_fee: int
    seller_fee: int
    ts: int


@dataclass
class BookChanged(Event):
    """New aggregate of one price level; quantity 0 means the level is gone."""

    kind: ClassVar[str] = "book"
    symbol: str
    side: str
    price: int
    quantity: int
    orders: int


@dataclass
class BalanceChanged(Event):
    """New balance and reservation of one account in one asset."""

    kind: ClassVar[str] = "balance"
    account: int
    asset: str
    balance: int
    reserved: int


@dataclass
class InstrumentStatusChanged(Event):
    kind: ClassVar[str] = "instrument_status"
    symbol: str
    status: str
    reason: str
    reference_price: int
    band_low: int
    band_high: int


@dataclass
class InstrumentListed(Event):
    kind: ClassVar[str] = "instrument_listed"
    symbol: str
    name: str
    asset_class: str
    exchange: str
    currency: str
    sector: str
    isin: str
    price_decimals: int
    quantity_decimals: int
    tick_size: int
    lot_size: int
    status: str
    reference_price: int
    band_ppm: int
    band_low: int
    band_high: int
    max_order_quantity: int
    max_order_notional: int

    @staticmethod
    def of(i: Instrument) -> InstrumentListed:
        return InstrumentListed(
            i.symbol,
            i.name,
            i.asset_class,
            i.exchange,
            i.currency,
            i.sector,
            i.isin,
            i.price_decimals,
            i.quantity_decimals,
            i.tick_size,
            i.lot_size,
            i.status,
            i.reference_price,
            i.band_ppm,
            i.band_low,
            i.band_high,
            i.max_order_quantity,
            i.max_order_notional,
        )


@dataclass
class AccountUpdated(Event):
    kind: ClassVar[str] = "account"
    account: int
    self_trade_prevention: str


@dataclass
class FeesChanged(Event):
    kind: ClassVar[str] = "fees"
    maker_ppm: int
    taker_ppm: int


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        CommandRejected,
        OrderUpdated,
        OrderResubmitted,
        TradeExecuted,
        BookChanged,
        BalanceChanged,
        InstrumentStatusChanged,
        InstrumentListed,
        AccountUpdated,
        FeesChanged,
    )
}
