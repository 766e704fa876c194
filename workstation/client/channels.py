"""Stream channel names and per-channel sequence checking (pure, no I/O)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, TypeAdapter

from exchange_server.protocol import (
    CANDLE_INTERVALS,
    DEPTH_LEVELS,
    PRIVATE_CHANNELS,
    PUBLIC_CHANNELS,
    Balance,
    Candle,
    Depth,
    Fill,
    OrderOut,
    Position,
    PublicTrade,
    Quote,
)

DEFAULT_DEPTH_LEVELS = 5


def channel_name(channel: str, symbol: str | None = None, levels: int | None = None) -> str:
    """The server's name for a subscription: ``quote:RELIANCE``, ``depth:RELIANCE:5``,
    ``candles.1m:RELIANCE``, ``orders``. Raises ValueError for a subscription the protocol
    does not have, so a typo fails at the call rather than as a silent empty stream."""
    base, _, interval = channel.partition(".")
    if channel in PRIVATE_CHANNELS:
        if symbol is not None or levels is not None:
            raise ValueError(f"the {channel} channel takes no symbol or levels")
        return channel
    if base not in PUBLIC_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if not symbol:
        raise ValueError(f"the {channel} channel needs a symbol")
    if base == "candles":
        if interval not in CANDLE_INTERVALS:
            raise ValueError(f"candles need an interval: one of candles.{CANDLE_INTERVALS}")
    elif interval:
        raise ValueError(f"unknown channel {channel!r}")
    if base == "depth":
        depth = DEFAULT_DEPTH_LEVELS if levels is None else levels
        if depth not in DEPTH_LEVELS:
            raise ValueError(f"depth levels must be one of {DEPTH_LEVELS}")
        return f"depth:{symbol}:{depth}"
    if levels is not None:
        raise ValueError(f"the {channel} channel takes no levels")
    return f"{channel}:{symbol}"


# What each channel carries. State channels (quote, ticker, depth) send the whole state
# every time; event and per-item channels send a list in the snapshot and one item per
# update. A ticker is a subset of a quote's fields, so it parses as a Quote.
_STATE_MODELS: dict[str, type[BaseModel]] = {"quote": Quote, "ticker": Quote, "depth": Depth}
_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "trades": PublicTrade,
    "candles": Candle,
    "orders": OrderOut,
    "fills": Fill,
    "balances": Balance,
    "positions": Position,
}


def parse_data(channel: str, kind: str, data: Any) -> Any:
    """A message's ``data`` as protocol models: a model for state channels, a list of
    models for the snapshot of the others and one model for their updates. Unknown
    channels come back as the JSON they were."""
    base = channel.split(":", 1)[0].split(".", 1)[0]
    if base in _STATE_MODELS:
        return _STATE_MODELS[base].model_validate(data)
    model = _ITEM_MODELS.get(base)
    if model is None:
        return data
    if kind == "snapshot":
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
    return model.model_validate(data)


class Verdict(Enum):
    DELIVER = "deliver"
    DROP = "drop"  # stale: from before the current snapshot, or a duplicate
    GAP = "gap"  # messages were lost: resubscribe for a fresh snapshot


class SequenceTracker:
    """Checks one channel's ``seq`` numbers: a snapshot sets the base, each update must be
    the next number. Until a snapshot arrives, updates are dropped: they apply to a state
    this client does not have."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: int | None = None

    @property
    def synced(self) -> bool:
        return self.last is not None

    def reset(self) -> None:
        """Forget the base (new connection or resubscription): wait for a snapshot."""
        self.last = None

    def accept(self, kind: str, seq: int) -> Verdict:
        if kind == "snapshot":
            self.last = seq
            return Verdict.DELIVER
        if self.last is None or seq <= self.last:
            return Verdict.DROP
        if seq == self.last + 1:
            self.last = seq
            return Verdict.DELIVER
        self.last = None
        return Verdict.GAP
