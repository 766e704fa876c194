"""The exchange as a deterministic state machine: ``apply(command, now) -> events``.

Risk checks, matching, settlement, stops, expiries and circuit breakers all happen here, one
command at a time. A refused command raises ``Rejected`` before anything is changed and comes
out as a single ``CommandRejected`` event. Nothing here does I/O or reads a clock: the time is
the one the sequencer stamped on the command, so replaying a journal repeats history exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Final

from exchange_server.domain import risk
from exchange_server.domain.book import STOP_BAND, STOP_SELF_TRADE, OrderBook
from exchange_server.domain.commands import (
    Adjust,
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
    BUY,
    CANCELLED,
    DAY,
    EXPIRED,
    FILLED,
    FOK,
    GTD,
    HALTED,
    IOC,
    PARTIALLY_FILLED,
    POST_ONLY,
    STOP_LIMIT,
    STOP_MARKET,
    TRIGGERED,
    OrderStatus,
    SelfTradePrevention,
    TradingStatus,
)
from exchange_server.domain.events import (
    AccountUpdated,
    BalanceChanged,
    BookChanged,
    CommandRejected,
    Event,
    FeesChanged,
    InstrumentListed,
    InstrumentStatusChanged,
    OrderResubmitted,
    OrderUpdated,
    TradeExecuted,
)
from exchange_server.domain.instruments import PPM, Instrument
from exchange_server.domain.ledger import EXTERNAL, FEES, SYSTEM_ACCOUNTS, Ledger
from exchange_server.domain.orders import Order
from exchange_server.domain.rejections import Reject, Rejected
from exchange_server.domain.stops import StopBook
from exchange_server.domain.validation import check_command

# Passed on every order's reservation: module constants, not enum attribute reads.
_NO_FUNDS: Final = Reject.INSUFFICIENT_FUNDS
_NO_HOLDINGS: Final = Reject.INSUFFICIENT_HOLDINGS

MAX_AMOUNT: Final = 10**15  # largest single deposit, withdrawal or adjustment, in asset units

_OrderFingerprint = tuple[Any, ...]


class DuplicateOrder(Exception):
    """Internal: a resubmitted client order id; answered with the original order."""


class Exchange:
    def __init__(self, maker_fee_ppm: int = 0, taker_fee_ppm: int = 0) -> None:
        self.instruments: dict[str, Instrument] = {}
        self.books: dict[str, OrderBook] = {}
        self.stops: dict[str, StopBook] = {}
        self.last_price: dict[str, int] = {}
        self.ledger = Ledger()
        self.self_trade_prevention: dict[int, SelfTradePrevention] = {}
        self.orders: dict[int, Order] = {}  # live orders: resting or waiting for a trigger
        self.account_orders: dict[int, set[int]] = {}
        # (account, client order id) -> (order id, what was asked); kept for the trading day.
        self.client_orders: dict[tuple[int, str], tuple[int, _OrderFingerprint]] = {}
        self.expiries: list[tuple[int, int]] = []  # heap of (expire_at, order id), GTD only
        self.maker_fee_ppm = maker_fee_ppm
        self.taker_fee_ppm = taker_fee_ppm
        self.next_order_id = 1
        self.next_trade_id = 1
        self.now = 0
        self.events: list[Event] = []
        self._dirty_books: dict[str, OrderBook] = {}
        self._triggering = False  # a stop cascade is being run (see _trigger_stops)
        self._handlers: dict[type[Command], Callable[[Any], None]] = {
            PlaceOrder: self._place,
            CancelOrder: self._cancel,
            ModifyOrder: self._modify,
            CancelAll: self._cancel_all,
            Deposit: self._deposit,
            Withdraw: self._withdraw,
            Adjust: self._adjust,
            ListInstrument: self._list_instrument,
            OpenAccount: self._open_account,
            SetSelfTradePrevention: self._set_self_trade_prevention,
            SetTradingStatus: self._set_trading_status,
            SetReferencePrice: self._set_reference_price,
            SetFees: self._set_fees,
            EndOfDay: self._end_of_day,
            Tick: self._tick,
        }

    # -- the one entry point -------------------------------------------------------------
    def apply(self, command: Command, now: int) -> list[Event]:
        """Apply one command at time ``now`` (epoch ns) and return what happened."""
        if now > self.now:
            self.now = now
        events: list[Event] = []
        self.events = events
        if self.expiries and self.expiries[0][0] <= self.now:
            self._expire_due()
        try:
            check_command(command)
            if type(command) is PlaceOrder:  # the busiest, called directly
                self._place(command)
            elif type(command) is CancelOrder:
                self._cancel(command)
            else:
                self._handlers[type(command)](command)
        except Rejected as refused:
            events.append(
                CommandRejected(
                    command.kind,
                    refused.reason,
                    refused.message,
                    _echo(command, "account", 0),
                    _echo(command, "client_order_id", ""),
                    _echo(command, "order_id", 0),
                    _echo(command, "symbol", ""),
                )
            )
        except DuplicateOrder:
            pass
        if self._dirty_books:
            self._emit_book_changes()
        if self.ledger.changed:
            self._emit_balance_changes()
        return events

    # -- orders --------------------------------------------------------------------------
    def _place(self, c: PlaceOrder) -> None:
        instrument = self.instruments.get(c.symbol)
        if instrument is None:
            raise Rejected(Reject.UNKNOWN_INSTRUMENT, repr(c.symbol))
        if c.account not in self.self_trade_prevention:
            raise Rejected(Reject.UNKNOWN_ACCOUNT)
        coid = c.client_order_id
        if coid:
            self._check_resubmission(c)
        limit = risk.validate_new_order(c, instrument, self.last_price.get(c.symbol, 0), self.now)
        book = self.books[c.symbol]
        is_stop = c.order_type == STOP_MARKET or c.order_type == STOP_LIMIT
        if c.post_only and not is_stop and book.would_cross(c.side, limit):
            raise Rejected(Reject.POST_ONLY_WOULD_CROSS)
        if instrument.status == POST_ONLY and not is_stop and book.would_cross(c.side, limit):
            raise Rejected(Reject.INSTRUMENT_POST_ONLY)
        # Reserve last: it is the only check that changes anything, and it is atomic.
        if c.side == BUY:
            reserved = risk.buy_reservation(instrument, limit, c.quantity, self._max_fee_ppm)
            self.ledger.reserve(c.account, instrument.currency, reserved, _NO_FUNDS)
        else:
            reserved = c.quantity
            self.ledger.reserve(c.account, c.symbol, reserved, _NO_HOLDINGS)

        order_id = self.next_order_id
        self.next_order_id = order_id + 1
        order = Order(
            order_id,
            c.account,
            c.symbol,
            c.side,
            c.quantity,
            limit,
            c.order_type,
            c.tif,
            c.price,
            c.trigger_price,
            coid,
            c.post_only,
            c.expire_at,
            self.now,
        )
        order.reserved = reserved
        if coid:
            self.client_orders[c.account, coid] = (order_id, _fingerprint(c))
        if is_stop:
            self._track(order)
            self.stops[c.symbol].add(order)
            self.events.append(_order_event(order))
            return
        self._activate(order, instrument, book)

    def _activate(self, order: Order, instrument: Instrument, book: OrderBook) -> None:
        """An order goes live (accepted, or its stop triggered): a fill-or-kill is checked
        against the book first; then the order is announced and matched."""
        stp = self.self_trade_prevention[order.account]
        if order.tif == FOK and (
            book.fillable(order, stp, instrument.band_low, instrument.band_high) < order.remaining
        ):
            self._finish(order, CANCELLED, "fill-or-kill could not fill completely")
            return
        self.events.append(_order_event(order))
        self._execute(order, instrument, book)

    def _check_resubmission(self, c: PlaceOrder) -> None:
        risk.check_client_order_id(c.client_order_id)
        prior = self.client_orders.get((c.account, c.client_order_id))
        if prior is None:
            return
        order_id, fingerprint = prior
        if fingerprint != _fingerprint(c):
            raise Rejected(Reject.DUPLICATE_CLIENT_ORDER_ID, f"order {order_id}")
        self.events.append(OrderResubmitted(order_id, c.account, c.client_order_id))
        live = self.orders.get(order_id)
        if live is not None:
            self.events.append(_order_event(live))
        raise DuplicateOrder  # the original stands; nothing else happens

    def _execute(self, order: Order, instrument: Instrument, book: OrderBook) -> None:
        """Match an order that has just become active (new, triggered or re-priced; not
        tracked as live yet), then rest or finish its remainder."""
        self._dirty_books[order.symbol] = book
        traded = False
        decremented = False
        if book.would_cross(order.side, order.limit):
            result = book.match(
                order,
                self.self_trade_prevention[order.account],
                instrument.band_low,
                instrument.band_high,
            )
            if result.fills:
                traded = True
                self._settle(order, result.fills, instrument)
            for maker in result.stp_makers:
                self._self_trade_reduced(maker, instrument)
            # A taker that self-trade prevention ends is cancelled whole (it keeps the
            # quantity asked for); one that survives a decrement is that much smaller.
            if result.taker_decrement and result.stop != STOP_SELF_TRADE:
                order.quantity -= result.taker_decrement
                self._resize_reservation(order, instrument)
                decremented = True
            if result.stop == STOP_BAND:
                self._halt(instrument, "circuit breaker: next trade was outside the price band")
                self._finish(order, CANCELLED, "circuit breaker halted the market")
            elif result.stop == STOP_SELF_TRADE:
                order.remaining = 0
                self._finish(order, CANCELLED, "self-trade prevention")
        if order.remaining:
            if order.is_market or order.tif == IOC or order.tif == FOK:
                self._finish(order, CANCELLED, "unfilled remainder cancelled")
            else:
                book.add(order)
                self._track(order)
                # The caller announced the order as it arrived; tell what changed since.
                if order.filled or decremented:
                    if order.filled:
                        order.status = PARTIALLY_FILLED
                    self.events.append(_order_event(order))
        elif order.status not in (FILLED, CANCELLED):
            self._finish(order, FILLED, "")
        if traded:
            self._trigger_stops(order.symbol, instrument, book)

    def _settle(self, taker: Order, fills: list[tuple[Order, int, int]], inst: Instrument) -> None:
        """Book every fill: move cash and holdings, charge fees, update both orders."""
        ledger = self.ledger
        events = self.events
        currency = inst.currency
        symbol = inst.symbol
        multiplier = inst.notional_multiplier
        maker_ppm = self.maker_fee_ppm
        taker_ppm = self.taker_fee_ppm
        max_ppm = self._max_fee_ppm
        taker_buys = taker.side == BUY
        now = self.now
        for maker, quantity, price in fills:
            notional = price * quantity * multiplier
            maker_fee = notional * maker_ppm // PPM
            taker_fee = notional * taker_ppm // PPM
            if taker_buys:
                buyer, seller, buyer_fee, seller_fee = taker, maker, taker_fee, maker_fee
            else:
                buyer, seller, buyer_fee, seller_fee = maker, taker, maker_fee, taker_fee
            # Buyer: spend from its reservation, keep what its remainder still needs. A taker's
            # ``remaining`` is already final here, so its first fill releases all it will not
            # need and later fills only debit; the totals come out the same.
            still_needed = buyer.limit * buyer.remaining * multiplier
            still_needed += still_needed * max_ppm // PPM
            ledger.settle(
                buyer.account, currency, buyer.reserved - still_needed, notional + buyer_fee
            )
            buyer.reserved = still_needed
            ledger.credit(buyer.account, symbol, quantity)
            # Seller: deliver the reserved holdings, receive the proceeds less fees.
            ledger.settle(seller.account, symbol, quantity, quantity)
            seller.reserved -= quantity
            ledger.credit(seller.account, currency, notional - seller_fee)
            ledger.credit(FEES, currency, buyer_fee + seller_fee)
            trade_id = self.next_trade_id
            self.next_trade_id = trade_id + 1
            taker.filled += quantity
            taker.filled_notional += notional
            taker.fees += taker_fee
            maker.filled += quantity
            maker.filled_notional += notional
            maker.fees += maker_fee
            maker.updated_at = now
            events.append(
                TradeExecuted(
                    trade_id,
                    symbol,
                    price,
                    quantity,
                    notional,
                    taker.side,
                    buyer.order_id,
                    seller.order_id,
                    buyer.account,
                    seller.account,
                    buyer_fee,
                    seller_fee,
                    now,
                )
            )
            if maker.remaining:
                maker.status = PARTIALLY_FILLED
                events.append(_order_event(maker))
            else:
                self._finish(maker, FILLED, "")
        taker.updated_at = now
        self.last_price[symbol] = fills[-1][2]

    def _self_trade_reduced(self, maker: Order, instrument: Instrument) -> None:
        """A resting order cancelled or shrunk by self-trade prevention."""
        if maker.remaining:  # decremented: smaller; a cancelled one keeps its quantity
            maker.quantity = maker.filled + maker.remaining
            self._resize_reservation(maker, instrument)
            maker.updated_at = self.now
            self.events.append(_order_event(maker))
        else:
            self._finish(maker, CANCELLED, "self-trade prevention")

    def _resize_reservation(self, order: Order, instrument: Instrument) -> None:
        """Shrink an order's reservation to what its (smaller) remainder needs."""
        if order.side == BUY:
            need = risk.buy_reservation(instrument, order.limit, order.remaining, self._max_fee_ppm)
            self.ledger.release(order.account, instrument.currency, order.reserved - need)
        else:
            need = order.remaining
            self.ledger.release(order.account, order.symbol, order.reserved - need)
        order.reserved = need

    def _finish(self, order: Order, status: OrderStatus, reason: str) -> None:
        """End an order's life: out of the book, reservation released, event emitted."""
        if order.remaining:
            if order.order_id not in self.orders:  # still active, never rested
                order.remaining = 0
            elif order.order_id in self.stops[order.symbol].pending:
                self.stops[order.symbol].remove(order)
                order.remaining = 0
            else:
                book = self.books[order.symbol]
                book.remove(order)
                self._dirty_books[order.symbol] = book
        if order.reserved:
            asset = self.instruments[order.symbol].currency if order.side == BUY else order.symbol
            self.ledger.release(order.account, asset, order.reserved)
            order.reserved = 0
        order.status = status
        order.reason = reason
        order.updated_at = self.now
        self._untrack(order)
        self.events.append(_order_event(order))

    def _untrack(self, order: Order) -> None:
        if self.orders.pop(order.order_id, None) is not None:
            self.account_orders[order.account].discard(order.order_id)

    def _track(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.account_orders[order.account].add(order.order_id)
        if order.tif == GTD:
            heappush(self.expiries, (order.expire_at, order.order_id))

    def _owned_open_order(self, account: int, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            if type(order_id) is int and 0 < order_id < self.next_order_id:
                raise Rejected(Reject.ORDER_NOT_OPEN)
            raise Rejected(Reject.UNKNOWN_ORDER)
        if order.account != account:
            raise Rejected(Reject.NOT_ORDER_OWNER)
        return order

    def _cancel(self, c: CancelOrder) -> None:
        order = self._owned_open_order(c.account, c.order_id)
        self._finish(order, CANCELLED, "cancelled by user")

    def _cancel_all(self, c: CancelAll) -> None:
        if c.account not in self.account_orders:
            raise Rejected(Reject.UNKNOWN_ACCOUNT)
        if c.symbol and c.symbol not in self.instruments:
            raise Rejected(Reject.UNKNOWN_INSTRUMENT, repr(c.symbol))
        for order_id in sorted(self.account_orders[c.account]):
            order = self.orders[order_id]
            if not c.symbol or order.symbol == c.symbol:
                self._finish(order, CANCELLED, "cancelled by user (cancel all)")

    def _modify(self, c: ModifyOrder) -> None:
        order = self._owned_open_order(c.account, c.order_id)
        instrument = self.instruments[order.symbol]
        risk.check_entry_allowed(instrument)
        stops = self.stops[order.symbol]
        pending_stop = order.order_id in stops.pending
        quantity = c.quantity or order.quantity
        price = c.price or order.price
        trigger = c.trigger_price or order.trigger_price
        if quantity == order.quantity and price == order.price and trigger == order.trigger_price:
            raise Rejected(Reject.MODIFY_NO_CHANGE)
        risk.check_quantity(instrument, quantity)
        if quantity <= order.filled:
            raise Rejected(Reject.MODIFY_BELOW_FILLED, f"filled {order.filled}")
        if price != order.price:
            if order.is_market:
                raise Rejected(Reject.INVALID_PRICE, "market orders take no price")
            risk.check_limit_price(instrument, price)
        if trigger != order.trigger_price:
            if not pending_stop:
                raise Rejected(Reject.INVALID_TRIGGER, "only untriggered stop orders have one")
            risk.check_trigger(
                instrument, order.side, trigger, self.last_price.get(order.symbol, 0)
            )
        limit = order.limit if order.is_market else price
        risk.check_notional(instrument, limit, quantity)
        book = self.books[order.symbol]
        crosses = not pending_stop and price != order.price and book.would_cross(order.side, limit)
        if crosses and order.post_only:
            raise Rejected(Reject.POST_ONLY_WOULD_CROSS)
        if crosses and instrument.status == POST_ONLY:
            raise Rejected(Reject.INSTRUMENT_POST_ONLY)
        remaining = quantity - order.filled
        if order.side == BUY:
            asset = instrument.currency
            need = risk.buy_reservation(instrument, limit, remaining, self._max_fee_ppm)
        else:
            asset = order.symbol
            need = remaining
        if need > order.reserved:
            shortfall = _NO_FUNDS if order.side == BUY else _NO_HOLDINGS
            self.ledger.reserve(order.account, asset, need - order.reserved, shortfall)
        else:
            self.ledger.release(order.account, asset, order.reserved - need)
        # From here on nothing can refuse.
        if pending_stop:
            stops.remove(order)
            order.quantity, order.price, order.trigger_price = quantity, price, trigger
            order.limit, order.remaining, order.reserved = limit, remaining, need
            order.updated_at = self.now
            stops.add(order)
            self.events.append(_order_event(order))
            return
        if price == order.price and quantity < order.quantity:
            book.reduce(order, remaining)  # a reduction keeps time priority
            self._dirty_books[order.symbol] = book
            order.quantity, order.reserved, order.updated_at = quantity, need, self.now
            self.events.append(_order_event(order))
            return
        book.remove(order)  # anything else goes to the back of the queue
        self._untrack(order)
        moved = order.requeued()
        moved.quantity, moved.price, moved.limit = quantity, price, limit
        moved.remaining, moved.reserved, moved.updated_at = remaining, need, self.now
        self.events.append(_order_event(moved))
        self._execute(moved, instrument, book)

    # -- stops and expiries --------------------------------------------------------------
    def _trigger_stops(self, symbol: str, instrument: Instrument, book: OrderBook) -> None:
        """Activate every stop the last trade crossed, in trigger order; each may trade and
        so trigger more. One loop runs the whole cascade: a triggered stop that trades leaves
        what it triggers to the loop already running (which re-reads the last price), so a
        long cascade does not nest a call per stop and exhaust the stack."""
        if self._triggering:
            return
        self._triggering = True
        try:
            self._run_triggered_stops(symbol, instrument, book)
        finally:
            self._triggering = False

    def _run_triggered_stops(self, symbol: str, instrument: Instrument, book: OrderBook) -> None:
        stops = self.stops[symbol]
        while instrument.status != HALTED:
            order = stops.pop_triggered(self.last_price[symbol])
            if order is None:
                return
            self._untrack(order)
            order.status = TRIGGERED
            order.updated_at = self.now
            if order.order_type == STOP_MARKET:
                # Protection is the tighter of the band at acceptance and the band now.
                band_edge = instrument.band_high if order.side == BUY else instrument.band_low
                if band_edge:
                    order.limit = (
                        min(order.limit, band_edge)
                        if order.side == BUY
                        else max(order.limit, band_edge)
                    )
                self._resize_reservation(order, instrument)
            if instrument.status == POST_ONLY or (
                order.post_only and book.would_cross(order.side, order.limit)
            ):
                self._finish(order, CANCELLED, "would cross while post-only")
                continue
            self._activate(order, instrument, book)

    def _expire_due(self) -> None:
        expiries = self.expiries
        while expiries and expiries[0][0] <= self.now:
            expire_at, order_id = heappop(expiries)
            order = self.orders.get(order_id)
            if order is not None and order.expire_at == expire_at:
                self._finish(order, EXPIRED, "good-till-date expiry")

    def _end_of_day(self, c: EndOfDay) -> None:
        if c.symbol and c.symbol not in self.instruments:
            raise Rejected(Reject.UNKNOWN_INSTRUMENT, repr(c.symbol))
        for order_id in sorted(self.orders):  # id order: insertion order is not in snapshots
            order = self.orders[order_id]
            if order.tif == DAY and (not c.symbol or order.symbol == c.symbol):
                self._finish(order, EXPIRED, "end of day")
        # Finished orders' client ids may be reused from the next day (fingerprint[0] is
        # the symbol, so a per-instrument end of day forgets only that instrument's).
        self.client_orders = {
            key: (order_id, fingerprint)
            for key, (order_id, fingerprint) in self.client_orders.items()
            if order_id in self.orders or (c.symbol and fingerprint[0] != c.symbol)
        }

    def _tick(self, c: Tick) -> None:
        """Time moved on; expiries already ran in ``apply``."""

    # -- markets -------------------------------------------------------------------------
    def _list_instrument(self, c: ListInstrument) -> None:
        if c.symbol in self.instruments:
            raise Rejected(Reject.INSTRUMENT_EXISTS, repr(c.symbol))
        if c.symbol in self.ledger_currencies():
            raise Rejected(Reject.INVALID_INSTRUMENT, "symbol clashes with a currency")
        try:
            instrument = Instrument(
                symbol=c.symbol,
                name=c.name,
                asset_class=c.asset_class,
                exchange=c.exchange,
                currency=c.currency,
                sector=c.sector,
                isin=c.isin,
                price_decimals=c.price_decimals,
                quantity_decimals=c.quantity_decimals,
                tick_size=c.tick_size,
                lot_size=c.lot_size,
                reference_price=c.reference_price,
                band_ppm=c.band_ppm,
                max_order_quantity=c.max_order_quantity,
                max_order_notional=c.max_order_notional,
            )
        except TypeError as problem:
            raise Rejected(Reject.INVALID_INSTRUMENT, str(problem)) from None
        if instrument.currency in self.instruments:
            raise Rejected(Reject.INVALID_INSTRUMENT, "currency clashes with a symbol")
        self.instruments[c.symbol] = instrument
        self.books[c.symbol] = OrderBook(c.symbol)
        self.stops[c.symbol] = StopBook()
        self.events.append(InstrumentListed.of(instrument))

    def ledger_currencies(self) -> set[str]:
        return {instrument.currency for instrument in self.instruments.values()}

    def _halt(self, instrument: Instrument, reason: str) -> None:
        instrument.status = HALTED
        self._emit_status(instrument, reason)

    def _emit_status(self, instrument: Instrument, reason: str) -> None:
        self.events.append(
            InstrumentStatusChanged(
                instrument.symbol,
                instrument.status,
                reason,
                instrument.reference_price,
                instrument.band_low,
                instrument.band_high,
            )
        )

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise Rejected(Reject.UNKNOWN_INSTRUMENT, repr(symbol))
        return instrument

    def _set_trading_status(self, c: SetTradingStatus) -> None:
        instrument = self._instrument(c.symbol)
        try:
            status = TradingStatus(c.status)
        except ValueError:
            raise Rejected(Reject.INVALID_STATUS, f"unknown status {c.status!r}") from None
        instrument.status = status
        self._emit_status(instrument, c.reason or f"set to {status}")

    def _set_reference_price(self, c: SetReferencePrice) -> None:
        instrument = self._instrument(c.symbol)
        if type(c.price) is not int or c.price <= 0 or c.price % instrument.tick_size:
            raise Rejected(Reject.INVALID_REFERENCE_PRICE)
        instrument.set_reference_price(c.price)
        self._emit_status(instrument, "reference price set")

    # -- accounts and money --------------------------------------------------------------
    def _open_account(self, c: OpenAccount) -> None:
        if type(c.account) is not int or c.account in SYSTEM_ACCOUNTS or c.account < 0:
            raise Rejected(Reject.UNKNOWN_ACCOUNT, "account ids are positive and not reserved")
        if c.account in self.self_trade_prevention:
            raise Rejected(Reject.ACCOUNT_EXISTS)
        mode = _stp_mode(c.self_trade_prevention)
        self.ledger.open(c.account)
        self.self_trade_prevention[c.account] = mode
        self.account_orders[c.account] = set()
        self.events.append(AccountUpdated(c.account, mode))

    def _set_self_trade_prevention(self, c: SetSelfTradePrevention) -> None:
        if c.account not in self.self_trade_prevention:
            raise Rejected(Reject.UNKNOWN_ACCOUNT)
        mode = _stp_mode(c.mode)
        self.self_trade_prevention[c.account] = mode
        self.events.append(AccountUpdated(c.account, mode))

    def _money_command(self, account: int, asset: str, amount: int, signed: bool = False) -> None:
        if account not in self.self_trade_prevention:
            raise Rejected(Reject.UNKNOWN_ACCOUNT)
        instrument = self.instruments.get(asset)
        if instrument is None and asset not in self.ledger_currencies():
            raise Rejected(Reject.UNKNOWN_ASSET, repr(asset))
        if instrument is not None and not instrument.tradable:
            raise Rejected(Reject.INSTRUMENT_NOT_TRADABLE, "an index cannot be held")
        size = abs(amount) if signed and type(amount) is int else amount
        if type(size) is not int or not 0 < size <= MAX_AMOUNT:
            raise Rejected(Reject.INVALID_AMOUNT)

    def _deposit(self, c: Deposit) -> None:
        self._money_command(c.account, c.asset, c.amount)
        self.ledger.transfer(EXTERNAL, c.account, c.asset, c.amount)

    def _withdraw(self, c: Withdraw) -> None:
        self._money_command(c.account, c.asset, c.amount)
        self._take(c.account, c.asset, c.amount)

    def _adjust(self, c: Adjust) -> None:
        self._money_command(c.account, c.asset, c.amount, signed=True)
        if c.amount > 0:
            self.ledger.transfer(EXTERNAL, c.account, c.asset, c.amount)
        else:
            self._take(c.account, c.asset, -c.amount)

    def _take(self, account: int, asset: str, amount: int) -> None:
        if self.ledger.available(account, asset) < amount:
            is_cash = asset not in self.instruments
            raise Rejected(Reject.INSUFFICIENT_FUNDS if is_cash else Reject.INSUFFICIENT_HOLDINGS)
        self.ledger.transfer(account, EXTERNAL, asset, amount)

    def _set_fees(self, c: SetFees) -> None:
        for ppm in (c.maker_ppm, c.taker_ppm):
            if type(ppm) is not int or not 0 <= ppm < PPM:
                raise Rejected(Reject.INVALID_FEES)
        self.maker_fee_ppm, self.taker_fee_ppm = c.maker_ppm, c.taker_ppm
        self.events.append(FeesChanged(c.maker_ppm, c.taker_ppm))
        # Buy reservations include the highest fee; re-size them to the new schedule and
        # cancel the orders whose owners cannot cover a higher one.
        # In order id order: who keeps an order when cash runs short must not depend on the
        # dict's insertion order, which a snapshot does not keep.
        for order_id in sorted(self.orders):
            order = self.orders[order_id]
            if order.side != BUY:
                continue
            instrument = self.instruments[order.symbol]
            need = risk.buy_reservation(instrument, order.limit, order.remaining, self._max_fee_ppm)
            extra = need - order.reserved
            if extra <= 0:
                self.ledger.release(order.account, instrument.currency, -extra)
            elif self.ledger.available(order.account, instrument.currency) >= extra:
                self.ledger.reserve(
                    order.account, instrument.currency, extra, Reject.INSUFFICIENT_FUNDS
                )
            else:
                self._finish(order, CANCELLED, "insufficient funds for the new fees")
                continue
            order.reserved = need

    @property
    def _max_fee_ppm(self) -> int:
        return self.maker_fee_ppm if self.maker_fee_ppm > self.taker_fee_ppm else self.taker_fee_ppm

    # -- change notifications ------------------------------------------------------------
    def _emit_book_changes(self) -> None:
        events = self.events
        for symbol, book in self._dirty_books.items():
            for side, price in book.changed:
                levels = book.bid_levels if side == BUY else book.ask_levels
                level = levels.get(price)
                if level is None:
                    events.append(BookChanged(symbol, side, price, 0, 0))
                else:
                    events.append(BookChanged(symbol, side, price, level.quantity, level.count))
            book.changed.clear()
        self._dirty_books.clear()

    def _emit_balance_changes(self) -> None:
        ledger = self.ledger
        events = self.events
        for account, asset in ledger.changed:
            events.append(
                BalanceChanged(
                    account,
                    asset,
                    ledger.balances[account].get(asset, 0),
                    ledger.reserved[account].get(asset, 0),
                )
            )
        ledger.changed.clear()


def _echo(command: Command, name: str, default: Any) -> Any:
    """A field of a refused command to repeat in the refusal, if it has the right type
    (the refusal may be about that very field being malformed)."""
    value = getattr(command, name, default)
    return value if type(value) is type(default) else default


def _fingerprint(c: PlaceOrder) -> _OrderFingerprint:
    return (
        c.symbol,
        c.side,
        c.quantity,
        c.order_type,
        c.price,
        c.trigger_price,
        c.tif,
        c.post_only,
        c.expire_at,
    )


def _stp_mode(value: str) -> SelfTradePrevention:
    try:
        return SelfTradePrevention(value)
    except ValueError:
        raise Rejected(Reject.INVALID_SELF_TRADE_PREVENTION, repr(value)) from None


def _order_event(order: Order) -> OrderUpdated:
    """The full state of ``order`` as an event (built here, in the compiled engine, rather
    than by a classmethod on the interpreted event class)."""
    return OrderUpdated(
        order.order_id,
        order.account,
        order.symbol,
        order.side,
        order.order_type,
        order.tif,
        order.status,
        order.quantity,
        order.price,
        order.trigger_price,
        order.filled,
        order.remaining,
        order.filled_notional,
        order.fees,
        order.client_order_id,
        order.post_only,
        order.expire_at,
        order.created_at,
        order.updated_at,
        order.reason,
    )
