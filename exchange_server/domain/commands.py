"""Commands: everything that can change the exchange's state, applied one at a time.

Prices, quantities and amounts are integers in the instrument's or the cash scale (see
``instruments``). The sequencer stamps each command with a sequence number and a time.

A command carries whatever it was given: commands arrive from outside (the API, the journal,
scripts) and a field may hold anything, so fields are typed ``Any`` (a compiled native class
would refuse a wrongly typed value at construction, before the exchange could refuse the
command properly). ``TYPES`` gives each field's declared type, in ``FIELDS`` order;
``validation.check_command`` holds every field to it before any rule reads the command.
Native classes when compiled (see ``records``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from exchange_server.domain.enums import (
    AssetClass,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingStatus,
)
from exchange_server.domain.mypyc_compat import mypyc_attr
from exchange_server.domain.records import Record


@mypyc_attr(allow_interpreted_subclasses=True)
class Command(Record):
    __slots__ = ()
    TYPES: ClassVar[tuple[type, ...]] = ()


class ListInstrument(Command):
    __slots__ = (
        "asset_class",
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
        "symbol",
        "tick_size",
    )
    kind: ClassVar[str] = "list_instrument"
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
        "reference_price",
        "band_ppm",
        "max_order_quantity",
        "max_order_notional",
    )
    TYPES: ClassVar[tuple[type, ...]] = (
        str,
        str,
        AssetClass,
        str,
        str,
        str,
        str,
        int,
        int,
        int,
        int,
        int,
        int,
        int,
        int,
    )

    def __init__(
        self,
        symbol: Any,
        name: Any,
        asset_class: Any,
        exchange: Any,
        currency: Any,
        sector: Any = "",
        isin: Any = "",
        price_decimals: Any = 2,
        quantity_decimals: Any = 0,
        tick_size: Any = 5,
        lot_size: Any = 1,
        reference_price: Any = 0,
        band_ppm: Any = 100_000,
        max_order_quantity: Any = 0,
        max_order_notional: Any = 0,
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
        self.reference_price = reference_price
        self.band_ppm = band_ppm
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
            self.reference_price,
            self.band_ppm,
            self.max_order_quantity,
            self.max_order_notional,
        ]


class OpenAccount(Command):
    __slots__ = ("account", "self_trade_prevention")
    kind: ClassVar[str] = "open_account"
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "self_trade_prevention")
    TYPES: ClassVar[tuple[type, ...]] = (int, SelfTradePrevention)

    def __init__(
        self, account: Any, self_trade_prevention: Any = SelfTradePrevention.CANCEL_NEWEST
    ) -> None:
        self.account = account
        self.self_trade_prevention = self_trade_prevention

    def values(self) -> list[Any]:
        return [self.account, self.self_trade_prevention]


class SetSelfTradePrevention(Command):
    __slots__ = ("account", "mode")
    kind: ClassVar[str] = "set_self_trade_prevention"
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "mode")
    TYPES: ClassVar[tuple[type, ...]] = (int, SelfTradePrevention)

    def __init__(self, account: Any, mode: Any) -> None:
        self.account = account
        self.mode = mode

    def values(self) -> list[Any]:
        return [self.account, self.mode]


class PlaceOrder(Command):
    __slots__ = (
        "account",
        "client_order_id",
        "expire_at",
        "order_type",
        "post_only",
        "price",
        "quantity",
        "side",
        "symbol",
        "tif",
        "trigger_price",
    )
    kind: ClassVar[str] = "place_order"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "account",
        "symbol",
        "side",
        "quantity",
        "order_type",
        "price",
        "trigger_price",
        "tif",
        "client_order_id",
        "post_only",
        "expire_at",  # epoch nanoseconds, GTD only
    )
    TYPES: ClassVar[tuple[type, ...]] = (
        int,
        str,
        Side,
        int,
        OrderType,
        int,
        int,
        TimeInForce,
        str,
        bool,
        int,
    )

    def __init__(
        self,
        account: Any,
        symbol: Any,
        side: Any,
        quantity: Any,
        order_type: Any = OrderType.LIMIT,
        price: Any = 0,
        trigger_price: Any = 0,
        tif: Any = TimeInForce.DAY,
        client_order_id: Any = "",
        post_only: Any = False,
        expire_at: Any = 0,
    ) -> None:
        self.account = account
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.order_type = order_type
        self.price = price
        self.trigger_price = trigger_price
        self.tif = tif
        self.client_order_id = client_order_id
        self.post_only = post_only
        self.expire_at = expire_at

    def values(self) -> list[Any]:
        return [
            self.account,
            self.symbol,
            self.side,
            self.quantity,
            self.order_type,
            self.price,
            self.trigger_price,
            self.tif,
            self.client_order_id,
            self.post_only,
            self.expire_at,
        ]


class ModifyOrder(Command):
    """New total quantity and/or price (and trigger for stops); 0 leaves a field unchanged."""

    __slots__ = ("account", "order_id", "price", "quantity", "trigger_price")
    kind: ClassVar[str] = "modify_order"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "account",
        "order_id",
        "quantity",
        "price",
        "trigger_price",
    )
    TYPES: ClassVar[tuple[type, ...]] = (int, int, int, int, int)

    def __init__(
        self,
        account: Any,
        order_id: Any,
        quantity: Any = 0,
        price: Any = 0,
        trigger_price: Any = 0,
    ) -> None:
        self.account = account
        self.order_id = order_id
        self.quantity = quantity
        self.price = price
        self.trigger_price = trigger_price

    def values(self) -> list[Any]:
        return [self.account, self.order_id, self.quantity, self.price, self.trigger_price]


class CancelOrder(Command):
    __slots__ = ("account", "order_id")
    kind: ClassVar[str] = "cancel_order"
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "order_id")
    TYPES: ClassVar[tuple[type, ...]] = (int, int)

    def __init__(self, account: Any, order_id: Any) -> None:
        self.account = account
        self.order_id = order_id

    def values(self) -> list[Any]:
        return [self.account, self.order_id]


class CancelAll(Command):
    __slots__ = ("account", "symbol")
    kind: ClassVar[str] = "cancel_all"
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "symbol")  # symbol "": every instrument
    TYPES: ClassVar[tuple[type, ...]] = (int, str)

    def __init__(self, account: Any, symbol: Any = "") -> None:
        self.account = account
        self.symbol = symbol

    def values(self) -> list[Any]:
        return [self.account, self.symbol]


class _Movement(Command):
    """Cash or holdings moving in or out of an account."""

    __slots__ = ("account", "amount", "asset", "reference")
    FIELDS: ClassVar[tuple[str, ...]] = ("account", "asset", "amount", "reference")
    TYPES: ClassVar[tuple[type, ...]] = (int, str, int, str)

    def __init__(self, account: Any, asset: Any, amount: Any, reference: Any = "") -> None:
        self.account = account
        self.asset = asset
        self.amount = amount
        self.reference = reference

    def values(self) -> list[Any]:
        return [self.account, self.asset, self.amount, self.reference]


class Deposit(_Movement):
    __slots__ = ()
    kind: ClassVar[str] = "deposit"


class Withdraw(_Movement):
    __slots__ = ()
    kind: ClassVar[str] = "withdraw"


class Adjust(_Movement):
    """An administrative correction, positive or negative, recorded with a reason."""

    __slots__ = ()
    kind: ClassVar[str] = "adjust"


class SetTradingStatus(Command):
    """Halt, resume, cancel-only or post-only for one instrument."""

    __slots__ = ("reason", "status", "symbol")
    kind: ClassVar[str] = "set_trading_status"
    FIELDS: ClassVar[tuple[str, ...]] = ("symbol", "status", "reason")
    TYPES: ClassVar[tuple[type, ...]] = (str, TradingStatus, str)

    def __init__(self, symbol: Any, status: Any, reason: Any = "") -> None:
        self.symbol = symbol
        self.status = status
        self.reason = reason

    def values(self) -> list[Any]:
        return [self.symbol, self.status, self.reason]


class SetReferencePrice(Command):
    __slots__ = ("price", "symbol")
    kind: ClassVar[str] = "set_reference_price"
    FIELDS: ClassVar[tuple[str, ...]] = ("symbol", "price")
    TYPES: ClassVar[tuple[type, ...]] = (str, int)

    def __init__(self, symbol: Any, price: Any) -> None:
        self.symbol = symbol
        self.price = price

    def values(self) -> list[Any]:
        return [self.symbol, self.price]


class SetFees(Command):
    __slots__ = ("maker_ppm", "taker_ppm")
    kind: ClassVar[str] = "set_fees"
    FIELDS: ClassVar[tuple[str, ...]] = ("maker_ppm", "taker_ppm")
    TYPES: ClassVar[tuple[type, ...]] = (int, int)

    def __init__(self, maker_ppm: Any, taker_ppm: Any) -> None:
        self.maker_ppm = maker_ppm
        self.taker_ppm = taker_ppm

    def values(self) -> list[Any]:
        return [self.maker_ppm, self.taker_ppm]


class EndOfDay(Command):
    """Expire DAY orders (of one instrument, or all) and forget finished client order ids."""

    __slots__ = ("symbol",)
    kind: ClassVar[str] = "end_of_day"
    FIELDS: ClassVar[tuple[str, ...]] = ("symbol",)  # "": every instrument
    TYPES: ClassVar[tuple[type, ...]] = (str,)

    def __init__(self, symbol: Any = "") -> None:
        self.symbol = symbol

    def values(self) -> list[Any]:
        return [self.symbol]


class Tick(Command):
    """Advance the engine clock so GTD orders expire even when no other command arrives."""

    __slots__ = ()
    kind: ClassVar[str] = "tick"


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (
        ListInstrument,
        OpenAccount,
        SetSelfTradePrevention,
        PlaceOrder,
        ModifyOrder,
        CancelOrder,
        CancelAll,
        Deposit,
        Withdraw,
        Adjust,
        SetTradingStatus,
        SetReferencePrice,
        SetFees,
        EndOfDay,
        Tick,
    )
}
