"""The outermost layer of every request, in plain WSGI: request id, size limits and the
request log line.

This work must happen outside Flask: the id and the log line cover every answer, the
middleware's own refusals included, and a request refused here (oversized headers or body)
never reaches the application. Everything else about a response, its security headers
included (``core.headers``), is set on the Flask response by the code that owns it.

Views and hooks reach this layer through the WSGI environ: ``request_id()`` reads the id,
``note_caller`` names the API key for the log line, ``add_headers`` adds headers to whatever
the answer turns out to be (the quota headers of an API key, the console's CORS headers),
without a Flask ``after_request`` hook per request.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_content_length, get_input_stream

from core.errors import MESSAGE_BY_CODE, envelope
from core.headers import HSTS, REFUSAL_HEADERS
from core.jsonprovider import encode
from core.logging import CALLER, log_request
from core.requestid import REQUEST_ID, echoable, new_request_id

ON_ANSWERED = "loopwave.on_answered"
EXTRA_HEADERS = "loopwave.extra_headers"

# A backstop behind the server's own limits (gunicorn: limit_request_field_size=8190 and
# limit_request_fields=100 by default), so the dev server or a lax proxy cannot feed the app
# unbounded headers. Looser than gunicorn's, so the first refusal in production is gunicorn's
# and the app's own checks of its headers (key shape, token size) stay reachable in tests.
MAX_HEADER_FIELD_BYTES = 16 * 1024
MAX_HEADER_TOTAL_BYTES = 32 * 1024

StartResponse = Callable[..., Any]


def when_answered(environ: dict[str, Any], callback: Callable[[int | None], object]) -> None:
    """Call ``callback`` with the status of the answer to the request of ``environ`` (``None``
    if there was none), once the application has answered: usage counts by outcome."""
    environ[ON_ANSWERED] = callback


def add_headers(environ: dict[str, Any], headers: Iterable[tuple[str, str]]) -> None:
    """Send ``headers`` with the answer to the request of ``environ``, whatever it is (the
    view's, an error's, a hook's), as an ``after_request`` hook would add them: appended to
    the answer's own headers when it starts. Values must be valid header text (they are not
    checked again, unlike ``Headers.add``'s): constants and numbers only."""
    extra = environ.get(EXTRA_HEADERS)
    if extra is None:
        environ[EXTRA_HEADERS] = list(headers)
    else:
        extra.extend(headers)


def note_caller(environ: dict[str, Any], caller: Any) -> None:
    """Name the authenticated caller (``tenant_id``, ``key_id``) in the request log line."""
    environ[CALLER] = caller


class RequestPlumbing:
    """WSGI middleware around ``app.wsgi_app`` (installed by ``create_app``)."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], max_body_bytes: int):
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes
        # Called last with the environ, the status line answered (if any) and the start
        # time (``time.perf_counter_ns()``): the request metrics (``core.metrics``), when on.
        self.observe: Callable[[dict[str, Any], list[str], int], None] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter_ns()
        sent = environ.get("HTTP_X_REQUEST_ID")
        rid = environ[REQUEST_ID] = sent if sent and echoable(sent) else new_request_id()
        answered: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append(status)
            extra = environ.get(EXTRA_HEADERS)
            if extra is not None:
                headers.extend(extra)
            headers.append(("X-Request-Id", rid))
            return start_response(status, headers, exc_info)

        refusal = self._refusal(environ)
        if refusal is None:
            body = self.wsgi_app(environ, start)
        else:
            body = _refuse(start, rid, environ["wsgi.url_scheme"] == "https", *refusal)
        log_request(environ, answered, started)
        on_answered = environ.get(ON_ANSWERED)
        if on_answered is not None:
            on_answered(int(answered[0][:3]) if answered else None)
        observe = self.observe
        if observe is not None:
            observe(environ, answered, started)
        return body

    def _refusal(self, environ: dict[str, Any]) -> tuple[int, str, str] | None:
        """Refuse before the app runs: oversized headers (431), a body over the limit (413;
        Werkzeug checks only when a body is read, and a route that ignores its body, such as
        revoke, would otherwise act on a request the SPEC says is refused) or a chunked body
        that cannot be read (400)."""
        total = 0
        for name, value in environ.items():
            # Not ``str.startswith`` (on Python 3.11 it parses its arguments from a format
            # string) and a slice only for the few names that hold the text at all: ``in`` is
            # a C search with no new object, a slice allocates a string per name; together
            # under half the instructions of a slice per name (docs/performance.md).
            if "HTTP_" in name and name[:5] == "HTTP_":
                size = len(name) + len(value)
                if size > MAX_HEADER_FIELD_BYTES:
                    return _HEADERS_TOO_LARGE
                total += size
        if total > MAX_HEADER_TOTAL_BYTES:
            return _HEADERS_TOO_LARGE
        declared = get_content_length(environ)
        if declared is None:  # a chunked body (``Transfer-Encoding``), or no body at all
            streamed = "HTTP_TRANSFER_ENCODING" in environ
            return self._read_streamed_body(environ) if streamed else None
        if declared > self.max_body_bytes:
            return _BODY_TOO_LARGE
        return None

    def _read_streamed_body(self, environ: dict[str, Any]) -> tuple[int, str, str] | None:
        """Read a streamed body whole, up to one byte past the limit, before any view runs.

        Its size is known only at its end, so it is read here: one byte past the limit is a
        413, and a body the server cannot decode (a chunk size such as ``0x10``) a 400, for
        every route alike. The app then sees a plain body of known length.
        """
        # Werkzeug's stream of a server that decodes the chunks itself (gunicorn, Werkzeug's
        # own server), bounded; from any other server, an empty one.
        stream = get_input_stream(environ, max_content_length=self.max_body_bytes + 1)
        try:
            body = stream.read()
        except Exception:  # noqa: BLE001 - each server raises its own errors (gunicorn's
            # InvalidChunkSize, Werkzeug's ClientDisconnected...): the body cannot be read.
            return _UNREADABLE_BODY
        if len(body) > self.max_body_bytes:
            return _BODY_TOO_LARGE
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_TRANSFER_ENCODING"]  # decoded: Werkzeug now trusts CONTENT_LENGTH
        return None


_HEADERS_TOO_LARGE = (431, "VALIDATION_ERROR", "Request headers are too large")
_BODY_TOO_LARGE = (413, "PAYLOAD_TOO_LARGE", MESSAGE_BY_CODE["PAYLOAD_TOO_LARGE"])
_UNREADABLE_BODY = (400, "VALIDATION_ERROR", "The request body could not be read")


def _refuse(
    start: StartResponse, rid: str, https: bool, status: int, code: str, message: str
) -> list[bytes]:
    """The answer to a request refused before Flask: the envelope, with the security headers
    of a data answer (``core.headers``)."""
    body = encode(envelope(rid, code, message), newline=True)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers.extend(REFUSAL_HEADERS)
    if https:
        headers.append(HSTS)
    start(f"{status} {HTTP_STATUS_CODES[status]}", headers)
    return [body]
