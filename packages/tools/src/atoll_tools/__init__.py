"""atoll_tools: tools from plain Python, validated arguments, approval, structured output.

``Tool`` wraps a function (sync or async), a pydantic model or a raw JSON Schema; its argument
schema comes from the signature through pydantic, its descriptions from the docstring. A
``ToolSet`` exports ``ToolSpec`` lists for requests and executes the model's ``ToolCallPart``
values: arguments are validated (jsonschema, Draft 2020-12) before the function runs, calls that
need approval go through an ``ApprovalCallback``, failures come back as error results the model
can act on. ``OutputSpec`` does the same for structured replies.

Example:
    >>> from atoll_tools import ToolSet, tool
    >>> @tool
    ... def add(a: int, b: int = 0) -> int:
    ...     '''Add two numbers.
    ...
    ...     Args:
    ...         a: The first number.
    ...         b: The second number.
    ...     '''
    ...     return a + b
    >>> ToolSet([add]).specs()[0].parameters["required"]
    ['a']
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._approval import (
    ApprovalCallback,
    ApprovalDecision,
    ApprovalRequest,
    ConsoleApprover,
    approve_all,
    deny_all,
)
from ._exceptions import (
    DuplicateToolError,
    OutputValidationError,
    PartialJSONError,
    ToolArgumentsError,
    ToolDefinitionError,
    ToolDeniedError,
    ToolExecutionError,
    ToolsError,
    ToolTimeoutError,
    UnknownToolError,
    ValidationIssue,
)
from ._output import OutputSpec
from ._partial_json import JSONValue, parse_partial_json
from ._strict import strict_schema
from ._tool import Tool, tool
from ._toolset import ToolSet

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    DuplicateToolError,
    OutputValidationError,
    PartialJSONError,
    ToolArgumentsError,
    ToolDefinitionError,
    ToolDeniedError,
    ToolExecutionError,
    ToolTimeoutError,
    ToolsError,
    UnknownToolError,
):
    _error.__module__ = __name__

__all__: tuple[str, ...] = (
    "ApprovalCallback",
    "ApprovalDecision",
    "ApprovalRequest",
    "AtollError",
    "ConsoleApprover",
    "DuplicateToolError",
    "JSONValue",
    "OutputSpec",
    "OutputValidationError",
    "PartialJSONError",
    "Tool",
    "ToolArgumentsError",
    "ToolDefinitionError",
    "ToolDeniedError",
    "ToolExecutionError",
    "ToolSet",
    "ToolTimeoutError",
    "ToolsError",
    "UnknownToolError",
    "ValidationIssue",
    "approve_all",
    "deny_all",
    "parse_partial_json",
    "strict_schema",
    "tool",
)
