"""Everything an operator configures about a server, from arguments, the environment
(``EXCHANGE_*``) or a TOML file, in that order of precedence."""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange_server import event_loop
from exchange_server.engine.journal import Durability

ENV_PREFIX = "EXCHANGE_"


@dataclass(slots=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second on average, bursts up to ``burst``."""

    rate: float
    burst: int


@dataclass(slots=True)
class ServerSettings:
    database_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs access tokens. Generated per start when not configured, which logs everyone out
    # on restart: a self-hosted server sets EXCHANGE_SECRET_KEY.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    cors_origins: list[str] = field(default_factory=list)
    tls_certfile: str = ""
    tls_keyfile: str = ""
    durability: Durability = Durability.FSYNC
    # Argon2 cost: "standard" for real use; "fast" only for tests and benchmarks.
    password_hashing: str = "standard"
    lockout_threshold: int = 5  # failed logins within the window lock the account
    lockout_window_seconds: int = 15 * 60
    lockout_seconds: int = 15 * 60
    require_email_verification: bool = True
    user_rate: RateLimit = field(default_factory=lambda: RateLimit(50.0, 200))
    ip_rate: RateLimit = field(default_factory=lambda: RateLimit(100.0, 400))
    auth_ip_rate: RateLimit = field(default_factory=lambda: RateLimit(2.0, 20))
    max_body_bytes: int = 64 * 1024
    ws_queue_messages: int = 2000  # pending messages a slow reader may accumulate
    ws_heartbeat_seconds: float = 10.0
    ws_idle_timeout_seconds: float = 35.0
    # Load the shipped daily history into the candle store at start (quick after the first).
    seed_history: bool = True
    demo_market: bool = False  # run the simulated market (bots trading the demo universe)
    demo_trades_per_second: float = 2.0  # aimed at, per instrument
    always_open: bool = False  # every session open at all hours (offline practice)
    speed: float = 1.0  # simulated seconds per wall second for the fair values (1 to 100)
    # Replay real intraday bars: "SBIN=<file or folder>@2017-09-27,NIFTY50=<file>".
    replay: str = ""
    seed: int = 7
    # An external market data feed (marketdata/feeds): "mirror" lets its prices drive the
    # reference prices and the market makers; "off" ignores it.
    feed_mode: str = "off"
    feed_url: str = ""  # ws:// or wss://
    feed_name: str = "external"  # the feed's label in metrics
    feed_mapping: dict[str, Any] = field(default_factory=dict)  # TOML [feed_mapping]
    feed_subscribe: dict[str, Any] = field(default_factory=dict)  # sent after connecting
    feed_resync: dict[str, Any] = field(default_factory=dict)  # sent after a sequence gap
    feed_heartbeat_seconds: float = 15.0
    feed_max_age_seconds: float = 10.0
    feed_max_jump_ppm: int = 0
    feed_check_band: bool = True
    feed_reference_interval_seconds: float = 1.0
    # Embedded mode: a one-time secret that logs the provisioned paper user in.
    embedded_secret: str = ""
    paper_cash: Decimal = Decimal("10000000")
    public_url: str = ""  # how mailed links address this server
    # When set, /metrics answers only "Authorization: Bearer <metrics_token>" (a scraper's
    # credential); empty leaves it open, for a server reachable only by its operators.
    metrics_token: str = ""
    # "auto": uvloop where installed, else asyncio's loop; "asyncio" forces asyncio's.
    event_loop: str = "auto"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def _convert(current: Any, raw: Any) -> Any:
    if isinstance(current, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, Decimal):
        return Decimal(str(raw))
    if isinstance(current, Path):
        return Path(raw)
    if isinstance(current, Durability):
        return Durability(raw)
    if isinstance(current, dict):  # a TOML table, or JSON in an environment variable
        return raw if isinstance(raw, dict) else json.loads(raw)
    if isinstance(current, list):
        return raw if isinstance(raw, list) else [p.strip() for p in str(raw).split(",") if p]
    if isinstance(current, RateLimit):
        if isinstance(raw, dict):
            return RateLimit(float(raw["rate"]), int(raw["burst"]))
        rate, burst = str(raw).split("/")
        return RateLimit(float(rate), int(burst))
    return str(raw)


def load_settings(
    base: ServerSettings, config_file: Path | None = None, environ: dict[str, str] | None = None
) -> ServerSettings:
    """``base`` overlaid with the TOML file's keys, then ``EXCHANGE_<NAME>`` variables."""
    environ = dict(os.environ) if environ is None else environ
    overrides: dict[str, Any] = {}
    if config_file is not None:
        with config_file.open("rb") as handle:
            overrides.update(tomllib.load(handle))
    names = {f.name for f in fields(ServerSettings)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
    for name in names:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            overrides[name] = value
    for name, raw in overrides.items():
        setattr(base, name, _convert(getattr(base, name), raw))
    if base.event_loop not in event_loop.CHOICES:
        raise ValueError(
            f"event_loop {base.event_loop!r}: choose one of {', '.join(event_loop.CHOICES)}"
        )
    return base
