"""Pile adapters: JSON, JSONL, CSV, DataFrame, Parquet, and the per-class adapter registry."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from atoll_generic import Adapter, Element, MalformedDataError, Pile


class Row(Element):
    text: str = ""
    score: float = 0.0
    tags: list[str] = []  # noqa: RUF012 - pydantic copies defaults
    note: str | None = None


class Other(Element):
    n: int = 0


def sample() -> Pile[Row]:
    return Pile(
        [
            Row(text="plain", score=1.5, tags=["a", "b"], metadata={"k": {"x": [1, 2]}}),
            Row(text='tricky, "quoted"\nline', score=-2.0, note="n"),
            Row(text="", tags=[]),
        ],
        item_type=Row,
    )


def same(a: Pile[Any], b: Pile[Any]) -> None:
    assert [i.model_dump() for i in a] == [i.model_dump() for i in b]
    assert [type(i) for i in a] == [type(i) for i in b]


@pytest.mark.parametrize("name", ["json", "jsonl", "csv"])
def test_text_adapters_roundtrip_through_text_path_and_file(name: str, tmp_path: Path) -> None:
    pile = sample()
    text = pile.dump(name)
    assert isinstance(text, str)
    same(Pile.load(name, text, item_type=Row), pile)
    path = tmp_path / f"out.{name}"
    assert pile.dump(name, path) is None
    loaded = Pile.load(name, path, item_type=Row)
    same(loaded, pile)
    assert loaded.item_type == (Row,)
    buffer = io.StringIO()
    pile.dump(name, buffer)
    buffer.seek(0)
    same(Pile.load(name, buffer, item_type=Row), pile)


def test_csv_is_one_row_per_item_and_mixes_kinds() -> None:
    mixed: Pile[Element] = Pile([Row(text="r"), Other(n=3)])
    text = mixed.dump("csv")
    lines = text.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("kind,")
    back = Pile.load("csv", text)
    assert [type(i) for i in back] == [Row, Other] and back[1].n == 3


def test_malformed_inputs_are_clear_errors() -> None:
    with pytest.raises(MalformedDataError, match="invalid JSON"):
        Pile.load("json", "{not json")
    with pytest.raises(MalformedDataError, match="line 2"):
        Pile.load("jsonl", json.dumps(Row().to_dict()) + "\n{oops\n")
    with pytest.raises(MalformedDataError, match="row 1"):
        Pile.load("csv", "kind,id\nNope,x\n")
    with pytest.raises(KeyError, match="no adapter 'yaml'"):
        Pile.load("yaml", "")
    with pytest.raises(TypeError):
        Pile.load("json", 42)


def test_dataframe_and_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pile = sample()
    frame = pile.dump("dataframe")
    assert len(frame) == 3 and frame.columns[0] == "kind"
    same(Pile.load("dataframe", frame, item_type=Row), pile)
    path = tmp_path / "rows.parquet"
    pile.dump("parquet", path)
    same(Pile.load("parquet", path, item_type=Row), pile)
    same(Pile.load("parquet", pile.dump("parquet")), pile)


def test_missing_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match=r'pip install "atoll-core-generic\[pandas\]"'):
        sample().dump("dataframe")
    with pytest.raises(ImportError, match="atoll-core-generic"):
        sample().dump("parquet")


def test_adapter_registry_is_per_class() -> None:
    class Upper(Adapter):
        name = "upper"

        def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
            return [i.text.upper() for i in pile]

        def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
            return cls([Row(text=t.lower()) for t in source])

    class RowPile(Pile[Row]):
        pass

    RowPile.register_adapter(Upper())
    pile = RowPile([Row(text="hi")])
    assert pile.dump("upper") == ["HI"]
    assert RowPile.load("upper", ["YO"])[0].text == "yo"
    assert pile.dump("json")  # inherited defaults still there
    with pytest.raises(KeyError):
        Pile.adapter("upper")  # the base class is unaffected
