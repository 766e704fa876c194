"""Matching core alone: the order book, no risk, ledger or events.

Target on the 2-core machine: >= 500,000 operations/s over the 1,000,000-operation workload,
and under 100 MB resident for the book.
"""

from __future__ import annotations

import gc
import time

import psutil

from exchange_server.domain.book import OrderBook
from exchange_server.domain.enums import OrderType, Side, TimeInForce
from exchange_server.domain.orders import Order
from tests.benchmarks.report import report
from tests.benchmarks.workload import CANCEL, LIMIT, Workload

BENCH = "matching_core"


def run(workload: Workload) -> None:
    process = psutil.Process()
    gc.collect()
    baseline = process.memory_info().rss
    book = OrderBook("BENCH")
    live: list[Order] = []
    buy, sell = Side.BUY, Side.SELL
    limit_type, ioc = OrderType.LIMIT, TimeInForce.IOC
    fills = 0
    order_id = 0
    gc.disable()  # the collector would walk every resting order; the book makes no cycles
    started = time.perf_counter()
    for kind, is_buy, price, quantity, account, pick in workload:
        if kind == CANCEL:
            count = len(live)
            while count:
                index = int(pick * count)
                order = live[index]
                live[index] = live[-1]
                live.pop()
                count -= 1
                if order.remaining:
                    book.remove(order)
                    break
            continue
        order_id += 1
        side = buy if is_buy else sell
        if kind == LIMIT:
            order = Order(order_id, account, "BENCH", side, quantity, price)
            if book.would_cross(side, price):
                fills += len(book.match(order).fills)
            if order.remaining:
                book.add(order)
                live.append(order)
        else:
            order = Order(order_id, account, "BENCH", side, quantity, price, limit_type, ioc)
            fills += len(book.match(order).fills)
    elapsed = time.perf_counter() - started
    gc.enable()
    resident = (process.memory_info().rss - baseline) / 2**20
    resting = sum(level.count for level in book.bid_levels.values()) + sum(
        level.count for level in book.ask_levels.values()
    )
    assert not book.is_crossed()
    report(
        BENCH,
        "throughput",
        len(workload) / elapsed,
        "ops/s",
        target=500_000,
        operations=len(workload),
        fills=fills,
        resting_orders=resting,
    )
    report(BENCH, "book_resident_memory", resident, "MB", target=100, resting_orders=resting)
