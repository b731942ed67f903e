"""Every strategy with the real local model and a real OpenAI-compatible provider server."""

import time

import pytest

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, TextDelta
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    HybridTrace,
    LegEvent,
    RunCompleted,
)
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategies import available_strategies
from hybridmcp_app.orchestration.tool_events import RunEvent

FEW_SHOT = (
    "Q: What is the capital of France?\nA: Paris\n"
    "Q: What is the capital of Germany?\nA: Berlin\n"
    "Q: What is the capital of Italy?\nA:"
)


def request(
    text: str = "Name a colour.", max_tokens: int = 12, **extra: object
) -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        parameters=ModelParameters(temperature=0.0, max_tokens=max_tokens, stop=("\n",)),
        **extra,  # type: ignore[arg-type]
    )


async def run(
    orchestrator: LLMOrchestrator, strategy: str, ask: InferenceRequest
) -> tuple[list[RunEvent], HybridTrace]:
    events = [e async for e in orchestrator.run(available_strategies()[strategy], ask)]
    completed = events[-1]
    assert isinstance(completed, RunCompleted)
    return events, completed.trace


def notes(events: list[RunEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, DecisionNote)]


async def test_parallel_streams_both_legs_at_the_same_time(orchestrator: LLMOrchestrator) -> None:
    arrivals: dict[str, list[float]] = {"local": [], "provider": []}
    ask = InferenceRequest(
        messages=(ChatMessage(role="user", content="Tell me about the sea."),),
        parameters=ModelParameters(temperature=0.0, max_tokens=120),
    )
    async for event in orchestrator.run(available_strategies()["parallel"], ask):
        if isinstance(event, LegEvent) and isinstance(event.event, TextDelta):
            arrivals[event.leg].append(time.monotonic())
        if isinstance(event, RunCompleted):
            trace = event.trace
    assert arrivals["local"] and arrivals["provider"]
    # Overlap: each leg produced text while the other was still producing.
    assert arrivals["provider"][0] < arrivals["local"][-1]
    assert arrivals["local"][0] < arrivals["provider"][-1]
    assert {leg.leg for leg in trace.legs} == {"local", "provider"}
    assert trace.final_leg == "provider"
    assert trace.provider_prompt_tokens > 0
    assert trace.baseline_prompt_tokens > 0


async def test_failover_answers_locally_when_the_provider_is_down(
    gemma: LlamaCppBackend, dead_provider: OpenAICompatBackend
) -> None:
    orchestrator = LLMOrchestrator(gemma, dead_provider, WrapperConfig())
    events, trace = await run(orchestrator, "failover", request(FEW_SHOT, raw_prompt=True))
    assert trace.final_leg == "local"
    final = trace.final
    assert final is not None and final.text.strip() == "Rome"
    provider_leg = next(leg for leg in trace.legs if leg.leg == "provider")
    assert provider_leg.error is not None and "cannot reach provider" in provider_leg.error
    assert notes(events)[0].startswith("failed over to the local model: cannot reach")
    # A failover is not a saving: the provider failed, it was not spared.
    assert (trace.saving, trace.prompt_tokens_saved) == ("none", 0)


async def test_failover_uses_only_the_provider_when_it_works(
    orchestrator: LLMOrchestrator,
) -> None:
    _, trace = await run(orchestrator, "failover", request())
    assert [leg.leg for leg in trace.legs] == ["provider"]
    assert trace.final_leg == "provider"


async def test_cascade_keeps_a_confident_local_answer(orchestrator: LLMOrchestrator) -> None:
    events, trace = await run(orchestrator, "cascade", request(FEW_SHOT, raw_prompt=True))
    assert trace.final_leg == "local"
    assert [leg.leg for leg in trace.legs] == ["local"]
    assert notes(events)[0].startswith("kept the local answer: mean surprisal")
    assert trace.provider_prompt_tokens == 0
    assert trace.prompt_tokens_saved == trace.baseline_prompt_tokens
    assert trace.saving == "without_provider"


async def test_cascade_escalates_an_unsure_answer_and_keeps_both(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend
) -> None:
    strict = LLMOrchestrator(gemma, provider, WrapperConfig(cascade_max_mean_surprisal=0.001))
    events, trace = await run(strict, "cascade", request("Describe quantum chromodynamics."))
    assert [leg.leg for leg in trace.legs] == ["local", "provider"]
    assert trace.final_leg == "provider"
    assert notes(events)[0].startswith("escalated to the provider: mean surprisal")


async def test_route_keeps_a_prompt_with_a_secret_on_this_machine(
    orchestrator: LLMOrchestrator,
) -> None:
    ask = request("My key is sk-live-abcdefghijklmnop1234, is it valid?")
    events, trace = await run(orchestrator, "route", ask)
    assert notes(events) == [
        "routed locally: privacy rule: the prompt contains an API key or token"
    ]
    assert [leg.backend for leg in trace.legs] == [orchestrator.local.name]  # type: ignore[union-attr]
    assert trace.provider_prompt_tokens == 0
    assert trace.saving == "without_provider"  # kept local, the provider standing by
    assert trace.prompt_tokens_saved == trace.baseline_prompt_tokens > 0


async def test_route_sends_ordinary_prompts_to_the_provider(orchestrator: LLMOrchestrator) -> None:
    events, trace = await run(orchestrator, "route", request())
    assert notes(events) == ["routed to the provider: no rule applies: the provider answers"]
    assert trace.final_leg == "provider"


async def test_route_falls_back_to_local_when_the_chosen_provider_fails(
    gemma: LlamaCppBackend, dead_provider: OpenAICompatBackend
) -> None:
    orchestrator = LLMOrchestrator(gemma, dead_provider, WrapperConfig())
    events, trace = await run(orchestrator, "route", request(FEW_SHOT, raw_prompt=True))
    assert notes(events)[1].startswith("failed over to the local model")
    assert trace.final_leg == "local"
    assert (trace.saving, trace.prompt_tokens_saved) == ("none", 0)


async def test_a_local_answer_chosen_by_the_user_saves_nothing(
    orchestrator: LLMOrchestrator,
) -> None:
    _, trace = await run(orchestrator, "local", request())
    assert trace.final_leg == "local" and trace.baseline_prompt_tokens > 0
    assert (trace.saving, trace.prompt_tokens_saved) == ("none", 0)


async def test_a_provider_answer_sent_in_full_saves_nothing(
    orchestrator: LLMOrchestrator,
) -> None:
    _, trace = await run(orchestrator, "provider", request())
    assert trace.final_leg == "provider" and trace.prompt_tokens_saved == 0


async def test_draft_refine_sends_the_local_draft_to_the_provider(
    orchestrator: LLMOrchestrator,
) -> None:
    _, trace = await run(orchestrator, "draft_refine", request("Describe a lighthouse.", 30))
    draft, refine = trace.legs
    assert (draft.role, refine.role) == ("draft", "refine")
    assert draft.response is not None and refine.response is not None
    assert draft.response.text.strip()
    # The provider saw the question plus the instructions plus the draft: more than the baseline.
    assert trace.provider_prompt_tokens > trace.baseline_prompt_tokens
    assert trace.final_leg == "provider"


async def test_a_strategy_without_its_provider_is_refused_clearly(gemma: LlamaCppBackend) -> None:
    orchestrator = LLMOrchestrator(gemma, None, WrapperConfig())
    with pytest.raises(BackendError, match="strategy 'parallel' needs a provider"):
        async for _ in orchestrator.run(available_strategies()["parallel"], request()):
            pass


async def test_stopping_a_run_stops_both_legs_and_the_next_run_works(
    orchestrator: LLMOrchestrator,
) -> None:
    async for event in orchestrator.run(
        available_strategies()["parallel"], request("Tell a long story.", max_tokens=300)
    ):
        if isinstance(event, LegEvent) and isinstance(event.event, TextDelta):
            break
    _, trace = await run(orchestrator, "failover", request())
    assert trace.final_leg == "provider"


async def test_cascade_escalates_when_one_token_was_a_wild_guess(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend
) -> None:
    strict = LLMOrchestrator(
        gemma,
        provider,
        WrapperConfig(cascade_max_mean_surprisal=20, cascade_max_token_surprisal=0.01),
    )
    events, trace = await run(strict, "cascade", request(FEW_SHOT, raw_prompt=True))
    assert notes(events)[0].startswith("escalated to the provider: a token with surprisal")
    assert trace.final_leg == "provider"
