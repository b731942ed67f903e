"""What every MCP server may ask of the host, built once for a front end: its questions
(elicitation), completions (sampling, approved per ``mcp-grants.json``) and the folders granted
to it (roots). The window passes its dialogs; the command line passes askers that answer alone.
A change of a server's folders is announced to it (``announce_roots_changes``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from hybridmcp_app.config.mcp_grants import MCP_GRANTS_FILE, McpGrantsStore
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.oauth_sign_in import SignIns
from hybridmcp_app.services.elicitation import (
    DecliningAsker,
    DefaultsAsker,
    ElicitationAsker,
    ElicitationService,
)
from hybridmcp_app.services.mcp_roots import McpRoots, root_choices
from hybridmcp_app.services.mcp_sampling import McpSampler, SamplingApprover

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.services.app_services import AppServices

log = logging.getLogger("hybridmcp.services.roots")

# With no one to ask: decline every question, or accept forms as the server filled them in.
UnattendedAnswer = Literal["decline", "defaults"]


def unattended_asker(answer: UnattendedAnswer) -> ElicitationAsker:
    """The asker for ``answer`` where no one can be asked (URL requests are always declined)."""
    return DefaultsAsker() if answer == "defaults" else DecliningAsker()


def host_requests(
    services: AppServices, asker: ElicitationAsker, approver: SamplingApprover
) -> HostRequests:
    """The handlers for all servers, over ``services``' local model, providers and grants."""
    elicitation = ElicitationService(asker)
    grants = McpGrantsStore(services.paths.config_dir / MCP_GRANTS_FILE)
    sampler = McpSampler(
        grants, services.loaded_local_model, services.providers, approver,
        parameters=lambda: services.local_model.parameters(services.settings.llm.local),
    )  # fmt: skip
    return HostRequests(
        elicit=elicitation.elicit, elicit_complete=elicitation.completed,
        sample=sampler, roots=McpRoots(grants, lambda: root_choices(services.settings)),
        auth=SignIns(services.secrets),  # remote servers' OAuth sign-ins, in the keychain
    )  # fmt: skip


def announce_roots_changes(host: McpHost) -> None:
    """After each change of a server's granted folders, tell that server if it is connected
    (``MCPClient.roots_changed``: a 2025 session hears ``notifications/roots/list_changed``;
    a 2026-07-28 server asks for its roots with each request, so it needs no notice)."""
    roots = host.requests.roots
    if not isinstance(roots, McpRoots):
        return

    async def announce(server: str) -> None:
        supervisor = host.supervisors.get(server)
        client = supervisor.client if supervisor is not None else None
        if client is not None and client.connected:
            await client.roots_changed()
        else:
            log.debug("%s is not connected: it reads its roots when it next asks", server)

    roots.subscribe(announce)
