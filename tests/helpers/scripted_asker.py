"""A scripted elicitation front end for tests: answers as told, remembers what it was shown."""

from __future__ import annotations

from hybridmcp_app.services.elicitation import Action, FormAnswer, UrlRequest
from hybridmcp_app.services.elicitation_form import ElicitForm


class ScriptedAsker:
    """Answers as told, and remembers what it was shown."""

    def __init__(self, answer: FormAnswer | None = None, url_action: Action = "accept") -> None:
        self.answer = answer or FormAnswer(action="cancel")
        self.url_action = url_action
        self.forms: list[ElicitForm] = []
        self.urls: list[UrlRequest] = []

    async def ask_form(self, form: ElicitForm) -> FormAnswer:
        self.forms.append(form)
        return self.answer

    async def ask_url(self, request: UrlRequest) -> Action:
        self.urls.append(request)
        return self.url_action
