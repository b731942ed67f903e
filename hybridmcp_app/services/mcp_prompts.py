"""A server's prompts as ``/commands`` in the chat: typing ``/`` lists them (``/server:prompt``),
an argument form asks what they need (with the server's completion), and the filled-in prompt
(``prompts/get``) becomes the turn's messages: the last user message is the question, the
messages before it join the history.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.mcp_host.mcp_items import McpPrompt, McpPromptMessage
from hybridmcp_app.orchestration.conversation import ServerPrompt

if TYPE_CHECKING:  # the MCP SDK is imported after start-up
    from hybridmcp_app.mcp_host.mcp_client import MCPClient

log = logging.getLogger("hybridmcp.services.prompts")


class PromptOffer(Protocol):
    """What ``/commands`` need of the MCP host (``McpRegistry`` is one)."""

    def prompts(self) -> list[McpPrompt]: ...

    def client(self, server: str) -> MCPClient: ...


class PromptTurn(FrozenModel):
    """A filled-in prompt as a turn: earlier messages, then the question."""

    history: tuple[ChatMessage, ...] = ()
    prompt: str
    server: str = ""  # whose prompt it is, and its name
    name: str = ""

    def server_prompt(self) -> ServerPrompt:
        """Where the turn came from, with its earlier messages (the turn record keeps it)."""
        return ServerPrompt(server=self.server, name=self.name, messages=self.history)


def command_of(prompt: McpPrompt) -> str:
    return f"/{prompt.server}:{prompt.name}"


def matching(prompts: Sequence[McpPrompt], typed: str) -> list[McpPrompt]:
    """The prompts whose command contains what follows the ``/`` (all for a bare ``/``);
    none when ``typed`` is not a command being typed."""
    if not typed.startswith("/") or any(space in typed for space in " \n\t"):
        return []
    wanted = typed[1:].lower()
    return [prompt for prompt in prompts if wanted in command_of(prompt)[1:].lower()]


def missing_arguments(prompt: McpPrompt, values: dict[str, str]) -> list[str]:
    return [
        argument.name
        for argument in prompt.parameters
        if argument.required and not values.get(argument.name, "").strip()
    ]


def prompt_turn(name: str, messages: Sequence[McpPromptMessage]) -> PromptTurn:
    """The prompt's messages as a turn; HybridMCPError when it has no user message (the chat
    asks a question last: the messages after the last user one are kept before it, in order,
    as the assistant's)."""
    users = [index for index, message in enumerate(messages) if message.role == "user"]
    if not users or not messages[users[-1]].text.strip():
        raise HybridMCPError(f"the prompt {name} has no question for the model")
    last = users[-1]
    history = tuple(
        ChatMessage(role="user" if message.role == "user" else "assistant", content=message.text)
        for index, message in enumerate(messages)
        if index != last and message.text
    )
    return PromptTurn(history=history, prompt=messages[last].text)


class McpPrompts:
    """Lists the ready servers' prompts and fills one in."""

    def __init__(self, offer: PromptOffer) -> None:
        self._offer = offer

    def prompts(self) -> list[McpPrompt]:
        return self._offer.prompts()

    def matching(self, typed: str) -> list[McpPrompt]:
        return matching(self.prompts(), typed)

    async def complete(
        self, prompt: McpPrompt, argument: str, value: str, given: dict[str, str]
    ) -> list[str]:
        """The server's suggestions for one argument ([] when it has none or fails)."""
        try:
            client = self._offer.client(prompt.server)
            return await client.complete(prompt.name, argument, value, given, prompt=True)
        except (HybridMCPError, LookupError) as error:
            log.info("%s: no completion for %s: %s", prompt.server, argument, error)
            return []

    async def turn(self, prompt: McpPrompt, values: dict[str, str]) -> PromptTurn:
        """``prompts/get`` with ``values`` (empty ones left out), as a turn; HybridMCPError
        with one line when an argument is missing or the server refuses."""
        missing = missing_arguments(prompt, values)
        if missing:
            raise HybridMCPError(f"{command_of(prompt)} needs {', '.join(missing)}")
        given = {name: value for name, value in values.items() if value.strip()}
        try:
            client = self._offer.client(prompt.server)
            messages = await client.get_prompt_messages(prompt.name, given)
        except LookupError as error:
            raise HybridMCPError(str(error).strip("'\"")) from None
        except HybridMCPError as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise HybridMCPError(f"{command_of(prompt)}: {first}") from None
        turn = prompt_turn(command_of(prompt), messages)
        return turn.model_copy(update={"server": prompt.server, "name": prompt.name})
