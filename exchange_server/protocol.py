"""The wire protocol: request and response bodies of the REST API and the WebSocket stream,
shared by the server (``exchange_server.api``) and the client (``workstation.client``).

Conventions:
- Prices, quantities and money are decimal **strings** on the wire (``"2450.05"``), parsed
  exactly; JSON numbers are accepted on input but NaN and infinities never are.
- Market and trading times (``ts``, ``created_at`` of orders, candle starts) are integers in
  epoch **nanoseconds**, UTC, as the engine stamps them; account records (users, keys) carry
  ISO 8601 datetimes.
- Errors are ``{"error": {"code", "message", "field"}}``; ``code`` is machine readable and
  stable, ``message`` is for people, ``field`` names the offending input when there is one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

API_PREFIX = "/api/v1"

# Inputs are closed: an unknown field is a mistake worth reporting, not ignoring.
STRICT = ConfigDict(extra="forbid")

# A decimal that cannot be NaN or infinite, bounded so no input can make arithmetic blow up.
WireDecimal = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=30, decimal_places=12)]
Symbol = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9&._-]+$")
]
ClientOrderId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=254,
        # No whitespace or control characters anywhere: mail headers treat some of them
        # (\x1c-\x1e) as line breaks.
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
OtpCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop_market", "stop_limit"]
TimeInForce = Literal["day", "gtc", "ioc", "fok", "gtd"]
Role = Literal["trader", "broker", "admin"]
Scope = Literal["read", "trade"]

T = TypeVar("T")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next (null: end)."""

    items: list[T]
    next_cursor: str | None = None


# -- authentication --------------------------------------------------------------------
class RegisterRequest(BaseModel):
    model_config = STRICT
    email: Email
    password: Password
    display_name: Annotated[str, StringConstraints(max_length=100)] = ""


class UserOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: Role
    account_id: int
    email_verified: bool
    totp_enabled: bool
    is_paper: bool
    is_active: bool
    locked_until: datetime | None = None
    created_at: datetime


class LoginRequest(BaseModel):
    model_config = STRICT
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    otp: OtpCode | None = None
    recovery_code: Annotated[str, StringConstraints(max_length=64)] | None = None


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds
    refresh_token: str
    refresh_expires_in: int  # seconds
    user: UserOut


class RefreshRequest(BaseModel):
    model_config = STRICT
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class VerifyEmailRequest(BaseModel):
    model_config = STRICT
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PasswordChangeRequest(BaseModel):
    model_config = STRICT
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class PasswordResetRequest(BaseModel):
    model_config = STRICT
    email: Email


class PasswordResetConfirm(BaseModel):
    model_config = STRICT
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Password


class TotpEnrolment(BaseModel):
    secret: str
    provisioning_uri: str


class TotpConfirmRequest(BaseModel):
    model_config = STRICT
    code: OtpCode


class TotpDisableRequest(BaseModel):
    model_config = STRICT
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    code: OtpCode


class RecoveryCodes(BaseModel):
    codes: list[str]


class ApiKeyCreate(BaseModel):
    model_config = STRICT
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=2)]


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    api_key: str  # "<key_id>.<secret>": shown once, send as the X-API-Key header


# -- market data -----------------------------------------------------------------------
class InstrumentOut(BaseModel):
    symbol: str
    name: str
    asset_class: str
    exchange: str
    currency: str
    sector: str
    isin: str
    tick_size: Decimal
    lot_size: Decimal
    price_decimals: int
    quantity_decimals: int
    status: str
    reference_price: Decimal
    band_low: Decimal
    band_high: Decimal


class Quote(BaseModel):
    symbol: str
    status: str
    bid: Decimal | None = None
    bid_size: Decimal = Decimal(0)
    ask: Decimal | None = None
    ask_size: Decimal = Decimal(0)
    last: Decimal | None = None
    last_size: Decimal = Decimal(0)
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    previous_close: Decimal | None = None
    change: Decimal | None = None
    change_percent: Decimal | None = None
    volume: Decimal = Decimal(0)
    turnover: Decimal = Decimal(0)
    trades: int = 0
    ts: int = 0


class DepthLevel(BaseModel):
    price: Decimal
    quantity: Decimal
    orders: int


class Depth(BaseModel):
    symbol: str
    bids: list[DepthLevel]
    asks: list[DepthLevel]
    ts: int


class PublicTrade(BaseModel):
    trade_id: int
    symbol: str
    price: Decimal
    quantity: Decimal
    aggressor: Side
    ts: int


class Candle(BaseModel):
    ts: int  # start of the interval
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0


class CandleSeries(BaseModel):
    symbol: str
    interval: str
    candles: list[Candle]


class SessionTimes(BaseModel):
    date: str  # ISO date in the exchange's time zone
    open: datetime | None
    close: datetime | None
    holiday: str = ""


class MarketStatus(BaseModel):
    exchange: str
    timezone: str
    is_open: bool
    session: Literal["pre_open", "open", "closed"]
    next_open: datetime | None
    next_close: datetime | None
    halted_symbols: list[str]


class MarketCalendar(BaseModel):
    exchange: str
    timezone: str
    days: list[SessionTimes]


# -- trading ---------------------------------------------------------------------------
class PlaceOrderRequest(BaseModel):
    model_config = STRICT
    symbol: Symbol
    side: Side
    quantity: WireDecimal
    order_type: OrderType = "limit"
    price: WireDecimal | None = None
    trigger_price: WireDecimal | None = None
    tif: TimeInForce = "day"
    client_order_id: ClientOrderId | None = None
    post_only: bool = False
    expire_at: int | None = Field(default=None, ge=0, le=2**62)  # epoch ns, GTD only


class ModifyOrderRequest(BaseModel):
    """New total quantity and/or price (trigger for stops); omitted fields stay."""

    model_config = STRICT
    quantity: WireDecimal | None = None
    price: WireDecimal | None = None
    trigger_price: WireDecimal | None = None


class CancelAllRequest(BaseModel):
    model_config = STRICT
    symbol: Symbol | None = None


class OrderOut(BaseModel):
    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    status: str
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    filled: Decimal
    remaining: Decimal
    average_price: Decimal | None
    fees: Decimal
    post_only: bool
    expire_at: int
    created_at: int
    updated_at: int
    reason: str


class CancelAllResult(BaseModel):
    cancelled: list[OrderOut]


class Fill(BaseModel):
    trade_id: int
    order_id: int
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    notional: Decimal
    fee: Decimal
    liquidity: Literal["maker", "taker"]
    ts: int


class Position(BaseModel):
    symbol: str
    quantity: Decimal
    average_price: Decimal | None
    cost: Decimal
    last_price: Decimal | None
    market_value: Decimal | None
    unrealised_pnl: Decimal | None
    realised_pnl: Decimal


class Balance(BaseModel):
    asset: str
    balance: Decimal
    reserved: Decimal
    available: Decimal


class FeeSchedule(BaseModel):
    """The fees the caller pays, in parts per million (ppm) of a fill's notional: 500 ppm is
    0.05%. A fill that adds liquidity (the resting order) pays ``maker_fee_ppm``, one that
    takes it pays ``taker_fee_ppm``; each fee is rounded down to ``cash_decimals`` places of
    the currency. A buy order holds, on top of its worst-case cost (its limit, or the price
    band edge for market orders), that cost times ``reserve_fee_ppm`` rounded down likewise
    (the higher of the two rates, since either may apply): a buy is refused for funds when
    the caller's available cash is less than that total."""

    maker_fee_ppm: int
    taker_fee_ppm: int
    reserve_fee_ppm: int
    cash_decimals: int


class LedgerEntry(BaseModel):
    entry_id: int
    asset: str
    delta: Decimal
    balance: Decimal
    seq: int
    ts: int


# -- watchlists and preferences --------------------------------------------------------
class WatchlistIn(BaseModel):
    model_config = STRICT
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    symbols: Annotated[list[Symbol], Field(max_length=500)] = []


class WatchlistOut(BaseModel):
    watchlist_id: int
    name: str
    position: int
    symbols: list[str]


class Preference(BaseModel):
    key: str
    value: Any


# -- administration --------------------------------------------------------------------
class FundsRequest(BaseModel):
    """Deposit, withdraw or adjust (signed) an account's cash, with a reference for audit."""

    model_config = STRICT
    amount: WireDecimal
    asset: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "INR"
    reference: Annotated[str, StringConstraints(max_length=200)] = ""


class PaperResetRequest(BaseModel):
    """Starting cash for the reset paper account; omitted: the server's configured amount."""

    model_config = STRICT
    cash: WireDecimal | None = None


class UserUpdate(BaseModel):
    model_config = STRICT
    role: Role | None = None
    is_active: bool | None = None
    unlock: bool = False


class TradingStatusRequest(BaseModel):
    model_config = STRICT
    status: Literal["open", "halted", "cancel_only", "post_only"]
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


MAX_FEE_PPM = 100_000  # 10%: anything above is a typo, not a tariff


class FeesRequest(BaseModel):
    """The exchange's fee schedule, in parts per million of a fill's notional (500 = 0.05%).
    Resting buy orders are re-sized to the new schedule; one whose owner cannot cover a
    higher fee is cancelled."""

    model_config = STRICT
    maker_fee_ppm: StrictInt = Field(ge=0, le=MAX_FEE_PPM)
    taker_fee_ppm: StrictInt = Field(ge=0, le=MAX_FEE_PPM)


# -- health ----------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok", "failing"]
    seq: int = 0
    detail: str = ""


# -- WebSocket stream (/ws) ------------------------------------------------------------
# Client -> server, one JSON object per message (at most ``max_body_bytes``; more closes
# the connection with 1009), ``op`` first:
#   {"op": "auth", "token": "<access token>"} or {"op": "auth", "api_key": "<id.secret>"}
#     (or connect as /ws?token=<access token>, or with Authorization / X-API-Key headers)
#   {"op": "subscribe", "channel": "depth", "symbol": "RELIANCE", "levels": 5, "id": 1}
#     (or the full name: {"op": "subscribe", "channel": "depth:RELIANCE:5", "id": 1})
#   {"op": "unsubscribe", "channel": "depth", "symbol": "RELIANCE", "levels": 5, "id": 2}
#   {"op": "ping", "id": 3}
#   {"op": "place", "id": 4, "order": {PlaceOrderRequest}}
#   {"op": "modify", "id": 5, "order_id": 12, "changes": {ModifyOrderRequest}}
#   {"op": "cancel", "id": 6, "order_id": 12}   {"op": "cancel_all", "id": 7, "symbol": null}
# Server -> client. A frame holds one message object or a JSON ARRAY of them, in order
# (everything pending for a connection goes out together):
#   {"type": "welcome", "heartbeat_seconds": 10, "idle_timeout_seconds": 35}
#   {"type": "authenticated", "id": 1, "user_id", "account_id", "role", "scopes": [...]}
#   {"type": "subscribed" | "unsubscribed", "id": 1, "channel": "depth:RELIANCE:5"}
#   {"type": "snapshot" | "update", "channel": "depth:RELIANCE:5", "seq": 17, "data": ...}
#   {"type": "result", "id": 4, "data": {OrderOut} | {CancelAllResult}}
#   {"type": "pong", "id": 3, "ts": ...}   {"type": "heartbeat", "ts": ...}
#   {"type": "error", "id": 4, "error": {ErrorDetail}}  (the connection stays open)
# Channel names and their data (snapshot / update):
#   ticker:<symbol>        {symbol, status, last, last_size, change, change_percent, volume,
#                          trades, ts} / the same
#   quote:<symbol>         Quote / Quote
#   depth:<symbol>:<5|20>  Depth / Depth
#   trades:<symbol>        [PublicTrade] (recent) / PublicTrade
#   candles.<interval>:<symbol>  [Candle] (recent) / Candle (the forming or a new candle)
#   orders                 [OrderOut] (open) / OrderOut (full state of one order)
#   fills                  [Fill] (recent) / Fill
#   positions              [Position] / Position (full state of one symbol's position)
#   balances               [Balance] / Balance (full state of one asset)
# Private channels (orders fills positions balances) need authentication with "read".
# ``seq`` counts the messages of one channel on one connection from 1 (the snapshot), with
# no gaps: a gap means messages were lost, and the client resubscribes for a fresh snapshot
# (subscribing again to a subscribed channel restarts it from a snapshot with seq 1).
# Market data (ticker, quote, depth, candles), balances and positions are states: a slow
# reader gets the latest state, not every intermediate one (about 20 flushes a second at
# most). Trades, orders and fills are events, never dropped; a reader that falls more than
# ``ws_queue_messages`` behind, or holds up a send for two heartbeats, is closed with 1008
# "slow consumer". Clients send something (a ping will do) at least every idle timeout, or
# are closed with 1008 "idle timeout"; 1001 means the server is shutting down.
PUBLIC_CHANNELS = ("ticker", "quote", "depth", "trades", "candles")
PRIVATE_CHANNELS = ("orders", "fills", "positions", "balances")
DEPTH_LEVELS = (5, 20)
CANDLE_INTERVALS = ("1s", "1m", "5m", "15m", "1h", "1d")


class WsSubscribe(BaseModel):
    model_config = STRICT
    op: Literal["subscribe", "unsubscribe"]
    channel: str
    symbol: Symbol | None = None
    levels: int | None = None
    id: int | str | None = None


# -- added for auth --------------------------------------------------------------------
class ResendVerificationRequest(BaseModel):
    model_config = STRICT
    email: Email


class EmbeddedLoginRequest(BaseModel):
    model_config = STRICT
    secret: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LoginAttemptOut(BaseModel):
    attempt_id: int
    email: str
    user_id: int  # 0: no account has this e-mail
    ip: str
    success: bool
    reason: str  # why it failed (bad_password, locked, ...), "" when it succeeded
    at: datetime
