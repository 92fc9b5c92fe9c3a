"""A minimal OTLP/HTTP trace receiver on 127.0.0.1, for documentation blocks marked ``otlp``.

It stands where an OpenTelemetry collector would (``OTEL_EXPORTER_OTLP_ENDPOINT``): it accepts
``POST /v1/traces`` in the protobuf encoding the OTLP exporter sends, decodes each request with
opentelemetry-proto and keeps the spans' names and attributes, so the docs test can check that
a tracing recipe really exported its spans.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class Receiver:
    """Spans received so far: ``(name, {attribute: value})`` pairs, in arrival order."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.spans: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def add(self, body: bytes) -> None:
        """Decode one export request and keep its spans."""
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {a.key: _value(a.value) for a in span.attributes}
                        self.spans.append((span.name, attributes))

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self.spans.clear()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Serve an OTLP/HTTP trace endpoint on an ephemeral loopback port until the block ends."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            holder[0].add(body)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the test reports what matters

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
