"""The full engine in memory: risk checks, matching, ledger settlement and events.

Target: >= 150,000 commands/s over the 1,000,000-operation workload.
"""

from __future__ import annotations

import gc
import time

from exchange_server.domain.commands import (
    CancelOrder,
    Deposit,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
)
from exchange_server.domain.enums import AssetClass, OrderType, Side, TimeInForce
from exchange_server.domain.exchange import Exchange
from exchange_server.domain.instruments import CASH_SCALE
from tests.benchmarks.report import report
from tests.benchmarks.workload import ACCOUNTS, CANCEL, FIRST_ACCOUNT, LIMIT, MID, Workload

BENCH = "engine_in_memory"
SYMBOL = "BENCH"


def setup_commands() -> list[object]:
    commands: list[object] = [
        ListInstrument(
            SYMBOL,
            "Benchmark Ltd.",
            AssetClass.EQUITY,
            "NSE",
            "INR",
            reference_price=MID,
            band_ppm=200_000,
        )
    ]
    for account in range(FIRST_ACCOUNT, FIRST_ACCOUNT + ACCOUNTS):
        commands.append(OpenAccount(account))
        commands.append(Deposit(account, "INR", 10**10 * CASH_SCALE))
        commands.append(Deposit(account, SYMBOL, 10**9))
    return commands


def new_exchange() -> Exchange:
    exchange = Exchange(maker_fee_ppm=100, taker_fee_ppm=300)
    for command in setup_commands():
        exchange.apply(command, 1)  # type: ignore[arg-type]
    return exchange


class CommandStream:
    """Turns workload operations into commands; cancels target orders still live."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.placed: list[tuple[int, int]] = []  # (order id, account)

    def commands(self, workload: Workload):  # type: ignore[no-untyped-def]
        exchange = self.exchange
        placed = self.placed
        live = exchange.orders
        buy, sell = Side.BUY, Side.SELL
        limit, ioc, gtc = OrderType.LIMIT, TimeInForce.IOC, TimeInForce.GTC
        for kind, is_buy, price, quantity, account, pick in workload:
            if kind == CANCEL:
                while placed:
                    index = int(pick * len(placed))
                    order_id, owner = placed[index]
                    placed[index] = placed[-1]
                    placed.pop()
                    if order_id in live:
                        yield CancelOrder(owner, order_id)
                        break
                continue
            side = buy if is_buy else sell
            if kind == LIMIT:
                order_id = exchange.next_order_id
                yield PlaceOrder(account, SYMBOL, side, quantity, limit, price, 0, gtc)
                if exchange.next_order_id > order_id:  # accepted (ids are only used then)
                    placed.append((order_id, account))
            else:
                yield PlaceOrder(account, SYMBOL, side, quantity, limit, price, 0, ioc)


def run(workload: Workload) -> None:
    exchange = new_exchange()
    stream = CommandStream(exchange)
    apply = exchange.apply
    count = events = rejected = 0
    gc.disable()
    started = time.perf_counter()
    now = 1_700_000_000_000_000_000
    for command in stream.commands(workload):
        now += 1000
        produced = apply(command, now)
        events += len(produced)
        if produced[0].kind == "rejected":
            rejected += 1
        count += 1
    elapsed = time.perf_counter() - started
    gc.enable()
    assert all(total == 0 for total in exchange.ledger.totals().values())
    report(
        BENCH,
        "throughput",
        count / elapsed,
        "commands/s",
        target=150_000,
        commands=count,
        events=events,
        trades=exchange.next_trade_id - 1,
        rejected=rejected,
    )
