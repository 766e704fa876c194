"""The order book on its own, and its depth (L2) and per-order (L3) views."""

from __future__ import annotations

from exchange_server.domain.book import STOP_BAND, OrderBook
from exchange_server.domain.commands import CancelOrder
from exchange_server.domain.enums import Side
from exchange_server.domain.events import BookChanged
from exchange_server.domain.orders import Order
from tests.domain.conftest import ALICE, BOB, BUY, CAROL, SELL, SYMBOL, Market, of_type


def order(order_id: int, side: Side, quantity: int, price: int, account: int = 1) -> Order:
    return Order(order_id, account, "X", side, quantity, price)


def test_best_prices_follow_adds_and_removals() -> None:
    book = OrderBook("X")
    orders = [order(1, BUY, 5, 100), order(2, BUY, 5, 105), order(3, BUY, 5, 95)]
    for o in orders:
        book.add(o)
    book.add(order(4, SELL, 5, 110))
    book.add(order(5, SELL, 5, 108))
    assert (book.best_bid, book.best_ask) == (105, 108)
    assert not book.is_crossed()

    book.remove(orders[1])
    assert book.best_bid == 100
    book.remove(orders[0])
    assert book.best_bid == 95
    book.add(order(6, BUY, 1, 105))  # a price whose level came and went
    assert book.best_bid == 105
    book.remove(orders[2])
    assert book.best_bid == 105
    assert book.depth()[0] == [(105, 1, 1)]


def test_match_fills_in_price_then_time_order_at_maker_prices() -> None:
    book = OrderBook("X")
    book.add(order(1, SELL, 3, 101))
    book.add(order(2, SELL, 3, 100))
    book.add(order(3, SELL, 3, 100))
    taker = order(9, BUY, 8, 101, account=2)

    result = book.match(taker)

    assert [(m.order_id, q, p) for m, q, p in result.fills] == [
        (2, 3, 100),
        (3, 3, 100),
        (1, 2, 101),
    ]
    assert taker.remaining == 0
    assert book.depth() == ([], [(101, 1, 1)])
    assert book.best_ask == 101


def test_match_stops_before_a_price_outside_the_band() -> None:
    book = OrderBook("X")
    book.add(order(1, SELL, 3, 100))
    book.add(order(2, SELL, 3, 120))
    taker = order(9, BUY, 6, 120, account=2)

    result = book.match(taker, band_low=90, band_high=110)

    assert [(m.order_id, q) for m, q, _ in result.fills] == [(1, 3)]
    assert result.stop == STOP_BAND
    assert taker.remaining == 3
    assert book.depth() == ([], [(120, 3, 1)])


def test_dead_entries_are_skipped_and_swept() -> None:
    book = OrderBook("X")
    many = [order(i, BUY, 1, 100) for i in range(1, 60)]
    for o in many:
        book.add(o)
    for o in many[:-1]:
        book.remove(o)
    level = book.bid_levels[100]
    assert (level.quantity, level.count) == (1, 1)
    assert len(level.orders) < 20  # swept, not left to grow
    taker = order(99, SELL, 1, 100, account=2)
    assert [m.order_id for m, _, _ in book.match(taker).fills] == [59]
    assert book.depth() == ([], [])


# -- views through the exchange -------------------------------------------------------------


def test_depth_aggregates_levels_best_first(market: Market) -> None:
    market.place(ALICE, BUY, 5, 9_900)
    market.place(BOB, BUY, 7, 9_900)
    market.place(CAROL, BUY, 2, 9_950)
    market.place(ALICE, BUY, 1, 9_800)
    market.place(BOB, SELL, 4, 10_100)
    market.place(CAROL, SELL, 6, 10_050)
    market.place(ALICE, SELL, 1, 10_050)

    bids, asks = market.depth()

    assert bids == [(9_950, 2, 1), (9_900, 12, 2), (9_800, 1, 1)]
    assert asks == [(10_050, 7, 2), (10_100, 4, 1)]
    limited = market.exchange.books[SYMBOL].depth(levels=1)
    assert limited == ([(9_950, 2, 1)], [(10_050, 7, 2)])


def test_depth_follows_fills_and_cancels(market: Market) -> None:
    first = market.place(ALICE, SELL, 5, 10_000)
    market.place(BOB, SELL, 5, 10_000)
    market.place(CAROL, BUY, 3, 10_000)
    assert market.depth() == ([], [(10_000, 7, 2)])
    market.accept(CancelOrder(ALICE, first.order_id))
    assert market.depth() == ([], [(10_000, 5, 1)])


def test_orders_at_shows_the_queue_in_time_order(market: Market) -> None:
    a = market.place(ALICE, BUY, 5, 9_900)
    b = market.place(BOB, BUY, 7, 9_900)
    c = market.place(CAROL, BUY, 2, 9_900)
    book = market.exchange.books[SYMBOL]

    queue = book.orders_at(BUY, 9_900)
    assert [(o.order_id, o.account, o.remaining) for o in queue] == [
        (a.order_id, ALICE, 5),
        (b.order_id, BOB, 7),
        (c.order_id, CAROL, 2),
    ]

    market.accept(CancelOrder(BOB, b.order_id))
    market.modify(CAROL, c.order_id, quantity=1)
    market.place(BOB, SELL, 2, 9_900)  # takes 2 from the front
    queue = book.orders_at(BUY, 9_900)
    assert [(o.order_id, o.remaining, o.filled) for o in queue] == [
        (a.order_id, 3, 2),
        (c.order_id, 1, 0),
    ]
    assert book.orders_at(BUY, 9_850) == []
    assert book.orders_at(SELL, 9_900) == []
    assert [o.order_id for o in book.iter_orders(BUY)] == [a.order_id, c.order_id]


def test_book_changes_are_reported_per_level(market: Market) -> None:
    events = market.place(ALICE, BUY, 5, 9_900).events
    assert of_type(events, BookChanged) == [BookChanged(SYMBOL, "buy", 9_900, 5, 1)]

    market.place(BOB, SELL, 3, 10_000)
    events = market.place(CAROL, BUY, 3, 10_000).events
    assert of_type(events, BookChanged) == [BookChanged(SYMBOL, "sell", 10_000, 0, 0)]

    events = market.place(BOB, SELL, 8, 9_900).events
    changes = {(e.side, e.price): (e.quantity, e.orders) for e in of_type(events, BookChanged)}
    assert changes == {("buy", 9_900): (0, 0), ("sell", 9_900): (3, 1)}
