"""Portfolio arithmetic: FIFO lots from fills, and the numbers the portfolio panel shows.

The server keeps positions at average cost. Traders usually want realised P&L by FIFO (the
first shares bought are the first sold), so it is computed here from the account's fills.
When the fills the session holds do not explain a position (older fills not loaded, or a
holding that was deposited rather than bought), the difference becomes an opening lot at the
server's average cost and the result is marked ``partial``.

All money is Decimal; the only floats are for drawing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from exchange_server.protocol import Balance, Fill, InstrumentOut, Position, Quote

ZERO = Decimal(0)
CASH_ASSET = "INR"


@dataclass(slots=True)
class Lot:
    quantity: Decimal  # signed: positive long, negative short
    price: Decimal


@dataclass
class FifoBook:
    """One symbol's open lots (oldest first) and what closing lots realised."""

    symbol: str
    lots: deque[Lot] = field(default_factory=deque)
    realised: Decimal = ZERO  # gross of fees
    fees: Decimal = ZERO
    partial: bool = False  # the fills did not explain the position (see fifo_books)

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((lot.quantity * lot.price for lot in self.lots), ZERO)

    @property
    def average_cost(self) -> Decimal | None:
        quantity = self.quantity
        return self.cost / quantity if quantity else None

    def apply(self, side: str, quantity: Decimal, price: Decimal, fee: Decimal = ZERO) -> None:
        """A fill: close opposite lots oldest first, open a new lot with what is left."""
        signed = quantity if side == "buy" else -quantity
        self.fees += fee
        while signed and self.lots and (self.lots[0].quantity > 0) != (signed > 0):
            lot = self.lots[0]
            closed = min(abs(signed), abs(lot.quantity))
            direction = 1 if lot.quantity > 0 else -1  # long lots gain when price rises
            self.realised += (price - lot.price) * closed * direction
            lot.quantity -= closed * direction
            signed += closed * direction
            if not lot.quantity:
                self.lots.popleft()
        if signed:
            self.lots.append(Lot(signed, price))

    def unrealised(self, price: Decimal) -> Decimal:
        return sum(((price - lot.price) * lot.quantity for lot in self.lots), ZERO)

    def _drop(self, quantity: Decimal) -> None:
        """Remove ``quantity`` from the oldest lots without realising anything."""
        while quantity and self.lots:
            lot = self.lots[0]
            taken = min(quantity, abs(lot.quantity))
            lot.quantity -= taken if lot.quantity > 0 else -taken
            quantity -= taken
            if not lot.quantity:
                self.lots.popleft()


def fifo_books(
    fills: Iterable[Fill], positions: Mapping[str, Position] | None = None
) -> dict[str, FifoBook]:
    """Replay ``fills`` oldest first. With ``positions`` (the server's truth) the books are
    made to end at the same quantities: what the fills do not explain was held before them
    (an opening lot at the server's average cost), or left by a way the fills do not show
    (the oldest lots are dropped, realising nothing)."""
    ordered = sorted(fills, key=lambda f: (f.ts, f.trade_id))
    books: dict[str, FifoBook] = {}
    net: dict[str, Decimal] = {}
    for fill in ordered:
        signed = fill.quantity if fill.side == "buy" else -fill.quantity
        net[fill.symbol] = net.get(fill.symbol, ZERO) + signed
    missing: dict[str, Decimal] = {}
    if positions is not None:
        for symbol in {*net, *positions}:
            position = positions.get(symbol)
            held = position.quantity if position is not None else ZERO
            if held != net.get(symbol, ZERO):
                missing[symbol] = held - net.get(symbol, ZERO)
    for symbol, quantity in missing.items():
        book = books[symbol] = FifoBook(symbol, partial=True)
        position = positions.get(symbol) if positions is not None else None
        if quantity > 0:
            price = position.average_price if position is not None else None
            if price is None:  # nothing better known: the first fill's price
                price = next((f.price for f in ordered if f.symbol == symbol), ZERO)
            book.lots.append(Lot(quantity, price))
    for fill in ordered:
        if fill.symbol not in books:
            books[fill.symbol] = FifoBook(fill.symbol)
        books[fill.symbol].apply(fill.side, fill.quantity, fill.price, fill.fee)
    for symbol, quantity in missing.items():
        if quantity < 0:
            books[symbol]._drop(-quantity)
    return books


@dataclass(frozen=True, slots=True)
class Holding:
    symbol: str
    sector: str
    quantity: Decimal
    average_cost: Decimal | None  # FIFO: of the lots still open
    last: Decimal | None
    value: Decimal
    day_pnl: Decimal
    unrealised: Decimal
    realised: Decimal  # FIFO, net of fees
    weight: Decimal  # share of the holdings' value, per cent
    partial: bool


@dataclass(frozen=True, slots=True)
class Summary:
    cash: Decimal
    holdings_value: Decimal
    account_value: Decimal
    day_pnl: Decimal
    unrealised: Decimal
    realised: Decimal
    fees: Decimal
    partial: bool

    @property
    def total_pnl(self) -> Decimal:
        return self.realised + self.unrealised


def mark_price(quote: Quote | None, position: Position | None, book: FifoBook) -> Decimal | None:
    """The price a holding is valued at: last trade, else the middle of the book, else the
    server's last, else what it cost."""
    if quote is not None:
        if quote.last is not None:
            return quote.last
        if quote.bid is not None and quote.ask is not None:
            return (quote.bid + quote.ask) / 2
    if position is not None and position.last_price is not None:
        return position.last_price
    return book.average_cost


def compute(
    instruments: Mapping[str, InstrumentOut],
    positions: Mapping[str, Position],
    balances: Mapping[str, Balance],
    fills: Iterable[Fill],
    quotes: Mapping[str, Quote],
    day_start_ns: int,
    books: dict[str, FifoBook] | None = None,
) -> tuple[Summary, list[Holding]]:
    fills = list(fills)
    books = fifo_books(fills, positions) if books is None else books
    today: dict[str, list[Fill]] = {}
    for fill in fills:
        if fill.ts >= day_start_ns:
            today.setdefault(fill.symbol, []).append(fill)

    rows = []
    for symbol, book in sorted(books.items()):
        position = positions.get(symbol)
        quote = quotes.get(symbol)
        last = mark_price(quote, position, book)
        quantity = book.quantity
        value = quantity * last if last is not None else ZERO
        unrealised = book.unrealised(last) if last is not None else ZERO
        day = day_pnl(quantity, last, quote, today.get(symbol, []))
        if not quantity and not book.realised and not book.fees:
            continue
        instrument = instruments.get(symbol)
        rows.append(
            (symbol, instrument.sector if instrument else "", book, last, value, unrealised, day)
        )

    holdings_value = sum((row[4] for row in rows), ZERO)
    gross = sum((abs(row[4]) for row in rows), ZERO)
    holdings = [
        Holding(
            symbol=symbol,
            sector=sector,
            quantity=book.quantity,
            average_cost=book.average_cost,
            last=last,
            value=value,
            day_pnl=day,
            unrealised=unrealised,
            realised=book.realised - book.fees,
            weight=(abs(value) / gross * 100) if gross else ZERO,
            partial=book.partial,
        )
        for symbol, sector, book, last, value, unrealised, day in rows
    ]
    cash_balance = balances.get(CASH_ASSET)
    cash = cash_balance.balance if cash_balance is not None else ZERO
    summary = Summary(
        cash=cash,
        holdings_value=holdings_value,
        account_value=cash + holdings_value,
        day_pnl=sum((h.day_pnl for h in holdings), ZERO),
        unrealised=sum((h.unrealised for h in holdings), ZERO),
        realised=sum((h.realised for h in holdings), ZERO),
        fees=sum((books[h.symbol].fees for h in holdings), ZERO),
        partial=any(h.partial for h in holdings),
    )
    return summary, holdings


def day_pnl(
    quantity: Decimal, last: Decimal | None, quote: Quote | None, today: list[Fill]
) -> Decimal:
    """Today's P&L of one symbol: what is held now at today's price, less what was held at
    the open at yesterday's close, less what today's trades cost (fees included)."""
    if last is None:
        return ZERO
    bought = sum(((f.quantity if f.side == "buy" else -f.quantity) for f in today), ZERO)
    spent = sum(
        ((f.quantity * f.price if f.side == "buy" else -f.quantity * f.price) for f in today),
        ZERO,
    )
    fees = sum((f.fee for f in today), ZERO)
    previous = quote.previous_close if quote is not None else None
    opening = quantity - bought
    reference = previous if previous is not None else last
    return quantity * last - opening * reference - spent - fees
