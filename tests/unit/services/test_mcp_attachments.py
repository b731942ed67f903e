"""Resources as chat attachments: text kept (cut with a note when huge), binary refused in one
line, templates expanded, the meter counting what is attached."""

from __future__ import annotations

import pytest

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.mcp_host.mcp_items import McpResourceContent, McpResourceTemplate
from hybridmcp_app.services.mcp_attachments import (
    Attachment,
    attachment_of,
    context_of,
    expand_template,
    meter_text,
    template_arguments,
)

TEMPLATE = McpResourceTemplate(
    server="docs", uri_template="library://documents/{document_id}", name="document"
)


def text_part(text: str, uri: str = "test://a") -> McpResourceContent:
    return McpResourceContent(uri=uri, mime_type="text/plain", text=text)


def test_a_text_resource_is_attached_whole_with_its_server_and_uri() -> None:
    attached = attachment_of("docs", "test://a", "a.md", [text_part("one"), text_part("two")])

    assert (attached.text, attached.note, attached.label) == ("one\n\ntwo", "", "docs: a.md")


def test_a_huge_resource_is_cut_and_the_cut_is_noted() -> None:
    attached = attachment_of("docs", "test://a", "a.md", [text_part("x" * 500)], max_chars=100)

    assert len(attached.text) == 100
    assert attached.note == "cut to the first 100 of 500 characters"
    assert "cut to the first 100" in context_of([attached])[0].title


def test_an_image_resource_is_refused_in_one_line_saying_the_models_read_text() -> None:
    image = McpResourceContent(uri="test://i", mime_type="image/png", blob="iVBORw0KGgo=")

    with pytest.raises(HybridMCPError) as refused:
        attachment_of("docs", "test://i", "logo.png", [image])

    assert str(refused.value) == (
        "logo.png is an image (image/png): the chat's models read text only, so it was not attached"
    )


def test_a_binary_resource_is_refused_as_binary() -> None:
    blob = McpResourceContent(uri="test://b", mime_type="application/octet-stream", blob="AA==")

    with pytest.raises(HybridMCPError, match=r"is binary \(application/octet-stream\)"):
        attachment_of("docs", "test://b", "b", [text_part("t"), blob])


def test_an_empty_resource_is_refused_rather_than_attached() -> None:
    with pytest.raises(HybridMCPError, match="is empty"):
        attachment_of("docs", "test://a", "a.md", [text_part("  ")])


def test_attachments_become_context_documents_titled_by_uri_and_server() -> None:
    attached = Attachment(server="docs", uri="test://a", title="a", text="body")

    (document,) = context_of([attached])

    assert (document.title, document.text) == ("(resource test://a from docs)", "body")


def test_a_template_lists_its_arguments_and_expands_with_values_escaped() -> None:
    assert template_arguments(TEMPLATE) == ["document_id"]
    assert expand_template(TEMPLATE, {"document_id": "a b"}) == "library://documents/a%20b"


def test_a_template_without_its_argument_is_refused_naming_it() -> None:
    with pytest.raises(HybridMCPError, match="document needs document_id"):
        expand_template(TEMPLATE, {"document_id": " "})


def test_the_meter_counts_the_typed_prompt_and_the_attached_text() -> None:
    attached = Attachment(server="docs", uri="test://a", title="a", text="x" * 400)

    assert meter_text("x" * 40, []) == "≈ 10 tokens"
    assert meter_text("x" * 40, [attached]) == "≈ 110 tokens (10 typed + 100 attached)"
