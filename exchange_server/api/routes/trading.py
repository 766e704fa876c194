"""Trading for the signed-in user: orders, fills, positions, balances and the ledger.

Placing, modifying and cancelling need the ``trade`` scope; reading needs ``read``. Every
route acts on the caller's own account only: there is no account parameter to get wrong.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from exchange_server.api import convert, orders, queries
from exchange_server.api.deps import Context, Reader, Trader
from exchange_server.api.errors import ApiError
from exchange_server.protocol import (
    API_PREFIX,
    Balance,
    CancelAllRequest,
    CancelAllResult,
    FeeSchedule,
    Fill,
    LedgerEntry,
    ModifyOrderRequest,
    OrderOut,
    Page,
    PlaceOrderRequest,
    Position,
)

router = APIRouter(prefix=API_PREFIX, tags=["trading"])

OrderId = Annotated[int, Path(ge=1, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=20)]
SymbolFilter = Annotated[str | None, Query(max_length=32)]


@router.post("/orders", status_code=201, response_model=OrderOut)
async def place_order(context: Context, caller: Trader, request: PlaceOrderRequest) -> OrderOut:
    """Place an order. Resubmitting a ``client_order_id`` returns the original order."""
    return await orders.place_order(context, caller, request)


@router.get("/orders", response_model=Page[OrderOut])
async def list_orders(
    context: Context,
    caller: Reader,
    status: Literal["open", "all"] = "all",
    symbol: SymbolFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[OrderOut]:
    """Newest first."""
    return await queries.orders_page(
        context,
        caller.account_id,
        open_only=status == "open",
        symbol=symbol,
        cursor=cursor,
        limit=limit,
    )


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(context: Context, caller: Reader, order_id: OrderId) -> OrderOut:
    return await queries.get_order(context, caller.account_id, order_id)


@router.patch("/orders/{order_id}", response_model=OrderOut)
async def modify_order(
    context: Context, caller: Trader, order_id: OrderId, request: ModifyOrderRequest
) -> OrderOut:
    """Reducing quantity keeps queue priority; a new price or more quantity loses it."""
    return await orders.modify_order(context, caller, order_id, request)


@router.delete("/orders/{order_id}", response_model=OrderOut)
async def cancel_order(context: Context, caller: Trader, order_id: OrderId) -> OrderOut:
    return await orders.cancel_order(context, caller, order_id)


@router.post("/orders/cancel-all", response_model=CancelAllResult)
async def cancel_all(
    context: Context, caller: Trader, request: CancelAllRequest | None = None
) -> CancelAllResult:
    symbol = request.symbol if request is not None else None
    return await orders.cancel_all(context, caller, symbol)


@router.get("/fills", response_model=Page[Fill])
async def list_fills(
    context: Context,
    caller: Reader,
    symbol: SymbolFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[Fill]:
    """Newest first."""
    return await queries.fills_page(
        context, caller.account_id, symbol=symbol, cursor=cursor, limit=limit
    )


@router.get("/positions", response_model=list[Position])
async def list_positions(context: Context, caller: Reader) -> list[Position]:
    return await queries.positions(context, caller.account_id)


@router.get("/balances", response_model=list[Balance])
async def list_balances(context: Context, caller: Reader) -> list[Balance]:
    """Cash per currency and holdings per instrument, with what open orders reserve."""
    return await queries.balances(context, caller.account_id)


@router.get("/ledger", response_model=Page[LedgerEntry])
async def ledger(
    context: Context,
    caller: Reader,
    asset: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[LedgerEntry]:
    """Every change to the account's balances, newest first (the account statement)."""
    return await queries.ledger_page(
        context, caller.account_id, asset=asset, cursor=cursor, limit=limit
    )


@router.get("/account/fees", response_model=FeeSchedule)
async def account_fees(context: Context, caller: Reader) -> FeeSchedule:
    """The maker and taker fees the caller's fills pay, and what a buy order holds for them,
    so a ticket can show an order's fee and check its funds as the exchange will."""
    try:
        exchange = context.service.sequencer.exchange
    except RuntimeError:  # not started yet, or stopped
        raise ApiError(503, "starting", "the exchange is starting") from None
    # The engine's own schedule (it may run a few commands ahead of the journal): it is the
    # one the next order is reserved and charged with. Read on the event loop, which is the
    # only place the engine changes, so the pair is consistent.
    return convert.fee_schedule(exchange.maker_fee_ppm, exchange.taker_fee_ppm)
