"""What every MCP server may ask of the host, built once for a front end: its questions
(elicitation), completions (sampling, approved per ``mcp-grants.json``) and the folders granted
to it (roots). The window passes its dialogs; the command line passes askers that answer alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from hybridmcp_app.config.mcp_grants import MCP_GRANTS_FILE, McpGrantsStore
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.services.elicitation import (
    DecliningAsker,
    DefaultsAsker,
    ElicitationAsker,
    ElicitationService,
)
from hybridmcp_app.services.mcp_roots import McpRoots
from hybridmcp_app.services.mcp_sampling import McpSampler, SamplingApprover

if TYPE_CHECKING:
    from hybridmcp_app.services.app_services import AppServices

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
        sample=sampler, roots=McpRoots(grants),
    )  # fmt: skip
