"""The application around the window: `workstation --server URL` and the connect dialog
(sign-in, wrong password, two-factor, remembered sessions), and workspaces that follow the
user to a fresh machine through the server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pyotp
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from tests.api.conftest import PASSWORD, LiveServer, SignedInUser
from tests.workstation.conftest import WaitUntil, open_session
from workstation.app import Workstation, parse_args
from workstation.client import ExchangeClient
from workstation.connect_dialog import ConnectDialog
from workstation.settings import WORKSPACES_PREFERENCE, Settings


def open_dialog() -> ConnectDialog | None:
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, ConnectDialog)]
    return next((d for d in dialogs if d.isVisible()), None)


def press_connect(dialog: ConnectDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def workstation(*argv: str) -> Workstation:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as main() does: a closing dialog is not the end
    return Workstation(app, Settings.load(), parse_args(list(argv)))


async def next_dialog(wait_until: WaitUntil, previous: ConnectDialog | None = None) -> Any:
    await wait_until(lambda: open_dialog() not in (None, previous), message="no connect dialog")
    return open_dialog()


async def test_server_flag_signs_in_through_the_dialog_and_shows_a_wrong_password(
    live_server: LiveServer, trader: SignedInUser, wait_until: WaitUntil
) -> None:
    app = workstation("--server", live_server.base_url + "/", "--user", trader.user.email)
    opening = asyncio.ensure_future(app.first_session())
    dialog = await next_dialog(wait_until)
    # The profile for the URL is new, filled in from the command line.
    assert dialog.url.text() == live_server.base_url
    assert dialog.username.text() == trader.user.email
    assert dialog.remote_form.isVisibleTo(dialog)
    dialog.password.setText("not the password")
    press_connect(dialog)

    again = await next_dialog(wait_until, dialog)
    assert again.error.isVisibleTo(again)
    assert "password" in again.error.text().lower(), again.error.text()
    assert not opening.done()
    again.password.setText(PASSWORD)
    press_connect(again)
    session = await asyncio.wait_for(opening, 15)
    try:
        assert session.user is not None and session.user.email == trader.user.email
        saved = Settings.load()
        assert saved.last_profile == live_server.base_url
        assert saved.profile(live_server.base_url) is not None
    finally:
        await session.close()


async def test_cancelling_the_dialog_gives_up_without_a_session(
    live_server: LiveServer, wait_until: WaitUntil
) -> None:
    app = workstation("--server", live_server.base_url)
    opening = asyncio.ensure_future(app.first_session())
    dialog = await next_dialog(wait_until)
    dialog.reject()
    assert await asyncio.wait_for(opening, 5) is None


async def test_two_factor_sign_in_asks_for_the_code(
    live_server: LiveServer, trader: SignedInUser, wait_until: WaitUntil
) -> None:
    async with ExchangeClient(live_server.base_url) as client:
        client.use_tokens(trader.tokens)
        totp = pyotp.TOTP((await client.enrol_totp()).secret)
        await client.confirm_totp(totp.now())

    app = workstation("--server", live_server.base_url, "--user", trader.user.email)
    opening = asyncio.ensure_future(app.first_session())
    dialog = await next_dialog(wait_until)
    dialog.password.setText(PASSWORD)
    press_connect(dialog)

    asked = await next_dialog(wait_until, dialog)
    assert asked.error.isVisibleTo(asked)
    assert "code" in asked.error.text().lower(), asked.error.text()
    assert asked.password.text() == PASSWORD  # only the code is left to type
    # The confirmation used this 30 s step's code; codes are single-use, and the next
    # step's is within the server's drift allowance.
    asked.otp.setText(totp.at(time.time() + 30))
    press_connect(asked)
    session = await asyncio.wait_for(opening, 15)
    try:
        assert session.user is not None and session.user.totp_enabled
    finally:
        await session.close()


async def test_a_remembered_session_resumes_without_the_dialog(
    live_server: LiveServer, trader: SignedInUser, wait_until: WaitUntil
) -> None:
    app = workstation("--server", live_server.base_url, "--user", trader.user.email)
    opening = asyncio.ensure_future(app.first_session())
    dialog = await next_dialog(wait_until)
    dialog.password.setText(PASSWORD)
    dialog.remember.setChecked(True)
    press_connect(dialog)
    first = await asyncio.wait_for(opening, 15)
    await first.close()

    # Started again: the saved tokens sign in, no dialog, no password typed.
    restarted = workstation("--server", live_server.base_url, "--user", trader.user.email)
    second = await asyncio.wait_for(restarted.first_session(), 15)
    try:
        assert open_dialog() is None
        assert second.user is not None and second.user.email == trader.user.email
    finally:
        await second.close()


async def test_the_dialog_adds_a_server_profile_and_refuses_a_bad_url(
    config_dir: Path, wait_until: WaitUntil
) -> None:
    from workstation.credentials import CredentialStore

    settings = Settings.load()
    dialog = ConnectDialog(settings, CredentialStore(settings.directory))
    dialog.show()
    assert dialog.embedded_note.isVisibleTo(dialog)  # offline paper trading is the default
    assert "kept in" in dialog.store_note.text()
    dialog._new_profile()
    assert dialog.remote_form.isVisibleTo(dialog)
    dialog.name.setText("Broker")
    dialog.url.setText("exchange.example.com")
    assert dialog.request() is None
    assert "http://" in dialog.error.text()
    dialog.url.setText("https://exchange.example.com/")
    dialog.username.setText("me@example.com")
    request = dialog.request()
    assert request is not None and request.profile.url == "https://exchange.example.com"
    saved = Settings.load(config_dir)
    broker = saved.profile("Broker")
    assert broker is not None and broker.username == "me@example.com"
    dialog.close()


async def test_workspaces_follow_the_user_to_a_fresh_machine(
    live_server: LiveServer, trader: SignedInUser, tmp_path: Path, wait_until: WaitUntil
) -> None:
    from workstation.main_window import MainWindow

    # Machine A: a custom workspace with the depth panel closed.
    session = await open_session(live_server.base_url, trader)
    try:
        first = MainWindow(session, Settings.load(tmp_path / "machine-a"))
        first.show()
        first.save_workspace_as("Scalping")
        first.docks["depth"].close()
        first.save_workspace()
        assert first.last_mirroring is not None
        await asyncio.wait_for(first.last_mirroring, 10)
        first.close_without_saving()
    finally:
        await session.close()

    # Machine B has never run the workstation: on sign-in it takes the server's copy.
    session = await open_session(live_server.base_url, trader)
    try:
        app = workstation()
        assert app.settings.workspaces == {}
        await app.adopt_server_workspaces(session)
        assert app.settings.current_workspace == "Scalping"
        second = MainWindow(session, app.settings)
        second.show()
        assert "Scalping" in second.workspace_names()
        assert second.current_workspace == "Scalping"
        assert second.docks["depth"].isHidden() and not second.docks["chart"].isHidden()
        second.close_without_saving()

        # A copy older than this machine's own changes nothing.
        stale = {"saved_at": 1, "current": "Trading", "workspaces": {}}
        await session.client.set_preference(WORKSPACES_PREFERENCE, stale)
        await app.adopt_server_workspaces(session)
        assert app.settings.current_workspace == "Scalping"
        assert "Scalping" in Settings.load().workspaces
    finally:
        await session.close()
