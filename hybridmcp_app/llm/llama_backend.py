"""``LlamaCppBackend``: a GGUF model in this process, on its own worker thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.inference import (
    InferenceRequest,
    StreamCompleted,
    StreamEvent,
    StreamFailed,
)
from hybridmcp_app.core.model_context import (
    InferenceSettings,
    ModelCapabilities,
    ModelContext,
    RuntimeProperties,
)
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.chat_prompt import default_chat_format
from hybridmcp_app.llm.draft_choice import draft_refusal
from hybridmcp_app.llm.gguf_metadata import check_gguf_file, read_model_context
from hybridmcp_app.llm.llama_generation import PromptSettings, describe, run_generation
from hybridmcp_app.llm.llama_scoring import TokenSurprisal, score_text
from hybridmcp_app.llm.llama_worker import ModelWorker
from hybridmcp_app.llm.template_tools import tool_call_format

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaDraftModel

    from hybridmcp_app.llm.draft_model import LlamaDraft

log = logging.getLogger("hybridmcp.llm.llama")
_END = object()
# A model file larger than this share of physical memory is refused rather than left to thrash.
MAX_SHARE_OF_MEMORY = 0.8
# ggml's type numbers for the KV cache types offered (ggml.h, enum ggml_type).
KV_CACHE_TYPES = {"f16": 1, "q4_0": 2, "q8_0": 8}


def resolved_threads(settings: InferenceSettings) -> tuple[int, int]:
    """Generation threads default to all cores but one (the UI keeps one); prompt: all cores."""
    cores = os.cpu_count() or 1
    return settings.n_threads or max(1, cores - 1), settings.n_threads_batch or cores


def check_fits_in_memory(path: Path) -> None:
    """Refuse a model file larger than most of this machine's memory, before reading it."""
    size = check_gguf_file(path)
    total = psutil.virtual_memory().total
    if size > total * MAX_SHARE_OF_MEMORY:
        raise ModelLoadError(
            f"{path.name} needs about {size / 2**30:.1f} GiB but this machine has "
            f"{total / 2**30:.1f} GiB of memory: choose a smaller model or quantisation"
        )


class LlamaCppBackend(ChatBackend):
    """A loaded GGUF model. Build it with ``await LlamaCppBackend.open(...)``."""

    def __init__(
        self,
        context: ModelContext,
        worker: ModelWorker[Llama],
        prompt: PromptSettings,
        *,
        name: str,
    ) -> None:
        self.name = name
        self._context = context
        self._worker = worker
        self._prompt = prompt

    @classmethod
    async def open(
        cls,
        path: Path,
        settings: InferenceSettings,
        *,
        display_label: str | None = None,
        name: str = "local",
    ) -> LlamaCppBackend:
        """Read the metadata, check the model fits, load it on a new worker thread."""
        await asyncio.to_thread(check_fits_in_memory, path)
        context = await asyncio.to_thread(read_model_context, path, display_label=display_label)
        if context.context_length and settings.n_ctx > context.context_length:
            settings = settings.model_copy(update={"n_ctx": context.context_length})
        threads, batch_threads = resolved_threads(settings)
        draft_path = settings.draft_model
        refused = await asyncio.to_thread(draft_refusal, path, draft_path) if draft_path else None
        drafts: list[LlamaDraft] = []  # the draft model, loaded on the worker thread
        worker: ModelWorker[Llama] = ModelWorker(name)
        memory_before = psutil.Process().memory_info().rss
        started = time.perf_counter()

        def load() -> Llama:
            from llama_cpp import Llama

            return Llama(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=threads,
                n_threads_batch=batch_threads,
                n_batch=settings.n_batch,
                n_gpu_layers=settings.n_gpu_layers,
                flash_attn=settings.flash_attention,
                type_k=KV_CACHE_TYPES[settings.kv_cache_type],
                type_v=KV_CACHE_TYPES[settings.kv_cache_type],
                use_mmap=settings.use_mmap,
                use_mlock=settings.use_mlock,
                verbose=False,
            )

        def load_draft(llama: Llama) -> str | None:
            from hybridmcp_app.llm.draft_model import LlamaDraft

            assert draft_path is not None
            try:
                drafts.append(
                    LlamaDraft.load(
                        draft_path, n_ctx=llama.n_ctx(), n_threads=threads, n_batch=llama.n_batch
                    )
                )
            except (ValueError, RuntimeError, OSError) as error:
                return f"llama.cpp could not load the draft model {draft_path.name}: {error}"
            return None

        try:
            await asyncio.wrap_future(worker.load(load))
            engine = await asyncio.wrap_future(worker.submit(_engine_readback))
            if draft_path is not None and refused is None:
                refused = await asyncio.wrap_future(worker.submit(load_draft))
        except asyncio.CancelledError:  # the app quits mid-load: free it once it is loaded
            worker.stop(_closer(drafts))
            raise
        except (ValueError, RuntimeError, OSError) as error:
            worker.shutdown(_closer(drafts))
            raise ModelLoadError(_load_failure(path, context, settings, error)) from None
        if refused is not None:
            log.warning("loaded without its draft model: %s", refused)
        load_s = time.perf_counter() - started
        template = context.capabilities.chat_template
        chat_format = settings.chat_format or (
            None if template else default_chat_format(context.identification.architecture)
        )
        runtime = RuntimeProperties(
            loaded=True,
            engine=f"llama.cpp (llama-cpp-python {_llama_cpp_version()})",
            load_time_s=load_s,
            threads=threads,
            memory_bytes=max(0, psutil.Process().memory_info().rss - memory_before),
            draft_model=draft_path.name if drafts and draft_path else None,
            draft_refused=refused,
            **engine,
        )
        # Native tool calls go through the template: not under a named chat format.
        tool_format = tool_call_format(template) if chat_format is None else None
        capabilities = context.capabilities.model_copy(
            update={"supports_tools": tool_format is not None}
        )
        context = context.model_copy(
            update={"inference": settings, "runtime": runtime, "capabilities": capabilities}
        )
        log.info("loaded %s in %.2f s (%d threads)", path.name, load_s, threads)
        prompt = PromptSettings(
            chat_format,
            template,
            prompt_lookup=settings.prompt_lookup,
            drafter=drafts[0] if drafts else None,
            tool_format=tool_format,
        )
        return cls(context, worker, prompt, name=name)

    @property
    def context(self) -> ModelContext:
        return self._context

    @property
    def capabilities(self) -> ModelCapabilities:
        return self._context.capabilities

    @property
    def context_window(self) -> int | None:
        return self._context.runtime.n_ctx or self._context.inference.n_ctx

    @property
    def model_name(self) -> str:
        return self._context.identification.display_label

    async def stream(self, request: InferenceRequest) -> AsyncIterator[StreamEvent]:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(event: object) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, event)
            except RuntimeError:  # the event loop is gone (app closing): stop generating
                cancelled.set()

        def job(llama: Llama) -> None:
            try:
                if cancelled.is_set():
                    return
                response = run_generation(
                    llama,
                    request,
                    prompt=self._prompt,
                    model_name=self.model_name,
                    backend_name=self.name,
                    emit=emit,
                    cancelled=cancelled,
                    load_s=self._context.runtime.load_time_s or 0.0,
                )
                log.info(
                    "answer %s: %s after %d token(s), prompt %d token(s), %.2f s",
                    request.request_id,
                    response.finish_reason,
                    response.usage.completion_tokens,
                    response.usage.prompt_tokens,
                    response.timings.total_s,
                )
                emit(StreamCompleted(response=response))
            except Exception as error:
                log.exception("generation failed")
                emit(StreamFailed(message=describe(error)))
            finally:
                emit(_END)

        def report_unrun(done: concurrent.futures.Future[None]) -> None:
            # The job never ran (no model, worker stopped): end the stream with the reason.
            error = None if done.cancelled() else done.exception()
            if error is not None:
                emit(StreamFailed(message=describe(error)))
                emit(_END)

        self._worker.submit(job).add_done_callback(report_unrun)
        try:
            while (event := await events.get()) is not _END:
                yield event  # type: ignore[misc]
        finally:
            cancelled.set()

    async def token_surprisals(self, text: str) -> list[TokenSurprisal]:
        """How surprising each token of ``text`` is to this model (queued like answers)."""
        return await asyncio.wrap_future(self._worker.submit(lambda llama: score_text(llama, text)))

    async def close(self) -> None:
        """Free the model and stop its thread (waits for a running answer to notice)."""
        await asyncio.wrap_future(self._worker.stop(self._close_models))

    def close_now(self, timeout_s: float = 2.0) -> bool:
        return self._worker.shutdown(self._close_models, timeout_s)

    def _close_models(self, llama: Llama) -> None:
        _closer([self._prompt.drafter] if self._prompt.drafter is not None else [])(llama)


def _closer(drafts: Sequence[LlamaDraftModel]) -> Callable[[Llama], None]:
    """Closes the model and its draft model (on the worker thread)."""

    def close(llama: Llama) -> None:
        llama.close()
        for draft in drafts:
            closing = getattr(draft, "close", None)
            if closing is not None:
                closing()

    return close


def _engine_readback(llama: Llama) -> dict[str, Any]:
    """What llama.cpp made of the settings, read back from the loaded model."""
    import llama_cpp

    names = {number: name for name, number in KV_CACHE_TYPES.items()}
    params = llama.context_params
    return {
        "n_ctx": llama.n_ctx(),
        "kv_cache_type": names.get(params.type_k, f"ggml type {params.type_k}"),
        "flash_attention": params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
    }


def _load_failure(
    path: Path, context: ModelContext, settings: InferenceSettings, error: BaseException
) -> str:
    """One line on why llama.cpp refused the model: its context settings when the weights
    loaded but the context could not be made, else the file."""
    if "llama_context" in str(error):
        return (
            f"llama.cpp loaded {path.name} but could not create its context with these settings "
            f"(context {settings.n_ctx:,} tokens, {settings.kv_cache_type} KV cache, flash "
            f"attention {'on' if settings.flash_attention else 'off'}, batch {settings.n_batch}"
            "): lower the context, or go back to an f16 KV cache"
        )
    return (
        f"llama.cpp could not load {path.name} (architecture "
        f"{context.identification.architecture!r}): {error}. The file may be damaged, "
        "or need a newer llama.cpp"
    )


def _llama_cpp_version() -> str:
    import llama_cpp

    return str(getattr(llama_cpp, "__version__", "?"))
