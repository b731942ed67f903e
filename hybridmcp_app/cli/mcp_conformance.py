"""``hybridmcp mcp conformance-client URL``: the client the official MCP conformance suite drives
(``scripts/conformance.py clients``). Not for people: it reads the scenario from the suite's
environment variables and does what the scenario's server waits for, through the app's own
``MCPClient`` (``mode="auto"``: ``server/discover``, else the ``initialize`` handshake).

An ``auth/*`` scenario's server asks for a sign-in: the client signs in as the app does
(``oauth_sign_in.SignIns``: the SDK's OAuth with a loopback redirect on 127.0.0.1), with a
"browser" that GETs the authorization URL and follows its redirect to the loopback listener (the
suite's authorization server answers at once), tokens in a keychain that lives for this run
only, and the suite's Client ID Metadata Document URL. The client-credentials scenario uses the
credentials the suite hands over (``MCP_CONFORMANCE_CONTEXT``); pre-registration seeds the
keychain with the suite's client.

For every scenario it lists what the server offers, then calls the tools the suite names in
``MCP_CONFORMANCE_CONTEXT`` (``toolCalls``), or else every tool listed, with arguments made from
each tool's input schema; it reads the first resource and gets the first prompt. A server's
questions get the command line's answer (``--elicitation``). Exit 0 when all of it worked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx2

    from hybridmcp_app.mcp_host.mcp_client import MCPClient
    from hybridmcp_app.mcp_host.mcp_items import McpTool
    from hybridmcp_app.mcp_host.oauth_loopback import LoopbackRedirect
    from hybridmcp_app.mcp_host.oauth_sign_in import SignIns
    from hybridmcp_app.services.mcp_requests import UnattendedAnswer

SCENARIO_ENV = "MCP_CONFORMANCE_SCENARIO"
CONTEXT_ENV = "MCP_CONFORMANCE_CONTEXT"
REQUEST_TIMEOUT_S = 20.0  # the suite kills the client after 30 s
# json-schema-2020-12-preservation: give the echo tool the schema as this client parsed it.
ECHO_TOOL, ECHOED_TOOL = "json_schema_echo", "json_schema_2020_12_tool"
# The suite's Client ID Metadata Document (auth/basic-cimd): it checks the client_id is this URL.
SUITE_CIMD_URL = "https://conformance-test.local/client-metadata.json"
SAMPLES: dict[str, Any] = {"string": "x", "integer": 1, "number": 1, "boolean": True,
                           "array": [], "object": {}}  # fmt: skip


def sample_arguments(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for a tool from its input schema: each required property's default, else a
    value of its type."""
    properties = schema.get("properties")
    fields: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    arguments: dict[str, Any] = {}
    for name in schema.get("required") or ():
        field = fields.get(name)
        field = field if isinstance(field, Mapping) else {}
        if "default" in field:
            arguments[name] = field["default"]
        elif isinstance(field.get("enum"), list) and field["enum"]:
            arguments[name] = field["enum"][0]
        else:
            kind = field.get("type")
            arguments[name] = SAMPLES.get(kind if isinstance(kind, str) else "string", "x")
    return arguments


def planned_calls(
    tools: list[McpTool], context: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls for one scenario: the suite's own list, else one call per tool."""
    named = context.get("toolCalls")
    if isinstance(named, list):
        return [(str(call["name"]), dict(call.get("arguments") or {})) for call in named]
    by_name = {tool.name: tool for tool in tools}
    calls = []
    for tool in tools:
        if tool.name == ECHO_TOOL and ECHOED_TOOL in by_name:
            calls.append((tool.name, {"schema": by_name[ECHOED_TOOL].input_schema}))
        else:
            calls.append((tool.name, sample_arguments(tool.input_schema)))
    return calls


async def exercise(client: MCPClient, context: Mapping[str, Any]) -> list[str]:
    """List and use what the server offers; returns the failures, one line each."""
    capabilities = client.capabilities
    failures: list[str] = []
    tools = await client.list_tools() if capabilities is None or capabilities.tools else []
    for name, arguments in planned_calls(tools, context):
        outcome = await client.call_tool(name, arguments)
        if outcome.is_error:
            failures.append(f"{name}: {outcome.text}")
    if capabilities is not None and capabilities.resources:
        resources = await client.list_resources()
        if resources:
            await client.read_resource(resources[0].uri)
    if capabilities is not None and capabilities.prompts:
        prompts = await client.list_prompts()
        if prompts:
            first = prompts[0]
            await client.get_prompt(first.name, {argument: "x" for argument in first.arguments})
    return failures


class RunKeychain:
    """A keychain that lives for one run (the suite's tokens never reach the user's)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if self._values.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


async def follow_to_loopback(authorization_url: str) -> None:
    """The non-interactive browser: GET the authorization URL and follow its redirects (the
    suite's authorization server answers with a 302 to our loopback listener)."""
    import httpx2

    async with httpx2.AsyncClient(follow_redirects=True, timeout=REQUEST_TIMEOUT_S) as browser:
        response = await browser.get(authorization_url)
    if response.status_code != 200:
        print(f"sign-in page: HTTP {response.status_code}", file=sys.stderr)


def jwt_client_auth(context: Mapping[str, Any], url: str, sign_ins: SignIns) -> httpx2.Auth:
    """``client_credentials`` with a JWT as the client's proof (RFC 7523): signed here with the
    suite's key, or the workload identity's ready-made token."""
    from mcp.client.auth.extensions.client_credentials import (
        PrivateKeyJWTOAuthProvider,
        SignedJWTParameters,
        static_assertion_provider,
    )

    client_id = str(context["client_id"])
    if "private_key_pem" in context:
        assertion = SignedJWTParameters(
            issuer=client_id, subject=client_id, signing_key=str(context["private_key_pem"]),
            signing_algorithm=str(context.get("signing_algorithm") or "ES256"),
        ).create_assertion_provider()  # fmt: skip
    else:
        assertion = static_assertion_provider(str(context["valid_jwt"]))
    return PrivateKeyJWTOAuthProvider(url, sign_ins.storage(url), client_id, assertion)


async def scenario_auth(
    scenario: str, context: Mapping[str, Any], url: str, sign_ins: SignIns,
    loopback: LoopbackRedirect,
) -> httpx2.Auth:  # fmt: skip
    """How this scenario's client signs in."""
    from mcp.shared.auth import OAuthClientInformationFull
    from pydantic import AnyUrl

    from hybridmcp_app.mcp_host.oauth_sign_in import StaticClient

    if scenario == "auth/client-credentials-basic":
        static = StaticClient(str(context["client_id"]), str(context["client_secret"]))
        return sign_ins.connection_auth("conformance", url, static)
    if scenario in ("auth/client-credentials-jwt", "auth/wif-jwt-bearer"):
        return jwt_client_auth(context, url, sign_ins)
    if scenario == "auth/pre-registration":  # the suite registered our client beforehand
        await sign_ins.storage(url).set_client_info(
            OAuthClientInformationFull(
                client_id=str(context["client_id"]), client_secret=str(context["client_secret"]),
                redirect_uris=[AnyUrl(loopback.redirect_uri)],
                token_endpoint_auth_method="client_secret_basic",
                issuer=str(context["issuer"]) if context.get("issuer") else None,
            )
        )  # fmt: skip
    return sign_ins.interactive_auth("conformance", url, loopback, follow_to_loopback)


async def run_conformance_client(url: str, elicitation: UnattendedAnswer) -> int:
    from hybridmcp_app.config.mcp_config import RemoteServerConfig
    from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
    from hybridmcp_app.mcp_host.host_requests import HostRequests
    from hybridmcp_app.mcp_host.mcp_client import MCPClient
    from hybridmcp_app.mcp_host.oauth_loopback import LoopbackRedirect
    from hybridmcp_app.mcp_host.oauth_sign_in import SignIns
    from hybridmcp_app.services.elicitation import ElicitationService
    from hybridmcp_app.services.mcp_requests import unattended_asker

    context = json.loads(os.environ.get(CONTEXT_ENV) or "{}")
    scenario = os.environ.get(SCENARIO_ENV, "?")

    elicit = ElicitationService(unattended_asker(elicitation)).elicit
    sign_ins = SignIns(SecretStore(RunKeychain(), KeychainStatus(True, "this run's keychain")))
    sign_ins.client_metadata_url = SUITE_CIMD_URL
    async with LoopbackRedirect("the conformance server") as loopback:
        auth = await scenario_auth(scenario, context, url, sign_ins, loopback)
        client = MCPClient(
            "conformance", RemoteServerConfig.model_validate({"url": url}),
            request_timeout_s=REQUEST_TIMEOUT_S,
            requests=HostRequests(elicit=elicit, auth=lambda _name, _config: auth),
        )  # fmt: skip
        await client.connect()
        try:
            print(f"{scenario}: protocol {client.protocol_version}", file=sys.stderr)
            failures = await exercise(client, context)
        finally:
            await client.cleanup()
    for failure in failures:
        print(f"hybridmcp mcp conformance-client: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main_conformance_client(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_conformance_client(args.url, args.elicitation))
    except Exception as error:  # one line for the suite's log, whatever broke
        cause: BaseException = error
        while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
            cause = cause.exceptions[0]
        print(f"hybridmcp mcp conformance-client: {cause!r}"[:500], file=sys.stderr)
        return 1
