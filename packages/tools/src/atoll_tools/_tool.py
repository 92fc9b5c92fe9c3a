"""``Tool``: a callable the model may use, with its validated argument schema, and ``@tool``."""

from __future__ import annotations

import copy
import functools
import inspect
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Literal, overload

import anyio
import anyio.to_thread
import pydantic
from atoll_wire import ToolSpec

from ._binding import (
    Binder,
    CallArgs,
    SchemaBinder,
    SignatureBinder,
    TypeBinder,
    docstring_of,
)
from ._docstrings import parse_docstring, type_description
from ._exceptions import (
    ToolArgumentsError,
    ToolDefinitionError,
    ToolExecutionError,
    ToolTimeoutError,
)
from ._strict import Schema, drop_strict_nulls, strict_schema
from ._validation import InvalidJSON, SchemaValidator, loads_object, pydantic_issues

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ToolFunction = Callable[..., Any]
ArgumentSource = Literal["model", "approval"]


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ToolDefinitionError(
            name, "tool names must be 1-64 letters, digits, '_' or '-' (pass name=...)"
        )
    return name


def _is_async(function: ToolFunction) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _return_value(value: object) -> object:
    return value


def _boxed(function: ToolFunction, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any]:
    # Trio refuses a worker-thread function whose result is a coroutine; a tuple hides it.
    return (function(*args, **kwargs),)


class Tool:
    """A function the model can call: name, description, JSON Schema of its arguments.

    Build one from a plain function (sync or async) — the schema comes from the signature through
    pydantic and the descriptions from the docstring (Google, NumPy or reST) — with
    ``Tool.from_model`` from a pydantic model, dataclass or TypedDict, or with
    ``Tool.from_schema`` from a raw JSON Schema and a callable. ``@tool`` is the decorator form.

    Args:
        function: The function to expose. Its parameters become the arguments object.
        name: The tool name (default: the function's ``__name__``).
        description: What the tool does (default: the docstring's description).
        strict: Export the strict schema form (closed objects, all properties required,
            optional ones nullable) and ask providers to enforce it.
        requires_approval: Ask the ToolSet's approval callback before each call.
        timeout: Seconds a call may take; past it the call is cancelled (a sync function's
            thread is abandoned) and an error result is returned.
        include_traceback: Put the traceback in the error result when the function raises.
        run_in_thread: Run a sync function in a worker thread (default). Set False only for
            quick, non-blocking functions: they then run inline and ``timeout`` cannot stop them.

    Raises:
        ToolDefinitionError: When the name is invalid or the signature has no JSON Schema
            (``*args``, unsupported types, unresolvable annotations).
    """

    __slots__ = (
        "_binder",
        "_description",
        "_function",
        "_include_traceback",
        "_is_async",
        "_name",
        "_parameters",
        "_requires_approval",
        "_run_in_thread",
        "_spec",
        "_strict",
        "_timeout",
        "_validator",
    )

    def __init__(
        self,
        function: ToolFunction,
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        requires_approval: bool = False,
        timeout: float | None = None,
        include_traceback: bool = False,
        run_in_thread: bool = True,
    ) -> None:
        if not callable(function):
            raise ToolDefinitionError(name or "", f"{function!r} is not callable")
        default_name = getattr(function, "__name__", type(function).__name__)
        tool_name = _check_name(name if name is not None else default_name)
        doc = parse_docstring(docstring_of(function))
        self._setup(
            function,
            SignatureBinder(function, tool_name, doc),
            name=tool_name,
            description=description if description is not None else doc.description,
            strict=strict,
            requires_approval=requires_approval,
            timeout=timeout,
            include_traceback=include_traceback,
            run_in_thread=run_in_thread,
        )

    @classmethod
    def from_model(
        cls,
        model: type[Any],
        function: ToolFunction | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        requires_approval: bool = False,
        timeout: float | None = None,
        include_traceback: bool = False,
        run_in_thread: bool = True,
    ) -> Tool:
        """A tool whose arguments object is a pydantic model, dataclass or TypedDict.

        The function receives one validated instance. Without a function the tool returns the
        instance itself (serialized as JSON): handy for "extraction" tools.

        Args:
            model: The pydantic model, dataclass or TypedDict class.
            function: Called with the instance; None returns the instance.
            name: The tool name (default: the class name).
            description: What the tool does (default: the class docstring).
            strict: See ``Tool``.
            requires_approval: See ``Tool``.
            timeout: See ``Tool``.
            include_traceback: See ``Tool``.
            run_in_thread: See ``Tool``.

        Raises:
            ToolDefinitionError: When the type has no JSON Schema or the name is invalid.
        """
        tool_name = _check_name(name if name is not None else getattr(model, "__name__", ""))
        binder = TypeBinder(model, tool_name)
        if description is None:
            description = type_description(model)
        binder.schema.pop("description", None)
        self = cls.__new__(cls)
        self._setup(
            function if function is not None else _return_value,
            binder,
            name=tool_name,
            description=description,
            strict=strict,
            requires_approval=requires_approval,
            timeout=timeout,
            include_traceback=include_traceback,
            run_in_thread=run_in_thread and function is not None,
        )
        return self

    @classmethod
    def from_schema(
        cls,
        name: str,
        parameters: Mapping[str, Any],
        function: ToolFunction,
        *,
        description: str | None = None,
        strict: bool = False,
        requires_approval: bool = False,
        timeout: float | None = None,
        include_traceback: bool = False,
        run_in_thread: bool = True,
    ) -> Tool:
        """A tool from a raw JSON Schema; the function gets the validated object as ``**kwargs``.

        Args:
            name: The tool name.
            parameters: The JSON Schema (Draft 2020-12) of the arguments object.
            function: Called with the validated properties as keyword arguments.
            description: What the tool does.
            strict: See ``Tool``.
            requires_approval: See ``Tool``.
            timeout: See ``Tool``.
            include_traceback: See ``Tool``.
            run_in_thread: See ``Tool``.

        Raises:
            ToolDefinitionError: When the schema is invalid, cannot be made strict, or the name
                is invalid.
        """
        tool_name = _check_name(name)
        self = cls.__new__(cls)
        self._setup(
            function,
            SchemaBinder(parameters),
            name=tool_name,
            description=description,
            strict=strict,
            requires_approval=requires_approval,
            timeout=timeout,
            include_traceback=include_traceback,
            run_in_thread=run_in_thread,
        )
        return self

    def _setup(
        self,
        function: ToolFunction,
        binder: Binder,
        *,
        name: str,
        description: str | None,
        strict: bool,
        requires_approval: bool,
        timeout: float | None,
        include_traceback: bool,
        run_in_thread: bool,
    ) -> None:
        if binder.schema.get("type") != "object":
            raise ToolDefinitionError(
                name, 'the arguments schema must describe an object ("type": "object")'
            )
        if timeout is not None and timeout <= 0:
            raise ToolDefinitionError(name, f"timeout must be positive, got {timeout!r}")
        self._function = function
        self._binder = binder
        self._name = name
        self._description = description
        self._strict = strict
        self._requires_approval = requires_approval
        self._timeout = timeout
        self._include_traceback = include_traceback
        self._run_in_thread = run_in_thread
        self._is_async = _is_async(function)
        self._parameters: Schema = (
            strict_schema(binder.schema, name=name) if strict else binder.schema
        )
        # Validation runs against the original schema after strict nulls are dropped: every
        # value the strict form admits passes, and so does a call that simply omits an optional
        # property (some servers ignore the strict flag).
        self._validator = SchemaValidator(binder.schema, name)
        self._spec = ToolSpec(
            name=name, description=description, parameters=self._parameters, strict=strict or None
        )

    # ------------------------------------------------------------------ description
    @property
    def name(self) -> str:
        """The tool name the model calls."""
        return self._name

    @property
    def description(self) -> str | None:
        """What the tool does, for the model."""
        return self._description

    @property
    def parameters(self) -> Schema:
        """The JSON Schema of the arguments object, as exported (strict form when strict)."""
        return self._parameters

    @property
    def strict(self) -> bool:
        """Whether the strict schema form is exported and enforcement requested."""
        return self._strict

    @property
    def requires_approval(self) -> bool:
        """Whether each call goes through the ToolSet's approval callback."""
        return self._requires_approval

    @property
    def timeout(self) -> float | None:
        """Seconds a call may take, or None for no limit."""
        return self._timeout

    @property
    def function(self) -> ToolFunction:
        """The wrapped callable."""
        return self._function

    def spec(self) -> ToolSpec:
        """The neutral ``ToolSpec`` that dialects send to providers."""
        return self._spec

    def __repr__(self) -> str:
        return (
            f"Tool(name={self._name!r}, strict={self._strict}, "
            f"requires_approval={self._requires_approval}, timeout={self._timeout})"
        )

    # ------------------------------------------------------------------ arguments
    def validate(
        self,
        arguments: str | Mapping[str, Any],
        *,
        call_id: str | None = None,
        source: ArgumentSource = "model",
    ) -> dict[str, Any]:
        """Parse and validate arguments against the schema, without calling the tool.

        Args:
            arguments: JSON text as the model sent it (blank means ``{}``) or a mapping.
            call_id: The call id to record on a ``ToolArgumentsError``.
            source: ``"model"``, or ``"approval"`` for arguments edited by an approver.

        Returns:
            The validated JSON object; in strict mode, ``null`` given for a property that was
            optional is removed so the default applies.

        Raises:
            ToolArgumentsError: When the text is not a JSON object or fails the schema.
        """
        raw = arguments if isinstance(arguments, str) else ""
        try:
            if isinstance(arguments, str):
                data = loads_object(arguments)
            else:
                data = copy.deepcopy(dict(arguments)) if self._strict else dict(arguments)
        except InvalidJSON as exc:
            raise ToolArgumentsError(
                self._name, [exc.issue], call_id=call_id, raw_arguments=raw, source=source
            ) from None
        if self._strict:
            drop_strict_nulls(data, self._binder.schema)
        issues = self._validator.issues(data)
        if issues:
            raise ToolArgumentsError(
                self._name, issues, call_id=call_id, raw_arguments=raw, source=source
            )
        return data

    def bind(
        self,
        arguments: dict[str, Any],
        *,
        call_id: str | None = None,
        source: ArgumentSource = "model",
    ) -> CallArgs:
        """Convert validated JSON arguments into the function's positional and keyword values.

        Args:
            arguments: Output of ``validate``.
            call_id: The call id to record on errors.
            source: ``"model"`` or ``"approval"``.

        Raises:
            ToolArgumentsError: When pydantic rejects a value the schema let through (for
                example a custom validator).
        """
        try:
            return self._binder.bind(arguments)
        except pydantic.ValidationError as exc:
            raise ToolArgumentsError(
                self._name, pydantic_issues(exc), call_id=call_id, source=source
            ) from None

    # ------------------------------------------------------------------ execution
    async def call(self, arguments: str | Mapping[str, Any] = "") -> Any:
        """Validate the arguments and run the tool (no approval step: that is the ToolSet's).

        Args:
            arguments: JSON text as the model sent it, or a mapping.

        Returns:
            What the function returned.

        Raises:
            ToolArgumentsError: When the arguments are invalid; the function was not called.
            ToolTimeoutError: When the call ran past ``timeout``.
            ToolExecutionError: When the function raised (chained as ``__cause__``).
        """
        args, kwargs = self.bind(self.validate(arguments))
        return await self.run(args, kwargs)

    async def run(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], *, call_id: str | None = None
    ) -> Any:
        """Run the function on bound values under the tool's timeout, capturing its exceptions.

        Args:
            args: Positional values from ``bind``.
            kwargs: Keyword values from ``bind``.
            call_id: The call id to record on errors.

        Raises:
            ToolTimeoutError: When the call ran past ``timeout``.
            ToolExecutionError: When the function raised.
        """
        if self._timeout is None:
            return await self._invoke(args, kwargs, call_id)
        with anyio.move_on_after(self._timeout):
            return await self._invoke(args, kwargs, call_id)
        # Only the scope's own deadline lands here: an outer cancellation propagates through it.
        raise ToolTimeoutError(self._name, self._timeout, call_id)

    async def _invoke(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], call_id: str | None
    ) -> Any:
        try:
            if self._is_async:
                return await self._function(*args, **kwargs)
            if self._run_in_thread:
                bound = functools.partial(_boxed, self._function, args, kwargs)
                (result,) = await anyio.to_thread.run_sync(bound, abandon_on_cancel=True)
            else:
                result = self._function(*args, **kwargs)
            if inspect.isawaitable(result):
                # A plain callable that hands back a coroutine (a lambda or wrapper around an
                # async function): await it here rather than leak it un-awaited.
                result = await result
            return result
        except Exception as exc:
            raise self.execution_error(exc, call_id) from exc

    def execution_error(self, exc: BaseException, call_id: str | None) -> ToolExecutionError:
        """The ``ToolExecutionError`` describing ``exc`` (traceback only if the tool opted in).

        Args:
            exc: What the function raised.
            call_id: The call id.
        """
        trace = "".join(traceback.format_exception(exc)) if self._include_traceback else None
        return ToolExecutionError(
            self._name, type(exc).__name__, str(exc), call_id=call_id, traceback=trace
        )


@overload
def tool(function: ToolFunction, /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    requires_approval: bool = False,
    timeout: float | None = None,
    include_traceback: bool = False,
    run_in_thread: bool = True,
) -> Callable[[ToolFunction], Tool]: ...


def tool(
    function: ToolFunction | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    requires_approval: bool = False,
    timeout: float | None = None,
    include_traceback: bool = False,
    run_in_thread: bool = True,
) -> Tool | Callable[[ToolFunction], Tool]:
    """Turn a function into a ``Tool``: ``@tool`` or ``@tool(strict=True, timeout=5)``.

    The decorated name is bound to the ``Tool``; the original stays at ``.function``.

    Args:
        function: The function, when used bare as ``@tool``.
        name: See ``Tool``.
        description: See ``Tool``.
        strict: See ``Tool``.
        requires_approval: See ``Tool``.
        timeout: See ``Tool``.
        include_traceback: See ``Tool``.
        run_in_thread: See ``Tool``.
    """

    def make(target: ToolFunction) -> Tool:
        return Tool(
            target,
            name=name,
            description=description,
            strict=strict,
            requires_approval=requires_approval,
            timeout=timeout,
            include_traceback=include_traceback,
            run_in_thread=run_in_thread,
        )

    return make(function) if function is not None else make
