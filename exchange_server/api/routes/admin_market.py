"""Administration through the engine: fund accounts, control instruments' trading and set
the fee schedule.

Each is a journaled command like any other, so it is audited, replayed and published.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path

from exchange_server.api.convert import asset_balance, fee_schedule, instrument_out
from exchange_server.api.deps import Admin, Context
from exchange_server.api.errors import ApiError
from exchange_server.api.orders import instrument_for, refusal, units
from exchange_server.domain.commands import Adjust, Deposit, SetFees, SetTradingStatus, Withdraw
from exchange_server.domain.enums import TradingStatus
from exchange_server.domain.events import BalanceChanged, CommandRejected, Event
from exchange_server.domain.instruments import CASH_DECIMALS
from exchange_server.protocol import (
    API_PREFIX,
    Balance,
    FeeSchedule,
    FeesRequest,
    FundsRequest,
    InstrumentOut,
    TradingStatusRequest,
)

router = APIRouter(prefix=f"{API_PREFIX}/admin", tags=["admin"])


def first_refusal(events: list[Event], account_id: int = 0) -> None:
    """Raise the command's refusal, if the engine refused it."""
    for event in events:
        if type(event) is CommandRejected:
            if event.reason == "unknown_account":
                raise ApiError(404, "unknown_account", f"no account {account_id}", "account_id")
            raise refusal(event)


AccountId = Annotated[int, Path(ge=1, le=2**62)]
FundsAction = Literal["deposit", "withdraw", "adjust"]


@router.post("/accounts/{account_id}/{action}", response_model=Balance)
async def move_funds(
    context: Context, caller: Admin, account_id: AccountId, action: FundsAction, body: FundsRequest
) -> Balance:
    """Deposit or withdraw (positive amounts) or adjust (signed) cash or holdings."""
    asset = body.asset.upper()
    instrument = context.market.instruments.get(asset)
    decimals = instrument.quantity_decimals if instrument is not None else CASH_DECIMALS
    if instrument is None and asset not in context.service.sequencer.exchange.ledger_currencies():
        raise ApiError(422, "unknown_asset", f"no asset {asset!r}", "asset")
    negative = action == "adjust" and body.amount < 0  # only adjustments may take away
    amount = units(-body.amount if negative else body.amount, decimals, "amount", "amount")
    reference = body.reference or f"{action} by admin user {caller.user_id}"
    if action == "deposit":
        command: Deposit | Withdraw | Adjust = Deposit(account_id, asset, amount, reference)
    elif action == "withdraw":
        command = Withdraw(account_id, asset, amount, reference)
    else:
        command = Adjust(account_id, asset, -amount if negative else amount, reference)
    ack = await context.submit(command)
    first_refusal(ack.events, account_id)
    for event in ack.events:
        if type(event) is BalanceChanged and event.account == account_id:
            return asset_balance(context.market, event.asset, event.balance, event.reserved)
    raise ApiError(503, "unavailable", "the balance change was not reported")


@router.post("/instruments/{symbol}/status", response_model=InstrumentOut)
async def set_trading_status(
    context: Context,
    caller: Admin,
    symbol: Annotated[str, Path(min_length=1, max_length=32)],
    body: TradingStatusRequest,
) -> InstrumentOut:
    """Halt, resume, cancel-only or post-only, with a reason shown to traders."""
    instrument = instrument_for(context, symbol.upper())
    reason = body.reason or f"set by admin user {caller.user_id}"
    ack = await context.submit(
        SetTradingStatus(instrument.symbol, TradingStatus(body.status), reason)
    )
    first_refusal(ack.events)
    return instrument_out(context.market.instruments[instrument.symbol])


@router.put("/fees", response_model=FeeSchedule)
async def set_fees(context: Context, caller: Admin, body: FeesRequest) -> FeeSchedule:
    """Set the maker and taker fees every account pays from the next fill on (journaled,
    so it holds after a restart)."""
    ack = await context.submit(SetFees(body.maker_fee_ppm, body.taker_fee_ppm))
    first_refusal(ack.events)
    return fee_schedule(body.maker_fee_ppm, body.taker_fee_ppm)
