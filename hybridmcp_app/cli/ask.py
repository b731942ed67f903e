"""``hybridmcp ask``: one turn from the command line, no window — run by the app's services
(``AppServices.turns``), as the window runs it."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from typing import Any, TextIO

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import DETECTING, SecretStore, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError, HybridMCPError
from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.orchestration.events import DecisionNote, HybridTrace, RunCompleted
from hybridmcp_app.orchestration.strategies import available_strategies
from hybridmcp_app.orchestration.trace_audit import audit_of
from hybridmcp_app.services.app_services import build_services
from hybridmcp_app.services.turn_runner import Turn

CLOSE_TIMEOUT_S = 5.0


class AskError(HybridMCPError):
    """A problem with the command's input or configuration."""


def build_turn(args: argparse.Namespace, settings: Settings) -> Turn:
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
    # No parameters: the turn takes the model file's own sampling settings, else the app's.
    return Turn(
        prompt=text, strategy=args.strategy or settings.llm.hybrid.default_strategy,
        context=documents, raw=args.raw, provider=args.provider,
    )  # fmt: skip


def _summary(trace: HybridTrace) -> dict[str, Any]:
    return {
        **trace.model_dump(mode="json"),
        "prompt_tokens_saved": trace.prompt_tokens_saved,
    }


def _counted_by(trace: HybridTrace) -> str:
    reported = trace.provider_usage_reported
    if reported is None:
        return "no provider answer"
    return "reported by the provider" if reported else "our estimate"


async def run_ask(
    args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    services = build_services(
        AppPaths.from_environment(), asyncio.get_running_loop(), verbose=args.verbose,
        secrets=SecretStore(None, DETECTING),
    )  # fmt: skip
    settings = services.settings
    if not services.load_report.ok:
        print(f"warning: {services.load_report.user_message()}", file=err)
    turn = build_turn(args, settings)
    strategy = available_strategies()[turn.strategy]
    trace: HybridTrace | None = None
    try:
        if strategy.needs_provider:
            try:  # before the keychain is asked: say at once what is missing
                services.providers.config(args.provider)
            except BackendError as error:
                hint = ", or use --strategy local" if args.provider is None else ""
                raise AskError(f"{error}{hint}") from None
            services.secrets.use_backend(*await asyncio.to_thread(system_keychain))
        if strategy.needs_local:
            await services.local_model.load(settings.llm.local)
        if args.max_tokens is not None:  # over the loaded file's own settings, else the app's
            own = services.local_model.parameters(settings.llm.local)
            limited = own.model_copy(update={"max_tokens": args.max_tokens})
            turn = dataclasses.replace(turn, parameters=limited)
        async for event in services.turns.run(turn):
            if isinstance(event, DecisionNote) and not args.json:
                print(f"[{strategy.name}] {event.text}", file=err)
            elif isinstance(event, RunCompleted):
                trace = event.trace
    finally:
        await services.close(CLOSE_TIMEOUT_S)
        await services.local_model.unload()
    assert trace is not None
    answers = {leg.leg: leg.response.text for leg in trace.legs if leg.response is not None}
    if args.json:
        payload = {
            "answers": answers, "final": trace.final_leg, "trace": _summary(trace),
            "audit": audit_of(trace).model_dump(mode="json"),
        }  # fmt: skip
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
            f"({_counted_by(trace)}; provider-only ~{trace.baseline_prompt_tokens}, "
            f"saved ~{saved}, saving: {trace.saving}){cost}",
            file=err,
        )
    return 0 if trace.final is not None else 1


def main_ask(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_ask(args))
    except HybridMCPError as error:
        print(f"hybridmcp ask: {error}", file=sys.stderr)
        return 2
