"""The address of a Hugging Face Hub: huggingface.co, a mirror (hf-mirror.com) or a company proxy.

Checked wherever one comes in (settings, ``HF_ENDPOINT``): an http(s) URL with a host, no user
name or password, no query; plain http only to this computer, since the hub gets the token.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

DEFAULT_HUB = "https://huggingface.co"
_EXAMPLE = "such as https://huggingface.co or https://hf-mirror.com"


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_hub_address(text: str) -> str:
    """``text`` as a hub address, without its trailing slash; ``ValueError`` (one line) if not."""
    value = text.strip()
    parts = urllib.parse.urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the hub address must be an http(s) URL {_EXAMPLE}, not {value!r}")
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number or out of range
    except ValueError:
        raise ValueError(f"the hub address {value!r} has an invalid port") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the hub address must not hold a user name or password: save a Hugging Face token "
            "in Get models instead"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"the hub address must not have a query or fragment: {value!r}")
    if scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"the hub address {value!r} must use https: plain http is allowed only to this "
            "computer (localhost, 127.0.0.1), since the hub is sent your token"
        )
    return value.rstrip("/")
