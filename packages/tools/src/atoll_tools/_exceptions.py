"""Errors raised by atoll_tools, each carrying structured fields.

Hierarchy::

    ToolsError                      base of everything raised here
    ├── ToolDefinitionError         a tool, schema or output spec cannot be built (TypeError)
    │   └── DuplicateToolError      two tools in one ToolSet share a name
    ├── UnknownToolError            a call names a tool the ToolSet does not hold (LookupError)
    ├── ToolArgumentsError          arguments are not JSON or fail the schema (ValueError)
    ├── ToolDeniedError             the approval callback denied the call
    ├── ToolTimeoutError            the tool ran past its timeout (TimeoutError)
    ├── ToolExecutionError          the tool raised; the original is chained as __cause__
    ├── OutputValidationError       structured output does not match its OutputSpec (ValueError)
    └── PartialJSONError            text is not a prefix of any JSON document (ValueError)

Errors that a model can fix (arguments, output) carry ``issues`` and a ``repair_message`` written
for the model; errors from a call carry the tool name and the call id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from atoll_wire import AtollError

_EXCERPT = 200


def excerpt(text: str, limit: int = _EXCERPT) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One reason a JSON value was rejected.

    Attributes:
        path: Where in the value, as a dotted path (``"items.0.name"``); ``""`` for the whole value.
        message: What is wrong there, in words a model can act on.
    """

    path: str
    message: str

    def __str__(self) -> str:
        where = f"at '{self.path}'" if self.path else "at the top level"
        return f"{where}: {self.message}"


def _bullets(issues: Sequence[ValidationIssue]) -> str:
    return "\n".join(f"- {issue}" for issue in issues)


class ToolsError(AtollError):
    """Base class of every error raised by atoll_tools."""


class ToolDefinitionError(ToolsError, TypeError):
    """A tool, schema or output spec cannot be built from what was given.

    Attributes:
        name: The tool or output name concerned (may be ``""`` before a name is known).
        reason: What is wrong.
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"cannot define {name!r}: {reason}" if name else reason)


class DuplicateToolError(ToolDefinitionError):
    """A ToolSet already holds a tool with this name.

    Attributes:
        name: The duplicated name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name, "a tool with this name is already in the ToolSet")


class UnknownToolError(ToolsError, LookupError):
    """A call names a tool that the ToolSet does not hold.

    Attributes:
        name: The name the call asked for.
        available: The names the ToolSet does hold, sorted.
        call_id: The call id, when raised for a call.
    """

    def __init__(self, name: str, available: Sequence[str], call_id: str | None = None) -> None:
        self.name = name
        self.available = tuple(sorted(available))
        self.call_id = call_id
        super().__init__(self.repair_message)

    @property
    def repair_message(self) -> str:
        """The message sent back to the model."""
        names = ", ".join(self.available) if self.available else "none"
        return f"Unknown tool {excerpt(self.name, 80)!r}. Available tools: {names}."


class ToolArgumentsError(ToolsError, ValueError):
    """Arguments are not a JSON object, or fail the tool's schema; the tool was not called.

    Attributes:
        tool: The tool name.
        issues: What is wrong, one issue per problem found.
        call_id: The call id, when raised for a call.
        raw_arguments: An excerpt of the argument text received.
        source: ``"model"`` for the model's arguments, ``"approval"`` for edited ones.
    """

    def __init__(
        self,
        tool: str,
        issues: Sequence[ValidationIssue],
        *,
        call_id: str | None = None,
        raw_arguments: str = "",
        source: str = "model",
    ) -> None:
        self.tool = tool
        self.issues = tuple(issues)
        self.call_id = call_id
        self.raw_arguments = excerpt(raw_arguments)
        self.source = source
        super().__init__(f"invalid arguments for tool {tool!r}:\n{_bullets(self.issues)}")

    @property
    def repair_message(self) -> str:
        """A short message for the model, asking it to call the tool again with fixed arguments."""
        head = (
            f"The arguments edited by the approver for tool {self.tool!r} are invalid"
            if self.source == "approval"
            else f"Invalid arguments for tool {self.tool!r}"
        )
        return (
            f"{head}:\n{_bullets(self.issues)}\n"
            "Fix the arguments to match the tool's schema and call it again."
        )


class ToolDeniedError(ToolsError):
    """The approval callback denied a call.

    Attributes:
        tool: The tool name.
        reason: The reason given by the approver.
        call_id: The call id.
    """

    def __init__(self, tool: str, reason: str, call_id: str | None = None) -> None:
        self.tool = tool
        self.reason = reason
        self.call_id = call_id
        super().__init__(self.repair_message)

    @property
    def repair_message(self) -> str:
        """The message sent back to the model."""
        return f"The call to tool {self.tool!r} was denied: {self.reason}"


class ToolTimeoutError(ToolsError, TimeoutError):
    """A tool ran past its timeout and was cancelled (or, in a thread, abandoned).

    Attributes:
        tool: The tool name.
        timeout: The timeout in seconds.
        call_id: The call id.
    """

    def __init__(self, tool: str, timeout: float, call_id: str | None = None) -> None:
        self.tool = tool
        self.timeout = timeout
        self.call_id = call_id
        super().__init__(self.repair_message)

    @property
    def repair_message(self) -> str:
        """The message sent back to the model."""
        return f"Tool {self.tool!r} timed out after {self.timeout:g} s."


class ToolExecutionError(ToolsError):
    """A tool raised an exception (chained as ``__cause__``) or returned an unusable value.

    Attributes:
        tool: The tool name.
        error_type: The class name of the original exception.
        detail: The original exception's message (an excerpt).
        call_id: The call id.
        traceback: The formatted traceback, only when the tool opted in.
    """

    def __init__(
        self,
        tool: str,
        error_type: str,
        detail: str,
        *,
        call_id: str | None = None,
        traceback: str | None = None,
    ) -> None:
        self.tool = tool
        self.error_type = error_type
        self.detail = excerpt(detail, 500)
        self.call_id = call_id
        self.traceback = traceback
        super().__init__(self.repair_message)

    @property
    def repair_message(self) -> str:
        """The message sent back to the model (with the traceback when the tool opted in)."""
        text = f"Tool {self.tool!r} failed: {self.error_type}"
        if self.detail:
            text += f": {self.detail}"
        if self.traceback:
            text += f"\n{self.traceback}"
        return text


class OutputValidationError(ToolsError, ValueError):
    """A structured reply is not JSON or does not match its OutputSpec.

    Attributes:
        name: The output spec's name.
        issues: What is wrong, one issue per problem found.
        text: An excerpt of the reply.
    """

    def __init__(self, name: str, issues: Sequence[ValidationIssue], text: str) -> None:
        self.name = name
        self.issues = tuple(issues)
        self.text = excerpt(text)
        super().__init__(f"output does not match {name!r}:\n{_bullets(self.issues)}")

    @property
    def repair_message(self) -> str:
        """A message for a retry turn asking the model to answer again in the right shape."""
        return (
            f"Your reply does not match the required JSON schema {self.name!r}:\n"
            f"{_bullets(self.issues)}\n"
            "Reply again with only a JSON value that matches the schema."
        )


class PartialJSONError(ToolsError, ValueError):
    """Text that is not the beginning of any JSON document.

    Attributes:
        position: The character offset where parsing failed.
        reason: What was found there.
    """

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"not a JSON prefix at offset {position}: {reason}")
