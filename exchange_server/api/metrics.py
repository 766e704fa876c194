"""Prometheus metrics of one server, on a registry of its own (several servers can share a
process in tests): order and trade counters, engine and journal latency histograms, stream
connections and queue depths. Served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from exchange_server.domain.events import CommandRejected, TradeExecuted
from exchange_server.engine.sequencer import Committed

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.commands = Counter(
            "exchange_commands", "Commands committed, by kind", ["kind"], registry=registry
        )
        self.rejections = Counter(
            "exchange_rejections",
            "Commands refused by the engine, by reason",
            ["reason"],
            registry=registry,
        )
        self.trades = Counter("exchange_trades", "Trades executed", registry=registry)
        self.command_latency = Histogram(
            "exchange_command_seconds",
            "From submission to durable acknowledgement",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.journal_commit = Histogram(
            "exchange_journal_commit_seconds",
            "Duration of one journal group commit",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.journal_batch = Histogram(
            "exchange_journal_batch_commands",
            "Commands per group commit",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 4096),
            registry=registry,
        )
        self.http_requests = Counter(
            "exchange_http_requests",
            "HTTP requests by status class",
            ["status"],
            registry=registry,
        )
        self.http_latency = Histogram(
            "exchange_http_request_seconds",
            "HTTP request handling time",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.ws_connections = Gauge(
            "exchange_ws_connections", "Open WebSocket connections", registry=registry
        )
        self.ws_messages = Counter(
            "exchange_ws_messages_sent", "Messages sent on WebSocket streams", registry=registry
        )
        self.ws_dropped = Counter(
            "exchange_ws_slow_consumers_dropped",
            "Connections closed because they fell too far behind",
            registry=registry,
        )
        self.ws_queued = Gauge(
            "exchange_ws_queued_messages",
            "Messages waiting in all connections' outbound queues",
            registry=registry,
        )
        self.sequencer_lag = Gauge(
            "exchange_sequencer_last_seq", "Last committed journal sequence", registry=registry
        )

    def observe_commit(self, batch: list[Committed]) -> None:
        if not batch:
            return
        self.journal_batch.observe(len(batch))
        self.sequencer_lag.set(batch[-1].seq)
        # Counted per batch, then one increment per label: a labelled increment costs a lock
        # and a lookup, and batches hold hundreds of commands under load.
        kinds: dict[str, int] = {}
        reasons: dict[str, int] = {}
        trades = 0
        for entry in batch:
            kind = entry.command.kind
            kinds[kind] = kinds.get(kind, 0) + 1
            for event in entry.events:
                if type(event) is TradeExecuted:
                    trades += 1
                elif type(event) is CommandRejected:
                    reasons[event.reason] = reasons.get(event.reason, 0) + 1
        for kind, count in kinds.items():
            self.commands.labels(kind).inc(count)
        for reason, count in reasons.items():
            self.rejections.labels(reason).inc(count)
        if trades:
            self.trades.inc(trades)

    def render(self) -> bytes:
        return generate_latest(self.registry)
