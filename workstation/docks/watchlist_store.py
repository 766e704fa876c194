"""The user's watchlists, kept on the server (``/api/v1/watchlists``) and shared by every
watchlist panel of a session.

Edits apply locally at once (the panel never waits for the network) and are written back a
moment later: a drag that moves a row ten times makes one PUT. The first time an account has
no lists, two are made from the universe: "NIFTY 50" (the equities) and "Crypto &
commodities".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from PySide6.QtCore import QObject, QTimer, Signal

from exchange_server.protocol import InstrumentOut, WatchlistOut
from workstation.session.tasks import spawn

if TYPE_CHECKING:
    from workstation.session.session import Session

SAVE_DELAY_MS = 600
DEFAULT_LISTS = (
    ("NIFTY 50", ("equity",)),
    ("Crypto & commodities", ("crypto", "commodity")),
)


@dataclass
class Watchlist:
    watchlist_id: int
    name: str
    symbols: list[str] = field(default_factory=list)

    @classmethod
    def from_wire(cls, item: WatchlistOut) -> Watchlist:
        return cls(item.watchlist_id, item.name, list(item.symbols))


def default_lists(instruments: Iterable[InstrumentOut]) -> list[tuple[str, list[str]]]:
    pool = sorted(instruments, key=lambda item: item.symbol)
    return [
        (name, [item.symbol for item in pool if item.asset_class in classes])
        for name, classes in DEFAULT_LISTS
    ]


_stores: WeakKeyDictionary[QObject, WatchlistStore] = WeakKeyDictionary()


class WatchlistStore(QObject):
    lists_changed = Signal()  # a list was added, removed or renamed, or the lists loaded
    symbols_changed = Signal(int)  # watchlist_id: its symbols changed (maybe in another panel)

    @classmethod
    def for_session(cls, session: Session) -> WatchlistStore:
        """The one store of ``session`` (panels share it, so they agree on the lists)."""
        store = _stores.get(session)
        if store is None:
            store = _stores[session] = cls(session)
        return store

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session
        self.lists: list[Watchlist] = []
        self.loaded = False
        self._loading = False
        self._dirty: set[int] = set()
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_dirty)

    def _report(self, level: str, text: str) -> None:
        self.session.notice.emit(level, text)

    def get(self, watchlist_id: int) -> Watchlist | None:
        return next((w for w in self.lists if w.watchlist_id == watchlist_id), None)

    # -- loading --------------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        if self.loaded or self._loading:
            return
        self._loading = True
        spawn(self.load(), self._report, "Loading watchlists")

    async def load(self) -> None:
        try:
            items = await self.session.client.watchlists()
            if not items:
                items = await self._create_defaults()
        finally:
            self._loading = False
        self.lists = [Watchlist.from_wire(item) for item in sorted(items, key=_position)]
        self.loaded = True
        self.lists_changed.emit()

    async def _create_defaults(self) -> list[WatchlistOut]:
        instruments: Iterable[InstrumentOut] = self.session.instruments.values()
        if not self.session.instruments:
            instruments = await self.session.client.instruments()
        created = []
        for name, symbols in default_lists(instruments):
            if symbols:
                created.append(await self.session.client.create_watchlist(name, symbols))
        return created

    # -- editing --------------------------------------------------------------------------
    async def create(self, name: str, symbols: Iterable[str] = ()) -> Watchlist:
        item = await self.session.client.create_watchlist(name, symbols)
        watchlist = Watchlist.from_wire(item)
        self.lists.append(watchlist)
        self.lists_changed.emit()
        return watchlist

    async def rename(self, watchlist_id: int, name: str) -> None:
        watchlist = self.get(watchlist_id)
        if watchlist is None:
            return
        item = await self.session.client.update_watchlist(watchlist_id, name, watchlist.symbols)
        watchlist.name = item.name
        self.lists_changed.emit()

    async def delete(self, watchlist_id: int) -> None:
        await self.session.client.delete_watchlist(watchlist_id)
        self.lists = [w for w in self.lists if w.watchlist_id != watchlist_id]
        self._dirty.discard(watchlist_id)
        self.lists_changed.emit()

    def set_symbols(self, watchlist_id: int, symbols: Iterable[str]) -> None:
        """Change a list's symbols now and save them shortly (edits in a burst save once)."""
        watchlist = self.get(watchlist_id)
        if watchlist is None:
            return
        symbols = list(symbols)
        if symbols == watchlist.symbols:
            return
        watchlist.symbols = symbols
        self._dirty.add(watchlist_id)
        self._save_timer.start()
        self.symbols_changed.emit(watchlist_id)

    def save_pending(self) -> None:
        """Write unsaved edits now (the app calls this before it closes)."""
        if self._dirty:
            self._save_timer.stop()
            self._save_dirty()

    def has_unsaved(self) -> bool:
        return bool(self._dirty)

    def _save_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for watchlist_id in dirty:
            watchlist = self.get(watchlist_id)
            if watchlist is not None:
                spawn(self._save(watchlist), self._report, f"Saving watchlist {watchlist.name}")

    async def _save(self, watchlist: Watchlist) -> None:
        await self.session.client.update_watchlist(
            watchlist.watchlist_id, watchlist.name, watchlist.symbols
        )


def _position(item: WatchlistOut) -> tuple[int, int]:
    return item.position, item.watchlist_id
