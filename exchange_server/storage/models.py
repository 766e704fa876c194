"""The database schema: the command journal, snapshots and the read-side projections.

The journal and snapshots are the system of record; every other table is a projection that
can be rebuilt by replaying the journal, and carries the journal sequence that last wrote it.
Every integer that holds a price, quantity, amount of money or epoch-nanosecond timestamp is a
``BigInteger``: 32 bits overflow at about 21 seconds of nanoseconds or 214,748 currency units
at four decimals. Absent values follow the domain: ``0`` for numbers and ``""`` for text, so
no column is nullable.

The Alembic migrations in ``migrations/versions`` create exactly this schema; the test suite
compares the two on SQLite and PostgreSQL, so a change here needs a migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint and index names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The empty string as a server default. A literal SQL expression rather than ``""``: Alembic
# compares a plain empty-string default on SQLite as different from what it reflects, which
# would report drift that is not there.
EMPTY_TEXT = text("''")


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database.

    SQLite has no time zone storage and hands back naive values; this type refuses naive input,
    stores UTC and always returns an aware UTC datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-assigns keys to a column declared exactly INTEGER PRIMARY KEY (a rowid
# alias); PostgreSQL gets a 64-bit sequence.
AutoIncrementBigInteger = BigInteger().with_variant(Integer, "sqlite")


class JournalEntry(Base):
    """One committed command and the events it produced, in sequence order (append-only)."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    command: Mapped[bytes] = mapped_column(LargeBinary)
    events: Mapped[bytes] = mapped_column(LargeBinary)


class Snapshot(Base):
    """The engine state after journal entry ``seq``, with its hash for replay verification."""

    __tablename__ = "snapshots"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    state_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ProjectionCheckpoint(Base):
    """The last journal sequence a named projection has applied."""

    __tablename__ = "projection_checkpoints"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class InstrumentRow(Base):
    __tablename__ = "instruments"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default=EMPTY_TEXT)
    asset_class: Mapped[str] = mapped_column(String(20), default="", server_default=EMPTY_TEXT)
    exchange: Mapped[str] = mapped_column(String(20), default="", server_default=EMPTY_TEXT)
    currency: Mapped[str] = mapped_column(String(10), default="", server_default=EMPTY_TEXT)
    sector: Mapped[str] = mapped_column(String(100), default="", server_default=EMPTY_TEXT)
    isin: Mapped[str] = mapped_column(String(20), default="", server_default=EMPTY_TEXT)
    price_decimals: Mapped[int] = mapped_column(Integer)
    quantity_decimals: Mapped[int] = mapped_column(Integer)
    tick_size: Mapped[int] = mapped_column(BigInteger)
    lot_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="", server_default=EMPTY_TEXT)
    reference_price: Mapped[int] = mapped_column(BigInteger)
    band_low: Mapped[int] = mapped_column(BigInteger)
    band_high: Mapped[int] = mapped_column(BigInteger)
    updated_seq: Mapped[int] = mapped_column(BigInteger)


class AccountRow(Base):
    __tablename__ = "accounts"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    self_trade_prevention: Mapped[str] = mapped_column(String(30))
    updated_seq: Mapped[int] = mapped_column(BigInteger)


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_account_status", "account", "status"),
        Index("ix_orders_account_client_order_id", "account", "client_order_id"),
        Index("ix_orders_symbol_status", "symbol", "status"),
    )

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(20))
    tif: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    trigger_price: Mapped[int] = mapped_column(BigInteger)
    filled: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    filled_notional: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    client_order_id: Mapped[str] = mapped_column(String(64), default="", server_default=EMPTY_TEXT)
    post_only: Mapped[bool] = mapped_column(Boolean)
    expire_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="", server_default=EMPTY_TEXT)
    updated_seq: Mapped[int] = mapped_column(BigInteger)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (
        Index("ix_fills_buyer_trade_id", "buyer", "trade_id"),
        Index("ix_fills_seller_trade_id", "seller", "trade_id"),
        Index("ix_fills_symbol_ts_ns", "symbol", "ts_ns"),
    )

    trade_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    notional: Mapped[int] = mapped_column(BigInteger)
    aggressor: Mapped[str] = mapped_column(String(4))
    buy_order_id: Mapped[int] = mapped_column(BigInteger)
    sell_order_id: Mapped[int] = mapped_column(BigInteger)
    buyer: Mapped[int] = mapped_column(BigInteger)
    seller: Mapped[int] = mapped_column(BigInteger)
    buyer_fee: Mapped[int] = mapped_column(BigInteger)
    seller_fee: Mapped[int] = mapped_column(BigInteger)
    ts_ns: Mapped[int] = mapped_column(BigInteger)


class BalanceRow(Base):
    __tablename__ = "balances"

    account: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    asset: Mapped[str] = mapped_column(String(32), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger)
    updated_seq: Mapped[int] = mapped_column(BigInteger)


class LedgerEntryRow(Base):
    """One balance change, with the balance after it (the account statement)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_account_asset_entry_id", "account", "asset", "entry_id"),
    )

    entry_id: Mapped[int] = mapped_column(
        AutoIncrementBigInteger, primary_key=True, autoincrement=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(32))
    delta: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    ts_ns: Mapped[int] = mapped_column(BigInteger)


class PositionRow(Base):
    __tablename__ = "positions"

    account: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[int] = mapped_column(BigInteger)  # cost basis of the open quantity, cash units
    realised_pnl: Mapped[int] = mapped_column(BigInteger)
    updated_seq: Mapped[int] = mapped_column(BigInteger)


# -- back office: users and their credentials, watchlists and preferences -----------------
# These tables are the system of record for who may use the exchange (not projections).
# Optional moments (locked until, used at, revoked at) are nullable datetimes: "never" has no
# natural zero.


class UserRow(Base):
    """A person or program owner; ``account_id`` is their account in the engine."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(
        AutoIncrementBigInteger, primary_key=True, autoincrement=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(100), default="", server_default=EMPTY_TEXT)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_paper: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str] = mapped_column(String(64), default="", server_default=EMPTY_TEXT)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class RefreshTokenRow(Base):
    """One refresh token (only its SHA-256 is stored). Each use replaces it with a new one
    in the same family; presenting a used token again revokes the whole family (it was
    stolen or replayed)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_user_id_family", "user_id", "family"),)

    token_id: Mapped[int] = mapped_column(
        AutoIncrementBigInteger, primary_key=True, autoincrement=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    family: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    client: Mapped[str] = mapped_column(String(200), default="", server_default=EMPTY_TEXT)


class ApiKeyRow(Base):
    """A key for programs: ``key_id`` is public, the secret is shown once (SHA-256 stored)."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100), default="", server_default=EMPTY_TEXT)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))  # comma separated: read, trade
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RecoveryCodeRow(Base):
    """A single-use two-factor recovery code (SHA-256 stored)."""

    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OneTimeTokenRow(Base):
    """E-mail verification and password reset tokens (SHA-256 stored), single use."""

    __tablename__ = "one_time_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # verify_email, reset_password
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LoginAttemptRow(Base):
    """Every login attempt, successful or not, for lockout and the audit trail."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)

    attempt_id: Mapped[int] = mapped_column(
        AutoIncrementBigInteger, primary_key=True, autoincrement=True
    )
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int] = mapped_column(BigInteger, default=0)
    ip: Mapped[str] = mapped_column(String(64), default="", server_default=EMPTY_TEXT)
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40), default="", server_default=EMPTY_TEXT)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class OutboxEmailRow(Base):
    """Mail waiting for (or already handed to) the mailer."""

    __tablename__ = "outbox_emails"

    email_id: Mapped[int] = mapped_column(
        AutoIncrementBigInteger, primary_key=True, autoincrement=True
    )
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WatchlistRow(Base):
    __tablename__ = "watchlists"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    watchlist_id: Mapped[int] = mapped_column(
        AutoIncrementBigInteger, primary_key=True, autoincrement=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Ordered, comma separated: a watchlist is read and written whole.
    symbols: Mapped[str] = mapped_column(Text, default="", server_default=EMPTY_TEXT)


class PreferenceRow(Base):
    """One named user preference (a JSON document), e.g. a workstation layout."""

    __tablename__ = "preferences"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class BarRow(Base):
    """One OHLCV candle: shipped daily history, imported bars or candles built from trades.

    Prices are in the instrument's price units and volume in its quantity units, like the
    engine. One row per (symbol, interval, start); a later write of the same candle replaces
    it, which makes re-imports idempotent. ``source`` is "history", "import" or "live".
    """

    __tablename__ = "bars"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    open: Mapped[int] = mapped_column(BigInteger)
    high: Mapped[int] = mapped_column(BigInteger)
    low: Mapped[int] = mapped_column(BigInteger)
    close: Mapped[int] = mapped_column(BigInteger)
    volume: Mapped[int] = mapped_column(BigInteger)
    trades: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
