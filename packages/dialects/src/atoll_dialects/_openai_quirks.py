"""The OpenAI-chat dialect's quirk record: how an OpenAI-compatible server departs from OpenAI."""

from __future__ import annotations

from atoll_registry import MaxTokensField, ReasoningField

from ._quirks import DialectQuirks

__all__ = ["OpenAIChatQuirks"]


class OpenAIChatQuirks(DialectQuirks, frozen=True, kw_only=True):
    """Registry ``quirks`` of an openai-chat provider; the defaults are OpenAI's behaviour."""

    stream_include_usage: bool = True
    """Send ``stream_options: {"include_usage": true}`` so a stream ends with usage."""
    reasoning_field: ReasoningField | None = None
    """Where reasoning text arrives; ``think_tags`` makes the decoder split inline tags."""
    think_tag: str | None = None
    """The tag name when ``reasoning_field`` is ``think_tags`` (``think`` when unset)."""
    max_tokens_field: MaxTokensField = "max_tokens"
    """The request field that caps output length."""
    empty_tool_call_ids: bool = False
    """Tool call ids may be ``""``: give them unique ids so results can be matched."""
    cache_tokens_in_input: bool = True
    """The raw input count already includes cache reads and writes (else the dialect adds them)."""
    parallel_tool_calls_param: bool = False
    """Accepts the ``parallel_tool_calls`` request field (the ``parallel_tool_calls`` option)."""
    azure_deployments: bool = False
    """Azure OpenAI URLs: ``{base_url}/deployments/{deployment}/chat/completions?api-version=V``
    with ``V`` the ``api_version`` setting (``OPENAI_API_VERSION``) and the deployment the
    ``deployment`` setting or the model name; with ``api_version`` ``v1`` or ``preview``, the
    v1 form ``{base_url}/v1/chat/completions`` instead (``?api-version=preview`` for preview)."""
    strict_schema_rejects: tuple[str, ...] = (
        "minLength",
        "maxLength",
        "patternProperties",
        "unevaluatedProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
    )
    """JSON Schema keywords strict mode (``response_format`` and strict tools) refuses: they
    move into the description and the reply is validated against them locally."""
    strict_schema_formats: tuple[str, ...] | None = (
        "date",
        "date-time",
        "duration",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "time",
        "uuid",
    )
    """String formats strict mode accepts (None: any); others move into the description."""
    completions_path: str | None = "/completions"
    """Where legacy text completions are served, under the base URL (None: not served)."""
    completions_suffix: bool = True
    """The completions endpoint takes ``suffix`` (fill-in-the-middle)."""

    @property
    def echo_reasoning(self) -> bool:
        """Whether unsigned reasoning goes back in ``reasoning_content`` on assistant turns.

        True where reasoning arrives in that field: DeepSeek's thinking mode rejects tool-use
        turns whose reasoning was dropped.
        """
        return self.reasoning_field == "reasoning_content"

    @property
    def inline_think_tag(self) -> str | None:
        """The tag reasoning arrives in inline, or None when it does not."""
        if self.reasoning_field != "think_tags":
            return None
        return self.think_tag or "think"
