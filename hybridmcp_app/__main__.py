"""``python -m hybridmcp_app``: the same as the ``hybridmcp`` command."""

import sys

from hybridmcp_app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
