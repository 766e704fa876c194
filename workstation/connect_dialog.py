"""The connect dialog: pick a profile (the embedded exchange, or a remote server) and sign in.

The dialog only collects what to connect to; the app does the connecting and, when it
fails, shows the dialog again with the server's reason (and the 2FA field when the server
asks for a code).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.credentials import CredentialStore
from workstation.settings import Profile, Settings


@dataclass
class ConnectRequest:
    profile: Profile
    password: str = ""
    otp: str = ""


class ConnectDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        credentials: CredentialStore,
        parent: QWidget | None = None,
        error: str = "",
        ask_otp: bool = False,
        selected: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.credentials = credentials
        self.setWindowTitle("Connect")
        self.setMinimumWidth(460)

        self.profiles = QComboBox()
        self.profiles.setObjectName("profiles")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Broker (production)")
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://exchange.example.com")
        self.username = QLineEdit()
        self.username.setPlaceholderText("you@example.com")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.otp = QLineEdit()
        self.otp.setPlaceholderText("6-digit code, if two-factor sign-in is on")
        self.otp.setMaxLength(6)
        self.remember = QCheckBox("Remember me on this computer")
        self.error = QLabel(error)
        self.error.setObjectName("connectError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e5484d;")
        self.error.setVisible(bool(error))
        self.store_note = QLabel(f"Passwords and tokens are kept in: {credentials.description}")
        self.store_note.setObjectName("credentialStore")
        self.store_note.setWordWrap(True)
        self.embedded_note = QLabel(
            "Paper trading against the exchange built into this application: a simulated "
            "market with real matching, virtual cash, no sign-in needed."
        )
        self.embedded_note.setWordWrap(True)

        self.remote_form = QWidget()
        form = QFormLayout(self.remote_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Profile name", self.name)
        form.addRow("Server URL", self.url)
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        form.addRow("2FA code", self.otp)
        form.addRow("", self.remember)

        new_button = QPushButton("New server...")
        new_button.clicked.connect(self._new_profile)
        self.delete_button = QPushButton("Delete profile")
        self.delete_button.clicked.connect(self._delete_profile)
        top = QHBoxLayout()
        top.addWidget(self.profiles, 1)
        top.addWidget(new_button)
        top.addWidget(self.delete_button)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.embedded_note)
        layout.addWidget(self.remote_form)
        layout.addWidget(self.error)
        layout.addWidget(self.store_note)
        layout.addWidget(self.buttons)

        self._fill_profiles(selected or settings.last_profile)
        self.profiles.currentIndexChanged.connect(self._show_profile)
        self._show_profile()
        if ask_otp:
            self.otp.setFocus()

    def _fill_profiles(self, selected: str) -> None:
        self.profiles.blockSignals(True)
        self.profiles.clear()
        for profile in self.settings.profiles:
            self.profiles.addItem(profile.name, profile.name)
        index = self.profiles.findData(selected)
        self.profiles.setCurrentIndex(max(index, 0))
        self.profiles.blockSignals(False)

    def current_profile(self) -> Profile | None:
        name = self.profiles.currentData()
        return self.settings.profile(name) if isinstance(name, str) else None

    def _show_profile(self) -> None:
        profile = self.current_profile()
        embedded = profile is None or profile.kind == "embedded"
        self.embedded_note.setVisible(embedded)
        self.remote_form.setVisible(not embedded)
        self.delete_button.setEnabled(not embedded)
        if profile is not None and not embedded:
            self.name.setText(profile.name)
            self.url.setText(profile.url)
            self.username.setText(profile.username)
            self.remember.setChecked(profile.remember)
            saved = self.credentials.get(profile.name, profile.username, "password")
            self.password.setText(saved or "")
        self.adjustSize()

    def _new_profile(self) -> None:
        base = "Remote server"
        name, number = base, 1
        while self.settings.profile(name) is not None:
            number += 1
            name = f"{base} {number}"
        self.settings.upsert_profile(Profile(name, kind="remote", url="http://127.0.0.1:8000"))
        self._fill_profiles(name)
        self._show_profile()
        self.name.setFocus()
        self.name.selectAll()

    def _delete_profile(self) -> None:
        profile = self.current_profile()
        if profile is None or profile.kind == "embedded":
            return
        self.credentials.forget(profile.name, profile.username)
        self.settings.remove_profile(profile.name)
        self.settings.save()
        self._fill_profiles(self.settings.last_profile)
        self._show_profile()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _accept(self) -> None:
        request = self.request()
        if request is None:
            return
        self.accept()

    def request(self) -> ConnectRequest | None:
        """What to connect to, after saving the profile; None (with an error shown) if the
        form is incomplete."""
        profile = self.current_profile()
        if profile is None or profile.kind == "embedded":
            embedded = profile or Profile("Offline paper trading", kind="embedded")
            self.settings.last_profile = embedded.name
            return ConnectRequest(embedded)
        url = self.url.text().strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            self.show_error("The server URL must start with http:// or https://")
            return None
        name = self.name.text().strip() or url
        updated = Profile(
            name,
            kind="remote",
            url=url,
            username=self.username.text().strip(),
            remember=self.remember.isChecked(),
        )
        if name != profile.name:
            self.settings.remove_profile(profile.name)
        self.settings.upsert_profile(updated)
        self.settings.last_profile = name
        self.settings.save()
        return ConnectRequest(updated, self.password.text(), self.otp.text().strip())
