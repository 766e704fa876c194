"""Prometheus metrics of external feeds, on the registry the caller passes (the server's own,
so they are served at ``/metrics`` with the rest). Every series is labelled by feed name so
several feeds can share a registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class FeedMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "exchange_feed_messages", "Messages received from a feed", ["feed"], registry=registry
        )
        self.ticks_accepted = Counter(
            "exchange_feed_ticks_accepted",
            "Ticks that passed validation",
            ["feed"],
            registry=registry,
        )
        self.ticks_rejected = Counter(
            "exchange_feed_ticks_rejected",
            "Feed messages refused, by reason",
            ["feed", "reason"],
            registry=registry,
        )
        self.sequence_gaps = Counter(
            "exchange_feed_sequence_gaps",
            "Jumps in a feed's sequence numbers",
            ["feed"],
            registry=registry,
        )
        self.messages_missed = Counter(
            "exchange_feed_messages_missed",
            "Messages skipped over by sequence gaps",
            ["feed"],
            registry=registry,
        )
        self.reconnects = Counter(
            "exchange_feed_reconnects",
            "Connection attempts after the first (after a failure or a drop)",
            ["feed"],
            registry=registry,
        )
        self.heartbeat_timeouts = Counter(
            "exchange_feed_heartbeat_timeouts",
            "Connections abandoned because the feed went silent",
            ["feed"],
            registry=registry,
        )
        self.connected = Gauge(
            "exchange_feed_connected",
            "1 while the feed is connected",
            ["feed"],
            registry=registry,
        )
        self.reference_updates = Counter(
            "exchange_feed_reference_updates",
            "Reference prices set from external prices (mirror mode)",
            ["feed"],
            registry=registry,
        )
