"""Pile adapters: JSON, JSONL, CSV, and (behind the ``pandas`` extra) DataFrame and Parquet.

Adapters are registered per Pile class (``Pile.register_adapter``), not in a global table, so an
application can give its own Pile subclass different formats without affecting anyone else.

Destinations and sources: ``None`` (dump returns the text or object), an ``os.PathLike`` (a file
path), or an open text file. A plain ``str`` given to ``load`` is the serialized text itself.

JSON keeps everything (order, item types, strictness). JSONL and CSV hold one item per line/row;
pass ``item_type=`` to ``load`` to restore a typed Pile. In CSV and Parquet, strings are stored as
they are and other values as JSON, decoded again using each item class's field types.
"""

from __future__ import annotations

import csv
import io
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ._element import Element, class_for_kind
from ._exceptions import MalformedDataError

if TYPE_CHECKING:
    from ._pile import Pile

__all__ = [
    "Adapter",
    "CsvAdapter",
    "DataFrameAdapter",
    "JsonAdapter",
    "JsonlAdapter",
    "ParquetAdapter",
]

PANDAS_HINT = 'pip install "atoll-core-generic[pandas]"'


class Adapter(ABC):
    """Converts a Pile to and from one external format."""

    name: ClassVar[str]
    """The name used with ``Pile.dump(name, ...)`` and ``Pile.load(name, ...)``."""

    @abstractmethod
    def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
        """Write ``pile``; return the text/object when ``destination`` is None."""

    @abstractmethod
    def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
        """Build a ``cls`` from ``source``."""


def _read_text(source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, bytes):
        return source.decode("utf-8")
    if isinstance(source, os.PathLike):
        with open(os.fspath(cast("os.PathLike[str]", source)), encoding="utf-8") as fh:
            return fh.read()
    if hasattr(source, "read"):
        text: object = source.read()
        if isinstance(text, str):
            return text
    raise TypeError(f"cannot read from {type(source).__name__}: give text, a path or a file")


def _write_text(text: str, destination: Any) -> str | None:
    if destination is None:
        return text
    if isinstance(destination, os.PathLike):
        with open(
            os.fspath(cast("os.PathLike[str]", destination)), "w", encoding="utf-8", newline=""
        ) as fh:
            fh.write(text)
        return None
    if hasattr(destination, "write"):
        destination.write(text)
        return None
    raise TypeError(f"cannot write to {type(destination).__name__}: give a path or a file")


def _build(cls: type[Pile[Any]], items: Iterable[Element], options: dict[str, Any]) -> Pile[Any]:
    return cls(items, item_type=options.get("item_type"), strict=options.get("strict", False))


class JsonAdapter(Adapter):
    """The whole Pile as one JSON document (lossless)."""

    name = "json"

    def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
        """Write the Pile's :meth:`~Pile.to_dict` as JSON."""
        return _write_text(json.dumps(pile.to_dict()), destination)

    def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
        """Read a document written by :meth:`dump`."""
        try:
            data = json.loads(_read_text(source))
        except json.JSONDecodeError as exc:
            raise MalformedDataError("Pile", f"invalid JSON: {exc}") from exc
        return cls.from_dict(data)


class JsonlAdapter(Adapter):
    """One JSON object per line, one line per item."""

    name = "jsonl"

    def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
        """Write each item's ``to_dict()`` on its own line."""
        text = "".join(json.dumps(i.to_dict()) + "\n" for i in pile.values())
        return _write_text(text, destination)

    def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
        """Read lines written by :meth:`dump` (blank lines are skipped)."""
        items: list[Element] = []
        for number, line in enumerate(_read_text(source).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(Element.from_dict(json.loads(line)))
            except json.JSONDecodeError as exc:
                raise MalformedDataError("Pile", f"line {number}: invalid JSON: {exc}") from exc
        return _build(cls, items, options)


def _encode_cell(value: Any) -> Any:
    return value if isinstance(value, str) else json.dumps(value)


def _decode_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """Turn a flat row back into ``to_dict`` form, using the item class's field types."""
    kind = row.get("kind")
    cls = class_for_kind(kind)
    if cls is None:
        raise MalformedDataError("Pile", f"{where}: unknown or missing kind {kind!r}")
    fields = cls.model_fields
    out: dict[str, Any] = {"kind": kind}
    for column, cell in row.items():
        if column == "kind" or column not in fields:
            if column != "kind" and cell not in ("", None):
                out[column] = cell  # let validation name the unexpected column
            continue
        if isinstance(cell, str) and fields[column].annotation is not str:
            try:
                cell = json.loads(cell)
            except json.JSONDecodeError:
                pass  # an id, a timestamp or other text the field's validator parses
        out[column] = cell
    return out


def _rows(pile: Pile[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    columns: dict[str, None] = {"kind": None}
    rows: list[dict[str, Any]] = []
    for item in pile.values():
        data = item.to_dict()
        rows.append(data)
        columns.update(dict.fromkeys(data))
    return list(columns), rows


class CsvAdapter(Adapter):
    """One row per item; columns are the union of the items' fields."""

    name = "csv"

    def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
        """Write a header and one row per item."""
        columns, rows = _rows(pile)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _encode_cell(v) for k, v in row.items()})
        return _write_text(buffer.getvalue(), destination)

    def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
        """Read rows written by :meth:`dump`."""
        reader = csv.DictReader(io.StringIO(_read_text(source)))
        items = [
            Element.from_dict(_decode_row(dict(row), f"row {n}"))
            for n, row in enumerate(reader, start=1)
        ]
        return _build(cls, items, options)


def _pandas() -> Any:
    try:
        import pandas  # pyright: ignore[reportMissingTypeStubs]
    except ImportError as exc:
        raise ImportError(f"the DataFrame and Parquet adapters need pandas: {PANDAS_HINT}") from exc
    return pandas


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # NaN


class DataFrameAdapter(Adapter):
    """A pandas DataFrame, one row per item (needs the ``pandas`` extra)."""

    name = "dataframe"

    def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
        """Return a DataFrame (``destination`` must be None)."""
        if destination is not None:
            raise TypeError("the dataframe adapter returns a DataFrame; use 'parquet' for files")
        pd = _pandas()
        columns, rows = _rows(pile)
        return pd.DataFrame.from_records(rows, columns=columns)

    def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
        """Read a DataFrame built by :meth:`dump`."""
        records: list[dict[str, Any]] = source.to_dict(orient="records")
        items: list[Element] = []
        for n, record in enumerate(records, start=1):
            row = {k: v for k, v in record.items() if not _is_missing(v)}
            items.append(Element.from_dict(_decode_row(row, f"row {n}")))
        return _build(cls, items, options)


class ParquetAdapter(Adapter):
    """A Parquet file via pandas and pyarrow (needs the ``pandas`` extra)."""

    name = "parquet"

    def dump(self, pile: Pile[Any], destination: Any = None) -> Any:
        """Write Parquet to ``destination`` (a path or binary file); None returns bytes."""
        pd = _pandas()
        columns, rows = _rows(pile)
        flat = [{k: _encode_cell(v) for k, v in row.items()} for row in rows]
        frame = pd.DataFrame.from_records(flat, columns=columns)
        if destination is None:
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            return buffer.getvalue()
        frame.to_parquet(destination, index=False)
        return None

    def load(self, cls: type[Pile[Any]], source: Any, **options: Any) -> Pile[Any]:
        """Read Parquet written by :meth:`dump` (a path, binary file or bytes)."""
        pd = _pandas()
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        frame = pd.read_parquet(source)
        return DataFrameAdapter().load(cls, frame, **options)


DEFAULT_ADAPTERS: tuple[Adapter, ...] = (
    JsonAdapter(),
    JsonlAdapter(),
    CsvAdapter(),
    DataFrameAdapter(),
    ParquetAdapter(),
)
