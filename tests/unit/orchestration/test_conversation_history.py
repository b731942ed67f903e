"""Conversations, their SQLite history and their Markdown export (a real SQLite file)."""

import json
import sqlite3
from pathlib import Path

import pytest

from hybridmcp_app.core.inference import (
    ChatMessage,
    ContextDocument,
    InferenceResponse,
    Timings,
    Usage,
)
from hybridmcp_app.orchestration.conversation import ConversationRecord, ServerPrompt, TurnRecord
from hybridmcp_app.orchestration.conversation_export import (
    conversation_to_markdown,
    transcript_markdown,
)
from hybridmcp_app.orchestration.events import HybridTrace, LegTrace
from hybridmcp_app.orchestration.history_store import HistoryStore


def response(leg: str, text: str, cost: float | None) -> InferenceResponse:
    return InferenceResponse(
        request_id="r", backend=leg, model=f"{leg}-model", text=text,
        usage=Usage(prompt_tokens=120, completion_tokens=8),
        timings=Timings(time_to_first_token_s=0.25, total_s=0.6, decode_tokens_per_s=42.0),
        cost_usd=cost,
    )  # fmt: skip


def trace(local: str = "Paris.", provider: str = "The capital is Paris.") -> HybridTrace:
    return HybridTrace(
        strategy="parallel",
        legs=(
            LegTrace(leg="local", backend="local", role="answer",
                     response=response("local", local, 0.0)),
            LegTrace(leg="provider", backend="openai", role="answer",
                     response=response("provider", provider, 0.00012)),
        ),
        notes=("both answered",),
        final_leg="provider",
        provider_prompt_tokens=120,
        baseline_prompt_tokens=120,
        cost_usd=0.00012,
    )  # fmt: skip


def conversation() -> ConversationRecord:
    first = TurnRecord.from_trace("What is the capital of France?", trace())
    second = TurnRecord.from_trace("And of Italy?", trace("Rome.", "Rome is the capital."))
    return ConversationRecord().with_turn(first).with_turn(second)


def test_the_first_prompt_names_the_conversation_and_history_follows_the_chosen_answers() -> None:
    record = conversation()
    assert record.title == "What is the capital of France?"
    assert [m.content for m in record.messages()] == [
        "What is the capital of France?",
        "The capital is Paris.",
        "And of Italy?",
        "Rome is the capital.",
    ]


def test_continuing_from_another_pane_branches_a_new_conversation() -> None:
    record = conversation()
    branch = record.branch(record.turns[0].id, "local")
    assert branch.id != record.id
    assert branch.title.endswith("(branch)")
    assert [m.content for m in branch.messages()] == ["What is the capital of France?", "Paris."]
    assert len(record.turns) == 2  # the original is untouched
    with pytest.raises(KeyError):
        record.branch(record.turns[0].id, "nonexistent")


def test_a_turn_is_replaced_when_saved_again_after_streaming() -> None:
    partial = TurnRecord.from_trace("q", trace("Par", ""), partial=True)
    record = ConversationRecord().with_turn(partial)
    final = TurnRecord.from_trace("q", trace()).model_copy(update={"id": partial.id})
    record = record.with_turn(final)
    assert len(record.turns) == 1
    assert not record.turns[0].partial


def test_conversations_survive_reopening_and_can_be_searched_and_renamed(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    record = conversation()
    HistoryStore(path).save(record)
    store = HistoryStore(path)
    assert store.get(record.id) == record
    assert [s.title for s in store.list("italy")] == [record.title]  # matches a prompt
    assert store.list("Rome is the capital") != []  # matches an answer
    assert store.list("Lisbon") == []
    store.rename(record.id, "  Capitals   of Europe ")
    assert store.list()[0].title == "Capitals of Europe"
    assert store.list()[0].turns == 2
    with pytest.raises(ValueError, match="needs a title"):
        store.rename(record.id, "   ")


def test_a_deleted_conversation_can_be_restored_until_purged(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    record = conversation()
    store.save(record)
    store.delete(record.id)
    assert store.get(record.id) is None and store.list() == []
    store.undo_delete(record.id)
    assert store.get(record.id) == record
    store.delete(record.id)
    assert store.purge(deleted_before=9e12) == 1
    store.undo_delete(record.id)
    assert store.get(record.id) is None


def test_a_corrupt_database_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = HistoryStore(path)
    assert store.recovered_from is not None
    assert store.recovered_from.read_bytes().startswith(b"this is not a database")
    store.save(conversation())
    assert len(store.list()) == 1


def test_markdown_export_has_each_answer_and_a_metrics_table() -> None:
    markdown = conversation_to_markdown(conversation())
    assert markdown.startswith("# What is the capital of France?\n")
    assert "## 2. You\n\nAnd of Italy?" in markdown
    assert "### provider — provider-model\n\nRome is the capital." in markdown
    assert (
        "| pane | model | first token ms | tokens/s | tokens in | tokens out | cost $ |" in markdown
    )
    assert "| provider (final) | provider-model | 250 | 42.0 | 120 | 8 | 0.00012 |" in markdown
    assert "| local | local-model | 250 | 42.0 | 120 | 8 | 0.00000 |" in markdown
    assert "> both answered" in markdown


def test_the_transcript_keeps_every_earlier_answer_and_marks_the_one_the_chat_went_on_with() -> (
    None
):
    failed = trace("Paris.", "").model_copy(
        update={"legs": (trace().legs[0], LegTrace(leg="provider", backend="openai",
                         role="answer", error="openai returned no text"))}
    )  # fmt: skip
    record = conversation().with_turn(TurnRecord.from_trace("And of Spain?", failed))

    markdown = transcript_markdown(record, 3)

    for answer in ("Paris.", "The capital is Paris.", "Rome.", "Rome is the capital."):
        assert f"\n\n{answer}" in markdown  # the local answers too, not only the chosen ones
    assert markdown.count("(continued from)") == 2  # the provider's, in the first two turns
    assert "*openai returned no text*" in markdown  # a failed answer says why
    assert transcript_markdown(record, 1).count("**You:**") == 1


def test_a_turn_counts_as_saved_only_what_its_trace_counted() -> None:
    # Local by choice: the provider read nothing, but nothing was spared.
    local_only = trace().model_copy(
        update={"provider_prompt_tokens": 0, "baseline_prompt_tokens": 900, "saving": "none"}
    )
    assert TurnRecord.from_trace("Capital?", local_only).tokens_saved == 0
    routed = local_only.model_copy(update={"saving": "without_provider"})
    assert TurnRecord.from_trace("Capital?", routed).tokens_saved == 900


def test_a_turn_kept_before_savings_were_audited_counts_no_saving() -> None:
    kept = TurnRecord.from_trace("Capital?", trace()).model_dump()
    del kept["tokens_saved"]
    kept.update(provider_prompt_tokens=10, baseline_prompt_tokens=900)
    assert TurnRecord.model_validate(kept).tokens_saved == 0


BRIEFING = ServerPrompt(
    server="ev",
    name="review",
    messages=(
        ChatMessage(role="user", content="You review the orchard report."),
        ChatMessage(role="assistant", content="Ready to review."),
    ),
)
ORCHARD = ContextDocument(title="(resource notes://orchard from ev)", text="41 pear trees.")


def prompted_turn(prompt: str = "How many pear trees?") -> TurnRecord:
    """A turn from a server prompt, with a resource attached."""
    return TurnRecord.from_trace(prompt, trace("41.", "There are 41.")).model_copy(
        update={"server_prompt": BRIEFING, "attachments": (ORCHARD,)}
    )


def test_a_server_prompts_messages_and_attachments_are_replayed_before_its_prompt() -> None:
    record = conversation().with_turn(prompted_turn())
    record = record.with_turn(TurnRecord.from_trace("And apples?", trace("None.", "No apples.")))

    assert [(m.role, m.content) for m in record.messages()[4:]] == [
        ("user", "You review the orchard report."),
        ("assistant", "Ready to review."),
        ("user", "Context:\n[1] (resource notes://orchard from ev)\n41 pear trees.\n\n"
                 "Question: How many pear trees?"),
        ("assistant", "There are 41."),
        ("user", "And apples?"),
        ("assistant", "No apples."),
    ]  # fmt: skip


def test_a_turn_asked_again_leaves_the_history_but_stays_in_the_conversation() -> None:
    first = prompted_turn()
    record = conversation().with_turn(first)
    assert record.messages(leave_out=first.id) == conversation().messages()

    again = TurnRecord.from_trace("How many pear trees?", trace("41.", "Forty-one.")).model_copy(
        update={"server_prompt": BRIEFING, "attachments": (ORCHARD,), "retry_of": first.id}
    )
    record = record.with_turn(again)

    assert len(record.turns) == 4
    answers = [m.content for m in record.messages() if m.role == "assistant"]
    assert answers == ["The capital is Paris.", "Rome is the capital.", "Ready to review.",
                       "Forty-one."]  # fmt: skip


def test_a_turns_server_prompt_and_attachments_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    record = conversation().with_turn(prompted_turn())
    HistoryStore(path).save(record)

    reopened = HistoryStore(path).get(record.id)

    assert reopened == record
    assert reopened is not None and reopened.turns[-1].server_prompt == BRIEFING


def test_a_conversation_saved_before_turns_kept_server_prompts_still_opens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    body = json.loads(conversation().model_dump_json())
    for turn in body["turns"]:
        for field in ("server_prompt", "attachments", "retry_of"):
            del turn[field]
    with sqlite3.connect(path) as connection:  # as an older version wrote it
        connection.execute(
            "INSERT INTO conversations (id, title, created, updated, deleted, body) "
            "VALUES (?, ?, 0, 0, NULL, ?)",
            (body["id"], body["title"], json.dumps(body)),
        )
    connection.close()

    reopened = store.get(body["id"])

    assert reopened is not None
    assert [t.server_prompt for t in reopened.turns] == [None, None]
    assert reopened.messages() == conversation().messages()


def test_the_transcript_says_which_server_prompt_a_turn_came_from_and_what_was_attached() -> None:
    record = conversation().with_turn(prompted_turn())

    markdown = transcript_markdown(record, 3)
    exported = conversation_to_markdown(record)

    line = "*/review from ev — 2 earlier messages*"
    assert (
        f"**You:** How many pear trees?\n\n{line}\n\n*📎 (resource notes://orchard from ev)*"
        in (markdown)
    )
    assert markdown.count("earlier message") == 1  # the other turns were typed
    assert line in exported
