"""``hybridmcp ask``: one turn through the orchestrator from the command line, no window."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, TextIO

from hybridmcp_app.config.logging_setup import configure_logging
from hybridmcp_app.config.paths import AppPaths, resources_dir
from hybridmcp_app.config.secrets import SecretStore, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import ProviderConfig
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.llm.provider_catalog import PriceTable
from hybridmcp_app.orchestration.events import DecisionNote, HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.semantic_cache import SemanticCache
from hybridmcp_app.orchestration.strategies import available_strategies
from hybridmcp_app.orchestration.usage_ledger import UsageLedger


class AskError(HybridMCPError):
    """A problem with the command's input or configuration."""


def choose_provider(settings: Settings, name: str | None) -> ProviderConfig:
    chosen = settings.providers.choose(name)
    if chosen is not None:
        return chosen
    if name is None:
        raise AskError(
            "no provider is configured: add one in Settings → Providers, or use --strategy local"
        )
    known = ", ".join(sorted(p.name for p in settings.providers.items if p.enabled)) or "none"
    raise AskError(f"no enabled provider named {name!r} (configured: {known})")


def build_request(args: argparse.Namespace, settings: Settings) -> InferenceRequest:
    text = args.question.strip()
    if not text:
        raise AskError("the question is empty")
    documents: tuple[ContextDocument, ...] = ()
    if args.context is not None:
        try:
            source = args.context.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise AskError(f"cannot read --context {args.context}: {error.strerror}") from None
        if not source.strip():
            raise AskError(f"--context {args.context} is empty")
        documents = (ContextDocument(title=args.context.name, text=source),)
    parameters = settings.llm.local.inference.parameters
    if args.max_tokens is not None:
        parameters = parameters.model_copy(update={"max_tokens": args.max_tokens})
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        parameters=parameters,
        raw_prompt=args.raw,
        context=documents,
    )


def _summary(trace: HybridTrace) -> dict[str, Any]:
    return {
        **trace.model_dump(mode="json"),
        "prompt_tokens_saved": trace.prompt_tokens_saved,
    }


async def run_ask(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    paths = AppPaths.from_environment().ensure()
    settings, report = SettingsStore(paths).load()
    configure_logging(paths, settings.logging, verbose=args.verbose)
    if not report.ok:
        print(f"warning: {report.user_message()}", file=err)
    request = build_request(args, settings)
    strategy = available_strategies()[args.strategy or settings.llm.hybrid.default_strategy]
    local_service = LocalModelService(paths.cache_dir)
    provider: OpenAICompatBackend | None = None
    try:
        local = await local_service.load(settings.llm.local) if strategy.needs_local else None
        if strategy.needs_provider:
            backend, status = system_keychain()
            provider = OpenAICompatBackend.from_settings(
                choose_provider(settings, args.provider),
                SecretStore(backend, status),
                PriceTable.load(resources_dir(), paths.config_dir / "prices.json"),
            )
        embedder = OnnxEmbedder() if strategy.needs_embedder else None
        cache = (
            SemanticCache(paths.data_dir / "semantic_cache.sqlite3", embedder)
            if embedder is not None
            else None
        )
        orchestrator = LLMOrchestrator(
            local,
            provider,
            settings.llm.hybrid,
            embedder=embedder,
            cache=cache,
            ledger=UsageLedger(paths.data_dir / "usage.sqlite3"),
        )
        trace: HybridTrace | None = None
        async for event in orchestrator.run(strategy, request):
            if isinstance(event, DecisionNote) and not args.json:
                print(f"[{strategy.name}] {event.text}", file=err)
            elif isinstance(event, RunCompleted):
                trace = event.trace
    finally:
        if provider is not None:
            await provider.close()
        await local_service.unload()
    assert trace is not None
    answers = {leg.leg: leg.response.text for leg in trace.legs if leg.response is not None}
    if args.json:
        payload = {"answers": answers, "final": trace.final_leg, "trace": _summary(trace)}
        print(json.dumps(payload, indent=2), file=out)
    else:
        for leg in trace.legs:
            header = f"── {leg.leg} ({leg.backend}, {leg.role})"
            print(header + (" — final" if leg.leg == trace.final_leg else ""), file=out)
            print(leg.response.text.strip() if leg.response else f"[failed: {leg.error}]", file=out)
            print(file=out)
        saved = trace.prompt_tokens_saved
        cost = f", cost ${trace.cost_usd:.5f}" if trace.cost_usd is not None else ""
        print(
            f"trace: provider prompt tokens {trace.provider_prompt_tokens} "
            f"(provider-only ~{trace.baseline_prompt_tokens}, saved ~{saved}){cost}",
            file=err,
        )
    return 0 if trace.final is not None else 1


def main_ask(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_ask(args))
    except HybridMCPError as error:
        print(f"hybridmcp ask: {error}", file=sys.stderr)
        return 2
