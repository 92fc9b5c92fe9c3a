"""Errors raised by the compat package itself, each carrying structured fields.

Everything below the layers (a provider's refusal, a missing key, a tool that failed) keeps its
own type from the layer that raised it; these cover what only the legacy API can get wrong::

    AtollError                        root of the whole stack (atoll_wire)
    └── CompatError                   base of everything raised here
        ├── PlaceholderError          a {{placeholder}} uses a reserved keyword name (ValueError)
        ├── RenderError               the messages cannot form one conversation (ValueError)
        ├── TemplateError             a template is missing or malformed (LookupError)
        ├── SchemaError               a prompt schema cannot make this call (ValueError)
        ├── ExtractionError           the model answered without the data asked for
        ├── RetryBudgetError          ``airetry_(throw=True)`` ran out of retries or calls
        └── ToolNotFoundError         ``execute_tool`` got a call for a tool it does not hold
"""

from __future__ import annotations

from collections.abc import Sequence

from atoll_wire import AtollError


class CompatError(AtollError):
    """Base class of every error raised by the ``atoll`` compat package."""


class PlaceholderError(CompatError, ValueError):
    """A message declares ``{{placeholders}}`` whose names are reserved keyword arguments.

    Attributes:
        names: The reserved names found, sorted.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(sorted(names))
        super().__init__(
            "placeholders "
            + ", ".join(f"{{{{{n}}}}}" for n in self.names)
            + " use names reserved for the ai* keyword arguments; rename them"
        )


class RenderError(CompatError, ValueError):
    """The prompt and the conversation cannot be rendered into one conversation.

    Attributes:
        reason: What is wrong, in words.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TemplateError(CompatError, LookupError):
    """A template is not loaded, or a template file is not in the legacy format.

    Attributes:
        name: The template name (or file path) concerned.
        reason: What is wrong.
        suggestions: Loaded template names close to ``name``.
    """

    def __init__(self, name: str, reason: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.reason = reason
        self.suggestions = tuple(suggestions)
        hint = f" (did you mean {', '.join(self.suggestions)}?)" if self.suggestions else ""
        super().__init__(f"template {name!r}: {reason}{hint}")


class SchemaError(CompatError, ValueError):
    """A prompt schema cannot make the requested call (render-only schema, missing URL, ...).

    Attributes:
        schema: The schema's class name.
        reason: What is wrong.
    """

    def __init__(self, schema: str, reason: str) -> None:
        self.schema = schema
        self.reason = reason
        super().__init__(f"{schema}: {reason}")


class ExtractionError(CompatError):
    """The model replied, but not with the structured data ``aiextract`` asked for.

    Attributes:
        return_type: The name of the type asked for.
        text: The reply's text (what came back instead).
        model: ``provider/model`` that answered.
    """

    def __init__(self, return_type: str, text: str, model: str) -> None:
        self.return_type = return_type
        self.text = text
        self.model = model
        shown = text if len(text) <= 200 else text[:199] + "…"
        super().__init__(
            f"{model} did not return {return_type} (no tool call and no JSON in the reply): "
            f"{shown!r}"
        )


class RetryBudgetError(CompatError):
    """``airetry_(..., throw=True)``: the condition still fails and the budget is spent.

    Attributes:
        retries: Retries made.
        max_retries: The retry budget.
        calls: Calls made.
        max_calls: The call budget.
    """

    def __init__(self, retries: int, max_retries: int, calls: int, max_calls: int) -> None:
        self.retries = retries
        self.max_retries = max_retries
        self.calls = calls
        self.max_calls = max_calls
        super().__init__(
            f"maximum retry budget reached (retries: {retries}/{max_retries}, "
            f"calls: {calls}/{max_calls})"
        )


class ToolNotFoundError(CompatError, LookupError):
    """``execute_tool`` was given a tool call naming a tool it was not given.

    Attributes:
        name: The tool name in the call.
        available: The tool names it holds.
    """

    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        self.available = tuple(available)
        super().__init__(f"tool {name!r} not found; available: {', '.join(self.available)}")
