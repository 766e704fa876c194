"""The exchange's whole state as plain data, for snapshots and the state hash.

``capture`` and ``restore`` are exact inverses for everything that decides future behaviour:
instruments, books in queue order, pending stops, live orders, balances and reservations,
client order ids, fees, counters and the clock. The state hash is a SHA-256 of the canonical
JSON of that data, so two exchanges with equal hashes will answer every command alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from heapq import heapify
from typing import Any

import orjson

from exchange_server.domain.book import OrderBook
from exchange_server.domain.enums import (
    AssetClass,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingStatus,
)
from exchange_server.domain.exchange import Exchange
from exchange_server.domain.instruments import Instrument
from exchange_server.domain.orders import Order
from exchange_server.domain.stops import StopBook

FORMAT_VERSION = 2
_INSTRUMENT_FIELDS = [f.name for f in fields(Instrument) if f.init]


def capture(exchange: Exchange) -> dict[str, Any]:
    books = {}
    for symbol, book in exchange.books.items():
        books[symbol] = {
            "bids": [o.order_id for o in book.iter_orders(Side.BUY)],
            "asks": [o.order_id for o in book.iter_orders(Side.SELL)],
            "stops": sorted(exchange.stops[symbol].pending),
        }
    ledger = exchange.ledger
    return {
        "version": FORMAT_VERSION,
        "now": exchange.now,
        "next_order_id": exchange.next_order_id,
        "next_trade_id": exchange.next_trade_id,
        "fees": [exchange.maker_fee_ppm, exchange.taker_fee_ppm],
        "instruments": [
            {name: getattr(i, name) for name in _INSTRUMENT_FIELDS}
            for _, i in sorted(exchange.instruments.items())
        ],
        "last_price": sorted(exchange.last_price.items()),
        "accounts": sorted(exchange.self_trade_prevention.items()),
        # Amounts as strings: the external account's total may exceed 64 bits.
        "balances": _amounts(ledger.balances),
        "reserved": _amounts(ledger.reserved),
        "orders": [exchange.orders[i].to_state() for i in sorted(exchange.orders)],
        "books": books,
        "client_orders": sorted(
            [account, coid, order_id, list(fingerprint)]
            for (account, coid), (order_id, fingerprint) in exchange.client_orders.items()
        ),
    }


def _amounts(table: dict[int, dict[str, int]]) -> list[list[Any]]:
    return [
        [account, asset, str(amount)]
        for account in sorted(table)
        for asset, amount in sorted(table[account].items())
    ]


def encode(state: dict[str, Any]) -> bytes:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS)


def hash_of(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()


def state_hash(exchange: Exchange) -> str:
    return hash_of(encode(capture(exchange)))


def restore(state: dict[str, Any]) -> Exchange:
    if state.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported snapshot format {state.get('version')!r}")
    maker_ppm, taker_ppm = state["fees"]
    exchange = Exchange(maker_ppm, taker_ppm)
    exchange.now = state["now"]
    exchange.next_order_id = state["next_order_id"]
    exchange.next_trade_id = state["next_trade_id"]
    for data in state["instruments"]:
        data = dict(data, asset_class=AssetClass(data["asset_class"]))
        data["status"] = TradingStatus(data["status"])
        instrument = Instrument(**data)
        exchange.instruments[instrument.symbol] = instrument
        exchange.books[instrument.symbol] = OrderBook(instrument.symbol)
        exchange.stops[instrument.symbol] = StopBook()
    exchange.last_price = dict((symbol, price) for symbol, price in state["last_price"])
    for account, mode in state["accounts"]:
        exchange.self_trade_prevention[account] = SelfTradePrevention(mode)
        exchange.ledger.open(account)
        exchange.account_orders[account] = set()
    for target, rows in (
        (exchange.ledger.balances, state["balances"]),
        (exchange.ledger.reserved, state["reserved"]),
    ):
        for account, asset, amount in rows:
            target.setdefault(account, {})[asset] = int(amount)
    for values in state["orders"]:
        order = Order.from_state(values)
        exchange.orders[order.order_id] = order
        exchange.account_orders[order.account].add(order.order_id)
        if order.tif == TimeInForce.GTD:
            exchange.expiries.append((order.expire_at, order.order_id))
    heapify(exchange.expiries)
    for symbol, sides in state["books"].items():
        book = exchange.books[symbol]
        for order_id in sides["bids"] + sides["asks"]:
            book.add(exchange.orders[order_id])
        book.changed.clear()
        for order_id in sides["stops"]:
            exchange.stops[symbol].add(exchange.orders[order_id])
    for account, coid, order_id, fingerprint in state["client_orders"]:
        exchange.client_orders[account, coid] = (order_id, tuple(fingerprint))
    return exchange
