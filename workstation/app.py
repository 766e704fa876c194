"""The `workstation` command: the PySide6 trading desktop.

    workstation                      the last profile (by default the embedded exchange)
    workstation --server URL         a remote exchange server (sign in if needed)
    workstation --connect            choose a profile first
    workstation --smoke-screenshot out.png
                                     embedded exchange; once every open panel shows live
                                     data, save a screenshot of the window and exit 0

One qasync event loop runs Qt and asyncio together: network I/O is async, the embedded
exchange is a child process started off the GUI thread, and nothing blocks the window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from exchange_server.protocol import TokenPair
from workstation.client import ApiError, ClientError
from workstation.connect_dialog import ConnectDialog, ConnectRequest
from workstation.credentials import CredentialStore
from workstation.settings import EMBEDDED_PROFILE, WORKSPACES_PREFERENCE, Profile, Settings
from workstation.theme import ACCENT, apply_theme

log = logging.getLogger("workstation")

SMOKE_TIMEOUT_SECONDS = 90.0
WORKSPACES_FETCH_SECONDS = 3.0  # a slow server must not hold the window back longer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="workstation", description=__doc__.split("\n")[0])
    parser.add_argument("--server", metavar="URL", help="connect to a remote exchange server")
    parser.add_argument("--user", metavar="NAME", help="user name on the remote server")
    parser.add_argument("--connect", action="store_true", help="choose a profile first")
    parser.add_argument("--embedded", action="store_true", help="use the embedded exchange")
    parser.add_argument("--data-dir", type=Path, help="the embedded exchange's data directory")
    parser.add_argument("--workspace", help="open this workspace")
    parser.add_argument("--theme", choices=("dark", "light"))
    parser.add_argument(
        "--smoke-screenshot",
        metavar="PATH",
        type=Path,
        help="start embedded, wait for live data in every panel, save a screenshot, exit",
    )
    parser.add_argument("--size", default="1600x960", help="window size (WIDTHxHEIGHT)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


class Splash(QWidget):
    """The start-up card with a progress line. Not a QSplashScreen: that one waits (up to a
    second, in show() and again in finish()) for the window system to report a window
    exposed, seconds of start-up whenever the report is slow or never comes (offscreen)."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.setFixedSize(460, 200)
        screen = QApplication.primaryScreen()
        if screen is not None:
            frame = self.frameGeometry()
            frame.moveCenter(screen.availableGeometry().center())
            self.move(frame.topLeft())
        self._message = ""

    def progress(self, text: str) -> None:
        self._message = text
        self.repaint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#18191b"))
        font = QFont()
        font.setPointSize(20)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(ACCENT))
        painter.drawText(24, 70, "Trading Workstation")
        painter.setFont(QFont())
        painter.setPen(QColor("#e4e4e7"))
        painter.drawText(
            self.rect().adjusted(12, 0, -12, -10),
            Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
            self._message,
        )
        painter.end()


class Workstation:
    """The application's life: connect, show the window, reconnect on request, clean up."""

    def __init__(self, app: QApplication, settings: Settings, args: argparse.Namespace) -> None:
        self.app = app
        self.settings = settings
        self.args = args
        self.credentials = CredentialStore(settings.directory)
        self.started = time.perf_counter()
        self.splash: Splash | None = None

    def _progress(self, text: str) -> None:
        log.info("%s", text)
        if self.splash is not None:
            self.splash.progress(text)

    # -- connecting -----------------------------------------------------------------------
    async def open(self, request: ConnectRequest) -> Any:
        from workstation.session.connect import open_embedded, open_remote

        profile = request.profile
        if profile.kind == "embedded":
            return await open_embedded(self.args.data_dir, self._progress)

        def keep_tokens(tokens: TokenPair | None) -> None:
            if profile.remember:
                value = tokens.model_dump_json() if tokens is not None else None
                self.credentials.set(profile.name, profile.username, "session", value)

        if not request.password and not request.otp:
            saved = self.credentials.get(profile.name, profile.username, "session")
            if saved:
                try:
                    return await open_remote(
                        profile.url,
                        tokens=TokenPair.model_validate_json(saved),
                        profile=profile.name,
                        progress=self._progress,
                        on_tokens=keep_tokens,
                    )
                except (ClientError, ValueError) as error:
                    log.info("the saved session did not work: %s", error)
                    self.credentials.set(profile.name, profile.username, "session", None)
        session = await open_remote(
            profile.url,
            profile.username,
            request.password,
            request.otp or None,
            profile=profile.name,
            progress=self._progress,
            on_tokens=keep_tokens,
        )
        if profile.remember and request.password:
            self.credentials.set(profile.name, profile.username, "password", request.password)
        return session

    async def ask(self, error: str = "", ask_otp: bool = False, selected: str = "") -> Any:
        """The connect dialog until a connection works; None if the user gives up."""
        password = ""  # kept while the server asks for a 2FA code: only the code is missing
        while True:
            dialog = ConnectDialog(
                self.settings, self.credentials, error=error, ask_otp=ask_otp, selected=selected
            )
            if ask_otp and password:
                dialog.password.setText(password)
            if await _dialog_result(dialog) != QDialog.DialogCode.Accepted:
                return None
            request = dialog.request()
            if request is None:
                continue
            selected = request.profile.name
            try:
                return await self.open(request)
            except ApiError as refusal:
                ask_otp = refusal.code in ("mfa_required", "invalid_otp")
                password = request.password if ask_otp else ""
                error = refusal.message or refusal.code
            except Exception as problem:
                log.exception("connecting failed")
                error = f"Could not connect: {problem}"

    async def first_session(self) -> Any:
        args = self.args
        if args.smoke_screenshot is not None or args.embedded:
            return await self.open(ConnectRequest(Profile(EMBEDDED_PROFILE, kind="embedded")))
        if args.server:
            url = args.server.rstrip("/")
            profile = next((p for p in self.settings.profiles if p.url == url), None)
            if profile is None:
                profile = Profile(url, kind="remote", url=url, username=args.user or "")
                self.settings.upsert_profile(profile)
            elif args.user:
                profile.username = args.user
            self.settings.last_profile = profile.name
            self.settings.save()
            if profile.username and self.credentials.get(profile.name, profile.username, "session"):
                with contextlib.suppress(ClientError):
                    return await self.open(ConnectRequest(profile))
            return await self.ask(selected=profile.name)
        profile = self.settings.profile(self.settings.last_profile)
        if args.connect or profile is None:
            return await self.ask()
        if profile.kind == "embedded":
            return await self.open(ConnectRequest(profile))
        try:
            return await self.open(ConnectRequest(profile))
        except ClientError as error:
            return await self.ask(error=str(error), selected=profile.name)

    # -- running --------------------------------------------------------------------------
    async def run(self) -> int:
        self.splash = Splash()
        self.splash.show()
        self._progress("Starting...")
        # Import the panels while the embedded exchange starts in its child process: the
        # wait is the child's, so the imports (about a second) cost no time.
        asyncio.get_running_loop().call_later(0.05, _preload_panels)
        try:
            session = await self.first_session()
        except Exception as error:
            log.exception("could not start")
            self.splash.close()
            print(f"workstation: could not connect: {error}", file=sys.stderr)
            return 1
        while session is not None:
            try:
                code = await self._show(session)
            finally:
                await session.close()
            if code is not None:
                return code
            session = await self.ask()
        return 0

    async def _show(self, session: Any) -> int | None:
        """Run one session's window: an exit code, or None to connect elsewhere."""
        from workstation.main_window import MainWindow

        await self.adopt_server_workspaces(session)
        note = self.credentials.description
        window = MainWindow(session, self.settings, credentials_note=note)
        width, _, height = self.args.size.partition("x")
        with contextlib.suppress(ValueError):
            window.resize(int(width), int(height))
        if self.args.workspace:
            window.switch_workspace(self.args.workspace)
        window.show()
        if self.splash is not None:
            self.splash.close()
            self.splash = None
        if self.args.smoke_screenshot is not None:
            code = await self.smoke(window, self.args.smoke_screenshot)
            window.close_without_saving()
            return code
        outcome = await self._wait_for_window(window)
        window.deleteLater()
        return None if outcome == "connect" else 0

    async def adopt_server_workspaces(self, session: Any) -> None:
        """Take the user's workspaces from the server when they are newer than this
        machine's (always, on a machine that never saved any)."""
        if session.user is None:
            return
        try:
            saved = await asyncio.wait_for(
                session.client.preference(WORKSPACES_PREFERENCE), WORKSPACES_FETCH_SECONDS
            )
        except ApiError as refusal:
            if refusal.status != 404:  # 404: this user never saved a workspace
                log.warning("could not fetch the saved workspaces: %s", refusal)
            return
        except (ClientError, TimeoutError) as problem:
            log.warning("could not fetch the saved workspaces: %s", problem)
            return
        if self.settings.adopt_mirrored_workspaces(saved.value):
            self.settings.save()
            log.info("workspaces taken from the server (saved by another machine)")

    @staticmethod
    async def _wait_for_window(window: Any) -> str:
        outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def finish(value: str) -> None:
            if not outcome.done():
                outcome.set_result(value)

        window.closed.connect(lambda: finish("closed"))
        window.connect_requested.connect(lambda: finish("connect"))
        result = await outcome
        if result == "connect":
            window.close()
        # Closing saved the layout and began uploading it: let that finish before the
        # session closes (best effort, a second at most).
        if window.last_mirroring is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(window.last_mirroring), 1.0)
        return result

    async def smoke(self, window: Any, path: Path) -> int:
        """Wait until every open panel shows live data, then save a screenshot."""
        deadline = time.monotonic() + SMOKE_TIMEOUT_SECONDS
        shown = time.perf_counter() - self.started
        filled: dict[str, float] = {}  # panel -> seconds from launch to its first data

        def waiting() -> list[str]:
            empty = []
            for dock_id, dock in window.docks.items():
                if dock.isHidden() or dock_id in filled:
                    continue
                if dock.is_populated():
                    filled[dock_id] = time.perf_counter() - self.started
                else:
                    empty.append(dock_id)
            return empty

        while waiting() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        missing = waiting()
        populated = time.perf_counter() - self.started
        last = sorted(filled.items(), key=lambda item: item[1])[-3:]
        # Said at once (the startup benchmark times this line), then the screenshot.
        print(
            f"workstation: populated in {populated:.1f} s (window shown at {shown:.1f} s; "
            f"last panels: {', '.join(f'{d} {t:.1f} s' for d, t in reversed(last))})"
            + (f"; still empty: {', '.join(missing)}" if missing else ""),
            flush=True,
        )
        await asyncio.sleep(0.5)  # let the last updates paint
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = window.grab().save(str(path))
        print(f"workstation: screenshot {'saved to ' + str(path) if saved else 'FAILED'}")
        return 0 if saved and not missing else 1


def _preload_panels() -> None:
    from workstation.docks.registry import available

    available()


async def _dialog_result(dialog: QDialog) -> int:
    """Open ``dialog`` without blocking the loop; its result code once closed."""
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def done(code: int) -> None:
        if not finished.done():
            finished.set_result(code)

    dialog.finished.connect(done)
    dialog.open()
    return await finished


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    import qasync

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Trading Workstation")
    app.setQuitOnLastWindowClosed(False)  # the workstation decides when to quit
    settings = Settings.load()
    # --theme is for this run; the View menu's choice is the one remembered.
    applied = apply_theme(app, args.theme or settings.theme)
    if not args.theme:
        settings.theme = applied
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return int(loop.run_until_complete(Workstation(app, settings, args).run()))
    except KeyboardInterrupt:
        return 130
    finally:
        with contextlib.suppress(Exception):
            loop.close()


if __name__ == "__main__":
    raise SystemExit(main())
