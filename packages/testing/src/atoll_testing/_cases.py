"""Recorded cases in the shared corpus format, and the ``Replay`` model that serves them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from ._dialect import ServerDialect
from ._exceptions import CaseFormatError
from ._registry import dialect_for_corpus, registered_server_dialects
from ._reply import Reply

# Split after each blank line (LF or CRLF), keeping every byte in place.
_EVENT_END = re.compile(rb"(?<=\n\n)|(?<=\n\r\n)")


class CaseResponse(msgspec.Struct, kw_only=True):
    """The recorded response: status, content type and raw body text."""

    status: int
    content_type: str
    body: str


class Case(msgspec.Struct, kw_only=True):
    """One recorded exchange in the corpus format (see the corpus README).

    Attributes:
        source: Where it was recorded.
        dialect: ``openai-chat``, ``anthropic-messages``, ``gemini``, ...
        provider: Provider name.
        stream: True iff the response is an event stream.
        endpoint: ``"POST https://..."`` or None.
        exercises: One line on what the case is for.
        request: The JSON request body (None if unknown).
        response: Status, content type and raw body.
        expect: Values worked out from the body (text, tool_calls, finish_reason, usage, ...).
        notes: Free notes.
        recorded_body_form: How the body was stored (``verbatim`` for the recorder).
    """

    source: str
    dialect: str
    provider: str
    stream: bool
    endpoint: str | None
    exercises: str
    request: Any
    response: CaseResponse
    expect: dict[str, Any]
    notes: list[str] = []
    recorded_body_form: str = "verbatim"

    @classmethod
    def load(cls, path: str | Path) -> Case:
        """Read one case file.

        Raises:
            CaseFormatError: The file is missing or not a case.
        """
        path = Path(path)
        try:
            return msgspec.json.decode(path.read_bytes(), type=cls)
        except OSError as exc:
            raise CaseFormatError(str(path), f"cannot read: {exc.strerror}") from None
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CaseFormatError(str(path), str(exc)) from None

    def write(self, path: str | Path) -> None:
        """Write the case as indented JSON (parent folders are created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msgspec.json.format(msgspec.json.encode(self), indent=2) + b"\n")

    def reply(self, dialect: ServerDialect | None = None) -> Reply:
        """The recorded response, byte for byte (streams split at event boundaries).

        Args:
            dialect: Whose end marker and error event apply to the stream's faults
                (``no-done``, ``error-event``); default: the registered dialect of this
                case's ``dialect``, else the first registered one.
        """
        data = self.response.body.encode()
        content_type = self.response.content_type.encode()
        if not self.stream:
            return Reply(self.response.status, content_type, data)
        if dialect is None:
            dialect = dialect_for_corpus(self.dialect)
        if dialect is None:
            dialect = next(iter(registered_server_dialects()), None)
        events = [e for e in _EVENT_END.split(data) if e]
        terminal: list[bytes] = []
        if events and dialect is not None and dialect.is_stream_end(events[-1]):
            terminal.append(events.pop())
        return Reply(
            self.response.status,
            content_type,
            events=events,
            terminal=terminal,
            error_event=b"" if dialect is None else dialect.error_event("replayed stream error"),
            malformed_event=b'data: {"malformed\n\n',
        )


def load_cases(source: str | Path | Iterable[str | Path]) -> dict[str, Case]:
    """Cases by file stem from a file, a folder (searched recursively) or a list of them.

    Raises:
        CaseFormatError: A file is not a case, or two files share a stem.
    """
    paths: list[Path] = []
    items = [source] if isinstance(source, str | Path) else list(source)
    for item in items:
        p = Path(item)
        paths.extend(sorted(p.rglob("*.json")) if p.is_dir() else [p])
    cases: dict[str, Case] = {}
    for p in paths:
        if p.stem in cases:
            raise CaseFormatError(str(p), f"another case is already named {p.stem!r}")
        cases[p.stem] = Case.load(p)
    return cases


class Replay:
    """A model that answers with recorded cases.

    A request whose JSON body equals a case's recorded request gets that case; otherwise
    cases are served in order, cycling.

    Args:
        cases: Cases, or paths of case files or folders.
    """

    def __init__(self, cases: Case | str | Path | Iterable[Case | str | Path]) -> None:
        items: list[Case | str | Path] = (
            [cases] if isinstance(cases, Case | str | Path) else list(cases)
        )
        loaded: list[Case] = []
        for item in items:
            if isinstance(item, Case):
                loaded.append(item)
            elif not Path(item).exists():
                raise CaseFormatError(str(item), "no such file or folder")
            else:
                loaded.extend(load_cases(item).values())
        if not loaded:
            raise CaseFormatError(str(cases), "no case to replay")
        self.cases = loaded
        self._order = itertools.cycle(loaded)

    def pick(self, body: bytes) -> Case:
        """The case answering a request body."""
        try:
            wanted: object = msgspec.json.decode(body)
        except msgspec.DecodeError:
            wanted = None
        if wanted is not None:
            for case in self.cases:
                if case.request == wanted:
                    return case
        return next(self._order)

    def __repr__(self) -> str:
        return f"Replay({len(self.cases)} cases)"
