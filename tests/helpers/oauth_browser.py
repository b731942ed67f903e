"""A stand-in for the user's browser, for ``$BROWSER``: ``python -m tests.helpers.oauth_browser
URL`` opens the authorization page and follows its redirects, as a browser does when the
authorization server approves at once (``tests.helpers.oauth_server``)."""

from __future__ import annotations

import sys
import urllib.request

from tests.helpers.waiting import PATIENCE_S

if __name__ == "__main__":
    with urllib.request.urlopen(sys.argv[1], timeout=PATIENCE_S) as page:
        sys.exit(0 if page.status == 200 else 1)
