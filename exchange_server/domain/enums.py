"""Enumerations shared by commands, events and state.

They are ``StrEnum`` so that a value decoded from the journal as a plain string compares
equal to the member, and so that they serialise as their value on the wire.
"""

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"  # SL-M
    STOP_LIMIT = "stop_limit"  # SL


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    TRIGGERED = "triggered"


TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class SelfTradePrevention(StrEnum):
    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"
    DECREMENT_AND_CANCEL = "decrement_and_cancel"


class AssetClass(StrEnum):
    EQUITY = "equity"
    INDEX = "index"
    CRYPTO = "crypto"
    COMMODITY = "commodity"


class TradingStatus(StrEnum):
    OPEN = "open"
    HALTED = "halted"  # nothing trades; cancels still accepted so traders can pull risk
    CANCEL_ONLY = "cancel_only"  # only cancels; no new orders or modifications
    POST_ONLY = "post_only"  # only orders that rest without matching (pre-open)


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"
