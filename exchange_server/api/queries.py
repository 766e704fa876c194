"""A user's orders, fills, positions, balances and ledger, read from the projections.

Every read first waits until the read models include everything committed so far, so a
client that placed an order and then lists its orders always sees it (read your writes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, and_, or_, select

from exchange_server.api.convert import asset_balance, fill_out, order_out, position_out
from exchange_server.api.errors import ApiError
from exchange_server.domain.enums import TERMINAL_STATUSES
from exchange_server.domain.instruments import cash_to_decimal
from exchange_server.protocol import Balance, Fill, LedgerEntry, OrderOut, Page, Position
from exchange_server.storage.models import (
    BalanceRow,
    FillRow,
    LedgerEntryRow,
    OrderRow,
    PositionRow,
)

if TYPE_CHECKING:
    from exchange_server.api.context import ServerContext

T = TypeVar("T")
PROJECTION_WAIT_SECONDS = 15.0  # generous: just after start the projector may be loading
OPEN_STATUSES = ("new", "partially_filled", "triggered")
assert not set(OPEN_STATUSES) & {str(s) for s in TERMINAL_STATUSES}


async def caught_up(context: ServerContext) -> None:
    """Wait until the read models include the last committed command."""
    projections = context.service.projections
    if projections is None:
        return
    target = context.committed_seq
    deadline = time.monotonic() + PROJECTION_WAIT_SECONDS
    delay = 0.001
    while projections.checkpoint < target:
        if time.monotonic() > deadline:
            raise ApiError(503, "read_models_behind", "account data is catching up; retry")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)


async def _read(context: ServerContext, statement: Select[Any]) -> Sequence[Any]:
    await caught_up(context)
    engine = context.service.read_engine
    if engine is None:
        raise ApiError(503, "unavailable", "account data is not available")

    def run() -> Sequence[Any]:
        with engine.connect() as connection:
            return connection.execute(statement).all()

    return await asyncio.to_thread(run)


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit() or len(cursor) > 19:
        raise ApiError(422, "invalid_cursor", "cursor must be one returned by this list", "cursor")
    return int(cursor)


def _page(
    rows: Sequence[Any], limit: int, key: Callable[[Any], int], convert: Callable[[Any], T]
) -> Page[T]:
    items = [convert(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page[T](items=items, next_cursor=str(key(rows[limit - 1])) if more else None)


def _instrument(context: ServerContext, symbol: str) -> Any:
    return context.market.instruments[symbol]


async def orders_page(
    context: ServerContext,
    account_id: int,
    *,
    open_only: bool,
    symbol: str | None,
    cursor: str | None,
    limit: int,
) -> Page[OrderOut]:
    """Newest first."""
    statement = select(OrderRow).where(OrderRow.account == account_id)
    if open_only:
        statement = statement.where(OrderRow.status.in_(OPEN_STATUSES))
    if symbol:
        statement = statement.where(OrderRow.symbol == symbol)
    after = parse_cursor(cursor)
    if after is not None:
        statement = statement.where(OrderRow.order_id < after)
    statement = statement.order_by(OrderRow.order_id.desc()).limit(limit + 1)
    rows = await _read(context, statement)
    return _page(
        rows,
        limit,
        lambda row: row.order_id,
        lambda row: order_out(_instrument(context, row.symbol), row),
    )


async def open_orders(context: ServerContext, account_id: int) -> list[OrderOut]:
    statement = (
        select(OrderRow)
        .where(OrderRow.account == account_id, OrderRow.status.in_(OPEN_STATUSES))
        .order_by(OrderRow.order_id)
    )
    rows = await _read(context, statement)
    return [order_out(_instrument(context, row.symbol), row) for row in rows]


async def get_order(context: ServerContext, account_id: int, order_id: int) -> OrderOut:
    statement = select(OrderRow).where(
        OrderRow.order_id == order_id, OrderRow.account == account_id
    )
    rows = await _read(context, statement)
    if not rows:
        # The same answer whether the order is someone else's or does not exist.
        raise ApiError(404, "unknown_order", f"no order {order_id} in this account", "order_id")
    row = rows[0]
    return order_out(_instrument(context, row.symbol), row)


def _fills_statement(account_id: int, symbol: str | None, before: int | None) -> Select[Any]:
    statement = select(FillRow).where(
        or_(FillRow.buyer == account_id, FillRow.seller == account_id)
    )
    if symbol:
        statement = statement.where(FillRow.symbol == symbol)
    if before is not None:
        statement = statement.where(FillRow.trade_id < before)
    return statement.order_by(FillRow.trade_id.desc())


async def fills_page(
    context: ServerContext, account_id: int, *, symbol: str | None, cursor: str | None, limit: int
) -> Page[Fill]:
    statement = _fills_statement(account_id, symbol, parse_cursor(cursor)).limit(limit + 1)
    rows = await _read(context, statement)
    return _page(
        rows,
        limit,
        lambda row: row.trade_id,
        lambda row: fill_out(_instrument(context, row.symbol), row, account_id),
    )


async def recent_fills(context: ServerContext, account_id: int, limit: int = 100) -> list[Fill]:
    return (await fills_page(context, account_id, symbol=None, cursor=None, limit=limit)).items


async def balances(context: ServerContext, account_id: int) -> list[Balance]:
    statement = (
        select(BalanceRow).where(BalanceRow.account == account_id).order_by(BalanceRow.asset)
    )
    rows = await _read(context, statement)
    market = context.market
    return [asset_balance(market, row.asset, row.balance, row.reserved) for row in rows]


async def positions(context: ServerContext, account_id: int) -> list[Position]:
    statement = (
        select(PositionRow)
        .where(
            PositionRow.account == account_id,
            or_(PositionRow.quantity != 0, PositionRow.realised_pnl != 0),
        )
        .order_by(PositionRow.symbol)
    )
    rows = await _read(context, statement)
    market = context.market
    return [
        position_out(
            market.instruments[row.symbol],
            row.quantity,
            row.cost,
            row.realised_pnl,
            market.tickers[row.symbol].last,
        )
        for row in rows
    ]


async def ledger_page(
    context: ServerContext, account_id: int, *, asset: str | None, cursor: str | None, limit: int
) -> Page[LedgerEntry]:
    conditions = [LedgerEntryRow.account == account_id]
    if asset:
        conditions.append(LedgerEntryRow.asset == asset)
    before = parse_cursor(cursor)
    if before is not None:
        conditions.append(LedgerEntryRow.entry_id < before)
    statement = (
        select(LedgerEntryRow)
        .where(and_(*conditions))
        .order_by(LedgerEntryRow.entry_id.desc())
        .limit(limit + 1)
    )
    rows = await _read(context, statement)
    market = context.market

    def entry(row: Any) -> LedgerEntry:
        instrument = market.instruments.get(row.asset)
        scale = instrument.quantity_to_decimal if instrument is not None else cash_to_decimal
        return LedgerEntry(
            entry_id=row.entry_id,
            asset=row.asset,
            delta=scale(row.delta),
            balance=scale(row.balance),
            seq=row.seq,
            ts=row.ts_ns,
        )

    return _page(rows, limit, lambda row: row.entry_id, entry)
