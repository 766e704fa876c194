"""Outgoing mail behind a small interface.

The built-in ``OutboxMailer`` delivers nowhere: it records each message in the
``outbox_emails`` table and writes it as an RFC 5322 ``.eml`` file into the outbox
directory, where an operator (or a test) can read it, or a relay can pick it up. A real
SMTP or provider mailer implements the same ``Mailer`` protocol.
"""

from __future__ import annotations

import asyncio
import os
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, update

from exchange_server.storage.database import WRITE_TRANSACTION
from exchange_server.storage.models import OutboxEmailRow, utc_now


class Mailer(Protocol):
    async def send(self, recipient: str, subject: str, body: str) -> None: ...


def sender_address(public_url: str) -> str:
    host = urlsplit(public_url).hostname if public_url else None
    return f"no-reply@{host or 'localhost'}"


class OutboxMailer:
    def __init__(self, engine: Engine, outbox_dir: Path, sender: str = "no-reply@localhost"):
        self._engine = engine
        self._outbox_dir = Path(outbox_dir)
        self._sender = sender

    async def send(self, recipient: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, recipient, subject, body)

    def _send(self, recipient: str, subject: str, body: str) -> None:
        created = utc_now()
        with self._engine.connect() as connection:
            connection = connection.execution_options(**WRITE_TRANSACTION)
            with connection.begin():
                email_id = connection.execute(
                    insert(OutboxEmailRow)
                    .values(recipient=recipient, subject=subject, body=body, created_at=created)
                    .returning(OutboxEmailRow.email_id)
                ).scalar_one()
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = format_datetime(created)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2])
        message.set_content(body)
        self._outbox_dir.mkdir(parents=True, exist_ok=True)
        path = self._outbox_dir / f"{created:%Y%m%dT%H%M%S}-{email_id:08d}.eml"
        # Written under a temporary name and renamed, so a reader never sees half a message.
        partial = path.with_suffix(".partial")
        partial.write_bytes(bytes(message))
        os.replace(partial, path)
        with self._engine.begin() as connection:
            connection.execute(
                update(OutboxEmailRow)
                .where(OutboxEmailRow.email_id == email_id)
                .values(sent_at=utc_now())
            )
