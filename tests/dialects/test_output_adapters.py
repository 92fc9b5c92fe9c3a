"""How ``output=`` finds an output spec: given one, or through installed entry-point adapters."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atoll_dialects import InvalidOptionError, OutputLike
from atoll_dialects import _output as output_module
from atoll_dialects._output import ENTRY_POINT_GROUP, resolve_output
from atoll_wire import OutputSchema


class Upper:
    """A hand-written output spec: no pydantic, no atoll_tools."""

    def output_schema(self) -> OutputSchema:
        schema = {"type": "object", "properties": {"word": {"type": "string"}}}
        return OutputSchema(name="word", schema=schema)

    def parse(self, text: str) -> str:
        if '"word"' not in text:
            raise ValueError("no word")
        return text.upper()


class Marker:
    """A type only the test adapter below knows."""


def adapt(value: Any) -> object:
    if value is Marker:
        return Upper()
    if value == "junk":
        return 42
    raise TypeError(f"cannot adapt {value!r}")


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[None]:
    """A real installed distribution (a dist-info folder on sys.path) declaring an adapter."""
    info = tmp_path / "fake_adapter-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-adapter\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        f"aaa_fake = {__name__}:adapt\n"
        "aab_broken = no_such_module_anywhere:adapt\n"
    )
    sys.path.insert(0, str(tmp_path))
    output_module._adapters = None  # pyright: ignore[reportPrivateUsage]
    output_module._resolved.clear()  # pyright: ignore[reportPrivateUsage]
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        output_module._adapters = None  # pyright: ignore[reportPrivateUsage]
        output_module._resolved.clear()  # pyright: ignore[reportPrivateUsage]


def test_an_output_spec_needs_no_adapter() -> None:
    spec = Upper()
    assert resolve_output(spec) is spec
    assert isinstance(spec, OutputLike)


def test_installed_adapters_are_found_and_broken_ones_skipped(installed: None) -> None:
    spec = resolve_output(Marker)
    assert isinstance(spec, Upper)
    assert resolve_output(Marker) is spec  # cached per type


def test_atoll_tools_is_an_adapter_for_model_classes() -> None:
    from pydantic import BaseModel

    class Point(BaseModel):
        x: int

    spec = resolve_output(Point)
    assert spec.output_schema().name == "Point"
    assert spec.parse('{"x": 3}') == Point(x=3)


def test_nothing_fits_names_each_adapters_reason(installed: None) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        resolve_output("junk")
    message = str(caught.value)
    assert "atoll_tools.OutputSpec" in message and "aaa_fake: returned int" in message
    with pytest.raises(InvalidOptionError, match="aaa_fake: cannot adapt 7"):
        resolve_output(7)
