"""The one versioned settings tree. Files, ``.env`` and ``HYBRIDMCP_*`` variables feed it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hybridmcp_app.config.storage_settings import StorageSettings
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.llm_configs import LocalLLMConfig, ProvidersConfig, WrapperConfig

CURRENT_SCHEMA_VERSION = 1
ENV_PREFIX = "HYBRIDMCP_"
ENV_NESTED_DELIMITER = "__"

DEFAULT_DOCUMENT_EXTENSIONS: tuple[str, ...] = (
    "pdf", "epub", "xps", "fb2", "docx", "html", "htm", "md", "rst", "txt", "csv", "json",
    "py", "js", "ts", "java", "c", "h", "cpp", "hpp", "rs", "go", "rb", "sh", "toml", "yaml", "yml",
)  # fmt: skip


class LlmSettings(FrozenModel):
    """The local model and the hybrid wrapper."""

    local: LocalLLMConfig = Field(default_factory=LocalLLMConfig)
    hybrid: WrapperConfig = Field(default_factory=WrapperConfig)


class McpSettings(FrozenModel):
    """MCP servers run by the app."""

    config_path: Path | None = Field(None, description="mcp.json to use; empty = the config dir's.")
    start_servers_on_launch: bool = Field(True, description="Start enabled servers at start-up.")
    approval: Literal["ask", "allow_read_only", "allow_all"] = Field(
        "ask", description="Which tool calls run without asking first."
    )
    init_timeout_s: float = Field(30.0, gt=0, le=600, description="Time a server has to start.")
    call_timeout_s: float = Field(120.0, gt=0, le=3600, description="Time one tool call may take.")
    share_library: bool = Field(
        True,
        description="While HybridMCP is open, other MCP clients' documents servers (Claude "
        "Desktop) use its library through it (127.0.0.1, token from the keychain).",
    )
    workspace_roots: tuple[Path, ...] = Field(
        (),
        description="Folders the workspace server may read and change (when started without "
        "--root); none: it does not start, and switching it on asks for a folder.",
    )
    load_icons_from_other_sites: bool = Field(
        False,
        title="Load MCP server icons from other sites",
        description="Fetch the icons servers name on other sites (any local server's, a remote "
        "one's not on its own site); each such site learns that you use that server.",
    )
    registry_url: str = Field(
        "https://registry.modelcontextprotocol.io",
        title="MCP Registry address",
        pattern=r"^(|https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s?#]*)?"
        r"|http://127\.0\.0\.1(:\d{1,5})?(/[^\s?#]*)?)$",
        description="The MCP Registry that 'Add from catalogue…' can search when you pick its "
        "online source (only then is it contacted); empty: that source is off.",
    )
    choose_tools: bool = Field(
        True,
        title="Let the local side choose the tools the provider sees",
        description="Before a provider request with tools, rank the enabled tools against the "
        "conversation (offline embedder) and send only the best few, the pinned ones and a "
        "search_tools tool for the rest; a tool the provider asks for is brought in.",
    )
    choose_tools_above: int = Field(
        40, ge=0, le=100_000, description="Choose only when more tools than this are enabled."
    )
    chosen_tools: int = Field(
        30,
        ge=1,
        le=256,
        description="How many ranked tools a request carries besides the pinned ones (30: the "
        "needed tools were among them for 96% of the tool_selection benchmark's requests).",
    )
    pinned_tools: tuple[str, ...] = Field(
        (), description="Tools (server__tool) every provider request carries."
    )
    tool_check_by_local_model: bool = Field(
        False,
        title="Let the local model check the chosen tools",
        description="After the ranking, a local chat model reads the best 2×k tools and the "
        "request and may move the ones it thinks are needed into the offer (never fewer "
        "tools; at most a few seconds, else the ranking alone).",
    )


class ApiSettings(FrozenModel):
    """The local OpenAI-compatible API (any OpenAI client gets the local boost)."""

    enabled: bool = Field(
        False,
        description="Serve /v1/models and /v1/chat/completions on 127.0.0.1 while the app runs "
        "(requests need the token kept in the keychain as 'api-server-token').",
    )
    port: int = Field(8765, ge=1024, le=65535, description="The port on 127.0.0.1.")


class DocumentsSettings(FrozenModel):
    """The document library."""

    chroma_mode: Literal["embedded", "http"] = Field(
        "embedded", description="Embedded Chroma in the data dir, or a Chroma server."
    )
    chroma_url: AnyHttpUrl | None = Field(None, description="Chroma server URL (http mode).")
    collection: str = Field("library", min_length=3, max_length=63, pattern=r"^[A-Za-z0-9._-]+$")
    extensions: tuple[str, ...] = Field(DEFAULT_DOCUMENT_EXTENSIONS, min_length=1)
    watch_folders: tuple[Path, ...] = ()
    chunk_tokens: int = Field(200, ge=32, le=256, description="Chunk size (MiniLM reads 256).")
    chunk_overlap_tokens: int = Field(40, ge=0, le=128)
    exact_search_limit: int = Field(
        20_000,
        ge=0,
        description="Embedded libraries up to this many chunks are searched exactly (in memory); "
        "larger ones with Chroma's approximate index. 0: always Chroma's index.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DocumentsSettings:
        if self.chroma_mode == "http" and self.chroma_url is None:
            raise ValueError("chroma_mode 'http' needs chroma_url (e.g. http://127.0.0.1:8000)")
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be smaller than chunk_tokens")
        return self


class UiSettings(FrozenModel):
    """Look and state of the window."""

    theme: Literal["system", "light", "dark"] = Field("system", description="Colour scheme.")
    last_tab: Literal["chat", "savings", "library", "mcp", "game"] = "chat"
    show_log_panel: bool = Field(False, description="Show the log panel at start-up.")
    notifications: bool = Field(
        True,
        description="A desktop notification when long work (indexing, an answer, the models' "
        "race) finishes while the window is in the background.",
    )
    window_geometry: str | None = Field(None, description="Saved by the window; base64.")
    window_state: str | None = Field(None, description="Saved by the window; base64.")
    first_run_completed: bool = False


GameHost = Literal["local", "provider", "hybrid", "embedding"]


class GameSettings(FrozenModel):
    """The turtle-soup game."""

    difficulty: Literal["easy", "medium", "hard"] = "medium"
    host: GameHost = Field("hybrid", description="Who judges your questions.")
    hybrid_confidence: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="The hybrid host keeps the local model's answer when it is at least this "
        "sure of it (among the four answers); otherwise it asks the provider.",
    )


class LoggingSettings(FrozenModel):
    """Log file rotation and level."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_file_kb: int = Field(2048, ge=64, le=1_048_576, description="Rotate the log past this.")
    backup_count: int = Field(5, ge=1, le=100, description="Rotated log files kept.")


class SecretsSettings(FrozenModel):
    """Where API keys live. The encrypted file is an opt-in for machines with no keychain."""

    backend: Literal["system", "encrypted_file"] = Field(
        "system", description="The OS keychain, or (opt-in) a passphrase-encrypted file."
    )


class Settings(FrozenModel):
    """Every user setting, as stored in ``settings.json`` with a schema version."""

    schema_version: int = CURRENT_SCHEMA_VERSION
    llm: LlmSettings = Field(default_factory=LlmSettings)
    providers: ProvidersConfig = Field(default_factory=ProvidersConfig)
    mcp: McpSettings = Field(default_factory=McpSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    documents: DocumentsSettings = Field(default_factory=DocumentsSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    game: GameSettings = Field(default_factory=GameSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)


class EnvironmentLayeredSettings(BaseSettings, Settings):
    """``Settings`` with ``HYBRIDMCP_*`` variables and ``.env`` files laid over the file's values.

    Kept apart from ``Settings`` so that a file can be validated on its own, without the
    environment (pydantic-settings applies its sources on every validation).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="ignore",
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: the environment, then .env, then the settings file (passed as
        # init kwargs by SettingsStore). No secret-file source: secrets live in the keychain.
        return (env_settings, dotenv_settings, init_settings)

    def to_settings(self) -> Settings:
        return Settings.model_validate(self.model_dump())
