"""Events: what applying a command did. Published after the journal commit.

Native classes when compiled (see ``records``); the journal stores each as ``[kind,
values()]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from exchange_server.domain.instruments import Instrument
from exchange_server.domain.mypyc_compat import mypyc_attr
from exchange_server.domain.records import Record


@mypyc_attr(allow_interpreted_subclasses=True)
class Event(Record):
    __slots__ = ()


class CommandRejected(Event):
    """The command changed nothing. ``reason`` is a ``Reject`` code."""

    __slots__ = ("account", "client_order_id", "command", "message", "order_id", "reason", "symbol")
    kind: ClassVar[str] = "rejected"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "command",
        "reason",
        "message",
        "account",
        "client_order_id",
        "order_id",
        "symbol",
    )

    def __init__(
        self,
        command: str,
        reason: str,
        message: str,
        account: int = 0,
        client_order_id: str = "",
        order_id: int = 0,
        symbol: str = "",
    ) -> None:
        self.command = command
        self.reason = reason
        self.message = message
        self.account = account
        self.client_order_id = client_order_id
        self.order_id = order_id
        self.symbol = symbol

    def values(self) -> list[Any]:
        return [
            self.command,
            self.reason,
            self.message,
            self.account,
            self.client_order_id,
            self.order_id,
            self.symbol,
        ]


class OrderUpdated(Event):
    """The full state of an order after it changed (accepted, filled, modified, ...)."""

    __slots__ = (
        "account",
        "client_order_id",
        "created_at",
        "expire_at",
        "fees",
        "filled",
        "filled_notional",
        "order_id",
        "order_type",
        "post_only",
        "price",
        "quantity",
        "reason",
        "remaining",
        "side",
        "status",
        "symbol",
        "tif",
        "trigger_price",
        "updated_at",
    )
    kind: ClassVar[str] = "order"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "order_id",
        "account",
        "symbol",
        "side",
        "order_type",
        "tif",
        "status",
        "quantity",
        "price",
        "trigger_price",
        "filled",
        "remaining",
        "filled_notional",
        "fees",
        "client_order_id",
        "post_only",
        "expire_at",
        "created_at",
        "updated_at",
        "reason",
    )

    def __init__(
        self,
        order_id: int,
        account: int,
        symbol: str,
        side: str,
        order_type: str,
        tif: str,
        status: str,
        quantity: int,
        price: int,
        trigger_price: int,
        filled: int,
        remaining: int,
        filled_notional: int,
        fees: int,
        client_order_id: str,
        post_only: bool,
        expire_at: int,
        created_at: int,
        updated_at: int,
        reason: str,
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.tif = tif
        self.status = status
        self.quantity = quantity
        self.price = price
        self.trigger_price = trigger_price
        self.filled = filled
        self.remaining = remaining
        self.filled_notional = filled_notional
        self.fees = fees
        self.client_order_id = client_order_id
        self.post_only = post_only
        self.expire_at = expire_at
        self.created_at = created_at
        self.updated_at = updated_at
        self.reason = reason

    def values(self) -> list[Any]:
        return [
            self.order_id,
            self.account,
            self.symbol,
            self.side,
            self.order_type,
            self.tif,
            self.status,
            self.quantity,
            self.price,
            self.trigger_price,
            self.filled,
            self.remaining,
            self.filled_notional,
            self.fees,
            self.client_order_id,
            self.post_only,
            self.expire_at,
            self.created_at,
            self.updated_at,
            self.reason,
        ]


class OrderResubmitted(Event):
    """A client order id was sent again with the same order: the original stands."""

    __slots__ = ("account", "client_order_id", "order_id")
    kind: ClassVar[str] = "resubmitted"
    FIELDS: ClassVar[tuple[str, ...]] = ("order_id", "account", "client_order_id")

    def __init__(self, order_id: int, account: int, client_order_id: str) -> None:
        self.order_id = order_id
        self.account = account
        self.client_order_id = client_order_id

    def values(self) -> list[Any]:
        return [self.order_id, self.account, self.client_order_id]


class TradeExecuted(Event):
    __slots__ = (
        "aggressor",
        "buy_order_id",
        "buyer",
        "buyer_fee",
        "notional",
        "price",
        "quantity",
        "sell_order_id",
        "seller",
        "seller_fee",
        "symbol",
        "trade_id",
        "ts",
    )
    kind: ClassVar[str] = "trade"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "trade_id",
        "symbol",
        "price",
        "quantity",
        "notional",
        "aggressor",
        "buy_order_id",
        "sell_order_id",
        "buyer",
        "seller",
        "buyer_fee",
        "seller_fee",
        "ts",
    )

    def __init__(
        self,
        trade_id: int,
        symbol: str,
        price: int,
        quantity: int,
        notional: int,
        aggressor: str,  # side of the taker
        buy_order_id: int,
        sell_order_id: int,
        buyer: int,
        seller: int,
        buyer_fee: int,
        seller_fee: int,
        ts: int,
    ) -> None:
        self.trade_id = trade_id
        self.symbol = symbol
        self.price = price
        self.quantity = quantity
        self.notional = notional
        self.aggressor = aggressor
        self.buy_order_id = buy_order_id
        self.sell_order_id = sell_order_id
        self.buyer = buyer
        self.seller = seller
        self.buyer_fee = buyer_fee
        self.seller_fee = seller_fee
        self.ts = ts

    def values(self) -> list[Any]:
        return [
            self.trade_id,
            self.symbol,
            self.price,
            self.quantity,
            self.notional,
            self.aggressor,
            self.buy_order_id,
            self.sell_order_id,
            self.buyer,
            self.seller,
            self.buyer_fee,
            self.seller_fee,
            self.ts,
        ]


class BookChanged(Event):
    """New aggregate of one price level; quantity 0 means the level is gone."""

    __slots__ = ("orders", "price", "quantity", "side", "symbol")
    kind: ClassVar[str] = "book"
    FIELDS: ClassVar[tuple[str, ...]] = ("symbol", "side", "price", "quantity", "orders")

    def __init__(self, symbol: str, side: str, price: int, quantity: int, orders: int) -> None:
        self.symbol = symbol
        self.side = side
        self.price = price
        self.quantity = quantity
        self.orders = orders

    def values(self) -> list[Any]:
        return [self.symbol, self.side, self.price, self.quantity, self.orders]


class BalanceChanged(Event):
    """New balance and reservation of one account in one asset."""

    __slots__ = ("account", "asset", "balance", "reserved")
    kind: ClassVar[str] = "balance"
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "asset", "balance", "reserved")

    def __init__(self, account: int, asset: str, balance: int, reserved: int) -> None:
        self.account = account
        self.asset = asset
        self.balance = balance
        self.reserved = reserved

    def values(self) -> list[Any]:
        return [self.account, self.asset, self.balance, self.reserved]


class InstrumentStatusChanged(Event):
    __slots__ = ("band_high", "band_low", "reason", "reference_price", "status", "symbol")
    kind: ClassVar[str] = "instrument_status"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "symbol",
        "status",
        "reason",
        "reference_price",
        "band_low",
        "band_high",
    )

    def __init__(
        self,
        symbol: str,
        status: str,
        reason: str,
        reference_price: int,
        band_low: int,
        band_high: int,
    ) -> None:
        self.symbol = symbol
        self.status = status
        self.reason = reason
        self.reference_price = reference_price
        self.band_low = band_low
        self.band_high = band_high

    def values(self) -> list[Any]:
        return [
            self.symbol,
            self.status,
            self.reason,
            self.reference_price,
            self.band_low,
            self.band_high,
        ]


class InstrumentListed(Event):
    __slots__ = (
        "asset_class",
        "band_high",
        "band_low",
        "band_ppm",
        "currency",
        "exchange",
        "isin",
        "lot_size",
        "max_order_notional",
        "max_order_quantity",
        "name",
        "price_decimals",
        "quantity_decimals",
        "reference_price",
        "sector",
        "status",
        "symbol",
        "tick_size",
    )
    kind: ClassVar[str] = "instrument_listed"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "symbol",
        "name",
        "asset_class",
        "exchange",
        "currency",
        "sector",
        "isin",
        "price_decimals",
        "quantity_decimals",
        "tick_size",
        "lot_size",
        "status",
        "reference_price",
        "band_ppm",
        "band_low",
        "band_high",
        "max_order_quantity",
        "max_order_notional",
    )

    def __init__(
        self,
        symbol: str,
        name: str,
        asset_class: str,
        exchange: str,
        currency: str,
        sector: str,
        isin: str,
        price_decimals: int,
        quantity_decimals: int,
        tick_size: int,
        lot_size: int,
        status: str,
        reference_price: int,
        band_ppm: int,
        band_low: int,
        band_high: int,
        max_order_quantity: int,
        max_order_notional: int,
    ) -> None:
        self.symbol = symbol
        self.name = name
        self.asset_class = asset_class
        self.exchange = exchange
        self.currency = currency
        self.sector = sector
        self.isin = isin
        self.price_decimals = price_decimals
        self.quantity_decimals = quantity_decimals
        self.tick_size = tick_size
        self.lot_size = lot_size
        self.status = status
        self.reference_price = reference_price
        self.band_ppm = band_ppm
        self.band_low = band_low
        self.band_high = band_high
        self.max_order_quantity = max_order_quantity
        self.max_order_notional = max_order_notional

    def values(self) -> list[Any]:
        return [
            self.symbol,
            self.name,
            self.asset_class,
            self.exchange,
            self.currency,
            self.sector,
            self.isin,
            self.price_decimals,
            self.quantity_decimals,
            self.tick_size,
            self.lot_size,
            self.status,
            self.reference_price,
            self.band_ppm,
            self.band_low,
            self.band_high,
            self.max_order_quantity,
            self.max_order_notional,
        ]

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


class AccountUpdated(Event):
    __slots__ = ("account", "self_trade_prevention")
    kind: ClassVar[str] = "account"
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "self_trade_prevention")

    def __init__(self, account: int, self_trade_prevention: str) -> None:
        self.account = account
        self.self_trade_prevention = self_trade_prevention

    def values(self) -> list[Any]:
        return [self.account, self.self_trade_prevention]


class FeesChanged(Event):
    __slots__ = ("maker_ppm", "taker_ppm")
    kind: ClassVar[str] = "fees"
    FIELDS: ClassVar[tuple[str, ...]] = ("maker_ppm", "taker_ppm")

    def __init__(self, maker_ppm: int, taker_ppm: int) -> None:
        self.maker_ppm = maker_ppm
        self.taker_ppm = taker_ppm

    def values(self) -> list[Any]:
        return [self.maker_ppm, self.taker_ppm]


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


def journal_rows(events: list[Event]) -> list[tuple[str, list[Any]]]:
    """Events as the journal stores them: ``(kind, values)`` each."""
    return [(event.kind, event.values()) for event in events]
