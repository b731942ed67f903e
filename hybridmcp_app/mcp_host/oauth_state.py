"""A remote server's sign-in as the MCP tab shows it, and what can stop one (light: no SDK)."""

from enum import Enum

from pydantic import BaseModel, ConfigDict

from hybridmcp_app.core.errors import HybridMCPError

NEEDS_SIGN_IN = "needs sign-in"
EXPIRED = "sign-in expired"
MORE_PERMISSION = "needs more permission"


class SignInState(Enum):
    NONE = ""  # no sign-in known to be needed (a server without OAuth, or not tried yet)
    NEEDS_SIGN_IN = NEEDS_SIGN_IN
    SIGNED_IN = "signed in"
    EXPIRED = EXPIRED
    MORE_PERMISSION = MORE_PERMISSION  # signed in, but a call asked for scopes we lack

    @property
    def asks_user(self) -> bool:
        """Whether only the user can go on (a sign-in in the browser)."""
        return self in ASKING


ASKING = (SignInState.NEEDS_SIGN_IN, SignInState.EXPIRED, SignInState.MORE_PERMISSION)


class SignInNeed(BaseModel):
    """A server's sign-in state and, for ``MORE_PERMISSION``, every scope the next sign-in asks
    for (those granted and those the server asked for, space-separated)."""

    model_config = ConfigDict(frozen=True)

    state: SignInState = SignInState.NONE
    scope: str | None = None


class SignInFailed(HybridMCPError):
    """The sign-in did not complete (refused, timed out, or the listener was stopped)."""


class SignInRequired(HybridMCPError):
    """The server asks for a sign-in that only the user can give (a browser is needed); a
    restart cannot fix it. Its message starts with the state the MCP tab shows."""

    def __init__(self, server: str, *, expired: bool = False, scope: str | None = None) -> None:
        if scope is not None:
            state, why = SignInState.MORE_PERMISSION, f"asks for more permission ({scope})"
        else:
            state = SignInState.EXPIRED if expired else SignInState.NEEDS_SIGN_IN
            why = "asks you to sign in"
        super().__init__(
            f"{state.value}: {server} {why}; use Sign in in the MCP tab, or "
            f"`hybridmcp mcp sign-in {server}`"
        )
        self.state = state
        self.need = SignInNeed(state=state, scope=scope)


def sign_in_state_of(failure: str) -> SignInState:
    """The sign-in state a server's failure message tells (``SignInRequired``'s), else NONE."""
    for state in ASKING:
        if failure.startswith(f"{state.value}: "):
            return state
    return SignInState.NONE
