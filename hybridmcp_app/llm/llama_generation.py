"""The token loop that runs on a model's worker thread: prompt → tokens → text events.

Written over ``Llama.generate`` rather than ``create_completion`` so that every token is
counted exactly, a stop request is seen between any two tokens, and per-token log-probabilities
are available without ``logits_all`` (which costs vocabulary × context floats).
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import (
    FinishReason,
    InferenceRequest,
    InferenceResponse,
    StreamEvent,
    StreamStarted,
    TextDelta,
    Timings,
    ToolCall,
    Usage,
)
from hybridmcp_app.llm.chat_prompt import build_chat_prompt
from hybridmcp_app.llm.llama_drafting import DraftStats, drafted_generate
from hybridmcp_app.llm.required_call import required_call
from hybridmcp_app.llm.template_tools import CALL_TOKENS, CallStream, ToolCallFormat

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar
    from llama_cpp.llama_speculative import LlamaDraftModel

Emit = Callable[[StreamEvent], None]
log = logging.getLogger("hybridmcp.llm.llama")


@dataclass(frozen=True)
class PromptSettings:
    """How this model's prompts are built and decoded (decided once, when it loads)."""

    chat_format: str | None
    template: str | None
    prompt_lookup: bool = False
    drafter: LlamaDraftModel | None = None  # a draft model (used on the worker thread only)
    tool_format: ToolCallFormat | None = None  # how the template's model writes tool calls


# llama.cpp parses grammars recursively: a grammar nested a few thousand groups deep fails to
# parse, and one nested a hundred thousand deep overflows the stack and ends the process.
MAX_GRAMMAR_NESTING = 512
MAX_GRAMMAR_CHARS = 2_000_000


def grammar_nesting(grammar: str) -> int:
    """How deeply the grammar's groups nest (brackets inside literals and classes ignored)."""
    depth = deepest = 0
    closing: str | None = None  # the end of the literal or class being read
    escaped = False
    for char in grammar:
        if closing is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == closing:
                closing = None
        elif char in '"[':
            closing = '"' if char == '"' else "]"
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


# llama-cpp-python's converter lets a JSON string hold raw control characters (a newline, say),
# which JSON forbids: a model then runs on past the value, line after line. llama.cpp's own
# converter excludes them.
_LOOSE_CHAR = r'char ::= [^"\\] |'
_JSON_CHAR = r'char ::= [^"\\\x7F\x00-\x1F] |'


def _strict_json_strings(grammar: str) -> str:
    return "\n".join(
        _JSON_CHAR + line[len(_LOOSE_CHAR) :] if line.startswith(_LOOSE_CHAR) else line
        for line in grammar.split("\n")
    )


def request_grammar(
    llama: Llama, request: InferenceRequest, prompt: PromptSettings | None = None
) -> LlamaGrammar | None:
    """The request's grammar (None without one), checked before it reaches llama.cpp's sampler;
    ``BackendError`` with a one-line reason when it cannot be used. Under ``prompt`` (its tool
    format), a request that must call a tool gets the grammar of that call."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    response_format = request.response_format
    invalid = f"the {response_format.type} constraint is invalid"
    if response_format.type == "text":
        if prompt is None or (style := _native_tools(request, prompt)) is None:
            return None
        checked = partial(_checked_grammar, llama)
        return required_call(style, prompt.template or "", request, checked)
    try:
        if response_format.type == "json_schema" and response_format.json_schema:
            text = json_schema_to_gbnf(json.dumps(response_format.json_schema))
        else:
            text = response_format.grammar or ""
    except Exception as error:  # the converter asserts, raises KeyError...: all mean invalid
        raise BackendError(f"{invalid}: {_first_line(error)}") from None
    return _checked_grammar(llama, text, invalid)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _checked_grammar(
    llama: Llama, text: str, invalid: str = "the required tool call's grammar is invalid"
) -> LlamaGrammar:
    import llama_cpp
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        grammar = LlamaGrammar.from_string(_strict_json_strings(text), verbose=False)
    except Exception as error:
        raise BackendError(f"{invalid}: {_first_line(error)}") from None
    if len(grammar._grammar) > MAX_GRAMMAR_CHARS:
        raise BackendError(f"{invalid}: its grammar has {len(grammar._grammar)} characters")
    nesting = grammar_nesting(grammar._grammar)
    if nesting > MAX_GRAMMAR_NESTING:
        raise BackendError(
            f"{invalid}: its grammar nests {nesting} groups deep, more than llama.cpp can parse "
            f"safely ({MAX_GRAMMAR_NESTING})"
        )
    # llama.cpp parses the grammar only when sampling starts, and a grammar it cannot parse
    # crashes the process there. Parse it here first: a NULL sampler means a syntax error.
    probe = llama_cpp.llama_sampler_init_grammar(
        llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
    )
    if not probe:
        raise BackendError(
            f"{invalid}: llama.cpp could not parse it as a GBNF grammar with a 'root' rule "
            "(too many repetitions, or a syntax error)"
        )
    llama_cpp.llama_sampler_free(probe)
    return grammar


# User-defined tokens that mark structure (images, turns, tools) rather than text. Gemma 3's
# vocabulary has <start_of_image>, <end_of_image> and [multimodal] among them, beside <table>
# and runs of spaces, which are text.
_MARKER = re.compile(
    r"<\|[^<>|]+\|>|<(?:start|end)_of_[a-z_]+>|<[a-z_]*soft_token>|<unused\d+>|\[multimodal\]"
)


class TokenText:
    """What each generated token shows: special tokens (control, unknown, unused, and marker
    tokens such as ``<start_of_image>``) show nothing."""

    def __init__(self, llama: Llama) -> None:
        self._llama = llama
        self._special: dict[int, bool] = {}

    def is_special(self, token: int) -> bool:
        known = self._special.get(token)
        if known is None:
            import llama_cpp

            vocab = self._llama._model.vocab
            attributes = int(llama_cpp.llama_vocab_get_attr(vocab, token))
            hidden = (
                llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
                | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
                | llama_cpp.LLAMA_TOKEN_ATTR_UNUSED
            )
            known = bool(attributes & hidden)
            if not known and attributes & llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED:
                text = llama_cpp.llama_vocab_get_text(vocab, token) or b""
                known = _MARKER.fullmatch(text.decode("utf-8", "replace")) is not None
            self._special[token] = known
        return known

    def shown(self, token: int) -> bytes:
        """The token's text as the answer shows it (bytes: a character may span tokens)."""
        return b"" if self.is_special(token) else self._llama.detokenize([token], special=False)

    def written(self, token: int) -> str:
        """The token's text as the model wrote it, special tokens included."""
        return self._llama.detokenize([token], special=True).decode("utf-8", "replace")


def _prompt_tokens(
    llama: Llama, request: InferenceRequest, prompt: PromptSettings
) -> tuple[list[int], tuple[str, ...]]:
    if request.raw_prompt:
        text = "".join(message.content for message in request.messages)
        return llama.tokenize(text.encode("utf-8"), add_bos=True, special=True), ()

    def token_text(token: int) -> str:
        return (
            llama.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""
        )

    offered = _native_tools(request, prompt) is not None
    chat = build_chat_prompt(
        request.messages,
        chat_format=prompt.chat_format,
        template=prompt.template,
        bos_text=token_text(llama.token_bos()),
        eos_text=token_text(llama.token_eos()),
        tools=request.tools if offered else (),
    )
    tokens = llama.tokenize(chat.text.encode("utf-8"), add_bos=chat.add_bos, special=True)
    return tokens, chat.stops


def _native_tools(request: InferenceRequest, prompt: PromptSettings) -> ToolCallFormat | None:
    """The call format to read from the answer: the request offers tools (not under
    ``tool_choice`` "none") and the model's template takes them (else None: tools are ignored,
    and text that looks like a call is text)."""
    offered = request.tools and request.tool_choice != "none"
    if offered and prompt.tool_format and prompt.template and not request.raw_prompt:
        return prompt.tool_format
    return None


def _holdback(pending: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters could still become a stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(pending)), longest, -1):
            if pending.endswith(stop[:size]):
                longest = size
                break
    return longest


def _token_logprob(llama: Llama, token: int) -> float:
    return _logprobs(llama, [token])[0]


def _logprobs(llama: Llama, tokens: list[int]) -> list[float]:
    # The logits that produced the last token are still the context's last row until the next
    # eval.
    logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))  # type: ignore[no-untyped-call]
    peak = float(logits.max())
    log_total = peak + math.log(float(np.exp(logits - peak).sum()))
    return [float(logits[token]) - log_total for token in tokens]


def _first_tokens(llama: Llama, choices: tuple[str, ...]) -> list[int]:
    return [llama.tokenize(choice.encode(), add_bos=False, special=False)[0] for choice in choices]


def _forget_earlier_requests(llama: Llama) -> None:
    """Evaluate the next prompt from its first token, reusing nothing cached.

    ``Llama.generate`` keeps the cache of the prompt prefix it shares with earlier requests and
    evaluates only the rest. Which part that is, and in which batches the cached part was
    computed, depends on what ran before (even on where a stopped answer stopped); batches of
    other sizes round differently, so the logits differ in their last bits, and a sampled token
    near a boundary flips. A seeded, sampled request pays one full prompt evaluation to be
    repeatable; a greedy one (temperature 0, as the game's judge asks) keeps the cache: the seed
    plays no part there.
    """
    llama.reset()  # type: ignore[no-untyped-call]


# Prompt lookup drafts from what the prompt holds: a short prompt has little to copy, and drafts
# that miss cost more than they save (benchmarks.local_llm: about 0.9x on free text).
MIN_PROMPT_FOR_LOOKUP = 128


def _drafts(request: InferenceRequest, prompt: PromptSettings, prompt_tokens: int) -> bool:
    """Whether this answer is decoded with drafts: a draft model, or prompt lookup on for the
    model and a prompt long enough to copy from; and no per-token log-probabilities (read from
    the last logits row)."""
    wanted = prompt.drafter is not None or (
        prompt.prompt_lookup and prompt_tokens >= MIN_PROMPT_FOR_LOOKUP
    )
    return wanted and not request.logprobs and not request.choices


def run_generation(
    llama: Llama,
    request: InferenceRequest,
    *,
    prompt: PromptSettings,
    model_name: str,
    backend_name: str,
    emit: Emit,
    cancelled: threading.Event,
    load_s: float = 0.0,
) -> InferenceResponse:
    """Generate one answer, emitting ``TextDelta``s; returns the finished response."""
    import llama_cpp

    started = time.perf_counter()
    tokens, stops = _prompt_tokens(llama, request, prompt)
    stops = stops + request.parameters.stop
    n_ctx = llama.n_ctx()
    if len(tokens) >= n_ctx:
        raise BackendError(
            f"the prompt has {len(tokens)} tokens but the context window holds {n_ctx}: "
            "shorten it or raise the context size in Settings → Local model"
        )
    max_tokens = min(request.parameters.max_tokens, n_ctx - len(tokens))
    grammar = request_grammar(llama, request, prompt)
    params = request.parameters
    if params.seed is not None:
        llama.set_seed(params.seed)
        if params.temperature > 0:  # a seed that drives sampling promises the same answer
            _forget_earlier_requests(llama)
    emit(StreamStarted(request_id=request.request_id, model=model_name))

    answer: list[str] = []
    tool_format = _native_tools(request, prompt)
    calls = CallStream(tool_format) if tool_format else None

    def say(text: str) -> None:
        answer.append(text)
        shown = calls.feed(text) if calls is not None else text
        if shown:
            emit(TextDelta(text=shown))

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    token_text = TokenText(llama)
    vocab = llama._model.vocab
    generated: list[int] = []
    logprobs: list[float] = []
    choice_logprobs: list[float] = []
    pending = ""
    first_token_at: float | None = None
    finish: FinishReason = "length"
    sampling: dict[str, Any] = dict(
        top_k=params.top_k,
        top_p=params.top_p,
        temp=params.temperature,
        repeat_penalty=params.repeat_penalty,
        frequency_penalty=params.frequency_penalty,
        presence_penalty=params.presence_penalty,
        grammar=grammar,
    )
    drafts = DraftStats() if _drafts(request, prompt, len(tokens)) else None
    generator = (
        drafted_generate(llama, tokens, stats=drafts, drafter=prompt.drafter, **sampling)
        if drafts is not None
        else llama.generate(tokens, **sampling)
    )
    try:
        for token in generator:
            if first_token_at is None:
                first_token_at = time.perf_counter()
            if cancelled.is_set():
                finish = "cancelled"
                break
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            if request.logprobs:
                logprobs.append(_token_logprob(llama, token))
            if request.choices and not generated:
                choice_logprobs = _logprobs(llama, _first_tokens(llama, request.choices))
            generated.append(token)
            if token_text.is_special(token) and token_text.written(token) in stops:
                finish = "stop"  # a turn marker the chat format stops at, as a token
                break
            piece = token_text.shown(token)
            if calls is not None and token_text.is_special(token):
                written = token_text.written(token)  # [TOOL_CALLS] is a control token
                piece = written.encode() if written in CALL_TOKENS else piece
            pending += decoder.decode(piece)
            hit = min((i for i in (pending.find(s) for s in stops) if i >= 0), default=-1)
            if hit >= 0:
                pending, finish = pending[:hit], "stop"
                break
            safe = len(pending) - _holdback(pending, stops)
            if safe > 0:
                say(pending[:safe])
                pending = pending[safe:]
            if len(generated) >= max_tokens:
                break
    finally:
        generator.close()
    if drafts is not None:
        log.info(
            "%s: %d of %d drafted token(s) kept",
            "prompt lookup" if prompt.drafter is None else "draft model",
            drafts.accepted,
            drafts.drafted,
        )
    pending += decoder.decode(b"", final=True) if finish != "stop" else ""
    if pending:
        say(pending)
    text, tool_calls = "".join(answer), tuple[ToolCall, ...]()
    if calls is not None:
        rest, parsed = calls.finish()
        if rest:
            emit(TextDelta(text=rest))
        text, tool_calls = parsed.text, parsed.calls
        if tool_calls and finish == "stop":
            finish = "tool_calls"
    finished = time.perf_counter()
    decode_s = finished - first_token_at if first_token_at else 0.0
    return InferenceResponse(
        request_id=request.request_id,
        backend=backend_name,
        model=model_name,
        text=text,
        finish_reason=finish,
        tool_calls=tool_calls,
        usage=Usage(prompt_tokens=len(tokens), completion_tokens=len(generated)),
        timings=Timings(
            load_s=load_s,
            time_to_first_token_s=(first_token_at - started) if first_token_at else None,
            total_s=finished - started,
            decode_tokens_per_s=(len(generated) - 1) / decode_s
            if len(generated) > 1 and decode_s > 0
            else None,
        ),
        cost_usd=0.0,
        token_logprobs=tuple(logprobs),
        choice_logprobs=tuple(choice_logprobs),
    )


def describe(error: BaseException) -> str:
    """A one-line message for a generation failure."""
    if isinstance(error, BackendError):
        return str(error)
    return f"local model failed: {type(error).__name__}: {error}"
