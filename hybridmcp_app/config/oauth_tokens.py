"""A remote MCP server's sign-in in the keychain: the SDK's ``TokenStorage`` over ``SecretStore``.

Two kinds of keychain entry, never a file:
- ``mcp-oauth.<hash of the server's URL>``: the tokens for that server, the issuer (the
  authorization server) that granted them and when the access token expires; bound to the
  server's origin, so they are never read on behalf of another address.
- ``mcp-oauth-client.<hash of the issuer>``: the client registration (DCR or CIMD) that issuer
  gave us, bound to the issuer's origin and shared by every server it signs in for.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.errors import SecretStoreError

if TYPE_CHECKING:  # the MCP SDK is imported with the host, not with the settings
    from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

log = logging.getLogger("hybridmcp.mcp.oauth")
WHERE = "the MCP tab (Sign in)"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def tokens_secret_name(server_url: str) -> str:
    return f"mcp-oauth.{_digest(server_url.rstrip('/'))}"


def client_secret_name(issuer: str) -> str:
    return f"mcp-oauth-client.{_digest(issuer.rstrip('/'))}"


class StoredSignIn(BaseModel):
    """One server's keychain record: who signed us in, the tokens (a JSON object, as the SDK's
    ``OAuthToken`` dumps it), when the access token runs out (``time.time()``) and the scopes
    a step-up asked for that the tokens lack (``wanted_scope``: the next sign-in asks for them)."""

    issuer: str | None = None
    tokens: dict[str, Any] | None = None
    expires_at: float | None = None
    wanted_scope: str | None = None

    @property
    def signed_in(self) -> bool:
        return bool(self.tokens and self.tokens.get("access_token"))

    @property
    def refreshable(self) -> bool:
        return bool(self.tokens and self.tokens.get("refresh_token"))

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def granted_scope(self) -> str | None:
        scope = self.tokens.get("scope") if self.tokens else None
        return scope if isinstance(scope, str) else None

    def holds(self, scope: str) -> bool:
        """Whether the stored tokens were granted every scope in ``scope``."""
        return self.signed_in and _covers(self.granted_scope, scope)


def _covers(granted: str | None, wanted: str | None) -> bool:
    return set((wanted or "").split()) <= set((granted or "").split())


class KeychainTokenStorage:
    """The SDK's ``TokenStorage`` for one server URL, kept in ``SecretStore``.

    A keychain that cannot be read counts as "nothing stored" (the server then asks for a
    sign-in, which says why it cannot be saved); a damaged record likewise. Given the
    ``redirect_uri`` of a sign-in (its loopback port is new each time), a registration made for
    other redirect URIs is not offered, so the client registers again: not every authorization
    server lets a loopback redirect change its port (RFC 8252 §7.3)."""

    def __init__(
        self, secrets: SecretStore, server_url: str, *, redirect_uri: str | None = None
    ) -> None:
        self._secrets = secrets
        self._redirect_uri = redirect_uri  # a sign-in's: a registration for another is not used
        self.server_url = server_url.rstrip("/")
        self._name = tokens_secret_name(self.server_url)
        self._origin = origin_of(self.server_url)

    def record(self) -> StoredSignIn | None:
        """The stored record, or None (nothing stored, unreadable or damaged)."""
        try:
            text = self._secrets.get(self._name, origin=self._origin, where=WHERE)
        except SecretStoreError as error:
            log.warning("sign-in for %s: %s", self._origin, error)
            return None
        if text is None:
            return None
        try:
            return StoredSignIn.model_validate_json(text.get_secret_value())
        except ValidationError:
            log.warning(
                "sign-in for %s: the keychain entry is damaged; sign in again", self._origin
            )
            return None

    def _save(self, record: StoredSignIn) -> None:
        self._secrets.set(self._name, record.model_dump_json(), origin=self._origin)

    async def get_tokens(self) -> OAuthToken | None:
        from mcp.shared.auth import OAuthToken

        record = self.record()
        if record is None or not record.signed_in:
            return None
        try:
            return OAuthToken.model_validate(record.tokens)
        except ValidationError:
            return None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        record = self.record() or StoredSignIn()
        lifetime = tokens.expires_in
        expires_at = time.time() + lifetime if lifetime is not None else None
        saved = tokens.model_dump(mode="json", exclude_none=True)
        wanted = None if _covers(tokens.scope, record.wanted_scope) else record.wanted_scope
        update = {"tokens": saved, "expires_at": expires_at, "wanted_scope": wanted}
        self._save(record.model_copy(update=update))
        log.info("signed in to %s", self._origin)

    def want_scope(self, scope: str) -> None:
        """A step-up: the server asked for ``scope`` (with those already granted), which only
        a new sign-in can give; remembered until tokens holding it are saved."""
        record = self.record()
        if record is None or not record.signed_in:
            return
        self._save(record.model_copy(update={"wanted_scope": scope}))

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        from mcp.shared.auth import OAuthClientInformationFull

        record = self.record()
        if record is None or record.issuer is None:
            return None
        try:
            text = self._secrets.get(
                client_secret_name(record.issuer), origin=origin_of(record.issuer), where=WHERE
            )
            client = None if text is None else (
                OAuthClientInformationFull.model_validate_json(text.get_secret_value())
            )  # fmt: skip
        except (SecretStoreError, ValidationError) as error:
            log.warning("client registration at %s: %s", record.issuer, error)
            return None
        wanted, registered = self._redirect_uri, client.redirect_uris if client else None
        if wanted and registered and wanted not in {str(uri) for uri in registered}:
            return None
        return client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        # Without an issuer stamp (a legacy server with no metadata) the server's origin issued it.
        issuer = str(client_info.issuer or origin_of(self.server_url))
        self._secrets.set(
            client_secret_name(issuer), client_info.model_dump_json(exclude_none=True),
            origin=origin_of(issuer),
        )  # fmt: skip
        record = self.record() or StoredSignIn()
        if record.issuer != issuer:  # another authorization server: the old tokens are not its
            record = StoredSignIn(issuer=issuer)
        self._save(record)

    def sign_out(self) -> bool:
        """Forget this server's tokens (the issuer's client registration stays); False if there
        were none."""
        record = self.record()
        if record is None or not record.signed_in:
            return False
        self._save(StoredSignIn(issuer=record.issuer))
        log.info("signed out of %s", self._origin)
        return True
