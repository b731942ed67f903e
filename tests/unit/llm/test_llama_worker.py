"""The model's worker thread answers every job it is given, also while it stops."""

from __future__ import annotations

import threading

import pytest

from hybridmcp_app.llm.llama_worker import ModelWorker

DEADLINE_S = 60  # a safety net: every future here is answered at once


class Model:
    """A stand-in for a loaded ``Llama`` whose closing waits until the test lets it end."""

    def __init__(self) -> None:
        self.closing = threading.Event()
        self.may_close = threading.Event()

    def close(self) -> None:
        self.closing.set()
        assert self.may_close.wait(DEADLINE_S)


def _worker_closing_its_model() -> tuple[ModelWorker[Model], Model]:
    worker: ModelWorker[Model] = ModelWorker("test")
    model = worker.load(Model).result(DEADLINE_S)
    return worker, model


def test_a_job_submitted_while_the_worker_stops_fails_at_once_instead_of_never_running() -> None:
    worker, model = _worker_closing_its_model()
    stopped = worker.stop(Model.close)
    assert model.closing.wait(DEADLINE_S)  # the thread is still alive, inside the unload
    try:
        late = worker.submit(lambda loaded: "answered")

        error = late.exception(DEADLINE_S)
    finally:
        model.may_close.set()

    assert isinstance(error, RuntimeError)
    assert str(error) == "the model worker has stopped"
    assert stopped.result(DEADLINE_S) is None
    assert worker.shutdown(timeout_s=DEADLINE_S)


def test_stopping_twice_gives_the_first_stop_which_ends_once_the_model_is_closed() -> None:
    worker, model = _worker_closing_its_model()
    first = worker.stop(Model.close)
    assert model.closing.wait(DEADLINE_S)
    second = worker.stop(Model.close)
    model.may_close.set()

    assert second is first
    assert second.result(DEADLINE_S) is None
    assert worker.shutdown(timeout_s=DEADLINE_S)
    with pytest.raises(RuntimeError, match="the model worker has stopped"):
        worker.submit(lambda loaded: "answered").result(DEADLINE_S)
