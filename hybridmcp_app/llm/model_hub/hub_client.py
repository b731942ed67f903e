"""The Hugging Face Hub through ``huggingface_hub``: search GGUF repos and list their GGUF files.

The endpoint is the one given (the "Hub address" setting), else ``HF_ENDPOINT`` (read at each
call), else huggingface.co, checked by ``check_hub_address``. Each hub's token is a keychain entry
of its own, named after and bound to the hub's origin, so it is only ever sent there. Blocking
calls run off the loop.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.hub_address import DEFAULT_HUB, check_hub_address

DEFAULT_ENDPOINT = DEFAULT_HUB
HF_TOKEN_SECRET = "huggingface.token"  # huggingface.co's; another hub's adds its origin
TOKEN_WHERE = "Settings → Local model → Get models…"
_QUANT = re.compile(r"(?:^|[-.])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?=[-.]|$)", re.I)
_SPLIT = re.compile(r"-\d{5}-of-\d{5}\.gguf$", re.I)


class ModelHubError(HybridMCPError):
    """The hub could not answer or refused; one line saying what happened and what to do."""


class HubRepo(BaseModel):
    """A search hit: a model repository on the hub."""

    model_config = ConfigDict(frozen=True)

    repo_id: str
    downloads: int = 0
    likes: int = 0
    gated: bool = False


class HubFile(BaseModel):
    """A GGUF file of a repo at one commit, with the size and SHA-256 the hub publishes."""

    model_config = ConfigDict(frozen=True)

    repo_id: str
    filename: str
    commit: str
    size: int
    sha256: str | None
    quantization: str = ""
    projector: bool = False  # a vision projector (mmproj), not a model of its own
    split: bool = False  # one part of a model split over several files


class RepoFiles(BaseModel):
    model_config = ConfigDict(frozen=True)

    repo_id: str
    commit: str
    gated: bool
    files: list[HubFile]


def hub_endpoint(endpoint: str | None = None) -> str:
    """The hub to talk to: ``endpoint``, else ``HF_ENDPOINT``, else huggingface.co; raises
    ``ModelHubError`` (one line) when the address is not one to send a token to."""
    from_environment = os.environ.get("HF_ENDPOINT", "").strip()
    chosen = (endpoint or "").strip() or from_environment or DEFAULT_ENDPOINT
    try:
        return check_hub_address(chosen)
    except ValueError as error:
        where = "" if (endpoint or "").strip() or not from_environment else " (from HF_ENDPOINT)"
        raise ModelHubError(f"{error}{where}") from None


def hub_token_name(endpoint: str) -> str:
    """The keychain entry of this hub's token: ``huggingface.token`` for huggingface.co,
    ``huggingface.token.<origin>`` (spelled with letters, digits, '.', '-' and '_') for another."""
    origin = origin_of(endpoint)
    if origin == origin_of(DEFAULT_ENDPOINT):
        return HF_TOKEN_SECRET
    return f"{HF_TOKEN_SECRET}.{re.sub(r'[^A-Za-z0-9.-]+', '_', origin)}"[:110]


def hub_token(store: SecretStore, endpoint: str) -> SecretStr | None:
    """The Hugging Face token saved in the keychain for this hub's origin, if any (one saved
    before tokens were kept per hub counts when it is bound to this origin)."""
    if not store.available:
        return None
    origin, name = origin_of(endpoint), hub_token_name(endpoint)
    token = store.get(name, origin=origin, where=TOKEN_WHERE)
    if token is None and name != HF_TOKEN_SECRET and store.origin(HF_TOKEN_SECRET) == origin:
        token = store.get(HF_TOKEN_SECRET, origin=origin, where=TOKEN_WHERE)
    return token


def save_hub_token(store: SecretStore, endpoint: str, token: str) -> None:
    """Keep ``token`` in the keychain for this hub's origin only (the others keep theirs)."""
    store.set(hub_token_name(endpoint), token, origin=origin_of(endpoint))


def quantization_of(filename: str) -> str:
    """``Q4_K_M``, ``Q8_0``, ``F16``… as the file name spells it, upper case; '' if none."""
    match = _QUANT.search(filename.rsplit("/", 1)[-1].removesuffix(".gguf"))
    return match.group(1).upper() if match else ""


def describe_hub_error(error: BaseException, repo_id: str, *, with_token: bool) -> str:
    """One line for a failed hub call."""
    from huggingface_hub import errors

    if isinstance(error, errors.GatedRepoError):
        if with_token:
            return (f"{repo_id} is gated and the saved Hugging Face token has no access to it: "
                    "accept its terms on its hub page, then try again")  # fmt: skip
        return (f"{repo_id} is gated: accept its terms on its hub page and save a Hugging Face "
                f"token in {TOKEN_WHERE}")  # fmt: skip
    if isinstance(error, errors.RepositoryNotFoundError):
        return f"the hub has no model {repo_id} (or it is private and needs a token)"
    if isinstance(error, errors.RevisionNotFoundError):
        return f"the hub has no such revision of {repo_id}"
    if isinstance(error, errors.RemoteEntryNotFoundError):
        return f"the file is no longer in {repo_id}; refresh its file list"
    if isinstance(error, errors.HfHubHTTPError):
        status = error.response.status_code if error.response is not None else "?"
        return f"the hub answered HTTP {status} for {repo_id}"
    if isinstance(error, errors.OfflineModeIsEnabled):
        return "huggingface_hub is in offline mode (HF_HUB_OFFLINE is set)"
    detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return f"could not reach the hub for {repo_id}: {detail}"


def _without_telemetry() -> None:
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True


def _gated(value: Any) -> bool:
    return bool(value) and value != "False"


class HubClient:
    """Search the hub and list a repo's GGUF files; ``token`` is sent to ``endpoint`` only."""

    def __init__(self, endpoint: str | None = None, token: SecretStr | None = None) -> None:
        self.endpoint = hub_endpoint(endpoint)
        self.token = token

    def __repr__(self) -> str:
        return f"HubClient({self.endpoint!r}, token={'set' if self.token else 'none'})"

    def token_value(self) -> str | bool:
        """What ``huggingface_hub`` calls take as ``token``: ours, or False (never a stray one).

        Every call to the hub asks for it first, so ``huggingface_hub``'s telemetry is turned off
        here: with it on, building the headers fetches ``/api/agent-harnesses`` from
        ``HF_ENDPOINT`` or huggingface.co, a hub other than this one."""
        _without_telemetry()
        return self.token.get_secret_value() if self.token else False

    async def search(self, query: str, limit: int = 40) -> list[HubRepo]:
        """GGUF repos whose name contains ``query``, most downloaded first."""
        words = query.strip()
        if not words:
            raise ModelHubError("type a few letters of a model name to search the hub")
        return await asyncio.to_thread(self._search, words, limit)

    def _search(self, words: str, limit: int) -> list[HubRepo]:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.endpoint, token=self.token_value())
        try:
            found = list(api.list_models(search=words, filter="gguf", limit=limit))
        except Exception as error:
            raise ModelHubError(describe_hub_error(error, f"'{words}'", with_token=False)) from None
        return [
            HubRepo(repo_id=m.id, downloads=m.downloads or 0, likes=m.likes or 0,
                    gated=_gated(m.gated))
            for m in found
        ]  # fmt: skip

    async def gguf_files(self, repo_id: str, revision: str | None = None) -> RepoFiles:
        """The repo's GGUF files with sizes and SHA-256, read live from its model info."""
        return await asyncio.to_thread(self._gguf_files, repo_id, revision)

    def _gguf_files(self, repo_id: str, revision: str | None) -> RepoFiles:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.endpoint, token=self.token_value())
        try:
            info = api.model_info(repo_id, revision=revision, files_metadata=True)
        except Exception as error:
            message = describe_hub_error(error, repo_id, with_token=self.token is not None)
            raise ModelHubError(message) from None
        commit = info.sha or revision or "main"
        files = [
            HubFile(
                repo_id=info.id, filename=s.rfilename, commit=commit,
                size=(s.lfs.size if s.lfs else s.size) or 0,
                sha256=s.lfs.sha256 if s.lfs else None,
                quantization=quantization_of(s.rfilename),
                projector="mmproj" in s.rfilename.lower(),
                split=bool(_SPLIT.search(s.rfilename)),
            )
            for s in info.siblings or []
            if s.rfilename.lower().endswith(".gguf")
        ]  # fmt: skip
        return RepoFiles(repo_id=info.id, commit=commit, gated=_gated(info.gated), files=files)


def preferred_files(files: list[HubFile], quantizations: list[str]) -> list[HubFile]:
    """The model files (no projector, no split part) in ``quantizations`` order; all if none."""
    models = [f for f in files if not f.projector and not f.split]
    order = [q.upper() for q in quantizations]
    chosen = sorted((f for f in models if f.quantization in order),
                    key=lambda f: order.index(f.quantization))  # fmt: skip
    return chosen or models


def ordered_files(files: list[HubFile], quantizations: list[str]) -> list[HubFile]:
    """The model files to offer: the preferred quantisations first (in their order), then the
    others from the smallest; projectors and parts of split models are left out."""
    preferred = [f for f in preferred_files(files, quantizations) if f.quantization
                 in {q.upper() for q in quantizations}]  # fmt: skip
    rest = sorted((f for f in files if not f.projector and not f.split and f not in preferred),
                  key=lambda f: (f.size, f.filename))  # fmt: skip
    return preferred + rest
