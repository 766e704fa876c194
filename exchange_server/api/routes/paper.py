"""Paper trading: put a paper account back to its starting cash.

Orders are cancelled, holdings are removed and cash is set to the configured paper amount
(or one given), each through journaled engine commands. History (orders, fills, ledger)
stays: a reset is an event in the account's statement, not an erasure.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from exchange_server.api.convert import asset_balance
from exchange_server.api.deps import Context, Trader
from exchange_server.api.errors import ApiError
from exchange_server.api.orders import units
from exchange_server.api.routes.admin_market import first_refusal
from exchange_server.domain.commands import Adjust, CancelAll
from exchange_server.domain.instruments import CASH_DECIMALS
from exchange_server.protocol import API_PREFIX, Balance, PaperResetRequest

router = APIRouter(prefix=f"{API_PREFIX}/paper", tags=["paper trading"])

PAPER_CURRENCY = "INR"


@router.post("/reset", response_model=list[Balance])
async def reset_paper_account(
    context: Context,
    caller: Trader,
    body: Annotated[PaperResetRequest | None, Body()] = None,
) -> list[Balance]:
    user = await context.auth.me(caller.user_id)
    if not user.is_paper:
        raise ApiError(403, "not_paper_account", "only a paper-trading account can be reset")
    cash = body.cash if body is not None and body.cash is not None else context.settings.paper_cash
    target = units(cash, CASH_DECIMALS, "cash", "amount")
    account = caller.account_id
    first_refusal((await context.submit(CancelAll(account))).events)
    ledger = context.service.sequencer.exchange.ledger
    for asset, balance in sorted(ledger.balances[account].items()):
        wanted = target if asset == PAPER_CURRENCY else 0
        if balance != wanted:
            ack = await context.submit(Adjust(account, asset, wanted - balance, "paper reset"))
            first_refusal(ack.events)
    if PAPER_CURRENCY not in ledger.balances[account] and target:
        first_refusal(
            (await context.submit(Adjust(account, PAPER_CURRENCY, target, "paper reset"))).events
        )
    return [
        asset_balance(context.market, asset, balance, ledger.held(account, asset))
        for asset, balance in sorted(ledger.balances[account].items())
    ]
