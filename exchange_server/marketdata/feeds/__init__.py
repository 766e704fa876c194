"""External market data feeds: the adapter interface (``adapter``), field mapping, tick
validation, the reference WebSocket JSON client, mirror mode and a local feed server."""

from exchange_server.marketdata.feeds.adapter import (
    ExternalPrices,
    FeedAdapter,
    FeedHealth,
    FeedState,
    Tick,
    TickSink,
)
from exchange_server.marketdata.feeds.service import FeedMode, FeedSettings, MarketFeed

__all__ = [
    "ExternalPrices",
    "FeedAdapter",
    "FeedHealth",
    "FeedMode",
    "FeedSettings",
    "FeedState",
    "MarketFeed",
    "Tick",
    "TickSink",
]
