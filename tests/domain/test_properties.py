"""Property tests: random command sequences never break the exchange's invariants.

Four accounts (each with its own self-trade prevention mode, so same-account crosses happen)
trade two instruments with different scales. The generated operations cover every order type
and time in force, post-only, client order ids (reused on purpose), cancels, cancel-all,
modifies, deposits, withdrawals, fee changes, reference price moves that strand resting
orders outside the band (circuit breaker), trading statuses, time passing and end of day.
Order ids in cancels and modifies are picked among live orders when the step runs.

After every command: the book is not crossed and its levels add up; every order's quantity
is accounted for by its events (filled + resting + cancelled) and its fills by the trades;
the last event of every live order tells its true state; assets sum to zero, no user
balance or reservation is negative or above the balance, and every reservation is exactly
what its order needs; fills take makers in price-time order at the makers' prices and never
print outside the band; a refused command is one event and changes nothing. Part way
through, the exchange is snapshotted (through JSON) and restored, and from then on both
must answer every command with identical events and state hashes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange_server.domain import risk, snapshot
from exchange_server.domain.book import OrderBook
from exchange_server.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    Deposit,
    EndOfDay,
    ListInstrument,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
    SetFees,
    SetReferencePrice,
    SetSelfTradePrevention,
    SetTradingStatus,
    Tick,
    Withdraw,
)
from exchange_server.domain.enums import (
    TERMINAL_STATUSES,
    AssetClass,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingStatus,
)
from exchange_server.domain.events import (
    CommandRejected,
    Event,
    OrderUpdated,
    TradeExecuted,
)
from exchange_server.domain.exchange import Exchange
from exchange_server.domain.instruments import PPM
from exchange_server.domain.ledger import FEES, SYSTEM_ACCOUNTS
from exchange_server.domain.orders import Order

ACCOUNTS = (10, 11, 12, 13)
UNKNOWN_ACCOUNT = 99
CURRENCY = "INR"
START = 1_700_000_000_000_000_000
SECOND = 1_000_000_000


@dataclass(frozen=True)
class Spec:
    symbol: str
    price_decimals: int
    quantity_decimals: int
    tick: int
    lot: int
    reference: int
    band_ppm: int
    holding: int


SPECS = (
    Spec("ACME", 2, 0, 5, 1, 10_000, 100_000, 40),
    Spec("BETA", 1, 2, 2, 5, 500, 200_000, 400),
)
SYMBOLS = tuple(spec.symbol for spec in SPECS)
SPEC = {spec.symbol: spec for spec in SPECS}
ASSETS = (CURRENCY, *SYMBOLS)
CASH = 60_000_000  # 6,000.0000 INR: enough for a few orders, not for everything

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- operations -----------------------------------------------------------------------------
# Plain tuples, resolved into commands against the live state when the step runs (so order
# ids in cancels and modifies pick among live orders). Each field is a list to choose from
# or an inclusive integer range; the same table drives hypothesis and a seeded random walk.

Field = list[Any] | tuple[int, int]
OPS: dict[str, tuple[int, list[Field]]] = {  # kind: (weight, fields)
    "place": (
        16,
        [
            [*ACCOUNTS * 5, UNKNOWN_ACCOUNT],
            list(SYMBOLS),
            [Side.BUY, Side.SELL],
            [OrderType.LIMIT] * 4 + [OrderType.MARKET, OrderType.STOP_MARKET, OrderType.STOP_LIMIT],
            [TimeInForce.GTC] * 3
            + [TimeInForce.DAY, TimeInForce.GTD] * 2
            + [TimeInForce.IOC, TimeInForce.FOK],
            (1, 12),  # quantity in lots
            (-8, 8),  # price: ticks from the middle of the book
            (-8, 8),  # trigger: ticks from the last price (or the middle)
            [False, False, False, True],  # post-only (only sometimes valid)
            ["", "", "", "", "", "", "a", "b"],  # client order ids, reused on purpose
            (1, 6),  # GTD expiry: seconds from now
            (0, 15),  # 0: an off-lot quantity
        ],
    ),
    "modify": (
        3,
        [
            (0, 1_000),  # which live order
            (0, 9),  # 0: someone else's account
            (-4, 4),  # quantity change in lots (0: unchanged)
            (-4, 4),  # price change in ticks
            (-3, 3),  # trigger change in ticks
        ],
    ),
    "cancel": (2, [(0, 1_000), (0, 9)]),
    "cancel_all": (1, [list(ACCOUNTS), ["", *SYMBOLS]]),
    "deposit": (1, [list(ACCOUNTS), list(ASSETS), (-1, 30_000_000)]),
    "withdraw": (1, [list(ACCOUNTS), list(ASSETS), (-1, 30_000_000)]),
    "tick": (1, [(1, 4)]),  # seconds
    "reference": (1, [list(SYMBOLS), (-15, 15)]),  # percent from the listing price
    "status": (1, [list(SYMBOLS), [TradingStatus.OPEN] * 4 + list(TradingStatus)]),
    "eod": (1, [["", *SYMBOLS]]),
    "fees": (1, [[0, 100, 2_500, -1], [0, 300, 5_000]]),
    "stp": (1, [list(ACCOUNTS), list(SelfTradePrevention)]),
}


def _field_strategy(values: Field) -> st.SearchStrategy[Any]:
    return st.integers(*values) if isinstance(values, tuple) else st.sampled_from(values)


_KIND_STRATEGIES = {
    kind: st.tuples(st.just(kind), *map(_field_strategy, fields))
    for kind, (_, fields) in OPS.items()
}
operations = st.sampled_from(
    [kind for kind, (weight, _) in OPS.items() for _ in range(weight)]
).flatmap(_KIND_STRATEGIES.__getitem__)


def random_op(rng: random.Random) -> tuple[Any, ...]:
    kind = rng.choices(list(OPS), weights=[weight for weight, _ in OPS.values()])[0]
    return (
        kind,
        *(rng.randint(*f) if isinstance(f, tuple) else rng.choice(f) for f in OPS[kind][1]),
    )


# -- the run --------------------------------------------------------------------------------


@dataclass
class Seen:
    """What the events have said about one order."""

    account: int
    side: str
    price: int
    quantity: int
    filled: int = 0
    traded: int = 0  # sum of its fills in trade events
    status: str = OrderStatus.NEW


@dataclass
class Run:
    exchange: Exchange
    now: int = START
    seen: dict[int, Seen] = field(default_factory=dict)
    twin: Exchange | None = None  # restored from a snapshot; must answer identically
    commands: int = 0
    rejected: int = 0
    trades: int = 0
    halts: int = 0
    self_trades_prevented: int = 0
    reasons: set[str] = field(default_factory=set)
    hash: str = ""  # of the state after the last command

    def apply(self, command: Command) -> list[Event]:
        exchange = self.exchange
        before = self.hash or snapshot.state_hash(exchange)
        book_before = {
            (symbol, side): {o.order_id: i for i, o in enumerate(book.iter_orders(side))}
            for symbol, book in exchange.books.items()
            for side in (Side.BUY, Side.SELL)
        }
        if isinstance(command, ModifyOrder):  # a modified order may move: its old place
            for queue in book_before.values():  # says nothing about its priority now
                queue.pop(command.order_id, None)
        stp_before = dict(exchange.self_trade_prevention)
        events = exchange.apply(command, self.now)
        after = self.hash = snapshot.state_hash(exchange)
        self.commands += 1
        if self.twin is not None:
            assert self.twin.apply(command, self.now) == events, command
            assert snapshot.state_hash(self.twin) == after
        refused = [e for e in events if isinstance(e, CommandRejected)]
        if refused:
            self.rejected += 1
            self.reasons.add(refused[0].reason)
            assert len(events) == 1, events
            assert after == before, f"refused {command} changed the state"
            return events
        self.check_events(command, events, book_before, stp_before)
        self.check_state()
        return events

    # -- per-command checks -------------------------------------------------------------
    def check_events(
        self,
        command: Command,
        events: list[Event],
        book_before: dict[tuple[str, Side], dict[int, int]],
        stp_before: dict[int, SelfTradePrevention],
    ) -> None:
        exchange = self.exchange
        touched: set[int] = set()
        fills_by_taker: dict[int, list[TradeExecuted]] = {}
        for event in events:
            if isinstance(event, TradeExecuted):
                self.check_trade(event)
                taker = event.buy_order_id if event.aggressor == Side.BUY else event.sell_order_id
                fills_by_taker.setdefault(taker, []).append(event)
            elif isinstance(event, OrderUpdated):
                self.check_update(command, event, stp_before)
                touched.add(event.order_id)
                if event.reason == "self-trade prevention":
                    self.self_trades_prevented += 1
            elif event.kind == "instrument_status" and getattr(event, "status", "") == "halted":
                self.halts += 1
        for order_id in touched:
            seen = self.seen[order_id]
            assert seen.filled == seen.traded, f"order {order_id}: fills do not add up"
        for taker_id, fills in fills_by_taker.items():
            self.check_priority(taker_id, fills, book_before)
        # Every live order's last event tells its true state, and every order that is no
        # longer live was last reported in a final state: nothing vanishes silently.
        for order_id, order in exchange.orders.items():
            seen = self.seen[order_id]
            assert (seen.quantity, seen.filled, seen.status) == (
                order.quantity,
                order.filled,
                order.status,
            ), order
            assert seen.price == order.price
            assert order.remaining == order.quantity - order.filled
        open_ids = {i for i, seen in self.seen.items() if seen.status not in TERMINAL_STATUSES}
        assert open_ids == set(exchange.orders)

    def check_trade(self, trade: TradeExecuted) -> None:
        self.trades += 1
        instrument = self.exchange.instruments[trade.symbol]
        assert trade.buyer != trade.seller, "an account traded with itself"
        assert trade.notional == instrument.notional(trade.price, trade.quantity)
        assert trade.buyer_fee >= 0 and trade.seller_fee >= 0
        maker_ppm, taker_ppm = self.exchange.maker_fee_ppm, self.exchange.taker_fee_ppm
        buyer_ppm, seller_ppm = (
            (taker_ppm, maker_ppm) if trade.aggressor == Side.BUY else (maker_ppm, taker_ppm)
        )
        assert trade.buyer_fee == trade.notional * buyer_ppm // PPM
        assert trade.seller_fee == trade.notional * seller_ppm // PPM
        assert instrument.in_band(trade.price), "printed outside the band"
        for order_id in (trade.buy_order_id, trade.sell_order_id):
            self.seen[order_id].traded += trade.quantity
        maker_id = trade.sell_order_id if trade.aggressor == Side.BUY else trade.buy_order_id
        taker_id = trade.buy_order_id if trade.aggressor == Side.BUY else trade.sell_order_id
        assert trade.price == self.seen[maker_id].price, "a trade not at the maker's price"
        limit = self.seen[taker_id].price
        if limit:
            assert trade.price <= limit if trade.aggressor == Side.BUY else trade.price >= limit

    def check_update(
        self, command: Command, e: OrderUpdated, stp_before: dict[int, SelfTradePrevention]
    ) -> None:
        seen = self.seen.get(e.order_id)
        if seen is None:
            assert e.status in (OrderStatus.NEW, OrderStatus.CANCELLED), e
            assert e.filled == 0
            seen = self.seen[e.order_id] = Seen(e.account, e.side, e.price, e.quantity)
        assert seen.status not in TERMINAL_STATUSES, f"order {e.order_id} came back: {e}"
        assert e.filled >= seen.filled, "filled went down"
        assert e.remaining >= 0 and e.filled + e.remaining <= e.quantity
        if e.status in TERMINAL_STATUSES:
            assert e.remaining == 0, e
            if e.status == OrderStatus.FILLED:
                assert e.filled == e.quantity, e
        else:
            assert e.filled + e.remaining == e.quantity, e
        # Quantity is conserved: it changes only by the owner's modify or by a decrement.
        if e.quantity != seen.quantity:
            modified = (
                isinstance(command, ModifyOrder)
                and command.order_id == e.order_id
                and command.quantity == e.quantity
            )
            if not modified:
                assert stp_before[e.account] == SelfTradePrevention.DECREMENT_AND_CANCEL, e
                assert e.quantity < seen.quantity, e
        if e.price != seen.price:
            assert isinstance(command, ModifyOrder) and command.order_id == e.order_id
        seen.quantity, seen.filled, seen.status, seen.price = (
            e.quantity,
            e.filled,
            e.status,
            e.price,
        )

    def check_priority(
        self,
        taker_id: int,
        fills: list[TradeExecuted],
        book_before: dict[tuple[str, Side], dict[int, int]],
    ) -> None:
        """Makers are taken best price first, then in queue order; nobody is skipped."""
        taker = self.seen[taker_id]
        symbol = fills[0].symbol
        maker_side = Side.SELL if fills[0].aggressor == Side.BUY else Side.BUY
        queue = book_before[symbol, maker_side]
        ranked = sorted(queue, key=queue.__getitem__)
        last_rank = -1
        for fill in fills:
            maker_id = fill.sell_order_id if maker_side == Side.SELL else fill.buy_order_id
            rank = queue.get(maker_id)
            if rank is None:
                continue  # rested or moved during this command
            assert rank >= last_rank, "fills out of priority order"
            last_rank = rank
            for skipped in ranked[:rank]:
                live = self.exchange.orders.get(skipped)
                assert live is None or live.account == taker.account, (
                    f"maker {maker_id} filled ahead of {skipped}"
                )

    def check_state(self) -> None:
        exchange = self.exchange
        ledger = exchange.ledger
        assert all(total == 0 for total in ledger.totals().values()), ledger.totals()
        for account, assets in ledger.balances.items():
            if account in SYSTEM_ACCOUNTS:
                continue
            for asset, amount in assets.items():
                held = ledger.held(account, asset)
                assert 0 <= held <= amount, (account, asset, amount, held)
        for account, assets in ledger.reserved.items():
            for held in assets.values():
                assert held >= 0
                if account in SYSTEM_ACCOUNTS:
                    assert held == 0
        assert all(amount >= 0 for amount in ledger.balances[FEES].values())
        # Reservations are exactly what the live orders need, and add up in the ledger.
        max_ppm = max(exchange.maker_fee_ppm, exchange.taker_fee_ppm)
        expected: dict[tuple[int, str], int] = {}
        for order in exchange.orders.values():
            instrument = exchange.instruments[order.symbol]
            assert order.remaining > 0 and not order.is_terminal
            if order.side == Side.BUY:
                need = risk.buy_reservation(instrument, order.limit, order.remaining, max_ppm)
                asset = instrument.currency
            else:
                need, asset = order.remaining, order.symbol
            assert order.reserved == need, order
            key = (order.account, asset)
            expected[key] = expected.get(key, 0) + order.reserved
        actual = {
            (account, asset): held
            for account, assets in ledger.reserved.items()
            for asset, held in assets.items()
            if held
        }
        assert actual == expected
        for symbol, book in exchange.books.items():
            check_book(book, exchange.orders, exchange.stops[symbol].pending)


def check_book(book: OrderBook, live: dict[int, Order], stops: dict[int, Order]) -> None:
    assert not book.is_crossed(), f"{book.symbol} is crossed"
    for side, levels, best in (
        (Side.BUY, book.bid_levels, max(book.bid_levels, default=0)),
        (Side.SELL, book.ask_levels, min(book.ask_levels, default=0)),
    ):
        assert (book.best_bid if side == Side.BUY else book.best_ask) == best
        for price, level in levels.items():
            orders = list(level.live_orders())
            assert orders, "an empty level was left behind"
            assert level.quantity == sum(o.remaining for o in orders)
            assert level.count == len(orders)
            for order in orders:
                assert order.limit == price and order.side == side
                assert live.get(order.order_id) is order, "a dead order is resting"
    resting = {o.order_id for side in (Side.BUY, Side.SELL) for o in book.iter_orders(side)}
    mine = {i for i, o in live.items() if o.symbol == book.symbol}
    assert resting.isdisjoint(stops)
    assert resting | set(stops) == mine, "a live order is neither resting nor waiting"


def setup(modes: tuple[SelfTradePrevention, ...], fees: tuple[int, int]) -> Run:
    run = Run(Exchange(*fees))
    for spec in SPECS:
        run.apply(
            ListInstrument(
                spec.symbol,
                spec.symbol.title(),
                AssetClass.EQUITY,
                "NSE",
                CURRENCY,
                price_decimals=spec.price_decimals,
                quantity_decimals=spec.quantity_decimals,
                tick_size=spec.tick,
                lot_size=spec.lot,
                reference_price=spec.reference,
                band_ppm=spec.band_ppm,
            )
        )
    for account, mode in zip(ACCOUNTS, modes, strict=True):
        run.apply(OpenAccount(account, mode))
        run.apply(Deposit(account, CURRENCY, CASH))
        for spec in SPECS:
            run.apply(Deposit(account, spec.symbol, spec.holding))
    # A ladder of resting orders from everyone, so most marketable orders find something.
    for spec in SPECS:
        for step, account in enumerate(ACCOUNTS * 2, start=1):
            for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
                price = spec.reference + sign * step * spec.tick
                order = PlaceOrder(account, spec.symbol, side, 2 * spec.lot, price=price)
                order.tif = TimeInForce.GTC
                run.apply(order)
    return run


def resolve(run: Run, op: tuple[Any, ...]) -> Command:
    """Turn a generated operation into a command against the current state."""
    exchange = run.exchange
    kind = op[0]
    if kind == "place":
        (_, account, symbol, side, order_type, tif, lots, ticks, trigger_ticks, post_only) = op[:10]
        coid, expiry, off_lot = op[10:]
        spec = SPEC[symbol]
        instrument = exchange.instruments[symbol]
        quantity = lots * spec.lot + (1 if off_lot == 0 and spec.lot > 1 else 0)
        # Prices land around the middle of the book, where they are likely to trade.
        book = exchange.books[symbol]
        if book.best_bid and book.best_ask:
            middle = (book.best_bid + book.best_ask) // 2 // spec.tick * spec.tick
        else:
            middle = book.best_bid or book.best_ask or instrument.reference_price
        is_stop = order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        is_market = order_type in (OrderType.MARKET, OrderType.STOP_MARKET)
        # Mostly valid combinations; every third invalid one is kept to be refused.
        if lots % 3:
            if is_market and tif in (TimeInForce.GTC, TimeInForce.GTD):
                tif = TimeInForce.IOC if tif == TimeInForce.GTC else TimeInForce.DAY
            if is_stop and tif == TimeInForce.FOK:
                tif = TimeInForce.GTC
        price = 0 if is_market else max(spec.tick, middle + ticks * spec.tick)
        base = exchange.last_price.get(symbol) or middle
        trigger = max(spec.tick, base + trigger_ticks * spec.tick) if is_stop else 0
        expire_at = run.now + expiry * SECOND if tif == TimeInForce.GTD else 0
        return PlaceOrder(
            account,
            symbol,
            side,
            quantity,
            order_type,
            price,
            trigger,
            tif,
            coid,
            post_only and tif in (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD),
            expire_at,
        )
    if kind in ("modify", "cancel"):
        live = sorted(exchange.orders)
        if not live:
            return CancelOrder(ACCOUNTS[0], 10**6)  # refused: no such order
        order = exchange.orders[live[op[1] % len(live)]]
        account = order.account if op[2] else ACCOUNTS[ACCOUNTS.index(order.account) - 1]
        if kind == "cancel":
            return CancelOrder(account, order.order_id)
        spec = SPEC[order.symbol]
        _, _, _, lots, ticks, trigger_ticks = op
        quantity = order.quantity + lots * spec.lot if lots else 0
        price = order.price + ticks * spec.tick if ticks and order.price else 0
        trigger = order.trigger_price + trigger_ticks * spec.tick if trigger_ticks else 0
        return ModifyOrder(account, order.order_id, quantity, price, trigger)
    if kind == "cancel_all":
        return CancelAll(op[1], op[2])
    if kind == "deposit":
        return Deposit(op[1], op[2], op[3])
    if kind == "withdraw":
        return Withdraw(op[1], op[2], op[3])
    if kind == "tick":
        run.now += op[1] * SECOND
        return Tick()
    if kind == "reference":
        spec = SPEC[op[1]]
        price = spec.reference * (100 + op[2]) // 100 // spec.tick * spec.tick
        return SetReferencePrice(op[1], price)
    if kind == "status":
        return SetTradingStatus(op[1], op[2])
    if kind == "eod":
        return EndOfDay(op[1])
    if kind == "fees":
        return SetFees(op[1], op[2])
    if kind == "stp":
        return SetSelfTradePrevention(op[1], op[2])
    raise AssertionError(op)


def restored(exchange: Exchange) -> Exchange:
    return snapshot.restore(orjson.loads(snapshot.encode(snapshot.capture(exchange))))


def play(
    modes: tuple[SelfTradePrevention, ...],
    fees: tuple[int, int],
    ops: list[tuple[Any, ...]],
    split: int,
) -> Run:
    """Apply ``ops`` checking everything; from step ``split`` on, against a restored twin."""
    run = setup(modes, fees)
    for index, op in enumerate(ops):
        if index == split:
            run.twin = restored(run.exchange)
            assert snapshot.state_hash(run.twin) == snapshot.state_hash(run.exchange)
        command = resolve(run, op)
        try:
            run.apply(command)
        except AssertionError as failure:
            raise AssertionError(f"step {index}: {command}: {failure}") from failure
    if run.twin is None:
        assert snapshot.state_hash(restored(run.exchange)) == snapshot.state_hash(run.exchange)
    return run


stp_modes = st.tuples(*[st.sampled_from(list(SelfTradePrevention))] * len(ACCOUNTS))
fee_schedules = st.tuples(st.sampled_from([0, 100, 1_000]), st.sampled_from([0, 250, 3_000]))


@settings(SETTINGS, max_examples=60)
@given(
    modes=stp_modes,
    fees=fee_schedules,
    ops=st.lists(operations, min_size=20, max_size=60),
    split=st.integers(0, 60),
)
def test_random_command_sequences_keep_every_invariant(
    modes: tuple[SelfTradePrevention, ...],
    fees: tuple[int, int],
    ops: list[tuple[Any, ...]],
    split: int,
) -> None:
    play(modes, fees, ops, split)


SESSION_LENGTH = 200


def session(seed: int, modes: tuple[SelfTradePrevention, ...], fees: tuple[int, int]) -> Run:
    """A long seeded random walk: busier books than short generated lists reach."""
    rng = random.Random(seed)
    ops = [random_op(rng) for _ in range(SESSION_LENGTH)]
    return play(modes, fees, ops, split=rng.randrange(SESSION_LENGTH))


@settings(SETTINGS, max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), modes=stp_modes, fees=fee_schedules)
def test_long_random_sessions_keep_every_invariant(
    seed: int, modes: tuple[SelfTradePrevention, ...], fees: tuple[int, int]
) -> None:
    session(seed, modes, fees)


def test_the_random_sessions_reach_the_interesting_cases() -> None:
    """Guard against a generator that silently stops producing trades, halts, self-trade
    prevention or refusals (the invariants would then hold vacuously)."""
    all_modes = list(SelfTradePrevention)
    runs = [
        session(seed, tuple(all_modes[seed % 4 :] + all_modes[: seed % 4]), (100, 250))
        for seed in range(6)
    ]
    assert sum(run.trades for run in runs) > 80
    assert sum(run.halts for run in runs) > 2
    assert sum(run.self_trades_prevented for run in runs) > 20
    assert sum(run.rejected for run in runs) > 200
    reasons = set().union(*(run.reasons for run in runs))
    assert len(reasons) > 15, reasons


# -- the book against a naive model ---------------------------------------------------------


@SETTINGS
@given(
    resting=st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(95, 105),
            st.integers(1, 5),
            st.integers(1, 3),
        ),
        max_size=30,
    ),
    taker_side=st.sampled_from([Side.BUY, Side.SELL]),
    taker_limit=st.integers(95, 105),
    taker_quantity=st.integers(1, 40),
)
def test_book_matches_like_a_sorted_list(
    resting: list[tuple[Side, int, int, int]],
    taker_side: Side,
    taker_limit: int,
    taker_quantity: int,
) -> None:
    """Fills equal walking the opposite side sorted by price then arrival, skipping the
    taker's own orders (cancel-oldest)."""
    book = OrderBook("X")
    model: list[Order] = []
    for order_id, (side, price, quantity, account) in enumerate(resting, start=1):
        if book.would_cross(side, price):
            # Keep the book uncrossed: only passive orders rest.
            continue
        order = Order(order_id, account, "X", side, quantity, price)
        book.add(order)
        model.append(Order(order_id, account, "X", side, quantity, price))
    taker = Order(999, 1, "X", taker_side, taker_quantity, taker_limit)
    fillable = book.fillable(taker, SelfTradePrevention.CANCEL_OLDEST)

    result = book.match(taker, SelfTradePrevention.CANCEL_OLDEST)

    maker_side = Side.SELL if taker_side == Side.BUY else Side.BUY
    candidates = [
        o
        for o in model
        if o.side == maker_side
        and (o.limit <= taker_limit if taker_side == Side.BUY else o.limit >= taker_limit)
    ]
    candidates.sort(key=lambda o: (o.limit if taker_side == Side.BUY else -o.limit, o.order_id))
    expected = []
    need = taker_quantity
    for order in candidates:
        if not need:
            break
        if order.account == taker.account:
            continue
        quantity = min(need, order.quantity)
        expected.append((order.order_id, quantity, order.limit))
        need -= quantity
    assert [(m.order_id, q, p) for m, q, p in result.fills] == expected
    assert taker.remaining == need
    assert min(fillable, taker_quantity) == taker_quantity - need
    assert not book.is_crossed()
