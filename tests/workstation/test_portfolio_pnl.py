"""FIFO lots and the portfolio's numbers, on exact Decimals."""

from __future__ import annotations

from decimal import Decimal as D

from exchange_server.protocol import Balance, Fill, Position, Quote
from tests.workstation.factories import instrument as make_instrument
from workstation.docks.portfolio_pnl import FifoBook, compute, day_pnl, fifo_books

DAY = 1_000_000_000_000


def fill(trade_id: int, side: str, quantity: str, price: str, ts: int = 0, fee: str = "0") -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=trade_id,
        symbol="TCS",
        side=side,  # type: ignore[arg-type]
        price=D(price),
        quantity=D(quantity),
        notional=D(quantity) * D(price),
        fee=D(fee),
        liquidity="taker",
        ts=ts,
    )


def position(quantity: str, average: str | None) -> Position:
    return Position(
        symbol="TCS",
        quantity=D(quantity),
        average_price=D(average) if average else None,
        cost=D(0),
        last_price=None,
        market_value=None,
        unrealised_pnl=None,
        realised_pnl=D(0),
    )


def test_fifo_sells_the_oldest_lots_first() -> None:
    book = fifo_books(
        [fill(1, "buy", "10", "100"), fill(2, "buy", "10", "120"), fill(3, "sell", "15", "130")]
    )["TCS"]
    # 10 from the 100 lot (+300) and 5 from the 120 lot (+50); average cost would say +225.
    assert book.realised == D(350)
    assert book.quantity == D(5)
    assert book.average_cost == D(120)
    assert book.unrealised(D(110)) == D(-50)


def test_selling_through_zero_opens_a_short_that_a_buy_closes() -> None:
    book = FifoBook("TCS")
    book.apply("buy", D(5), D(100))
    book.apply("sell", D(8), D(110), fee=D("1.5"))
    assert book.realised == D(50) and book.quantity == D(-3)
    book.apply("buy", D(3), D(100))
    assert book.realised == D(80) and book.quantity == 0 and book.fees == D("1.5")


def test_a_position_older_than_the_fills_becomes_an_opening_lot_at_average_cost() -> None:
    book = fifo_books([fill(1, "sell", "4", "130")], {"TCS": position("6", "100")})["TCS"]
    assert book.partial
    # The server holds 6 after selling 4: 10 were held at 100 before our fills begin.
    assert book.quantity == D(6) and book.average_cost == D(100)
    assert book.realised == D(120)


def test_holdings_the_fills_overstate_lose_their_oldest_lots_without_pnl() -> None:
    fills = [fill(1, "buy", "5", "100"), fill(2, "buy", "5", "120")]
    book = fifo_books(fills, {"TCS": position("3", "120")})["TCS"]
    assert book.quantity == D(3) and book.average_cost == D(120) and book.realised == 0


def test_day_pnl_uses_yesterdays_close_for_what_was_held_at_the_open() -> None:
    quote = Quote(symbol="TCS", status="open", last=D(105), previous_close=D(100))
    today = [fill(2, "buy", "5", "102", ts=DAY + 1)]
    # 10 held overnight: +50; 5 bought today at 102: +15.
    assert day_pnl(D(15), D(105), quote, today) == D(65)


def test_summary_adds_cash_holdings_and_fifo_pnl() -> None:
    instrument = make_instrument(
        symbol="TCS",
        name="Tata Consultancy Services",
        sector="Information Technology",
        reference_price=D(100),
        band_low=D(50),
        band_high=D(150),
    )
    fills = [fill(1, "buy", "10", "100", fee="2"), fill(2, "sell", "4", "110", ts=DAY + 5)]
    quotes = {"TCS": Quote(symbol="TCS", status="open", last=D(120), previous_close=D(115))}
    balances = {"INR": Balance(asset="INR", balance=D(1000), reserved=D(0), available=D(1000))}
    summary, holdings = compute(
        {"TCS": instrument}, {"TCS": position("6", "100")}, balances, fills, quotes, DAY
    )
    (tcs,) = holdings
    assert (tcs.quantity, tcs.value, tcs.unrealised, tcs.realised) == (6, 720, 120, 38)
    assert summary.account_value == D(1720)
    assert summary.total_pnl == D(158)
    assert tcs.weight == 100 and not tcs.partial
