"""A remote server's sign-in as the MCP tab shows it, and what can stop one (light: no SDK)."""

from enum import Enum

from hybridmcp_app.core.errors import HybridMCPError

NEEDS_SIGN_IN = "needs sign-in"
EXPIRED = "sign-in expired"


class SignInState(Enum):
    NONE = ""  # no sign-in known to be needed (a server without OAuth, or not tried yet)
    NEEDS_SIGN_IN = NEEDS_SIGN_IN
    SIGNED_IN = "signed in"
    EXPIRED = EXPIRED


class SignInFailed(HybridMCPError):
    """The sign-in did not complete (refused, timed out, or the listener was stopped)."""


class SignInRequired(HybridMCPError):
    """The server asks for a sign-in that only the user can give (a browser is needed); a
    restart cannot fix it. Its message starts with the state the MCP tab shows."""

    def __init__(self, server: str, *, expired: bool = False) -> None:
        super().__init__(
            f"{EXPIRED if expired else NEEDS_SIGN_IN}: {server} asks you to sign in; use "
            f"Sign in in the MCP tab, or `hybridmcp mcp sign-in {server}`"
        )
        self.state = SignInState.EXPIRED if expired else SignInState.NEEDS_SIGN_IN


def sign_in_state_of(failure: str) -> SignInState:
    """The sign-in state a server's failure message tells (``SignInRequired``'s), else NONE."""
    for state in (SignInState.NEEDS_SIGN_IN, SignInState.EXPIRED):
        if failure.startswith(f"{state.value}: "):
            return state
    return SignInState.NONE
