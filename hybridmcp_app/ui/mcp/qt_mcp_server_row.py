"""One server in the MCP Servers list: its status light, name, state, uptime, restarts, the
switch that runs it and, for a remote server behind OAuth, Sign in / Sign out. Its sign-in
state is read from the keychain off the event loop (``read_sign_in``: once at start, and again
when a sign-in, a sign-out or a connection changes it), never while drawing."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from hybridmcp_app.mcp_host.oauth_state import (
    SignInFailed,
    SignInNeed,
    SignInState,
    sign_in_state_of,
)
from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus

if TYPE_CHECKING:
    from hybridmcp_app.config.secrets import SecretStore
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost

ROW_HEIGHT = 48
LIGHTS = {
    ServerState.READY: "#2da44e", ServerState.STARTING: "#d4a72c",
    ServerState.RESTARTING: "#d4a72c", ServerState.FAILED: "#cf222e",
    ServerState.STOPPED: "#8c959f",
}  # fmt: skip
SIGN_IN_LIGHT = "#d4a72c"  # waiting for the user, not broken


def uptime(status: ServerStatus, now: float) -> str:
    if status.ready_since is None:
        return ""
    seconds = int(now - status.ready_since)
    hours, rest = divmod(seconds, 3600)
    return f"up {hours}h {rest // 60:02d}m" if hours else f"up {rest // 60}m {rest % 60:02d}s"


def open_in_browser(url: str) -> None:
    """The system browser, for a sign-in page (``oauth_sign_in.OpenUrl``)."""
    if not QDesktopServices.openUrl(QUrl(url)):
        raise SignInFailed(f"no browser could be opened; open this address yourself: {url}")


async def sign_in_or_out(host: McpHost, name: str, secrets: SecretStore, signed_in: bool) -> bool:
    """The row's button: sign out when ``signed_in``, else sign in with the system browser;
    then the server restarts. Returns whether it is now signed in."""
    from hybridmcp_app.mcp_host import oauth_sign_in  # the MCP SDK: loaded with the host

    if signed_in:
        await oauth_sign_in.sign_out_and_restart(host, name, secrets)
        return False
    await oauth_sign_in.sign_in_and_restart(host, name, secrets, open_in_browser)
    return True


async def read_sign_in(
    host: McpHost, name: str, secrets: SecretStore, rows: Mapping[str, QtServerRow]
) -> None:
    """Read ``name``'s sign-in state (the keychain, off the event loop) into its row."""
    from hybridmcp_app.mcp_host.oauth_sign_in import read_sign_in_need

    need = await read_sign_in_need(host, name, secrets)
    row = rows.get(name)
    if row is not None and shiboken6.isValid(row):
        row.set_sign_in(need)


def sign_in_state(status: ServerStatus, known: SignInState) -> SignInState:
    """What the row says about signing in: what the server's failure tells, else what is
    ``known`` (the keychain, and what connections found out)."""
    failed = status.state is ServerState.FAILED
    asked = sign_in_state_of(status.message) if failed else SignInState.NONE
    return asked if asked is not SignInState.NONE else known


def sign_in_tips(state: SignInState, need: SignInNeed) -> tuple[str, str]:
    """The state's tooltip and the button's, naming the scopes a step-up asks for."""
    scope = need.scope if need.state is SignInState.MORE_PERMISSION else None
    if state is SignInState.SIGNED_IN:
        return state.value, "Forget this server's sign-in (the keychain's tokens)"
    if state is SignInState.MORE_PERMISSION:
        asked = f"it asks for {scope}" if scope else "it asks for more scopes"
        return (
            f"{state.value}: {asked}",
            f"Sign in again in your browser, granting {scope or 'what it asks for'}; the "
            "tokens go to the keychain",
        )
    return state.value, "Sign in to this server in your browser; the tokens go to the keychain"


class QtServerRow(QWidget):
    """One server in the list: light, name, state, uptime, restarts, its switch, and a Sign in
    (or Sign out) button when the server is behind a sign-in."""

    def __init__(
        self,
        name: str,
        on_toggle: Callable[[str, bool], object],
        on_sign_in: Callable[[str, bool], object] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.need = SignInNeed()  # what the keychain and connections tell (``set_sign_in``)
        self.shown_sign_in = SignInState.NONE  # what the row says now
        self.light = QLabel("●", self)
        self.label = QLabel(self)
        self.sign_in = QPushButton("Sign in", self)
        self.sign_in.setVisible(False)
        if on_sign_in is not None:
            self.sign_in.clicked.connect(
                lambda: on_sign_in(name, self.shown_sign_in is SignInState.SIGNED_IN)
            )
        self.switch = QCheckBox("On", self)
        self.switch.setToolTip("Run this server (remembered in mcp.json)")
        self.switch.clicked.connect(lambda checked: on_toggle(name, checked))
        self._shown: tuple[object, ...] = ()
        self._last: tuple[ServerStatus, bool, float] | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.light)
        row.addWidget(self.label, 1)
        row.addWidget(self.sign_in)
        row.addWidget(self.switch)

    def set_sign_in(self, need: SignInNeed) -> None:
        """What the keychain (read off the event loop) and connections now tell."""
        self.need = need
        if self._last is not None:
            self.show_status(*self._last)

    def show_status(self, status: ServerStatus, enabled: bool, now: float) -> None:
        """Redraw what changed since the last call (the clock calls it every second)."""
        self._last = (status, enabled, now)
        sign_in = sign_in_state(status, self.need.state)
        asking = sign_in.asks_user
        details = [sign_in.value if asking else status.state.value, uptime(status, now)]
        if sign_in is SignInState.SIGNED_IN:
            details.append(sign_in.value)
        if status.restarts:
            details.append(f"{status.restarts} restart(s)")
        shown = (status.state, enabled, self.need, *details)
        if shown == self._shown:
            return
        self._shown, self.shown_sign_in = shown, sign_in
        state_tip, button_tip = sign_in_tips(sign_in, self.need)
        light = SIGN_IN_LIGHT if asking else LIGHTS[status.state]
        self.light.setStyleSheet(f"color: {light}; font-size: 16pt;")
        self.light.setToolTip(state_tip if asking else details[0])
        self.label.setToolTip(state_tip if sign_in is not SignInState.NONE else "")
        self.label.setText(
            f"<b>{html.escape(self.name)}</b><br><small>"
            f"{html.escape(' · '.join(d for d in details if d))}</small>"
        )
        self.sign_in.setText("Sign out" if sign_in is SignInState.SIGNED_IN else "Sign in")
        self.sign_in.setToolTip(button_tip)
        self.sign_in.setVisible(asking or sign_in is SignInState.SIGNED_IN)
        self.switch.setChecked(enabled)
