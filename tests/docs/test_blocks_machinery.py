"""The docs test's own machinery: block parsing, markers, chained programs, the stand-in model."""

from __future__ import annotations

import json

import jsonschema
import pytest
from atoll_testing import ChatInput, ToolResult
from pydantic import BaseModel, Field

from tests.docs._blocks import MarkerError, blocks_of, parse_marker, program
from tests.docs._provider import docs_model, model_names, rewrite_urls, sample

PAGE = """# A page

<!-- docs-test: provider -->
```python
x = 1
```

Text in between.

<!-- docs-test: continue -->

```python
print(x)
```

- a list item:

  ```json
  {"a": 1}
  ```

<!-- docs-test: not-run: a shell session -->
```bash
make demo
```

<!-- docs-test: provider -->
Prose after a marker detaches it.

```
bare
```
"""


def test_blocks_are_found_with_their_lines_languages_and_marks() -> None:
    blocks = list(blocks_of(PAGE, "p.md"))
    assert [(b.line, b.lang, sorted(b.marks)) for b in blocks] == [
        (4, "python", ["provider"]),
        (12, "python", ["continue"]),
        (18, "json", []),
        (23, "bash", ["not-run"]),
        (30, "", []),
    ]
    assert blocks[2].code == '{"a": 1}\n'  # de-indented out of the list item
    assert blocks[3].reason == "a shell session"
    assert blocks[1].id == "p.md:12"


def test_a_continued_program_keeps_the_page_line_numbers() -> None:
    blocks = list(blocks_of(PAGE, "p.md"))
    source, chain = program(blocks[1], blocks)
    assert chain == blocks[:2]
    lines = source.splitlines()
    assert lines[4] == "x = 1"  # page line 5
    assert lines[12] == "print(x)"  # page line 13


def test_continue_without_an_earlier_python_block_is_an_error() -> None:
    blocks = list(blocks_of("<!-- docs-test: continue -->\n```python\npass\n```\n", "p.md"))
    with pytest.raises(MarkerError):
        program(blocks[0], blocks)


@pytest.mark.parametrize(
    "text",
    ["not-run", "not-run:", "provider, not-run: why", "skip", "", "provider: why", "provder"],
)
def test_bad_markers_are_refused(text: str) -> None:
    with pytest.raises(MarkerError):
        parse_marker(text)


def test_a_bad_marker_becomes_the_blocks_error() -> None:
    (block,) = blocks_of("<!-- docs-test: skip -->\n```python\npass\n```\n", "p.md")
    assert "unknown docs-test marker" in block.error


def test_urls_of_providers_and_local_servers_are_rewritten() -> None:
    source = 'a = "https://api.openai.com/v1/chat"; b = "http://localhost:11434/v1"'
    assert rewrite_urls(source, "http://127.0.0.1:5") == (
        'a = "http://127.0.0.1:5/v1/chat"; b = "http://127.0.0.1:5/v1"'
    )


def test_model_names_cover_the_registry_and_the_blocks_literals() -> None:
    names = model_names('Client("my-model", base_url=u); Client("ollama/qwen3:0.6b"); "echo"')
    assert {"gpt-4o-mini", "my-model", "qwen3:0.6b", "ollama/qwen3:0.6b"} <= names
    assert "echo" not in names  # the server's own models stay its own


class Review(BaseModel):
    title: str
    stars: int = Field(ge=1, le=5)
    tags: list[str] = []
    kind: Review | None = None


def test_sampled_values_match_their_schemas() -> None:
    for schema in (
        Review.model_json_schema(),
        {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMinimum": 3}}},
        {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 2},
        {"anyOf": [{"type": "null"}, {"type": "number", "maximum": -5}]},
        {"type": "string", "format": "date", "minLength": 4},
    ):
        jsonschema.validate(sample(schema), schema)


def _chat(body: dict[str, object], results: tuple[ToolResult, ...] = ()) -> ChatInput:
    return ChatInput(
        dialect="openai", model="m", last_user_text="hi", tool_results=results,
        body=json.dumps(body).encode(),
    )  # fmt: skip


def test_the_stand_in_model_calls_a_tool_then_answers() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    first = docs_model(_chat({"tools": [tool]}))
    assert [c.name for c in first.tool_calls] == ["f"]
    done = docs_model(_chat({"tools": [tool]}, (ToolResult(call_id="1", name="f", content="42"),)))
    assert done.text == "Done. The tools said: 42"
    assert docs_model(_chat({})).text == "hi"


def test_the_stand_in_model_answers_a_schema_with_matching_json() -> None:
    schema = Review.model_json_schema()
    turn = docs_model(_chat({"response_format": {"json_schema": {"schema": schema}}}))
    assert turn.text is not None
    Review.model_validate_json(turn.text)
