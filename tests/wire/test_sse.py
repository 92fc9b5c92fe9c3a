"""SSE decoder: WHATWG rules, chunk-split invariance, round trips and size limits."""

from __future__ import annotations

import pytest
from atoll_wire import ServerSentEvent, SSEDecoder, SSEEventTooLarge, SSELineTooLong
from hypothesis import given, settings
from hypothesis import strategies as st


def _spec_lines(body: bytes, *, flush: bool) -> list[str]:
    text = body.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\r\n":
            lines.append(current)
            current = ""
            if ch == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
        else:
            current += ch
        i += 1
    if flush:
        if current:
            lines.append(current)
        lines.append("")
    return lines


def _reference(body: bytes, *, flush: bool = False) -> list[ServerSentEvent]:
    """A direct, slow transcription of the spec's interpretation algorithm."""
    events: list[ServerSentEvent] = []
    data = ""
    event = ""
    last_id: str | None = None
    retry: int | None = None
    for line in _spec_lines(body, flush=flush):
        if line == "":
            if data:
                events.append(
                    ServerSentEvent(
                        event=event or "message", data=data[:-1], id=last_id, retry=retry
                    )
                )
            data, event, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data += value + "\n"
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    return events


def _decode(chunks: list[bytes], *, flush: bool = False) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    out: list[ServerSentEvent] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    if flush:
        out.extend(decoder.flush())
    return out


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    chunks: list[bytes] = []
    prev = 0
    for p in [*points, len(body)]:
        chunks.append(body[prev:p])
        prev = p
    return chunks


def test_basic_fields_and_dispatch() -> None:
    body = (
        b": keep-alive\n"
        b"event: update\n"
        b"id: 7\n"
        b"retry: 1500\n"
        b"data: first\n"
        b"data:second\n"
        b"data:  two spaces\n"
        b"\n"
        b"data: after\n\n"
    )
    decoder = SSEDecoder()
    events = decoder.feed(body)
    assert events == [
        ServerSentEvent(event="update", data="first\nsecond\n two spaces", id="7", retry=1500),
        # The last event ID persists; the event type and retry do not.
        ServerSentEvent(data="after", id="7"),
    ]
    assert decoder.last_event_id == "7"
    assert decoder.retry == 1500


@pytest.mark.parametrize("sep", [b"\n", b"\r", b"\r\n"])
def test_line_endings(sep: bytes) -> None:
    body = sep.join([b"data: a", b"data: b", b"", b"event: e", b"data: c", b"", b""])
    assert _decode([body]) == [
        ServerSentEvent(data="a\nb"),
        ServerSentEvent(event="e", data="c"),
    ]


def test_crlf_split_across_chunks_is_one_terminator() -> None:
    # If the LF after a chunk-final CR were a second terminator it would dispatch early.
    assert _decode([b"data: a\r", b"\ndata: b\r", b"\n\r\n"]) == [ServerSentEvent(data="a\nb")]
    assert _decode([b"data: a\r", b"", b"\n", b"\r\n"]) == [ServerSentEvent(data="a")]
    # A CR followed by more text in the same chunk, then an LF: that LF is a new terminator.
    assert _decode([b"data: a\rdata: b", b"\n\n"]) == [ServerSentEvent(data="a\nb")]


def test_utf8_split_across_chunks() -> None:
    body = "data: héllo — 🌊\n\n".encode()
    chunks = [body[i : i + 1] for i in range(len(body))]
    assert _decode(chunks) == [ServerSentEvent(data="héllo — 🌊")]


def test_bom_is_stripped_once() -> None:
    bom = b"\xef\xbb\xbf"
    assert _decode([bom[:1], bom[1:], b"data: x\n\n"]) == [ServerSentEvent(data="x")]
    # A second BOM is content: it turns the field name into an unknown one.
    assert _decode([bom + bom + b"data: x\n\n"]) == []


def test_field_without_colon_and_unknown_fields() -> None:
    events = _decode([b"data\ndata\n\nfoo: bar\ndata: x\nevent\n\n"])
    assert events == [ServerSentEvent(data="\n"), ServerSentEvent(data="x")]


def test_no_data_means_no_dispatch() -> None:
    assert _decode([b"event: ping\n\nid: 1\n\n: comment\n\n"]) == []


def test_id_with_nul_is_ignored_and_retry_must_be_digits() -> None:
    events = _decode([b"id: a\x00b\nretry: 12x\nretry: -1\ndata: x\n\n"])
    assert events == [ServerSentEvent(data="x")]


def test_unterminated_final_event_needs_flush() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: tail") == [ServerSentEvent(data="a")]
    assert decoder.flush() == [ServerSentEvent(data="tail")]
    assert decoder.flush() == []
    # A final line that is terminated but not followed by a blank line.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: b\n") == []
    assert decoder.flush() == [ServerSentEvent(data="b")]
    decoder = SSEDecoder()
    assert decoder.feed(b"data: c\r") == []
    assert decoder.flush() == [ServerSentEvent(data="c")]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert _decode([b"data: \xff\xfe\n\n"]) == [ServerSentEvent(data="\ufffd\ufffd")]


def test_line_limit() -> None:
    decoder = SSEDecoder(max_line_bytes=16)
    assert decoder.feed(b"data: 0123456789\n\n") == [ServerSentEvent(data="0123456789")]
    with pytest.raises(SSELineTooLong) as info:
        decoder.feed(b"data: 0123456789ABC")
    assert info.value.limit == 16
    assert info.value.size > 16
    with pytest.raises(SSELineTooLong):
        SSEDecoder(max_line_bytes=16).feed(b"data: 0123456789ABCDEF\n\n")
    with pytest.raises(SSELineTooLong):
        SSEDecoder(max_line_bytes=8).feed("data: ééééé\n".encode())


def test_event_limit() -> None:
    decoder = SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: 1234\ndata: 1234\n\n") == [ServerSentEvent(data="1234\n1234")]
    with pytest.raises(SSEEventTooLarge) as info:
        decoder.feed(b"data: 12345\ndata: 12345\n")
    assert info.value.limit == 10


def test_bad_limits_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        SSEDecoder(max_line_bytes=0)


_ALPHABET = st.sampled_from(
    [
        *(b"data", b"event", b"id", b"retry", b":", b" ", b"\n", b"\r", b"\r\n", b"x", b"7"),
        *(b"\x00", b"\xef\xbb\xbf", "é".encode(), b"\xe2", b"\x82", b"\xac", b"\xff"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map(b"".join), st.lists(st.integers(0, 10_000)))
def test_any_split_matches_the_spec(body: bytes, cuts: list[int]) -> None:
    chunks = _split(body, cuts)
    assert _decode(chunks) == _reference(body)
    assert _decode(chunks, flush=True) == _reference(body, flush=True)


_single_line = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=20
)
_events = st.builds(
    ServerSentEvent,
    event=st.one_of(st.just("message"), _single_line.filter(bool)),
    data=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=50
    ),
    id=st.one_of(st.none(), _single_line),
    retry=st.one_of(st.none(), st.integers(0, 10**6)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_events, max_size=8), st.lists(st.integers(0, 10_000)))
def test_encode_decode_round_trip(events: list[ServerSentEvent], cuts: list[int]) -> None:
    body = b"".join(e.encode() for e in events)
    decoded = _decode(_split(body, cuts))
    expected: list[ServerSentEvent] = []
    last_id: str | None = None
    for e in events:
        last_id = e.id if e.id is not None else last_id
        expected.append(ServerSentEvent(event=e.event, data=e.data, id=last_id, retry=e.retry))
    assert decoded == expected


def test_encode_rejects_line_breaks_in_single_line_fields() -> None:
    with pytest.raises(ValueError, match="line break"):
        ServerSentEvent(event="a\nb", data="x").encode()
    with pytest.raises(ValueError, match="NUL"):
        ServerSentEvent(id="a\x00", data="x").encode()
    assert ServerSentEvent(data="a\nb").encode() == b"data: a\ndata: b\n\n"


_value = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)
_extra_line = st.sampled_from(["", ": keep-alive", "id: 9", "event: e", "data:x", "retry: 5"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_value, st.one_of(st.none(), _extra_line)), max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(st.integers(0, 10_000)),
    st.booleans(),
)
def test_data_only_streams_split_anywhere(
    items: list[tuple[str, str | None]], newline: str, cuts: list[int], flush: bool
) -> None:
    # Mostly the one-data-line shape the fast path takes, with other lines mixed in.
    text = ""
    for value, extra in items:
        if extra is not None:
            text += extra + newline
        text += f"data: {value}{newline}{newline}"
    body = text.encode()
    chunks = _split(body, cuts)
    assert _decode(chunks, flush=flush) == _reference(body, flush=flush)


def test_limits_apply_on_the_fast_path_too() -> None:
    decoder = SSEDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: ok\n\n") == [ServerSentEvent(data="ok")]
    assert decoder.feed(b"data: 0123456789\n\n") == [ServerSentEvent(data="0123456789")]
    with pytest.raises(SSEEventTooLarge):
        decoder.feed(b"data: 0123456789A\n\n")
    decoder = SSEDecoder(max_line_bytes=12)
    assert decoder.feed(b"data: ok\n\ndata: x\n\n") == [
        ServerSentEvent(data="ok"),
        ServerSentEvent(data="x"),
    ]
    with pytest.raises(SSELineTooLong):
        decoder.feed(b"data: 0123456789\n\n")
    # A long unfinished line is refused before its terminator arrives.
    decoder = SSEDecoder(max_line_bytes=12)
    decoder.feed(b"data: 01234")
    with pytest.raises(SSELineTooLong):
        decoder.feed(b"56789")


def test_ids_persist_through_the_fast_path() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 1\ndata: a\n\n")
    events += decoder.feed(b"data: b\n\ndata: c\n\n")
    assert [(e.data, e.id) for e in events] == [("a", "1"), ("b", "1"), ("c", "1")]
