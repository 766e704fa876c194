"""Everything an operator configures about a server, from arguments, the environment
(``EXCHANGE_*``) or a TOML file, in that order of precedence."""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

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
    demo_market: bool = False
    demo_rate: int = 200
    # Embedded mode: a one-time secret that logs the provisioned paper user in.
    embedded_secret: str = ""
    paper_cash: Decimal = Decimal("10000000")
    public_url: str = ""  # how mailed links address this server

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
    return base
