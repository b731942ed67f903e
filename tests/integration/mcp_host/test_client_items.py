"""What MCPClient lists of a server built with the SDK (served in memory, as the app serves its
own): icons on tools, resources, templates and prompts; prompts' arguments; templates; and no
completion asked of a server that offers none."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.types import Icon

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.mcp_client import MCPClient
from hybridmcp_app.mcp_host.mcp_items import McpIcon

ICON = "data:image/svg+xml,%3Csvg%2F%3E"


def iconic_server() -> MCPServer:
    server = MCPServer("iconic")
    icons = [Icon(src=ICON, mime_type="image/svg+xml", sizes=["any"])]

    @server.tool(icons=icons)
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @server.resource("note://today", name="today", title="Today's note", icons=icons)
    def today() -> str:
        return "buy milk"

    @server.resource("note://day/{day}", name="day", icons=icons)
    def day(day: str) -> str:
        return f"note of {day}"

    @server.prompt(title="Plan a day", icons=icons)
    def plan(day: str, mood: str = "calm") -> str:
        """Plan one day."""
        return f"Plan {day}, {mood}."

    return server


async def test_icons_titles_templates_and_prompt_arguments_reach_the_app() -> None:
    unused = StdioServerConfig(command="unused")
    client = MCPClient("iconic", unused, in_process=iconic_server())
    await client.connect()
    try:
        expected = (McpIcon(src=ICON, mime_type="image/svg+xml", sizes=("any",)),)
        (tool,) = await client.list_tools()
        (resource,) = await client.list_resources()
        (template,) = await client.list_resource_templates()
        (prompt,) = await client.list_prompts()
        parts = await client.read_resource_contents("note://day/monday")
        messages = await client.get_prompt_messages("plan", {"day": "Monday"})
        completed = await client.complete("plan", "day", "Mo", prompt=True)
    finally:
        await client.cleanup()
    assert tool.icons == resource.icons == template.icons == prompt.icons == expected
    assert (resource.title, template.uri_template) == ("Today's note", "note://day/{day}")
    assert [(a.name, a.required) for a in prompt.parameters] == [("day", True), ("mood", False)]
    assert prompt.title == "Plan a day"
    assert [(part.text, part.blob) for part in parts] == [("note of monday", None)]
    assert [(m.role, m.text) for m in messages] == [("user", "Plan Monday, calm.")]
    assert completed == []  # the server offers no completion: nothing was asked
