"""Start a UI action in the background; a ``HybridMCPError`` it raises goes to the banner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.ui.widgets.qt_banner import QtBanner


def spawn_guarded(
    tasks: BackgroundTasks,
    banner: QtBanner,
    action: Awaitable[Any],
    name: str,
    *,
    after: Callable[[], None] | None = None,
) -> asyncio.Task[Any]:
    """Run ``action``; its error is shown, not raised (the task then returns None).
    ``after`` runs when it ends either way (a redraw)."""

    async def guarded() -> Any:
        try:
            return await action
        except HybridMCPError as error:
            banner.show_message(str(error), "error")
            return None
        finally:
            if after is not None:
                after()

    return tasks.spawn(guarded(), name=name)
