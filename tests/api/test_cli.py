"""The `exchange-server` command's server administration: create-admin and bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def exchange_server(
    tmp_path: Path, *arguments: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, EXCHANGE_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "exchange_server.cli",
            "--database",
            f"sqlite:///{tmp_path}/x.db",
            *arguments,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_create_admin_then_refuse_a_second_with_the_same_email(tmp_path: Path) -> None:
    created = exchange_server(
        tmp_path,
        "create-admin",
        "ops@example.com",
        EXCHANGE_ADMIN_PASSWORD="a long admin passphrase",
    )
    assert created.returncode == 0, created.stderr
    assert "administrator ops@example.com created" in created.stdout
    again = exchange_server(
        tmp_path, "create-admin", "OPS@example.com", EXCHANGE_ADMIN_PASSWORD="another passphrase!"
    )
    assert again.returncode == 1
    assert "email_taken" in again.stderr


def test_serve_refuses_half_a_tls_configuration(tmp_path: Path) -> None:
    result = exchange_server(tmp_path, "serve", "--tls-cert", "cert.pem")
    assert result.returncode == 2
    assert "give both --tls-cert and --tls-key" in result.stderr


def test_serve_refuses_an_unknown_setting_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('port = 9000\ncolour = "red"\n')
    result = exchange_server(tmp_path, "serve", "--config", str(config))
    assert result.returncode == 2
    assert "colour" in result.stderr


def test_serve_refuses_an_unknown_event_loop(tmp_path: Path) -> None:
    result = exchange_server(tmp_path, "serve", EXCHANGE_EVENT_LOOP="trio")
    assert result.returncode == 2
    assert "event_loop 'trio'" in result.stderr and "uvloop" in result.stderr
