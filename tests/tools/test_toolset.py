"""ToolSet: names, specs, execution, errors, timeouts, results and parallel order."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from atoll_tools import (
    DuplicateToolError,
    Tool,
    ToolArgumentsError,
    ToolDefinitionError,
    ToolExecutionError,
    ToolSet,
    ToolTimeoutError,
    UnknownToolError,
    tool,
)
from atoll_wire import DocumentPart, ImagePart, TextPart, ToolCallPart, ToolResultPart, ToolSpec
from pydantic import BaseModel

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def call(name: str, raw: str = "", call_id: str = "c1", **kwargs: Any) -> ToolCallPart:
    return ToolCallPart(id=call_id, name=name, raw_arguments=raw, **kwargs)


def text_of(result: ToolResultPart) -> str:
    assert len(result.content) == 1
    part = result.content[0]
    assert isinstance(part, TextPart)
    return part.text


@tool
def add(a: int, b: int = 0) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


@tool
async def shout(text: str) -> str:
    """Upper-case some text."""
    await anyio.lowlevel.checkpoint()
    return text.upper()


# ---------------------------------------------------------------- the collection


async def test_names_lookup_and_specs() -> None:
    def plain(x: str) -> str:
        return x

    tools = ToolSet([add, shout, plain])
    assert tools.names == ["add", "shout", "plain"]
    assert "add" in tools and "missing" not in tools and len(tools) == 3
    assert tools["shout"] is shout and tools.get("missing") is None
    with pytest.raises(UnknownToolError) as info:
        tools["missing"]
    assert info.value.available == ("add", "plain", "shout")
    specs = tools.specs()
    assert all(isinstance(s, ToolSpec) for s in specs)
    assert specs[0] == ToolSpec(
        name="add",
        description="Add two numbers.",
        parameters={
            "additionalProperties": False,
            "properties": {
                "a": {"description": "The first number.", "type": "integer"},
                "b": {"default": 0, "description": "The second number.", "type": "integer"},
            },
            "required": ["a"],
            "type": "object",
        },
        strict=None,
    )


async def test_duplicate_names_are_refused() -> None:
    def add(x: int) -> int:  # same name as the module-level tool
        return x

    tools = ToolSet([globals()["add"]])
    with pytest.raises(DuplicateToolError) as info:
        tools.add(add)
    assert info.value.name == "add"
    with pytest.raises(DuplicateToolError):
        ToolSet([shout, Tool(add, name="shout")])


@pytest.mark.parametrize("bad", ["", "has space", "x" * 65, "dots.not.allowed"])
async def test_invalid_tool_names(bad: str) -> None:
    with pytest.raises(ToolDefinitionError, match="1-64"):
        Tool(add.function, name=bad)


async def test_lambda_needs_a_name_and_varargs_are_refused() -> None:
    with pytest.raises(ToolDefinitionError):
        Tool(lambda x: x)
    assert Tool(lambda x: x, name="identity").name == "identity"

    def star(*args: int) -> int:
        return 0

    with pytest.raises(ToolDefinitionError, match="args"):
        Tool(star)


# ---------------------------------------------------------------- execution


async def test_sync_and_async_tools_run() -> None:
    tools = ToolSet([add, shout])
    result = await tools.execute(call("add", '{"a": 2, "b": 40}'))
    assert result == ToolResultPart(call_id="c1", content=[TextPart(text="42")], name="add")
    result = await tools.execute(call("shout", '{"text": "hi"}', call_id="c2"))
    assert text_of(result) == "HI" and result.call_id == "c2" and not result.is_error


async def test_sync_tools_run_in_a_worker_thread_unless_told_otherwise() -> None:
    seen: list[bool] = []

    def where() -> None:
        seen.append(threading.current_thread() is threading.main_thread())

    tools = ToolSet([Tool(where), Tool(where, name="inline", run_in_thread=False)])
    await tools.execute(call("where"))
    await tools.execute(call("inline"))
    assert seen == [False, True]


async def test_parsed_arguments_are_used_when_raw_text_is_absent() -> None:
    tools = ToolSet([add])
    result = await tools.execute(call("add", arguments={"a": 1, "b": 2}))
    assert text_of(result) == "3"
    # raw text wins over the parsed dict: it is exactly what the model sent
    result = await tools.execute(call("add", '{"a": 5}', arguments={"a": 1}))
    assert text_of(result) == "5"


async def test_truncated_arguments_reported_by_the_dialect() -> None:
    tools = ToolSet([add])
    part = call("add", arguments={}, arguments_error="unexpected end of data")
    result = await tools.execute(part)
    assert result.is_error and "unexpected end of data" in text_of(result)


async def test_unknown_tool_is_an_error_result_or_raises() -> None:
    tools = ToolSet([add])
    result = await tools.execute(call("subtract", "{}"))
    assert result.is_error and result.name == "subtract"
    assert text_of(result) == "Unknown tool 'subtract'. Available tools: add."
    with pytest.raises(UnknownToolError) as info:
        await tools.execute(call("subtract", "{}"), raise_errors=True)
    assert info.value.call_id == "c1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": "two"}', "at 'a': 'two' is not of type 'integer'"),
        ("{}", "'a' is a required property"),
        ('{"a": 1, "c": 3}', "Additional properties are not allowed ('c' was unexpected)"),
        ('{"a": 1', "not valid JSON: it ends before the value is complete (cut off?)"),
        ('{"a": 1]', "not valid JSON (Expecting ',' delimiter at line 1 column 8)"),
        ("[1, 2]", "arguments must be a JSON object, got array"),
        ('{"a": NaN}', "NaN is not valid JSON"),
    ],
)
async def test_invalid_arguments_never_reach_the_function(raw: str, expected: str) -> None:
    calls: list[int] = []

    def record(a: int) -> int:
        calls.append(a)
        return a

    tools = ToolSet([record])
    result = await tools.execute(call("record", raw))
    assert result.is_error
    message = text_of(result)
    assert expected in message
    assert message.startswith("Invalid arguments for tool 'record':")
    assert message.endswith("call it again.")
    with pytest.raises(ToolArgumentsError) as info:
        await tools.execute(call("record", raw, call_id="x9"), raise_errors=True)
    assert info.value.tool == "record" and info.value.call_id == "x9"
    assert info.value.issues and info.value.raw_arguments == raw[:200]
    assert calls == []


async def test_pydantic_level_rejections_are_argument_errors_too() -> None:
    from typing import Annotated

    from pydantic import AfterValidator

    def positive(v: int) -> int:
        if v <= 0:
            raise ValueError("must be positive")
        return v

    def take(n: Annotated[int, AfterValidator(positive)]) -> int:
        raise AssertionError("not reached")

    tools = ToolSet([take])
    result = await tools.execute(call("take", '{"n": -1}'))
    assert result.is_error and "must be positive" in text_of(result)


async def test_exceptions_are_captured_without_traceback_unless_opted_in() -> None:
    def broken(x: int) -> int:
        raise RuntimeError(f"bad value {x}")

    tools = ToolSet([broken, Tool(broken, name="verbose", include_traceback=True)])
    result = await tools.execute(call("broken", '{"x": 3}'))
    assert result.is_error
    assert text_of(result) == "Tool 'broken' failed: RuntimeError: bad value 3"
    verbose = text_of(await tools.execute(call("verbose", '{"x": 3}')))
    assert "Traceback (most recent call last)" in verbose and "bad value 3" in verbose
    with pytest.raises(ToolExecutionError) as info:
        await tools.execute(call("broken", '{"x": 4}'), raise_errors=True)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.error_type == "RuntimeError" and info.value.traceback is None


async def test_async_timeout_cancels_the_tool() -> None:
    finished: list[bool] = []

    async def sleepy(seconds: float) -> str:
        await anyio.sleep(seconds)
        finished.append(True)
        return "woke"

    tools = ToolSet([Tool(sleepy, timeout=0.05)])
    with anyio.fail_after(5):
        result = await tools.execute(call("sleepy", '{"seconds": 10}'))
    assert result.is_error and text_of(result) == "Tool 'sleepy' timed out after 0.05 s."
    assert text_of(await tools.execute(call("sleepy", '{"seconds": 0}'))) == "woke"
    with pytest.raises(ToolTimeoutError) as info:
        await tools.execute(call("sleepy", '{"seconds": 10}'), raise_errors=True)
    assert info.value.timeout == 0.05
    assert finished == [True]


async def test_sync_timeout_abandons_the_thread() -> None:
    release = threading.Event()

    def blocking() -> str:
        release.wait(5)
        return "late"

    tools = ToolSet([Tool(blocking, timeout=0.05)])
    try:
        with anyio.fail_after(3):
            result = await tools.execute(call("blocking"))
        assert result.is_error and "timed out" in text_of(result)
    finally:
        release.set()


async def test_timeout_must_be_positive() -> None:
    with pytest.raises(ToolDefinitionError, match="timeout"):
        Tool(add.function, timeout=0)


# ---------------------------------------------------------------- result conversion


class Forecast(BaseModel):
    city: str
    temperature: float


@dataclasses.dataclass
class Reading:
    value: int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain text", [TextPart(text="plain text")]),
        ({"a": [1, 2]}, [TextPart(text='{"a":[1,2]}')]),
        ([1, "x"], [TextPart(text='[1,"x"]')]),
        (
            Forecast(city="Oslo", temperature=-3.5),
            [TextPart(text='{"city":"Oslo","temperature":-3.5}')],
        ),
        (Reading(7), [TextPart(text='{"value":7}')]),
        (None, [TextPart(text="null")]),
        (True, [TextPart(text="true")]),
        (PNG, [ImagePart(data=PNG, media_type="image/png")]),
        (
            b"\xff\xd8\xff\xe0rest",
            [ImagePart(data=b"\xff\xd8\xff\xe0rest", media_type="image/jpeg")],
        ),
        (b"GIF89a..", [ImagePart(data=b"GIF89a..", media_type="image/gif")]),
        (
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
            [ImagePart(data=b"RIFF\x00\x00\x00\x00WEBPVP8 ", media_type="image/webp")],
        ),
        (b"%PDF-1.7\n", [DocumentPart(data=b"%PDF-1.7\n", media_type="application/pdf")]),
        (ImagePart(url="https://example.com/a.png"), [ImagePart(url="https://example.com/a.png")]),
        (
            [TextPart(text="chart:"), ImagePart(data=PNG, media_type="image/png")],
            [TextPart(text="chart:"), ImagePart(data=PNG, media_type="image/png")],
        ),
    ],
)
async def test_results_convert_to_parts(value: object, expected: list[Any]) -> None:
    def produce() -> object:
        return value

    result = await ToolSet([produce]).execute(call("produce"))
    assert not result.is_error
    assert result.content == expected


@pytest.mark.parametrize("value", [b"not an image", object()])
async def test_unconvertible_results_are_tool_errors(value: object) -> None:
    def produce() -> object:
        return value

    result = await ToolSet([produce]).execute(call("produce"))
    assert result.is_error and text_of(result).startswith("Tool 'produce' failed: TypeError")


# ---------------------------------------------------------------- parallel execution


async def test_execute_many_keeps_call_order_and_respects_the_cap() -> None:
    running = 0
    peak = 0

    async def wait(ms: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(ms / 1000)
        running -= 1
        return ms

    tools = ToolSet([wait, add], max_concurrency=3)
    delays = [40, 5, 30, 1, 20, 10, 2, 15]
    calls = [call("wait", f'{{"ms": {d}}}', call_id=f"id{i}") for i, d in enumerate(delays)]
    calls.insert(3, call("add", '{"a": "bad"}', call_id="bad"))
    calls.insert(5, call("nope", "{}", call_id="unknown"))
    with anyio.fail_after(10):
        results = await tools.execute_many(calls)
    assert [r.call_id for r in results] == [c.id for c in calls]
    good = [r for r in results if r.name == "wait"]
    assert [text_of(r) for r in good] == [str(d) for d in delays]
    assert [r.is_error for r in results if r.name != "wait"] == [True, True]
    assert peak == 3
    peak = 0
    await tools.execute_many(calls, max_concurrency=1)
    assert peak == 1


async def test_execute_many_runs_sync_tools_in_threads_under_the_cap() -> None:
    cap = 3
    lock = threading.Lock()
    running = 0
    peak = 0
    threads: set[int] = set()
    # Each call waits until `cap` calls are inside at once: only true concurrency passes it.
    barrier = threading.Barrier(cap, timeout=5)

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        try:
            barrier.wait()
        finally:
            with lock:
                running -= 1
        return n * n

    calls = [call("work", f'{{"n": {n}}}', call_id=f"w{n}") for n in range(2 * cap)]
    with anyio.fail_after(10):
        results = await ToolSet([work], max_concurrency=cap).execute_many(calls)
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert [text_of(r) for r in results] == [str(n * n) for n in range(2 * cap)]
    assert not any(r.is_error for r in results)
    assert peak == cap
    assert threading.get_ident() not in threads and len(threads) >= cap


async def test_execute_many_runs_calls_concurrently() -> None:
    started = anyio.Event()
    both: list[str] = []

    async def first() -> str:
        await started.wait()  # only returns if second() runs at the same time
        both.append("first")
        return "1"

    async def second() -> str:
        started.set()
        both.append("second")
        return "2"

    with anyio.fail_after(5):
        results = await ToolSet([first, second]).execute_many(
            [call("first", call_id="a"), call("second", call_id="b")]
        )
    assert [text_of(r) for r in results] == ["1", "2"]
    assert both == ["second", "first"]


async def test_execute_many_edge_cases() -> None:
    tools = ToolSet([add])
    assert await tools.execute_many([]) == []
    with pytest.raises(ValueError, match="max_concurrency"):
        await tools.execute_many([call("add", '{"a": 1}')], max_concurrency=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        ToolSet(max_concurrency=0)


# ---------------------------------------------------------------- other constructors


class Contact(BaseModel):
    """Save a contact."""

    name: str
    email: str | None = None


async def test_tool_from_model_passes_an_instance_or_returns_it() -> None:
    received: list[Contact] = []

    def save(contact: Contact) -> str:
        received.append(contact)
        return "saved"

    saver = Tool.from_model(Contact, save, name="save_contact", strict=True)
    extractor = Tool.from_model(Contact)
    assert extractor.name == "Contact" and extractor.description == "Save a contact."
    assert saver.parameters["required"] == ["name", "email"]
    tools = ToolSet([saver, extractor])
    assert text_of(await tools.execute(call("save_contact", '{"name": "Ada", "email": null}'))) == (
        "saved"
    )
    assert received == [Contact(name="Ada")]
    result = await tools.execute(call("Contact", '{"name": "Bo"}'))
    assert text_of(result) == '{"name":"Bo","email":null}'


async def test_tool_from_raw_schema_gets_keyword_arguments() -> None:
    seen: list[dict[str, Any]] = []

    def handler(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "ok"

    schema = {
        "type": "object",
        "properties": {"q": {"type": "string", "minLength": 2}, "n": {"type": "integer"}},
        "required": ["q"],
    }
    raw_tool = Tool.from_schema("lookup", schema, handler, description="Look up.", strict=True)
    assert raw_tool.spec().description == "Look up."
    tools = ToolSet([raw_tool])
    assert text_of(await tools.execute(call("lookup", '{"q": "abc", "n": null}'))) == "ok"
    bad = await tools.execute(call("lookup", '{"q": "a", "n": 1}'))
    assert bad.is_error and "too short" in text_of(bad)
    assert seen == [{"q": "abc"}]
    with pytest.raises(ToolDefinitionError, match="invalid JSON Schema"):
        Tool.from_schema("broken", {"type": "object", "properties": {"a": {"type": 1}}}, handler)


async def test_tool_call_api_and_validate() -> None:
    assert await add.call('{"a": 1, "b": 2}') == 3
    assert await add.call({"a": 5}) == 5
    with pytest.raises(ToolArgumentsError, match="'a' is a required property"):
        add.validate("")
    assert add.validate('{"a": 1}') == {"a": 1}
    assert add.validate({"a": 1}) == {"a": 1}


async def test_arguments_schema_must_be_an_object() -> None:
    with pytest.raises(ToolDefinitionError, match="object"):
        Tool.from_schema("s", {"type": "string"}, lambda **kw: None)
    with pytest.raises(ToolDefinitionError, match="object"):
        Tool.from_model(int, name="number")


async def test_plain_callable_returning_a_coroutine_is_awaited() -> None:
    async def real(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x * 2

    def wrapper(x: int) -> Any:
        return real(x)

    tools = ToolSet([Tool(wrapper), Tool(wrapper, name="inline", run_in_thread=False)])
    assert text_of(await tools.execute(call("wrapper", '{"x": 4}'))) == "8"
    assert text_of(await tools.execute(call("inline", '{"x": 5}'))) == "10"


async def test_parameter_names_that_clash_with_pydantic_attributes() -> None:
    def odd(json: str, copy: int, schema: bool = False, model_config: str = "x") -> str:
        return f"{json}-{copy}-{schema}-{model_config}"

    odd_tool = Tool(odd)
    assert list(odd_tool.parameters["properties"]) == ["json", "copy", "schema", "model_config"]
    assert await odd_tool.call('{"json": "j", "copy": 2}') == "j-2-False-x"


async def test_positional_only_parameters_are_passed_positionally() -> None:
    def pos(a: int, /, b: int) -> int:
        return a * 10 + b

    assert await Tool(pos).call('{"a": 1, "b": 2}') == 12


class Multiplier:
    """Multiply by a fixed factor."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, x: int) -> int:
        return x * self.factor


class AsyncIncrement:
    async def __call__(self, x: int) -> int:
        """Add one."""
        return x + 1


def power(base: int, exp: int = 2) -> int:
    """Raise a number to a power.

    Args:
        base: The number.
        exp: The power.
    """
    return base**exp


async def test_other_callables_partials_objects_methods() -> None:
    import functools

    cube = Tool(functools.partial(power, exp=3), name="cube")
    assert cube.description == "Raise a number to a power."
    assert cube.parameters["properties"]["base"] == {
        "description": "The number.",
        "type": "integer",
    }
    assert await cube.call('{"base": 2}') == 8

    times = Tool(Multiplier(3))
    assert times.name == "Multiplier" and times.description == "Multiply by a fixed factor."
    assert await times.call('{"x": 2}') == 6

    inc = Tool(AsyncIncrement())
    assert inc.description == "Add one." and await inc.call('{"x": 1}') == 2

    class Service:
        def lookup(self, key: str) -> str:
            """Look a key up."""
            return key.upper()

    method = Tool(Service().lookup)
    assert method.name == "lookup" and list(method.parameters["properties"]) == ["key"]
    assert await method.call('{"key": "k"}') == "K"


async def test_strict_null_means_default_only_where_null_was_not_allowed() -> None:
    seen: list[tuple[int | None, int]] = []

    def remind(reminder: int | None = 15, repeat: int = 1) -> str:
        seen.append((reminder, repeat))
        return "ok"

    strict_tool = Tool(remind, strict=True)
    assert strict_tool.parameters["required"] == ["reminder", "repeat"]
    await strict_tool.call(
        '{"reminder": null, "repeat": null}'
    )  # null is a real value for reminder
    await strict_tool.call('{"reminder": 5, "repeat": 2}')
    await strict_tool.call("{}")  # a server that ignored strict: the defaults apply
    assert seen == [(None, 1), (5, 2), (15, 1)]
