"""Descriptions and per-argument descriptions from Google, NumPy and reST docstrings."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from atoll_tools import Tool
from atoll_tools._docstrings import parse_docstring, type_description
from pydantic import BaseModel, Field


def test_google_style_with_wrapped_lines_and_types() -> None:
    doc = parse_docstring(
        """Get the weather.

        Looks it up somewhere
        far away.

        Args:
            city (str): The city
                name, wrapped.
            units: Celsius or fahrenheit.

        Returns:
            dict: The forecast.

        Raises:
            ValueError: never documented as an argument.
        """
    )
    assert doc.description == "Get the weather.\n\nLooks it up somewhere far away."
    assert doc.params == {"city": "The city name, wrapped.", "units": "Celsius or fahrenheit."}


def test_numpy_style_including_shared_entries() -> None:
    doc = parse_docstring(
        """Move a point.

        Parameters
        ----------
        x, y : float
            Coordinates.
        speed : float, optional
            How fast,
            in metres per second.

        Returns
        -------
        bool
            Whether it moved.
        """
    )
    assert doc.description == "Move a point."
    assert doc.params == {
        "x": "Coordinates.",
        "y": "Coordinates.",
        "speed": "How fast, in metres per second.",
    }


def test_rest_style_with_types_and_continuations() -> None:
    doc = parse_docstring(
        """Send a message.

        :param to: The recipient's
            address.
        :param str body: The text.
        :type body: str
        :returns: The message id.
        """
    )
    assert doc.description == "Send a message."
    assert doc.params == {"to": "The recipient's address.", "body": "The text."}


def test_plain_and_missing_docstrings() -> None:
    assert parse_docstring("Just a sentence.\n\nAnd a paragraph.").description == (
        "Just a sentence.\n\nAnd a paragraph."
    )
    assert parse_docstring(None).description is None
    assert parse_docstring("   ").params == {}


def test_descriptions_reach_the_tool_schema_and_annotations_win() -> None:
    def greet(
        name: str, times: Annotated[int, Field(description="From the annotation.")] = 1
    ) -> str:
        """Greet someone.

        Args:
            name: Who to greet.
            times: From the docstring (loses to the annotation).
        """
        return name * times

    tool = Tool(greet)
    assert tool.description == "Greet someone."
    props = tool.parameters["properties"]
    assert props["name"]["description"] == "Who to greet."
    assert props["times"]["description"] == "From the annotation."


def test_explicit_description_overrides_docstring() -> None:
    def f(x: int) -> int:
        """Docstring text."""
        return x

    assert Tool(f, description="Given text.").description == "Given text."


def test_type_description_ignores_dataclass_generated_doc() -> None:
    @dataclasses.dataclass
    class Plain:
        x: int

    class Documented(BaseModel):
        """A documented model.

        Attributes:
            x: ignored here.
        """

        x: int

    assert type_description(Plain) is None
    assert type_description(Documented) == "A documented model."
