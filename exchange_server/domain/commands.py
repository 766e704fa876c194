"""Commands: everything that can change the exchange's state, applied one at a time.

Plain (not slotted) dataclasses: orjson serialises those several times faster, and the
journal serialises every command and event.

Prices, quantities and amounts are integers in the instrument's or the cash scale (see
``instruments``). The sequencer stamps each command with a sequence number and a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from exchange_server.domain.enums import (
    AssetClass,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingStatus,
)


@dataclass
class Command:
    kind: ClassVar[str] = ""


@dataclass
class ListInstrument(Command):
    kind: ClassVar[str] = "list_instrument"
    symbol: str
    name: str
    asset_class: AssetClass
    exchange: str
    currency: str
    sector: str = ""
    isin: str = ""
    price_decimals: int = 2
    quantity_decimals: int = 0
    tick_size: int = 5
    lot_size: int = 1
    reference_price: int = 0
    band_ppm: int = 100_000
    max_order_quantity: int = 0
    max_order_notional: int = 0


@dataclass
class OpenAccount(Command):
    kind: ClassVar[str] = "open_account"
    account: int
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST


@dataclass
class SetSelfTradePrevention(Command):
    kind: ClassVar[str] = "set_self_trade_prevention"
    account: int
    mode: SelfTradePrevention


@dataclass
class PlaceOrder(Command):
    kind: ClassVar[str] = "place_order"
    account: int
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.LIMIT
    price: int = 0
    trigger_price: int = 0
    tif: TimeInForce = TimeInForce.DAY
    client_order_id: str = ""
    post_only: bool = False
    expire_at: int = 0  # epoch nanoseconds, GTD only


@dataclass
class ModifyOrder(Command):
    """New total quantity and/or price (and trigger for stops); 0 leaves a field unchanged."""

    kind: ClassVar[str] = "modify_order"
    account: int
    order_id: int
    quantity: int = 0
    price: int = 0
    trigger_price: int = 0


@dataclass
class CancelOrder(Command):
    kind: ClassVar[str] = "cancel_order"
    account: int
    order_id: int


@dataclass
class CancelAll(Command):
    kind: ClassVar[str] = "cancel_all"
    account: int
    symbol: str = ""  # empty: every instrument


@dataclass
class Deposit(Command):
    kind: ClassVar[str] = "deposit"
    account: int
    asset: str
    amount: int
    reference: str = ""


@dataclass
class Withdraw(Command):
    kind: ClassVar[str] = "withdraw"
    account: int
    asset: str
    amount: int
    reference: str = ""


@dataclass
class Adjust(Command):
    """An administrative correction, positive or negative, recorded with a reason."""

    kind: ClassVar[str] = "adjust"
    account: int
    asset: str
    amount: int
    reference: str = ""


@dataclass
class SetTradingStatus(Command):
    """Halt, resume, cancel-only or post-only for one instrument."""

    kind: ClassVar[str] = "set_trading_status"
    symbol: str
    status: TradingStatus
    reason: str = ""


@dataclass
class SetReferencePrice(Command):
    kind: ClassVar[str] = "set_reference_price"
    symbol: str
    price: int


@dataclass
class SetFees(Command):
    kind: ClassVar[str] = "set_fees"
    maker_ppm: int
    taker_ppm: int


@dataclass
class EndOfDay(Command):
    """Expire DAY orders (of one instrument, or all) and forget finished client order ids."""

    kind: ClassVar[str] = "end_of_day"
    symbol: str = ""


@dataclass
class Tick(Command):
    """Advance the engine clock so GTD orders expire even when no other command arrives."""

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
