"""Read models projected from the journal: what a trader's statement would show."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, text

from exchange_server.domain.commands import (
    CancelOrder,
    Command,
    Deposit,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
    SetFees,
    SetReferencePrice,
    Withdraw,
)
from exchange_server.domain.enums import AssetClass, Side
from exchange_server.engine.projections import Projector
from exchange_server.engine.recovery import recover
from exchange_server.engine.sequencer import Sequencer

BUYER, SELLER = 10, 11
UNIT = 10_000  # one rupee in cash units


def journal(engine: Engine, commands: list[Command]) -> None:
    async def scenario() -> None:
        recovered = recover(engine)
        sequencer = Sequencer(
            recovered.exchange,
            engine,
            last_seq=recovered.last_seq,
            last_ts_ns=recovered.last_ts_ns,
        )
        await sequencer.start()
        for command in commands:
            await sequencer.submit(command)
        await sequencer.stop()

    asyncio.run(scenario())


def rows(engine: Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def sell(quantity: int, price: int) -> PlaceOrder:
    return PlaceOrder(SELLER, "ACME", Side.SELL, quantity, price=price)


def buy(account: int, quantity: int, price: int) -> PlaceOrder:
    return PlaceOrder(account, "ACME", Side.BUY, quantity, price=price)


SETUP: list[Command] = [
    ListInstrument("ACME", "Acme Ltd.", AssetClass.EQUITY, "NSE", "INR", reference_price=10_000),
    SetFees(maker_ppm=1_000, taker_ppm=2_000),  # 0.1% and 0.2%
    OpenAccount(BUYER),
    OpenAccount(SELLER),
    Deposit(BUYER, "INR", 1_000_000 * UNIT),
    Deposit(SELLER, "ACME", 100),
]


def test_positions_carry_average_cost_and_realised_pnl_net_of_fees(engine: Engine) -> None:
    journal(
        engine,
        [
            *SETUP,
            sell(10, 10_000),  # maker: 10 @ 100.00
            buy(BUYER, 10, 10_000),  # taker buys 10 @ 100.00, fee 0.2% = 2.00
            sell(10, 11_000),
            buy(BUYER, 10, 11_000),  # 10 @ 110.00, fee 2.20
            # The buyer sells 15 back into a bid from the old seller.
            buy(SELLER, 15, 10_500),
            PlaceOrder(BUYER, "ACME", Side.SELL, 15, price=10_500),  # taker, fee 0.2%
        ],
    )
    projector = Projector(engine)
    projector.load()
    assert projector.catch_up() == len(SETUP) + 6
    quantity, cost, realised = rows(
        engine, f"SELECT quantity, cost, realised_pnl FROM positions WHERE account = {BUYER}"
    )[0]
    bought = (1_000 * UNIT + 20_000) + (1_100 * UNIT + 22_000)  # notional + 0.2% fee each
    cost_out = bought * 15 // 20  # average cost of the 15 sold
    proceeds = 1_575 * UNIT - 31_500  # 15 @ 105.00 less the 0.2% taker fee
    assert quantity == 5
    assert cost == bought - cost_out
    assert realised == proceeds - cost_out


def test_orders_fills_balances_and_ledger_entries_match_the_engine(engine: Engine) -> None:
    journal(
        engine,
        [
            *SETUP,
            sell(5, 10_000),
            buy(BUYER, 3, 10_000),
            CancelOrder(SELLER, 1),
            Withdraw(BUYER, "INR", 1_000 * UNIT),
            SetReferencePrice("ACME", 10_500),
        ],
    )
    projector = Projector(engine)
    projector.load()
    projector.catch_up()
    assert rows(engine, "SELECT order_id, status, filled, remaining FROM orders ORDER BY 1") == [
        (1, "cancelled", 3, 0),
        (2, "filled", 3, 0),
    ]
    assert rows(engine, "SELECT buyer, seller, price, quantity, notional FROM fills") == [
        (BUYER, SELLER, 10_000, 3, 300 * UNIT)
    ]
    exchange = recover(engine).exchange
    for account, asset, balance, reserved in rows(
        engine, "SELECT account, asset, balance, reserved FROM balances"
    ):
        assert balance == exchange.ledger.balance(account, asset)  # type: ignore[arg-type]
        assert reserved == exchange.ledger.held(account, asset)  # type: ignore[arg-type]
    # The buyer's statement: deposit, the purchase with its fee, the withdrawal.
    assert rows(
        engine,
        f"SELECT delta FROM ledger_entries WHERE account = {BUYER} AND asset = 'INR' "
        "ORDER BY entry_id",
    ) == [(1_000_000 * UNIT,), (-(300 * UNIT + 6_000),), (-1_000 * UNIT,)]
    assert rows(engine, "SELECT reference_price, band_low, band_high FROM instruments") == [
        (10_500, 9_450, 11_550)
    ]


def test_a_projection_resumes_from_its_checkpoint(engine: Engine) -> None:
    journal(engine, [*SETUP, sell(5, 10_000)])
    first = Projector(engine)
    first.load()
    first.catch_up()
    journal(engine, [buy(BUYER, 2, 10_000)])
    second = Projector(engine)
    assert second.load() == len(SETUP) + 1
    assert second.catch_up() == 1
    assert rows(engine, "SELECT count(*) FROM fills") == [(1,)]
    assert rows(engine, f"SELECT quantity FROM positions WHERE account = {BUYER}") == [(2,)]
