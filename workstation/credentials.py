"""Where passwords and session tokens are kept: the system keyring, or an encrypted file.

The keyring (Keychain, Windows Credential Manager, Secret Service) is the right place and
is used whenever a working backend exists. Headless Linux usually has none; then secrets go
to ``credentials.enc`` in the configuration directory, encrypted with Fernet (AES-128-CBC
+ HMAC-SHA256) under a key derived by scrypt from a random 32-byte secret in
``credentials.key`` (mode 0600).

What that protects, honestly: the secrets are unreadable to other users of the machine and
to anyone who gets the encrypted file alone (a backup, a synced folder, a copy). It does
*not* protect them from anyone, or any program, running as you: the key file sits next to
the data. The user is told which store is in use (:attr:`CredentialStore.description`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from workstation.settings import config_dir, write_atomically

log = logging.getLogger(__name__)

SERVICE = "trading-workstation"


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class KeyringStore:
    def __init__(self, backend: object) -> None:
        self.backend = backend

    def get(self, name: str) -> str | None:
        import keyring

        return keyring.get_password(SERVICE, name)

    def set(self, name: str, value: str) -> None:
        import keyring

        keyring.set_password(SERVICE, name, value)

    def delete(self, name: str) -> None:
        import keyring
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(SERVICE, name)


class EncryptedFileStore:
    """A JSON object of secrets, encrypted as a whole with Fernet."""

    SCRYPT_N = 2**15  # ~50 ms once per process: the key is cached after the first use

    def __init__(self, directory: Path) -> None:
        self.path = directory / "credentials.enc"
        self.key_path = directory / "credentials.key"
        self._fernet: Fernet | None = None

    def _cipher(self) -> Fernet:
        if self._fernet is None:
            secret, salt = self._key_material()
            kdf = Scrypt(salt=salt, length=32, n=self.SCRYPT_N, r=8, p=1)
            self._fernet = Fernet(base64.urlsafe_b64encode(kdf.derive(secret)))
        return self._fernet

    def _key_material(self) -> tuple[bytes, bytes]:
        try:
            raw = self.key_path.read_bytes()
            if len(raw) == 48:
                return raw[:32], raw[32:]
            log.warning("%s is malformed; starting a new credential store", self.key_path)
        except FileNotFoundError:
            pass
        raw = secrets.token_bytes(32) + secrets.token_bytes(16)  # secret + scrypt salt
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL with 0600 from the start: the secret is never readable by others, not even
        # for the moment between creating and chmod-ing the file.
        self.key_path.unlink(missing_ok=True)
        descriptor = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(raw)
        self.path.unlink(missing_ok=True)  # encrypted under the old key: unreadable now
        return raw[:32], raw[32:]

    def _load(self) -> dict[str, str]:
        try:
            token = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(self._cipher().decrypt(token))
        except (InvalidToken, ValueError):
            log.warning("cannot decrypt %s (key changed?); its secrets are lost", self.path)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _store(self, data: dict[str, str]) -> None:
        token = self._cipher().encrypt(json.dumps(data).encode())
        write_atomically(self.path, token.decode("ascii"), mode=0o600)

    def get(self, name: str) -> str | None:
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        data = self._load()
        data[name] = value
        self._store(data)

    def delete(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            self._store(data)


def _working_keyring() -> object | None:
    """The keyring backend if one can really store secrets here, else None."""
    if os.environ.get("WORKSTATION_CREDENTIALS") == "file":
        return None
    try:
        import keyring
        from keyring.backends import chainer, fail
    except Exception:  # pragma: no cover - keyring is a dependency
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None
    return backend


class CredentialStore:
    """Secrets per connection profile: ``password`` and ``refresh_token``."""

    def __init__(self, directory: Path | None = None) -> None:
        backend = _working_keyring()
        self.store: SecretStore
        if backend is not None:
            self.store = KeyringStore(backend)
            self.kind = "keyring"
            self.description = f"system keyring ({type(backend).__name__})"
        else:
            file_store = EncryptedFileStore(directory or config_dir())
            self.store = file_store
            self.kind = "file"
            self.description = (
                f"encrypted file {file_store.path} (no system keyring is available; the key "
                "file beside it is readable only by your user, so this protects against other "
                "users and stray copies of the file, not against programs running as you)"
            )

    @staticmethod
    def _name(profile: str, username: str, what: str) -> str:
        return f"{profile}|{username}|{what}"

    def get(self, profile: str, username: str, what: str) -> str | None:
        try:
            return self.store.get(self._name(profile, username, what))
        except Exception as error:
            log.warning("credential store read failed: %s", error)
            return None

    def set(self, profile: str, username: str, what: str, value: str | None) -> None:
        name = self._name(profile, username, what)
        try:
            if value is None:
                self.store.delete(name)
            else:
                self.store.set(name, value)
        except Exception as error:
            log.warning("credential store write failed: %s", error)

    def forget(self, profile: str, username: str) -> None:
        for what in ("password", "refresh_token"):
            self.set(profile, username, what, None)
