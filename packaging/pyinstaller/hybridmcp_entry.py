"""The bundle's entry point: the ``hybridmcp`` command, and ``-m MODULE [ARG…]`` as Python has it.

In a frozen bundle ``sys.executable`` is the bundle's binary, not a Python interpreter, yet the
app starts its own MCP servers as ``sys.executable -m hybridmcp_app.mcp_servers.<name>``
(``mcp_host.builtin_servers``) and other clients paste the same command. So the binary accepts
``-m``, runs the module as ``__main__`` with ``sys.argv`` as Python would set it, and exits with
its status. Document parsing spawns worker processes (``documents.parse_pool``):
``freeze_support`` lets those children run the worker instead of the app.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import runpy
import sys


def run_module(module: str, args: list[str]) -> int:
    """``python -m module args…``: argv[0] becomes the module's file, as Python sets it."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        found = False
    if not found:
        print(f"hybridmcp: No module named {module} in this bundle", file=sys.stderr)
        return 1
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


def main() -> int:
    multiprocessing.freeze_support()
    if len(sys.argv) >= 2 and sys.argv[1] == "-m":
        if len(sys.argv) < 3:
            print("hybridmcp: Argument expected for the -m option", file=sys.stderr)
            return 2
        return run_module(sys.argv[2], sys.argv[3:])
    from hybridmcp_app.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
