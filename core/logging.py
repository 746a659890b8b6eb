"""Logging: plain text by default, one JSON object per line with ``LOG_FORMAT=json``.

Every request ends with one ``loopwave.request`` line: request id, method, path (key-shaped
text redacted), status, duration, and the tenant and key ids when a key authenticated, in
text and in JSON alike. The line is built from named fields only, never from headers or
bodies, and the query string is left out, so a secret cannot leak into it.

Standard ``logging`` is the interface: levels, filters, handlers and ``dictConfig`` work as
usual, and the request logger's level decides whether the line is written at all. What the
request path does not need, it does not pay for (docs/performance.md has the instruction
counts of each alternative measured):

- ``configure_logging`` installs one ``LogHandler`` (a ``StreamHandler`` on stderr) with a
  ``LineFormatter`` or a ``JsonFormatter``. While that is the whole configuration the request
  line reaches (``_direct_handler`` reads the logger hierarchy to check), ``log_request``
  has that formatter build the line straight from the fields, as UTF-8 bytes, and the handler
  write them under its lock to the stream's byte layer: no ``LogRecord``, no caller lookup,
  no filter pass, no second lock for the flush, and orjson's bytes are not decoded to text
  only to be encoded again.
- Any other configuration (a handler added by ``dictConfig`` or a test, a filter, another
  formatter) gets a ``RequestRecord``, a standard ``LogRecord`` carrying the fields as
  attributes, through ``Logger.handle``; our formatters write it exactly as the direct path
  does (a test holds them to it).
- The formatters format the time once per second (``logging.Formatter`` calls
  ``time.strftime`` per record) and build a line with one f-string (text) or one ``orjson``
  call (JSON); records with an exception or a stack get ``logging``'s own formatting.
"""

from __future__ import annotations

import codecs
import io
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, TextIO

import orjson
from flask import Flask

from core.requestid import REQUEST_ID
from tenants import clock
from tenants.keyformat import redact_keys

# Where the authenticated caller (anything with ``tenant_id`` and ``key_id``) is noted in the
# WSGI environ for the log line.
CALLER = "loopwave.caller"
REQUEST_LOGGER = "loopwave.request"
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "tenant_id", "key_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_HANDLER_MARK = "_loopwave_handler"
request_log = logging.getLogger(REQUEST_LOGGER)


# "000" to "999": milliseconds and microseconds as text by lookup, not by a format spec.
_PAD3 = [f"{number:03d}" for number in range(1000)]

# The fields of one request line, in this order: request id, method, path, status (None when
# the application answered nothing), duration in microseconds, tenant id, key id.
RequestFields = tuple[str | None, str, str, int | None, int, str | None, str | None]


class RequestRecord(logging.LogRecord):
    """The ``LogRecord`` of one request line: a standard record, plus ``FIELDS``
    (``duration_ms`` a float with microsecond resolution)."""

    def __init__(self, created: float, fields: RequestFields):
        super().__init__(
            REQUEST_LOGGER,
            logging.INFO,
            __file__,
            0,
            request_message(fields),
            None,
            None,
            "log_request",
        )
        # The time the line's fields were read, so both ways of writing it agree.
        self.created = created
        self.msecs = int((created - int(created)) * 1000) + 0.0
        self.request_fields = fields
        request_id, method, path, status, duration_us, tenant_id, key_id = fields
        self.request_id = request_id
        self.method = method
        self.path = path
        self.status = status
        self.duration_ms = duration_us / 1000
        self.tenant_id = tenant_id
        self.key_id = key_id


def request_message(fields: RequestFields) -> str:
    """The message of a request line in text: every field, ``-`` for an absent one."""
    request_id, method, path, status, duration_us, tenant_id, key_id = fields
    return (
        f"{method} {path} {'-' if status is None else status}"
        f" {duration_us // 1000}.{_PAD3[duration_us % 1000]}ms request_id={request_id}"
        f" tenant_id={tenant_id or '-'} key_id={key_id or '-'}"
    )


class _Clock:
    """A record's time as text: ``time.strftime`` of its second, rendered once per second,
    then its milliseconds (as ``LogRecord.msecs`` computes them) between ``separator`` and
    ``suffix``."""

    def __init__(self, render: Callable[[int], str], separator: str, suffix: str = "") -> None:
        self._render = render
        self._separator = separator
        self._suffix = suffix
        self._second = -1
        self._text = ""

    def stamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._text = self._render(second)
            self._second = second
        return f"{self._text}{self._separator}{_PAD3[int((created - second) * 1000)]}{self._suffix}"


class LineFormatter(logging.Formatter):
    """``%(asctime)s %(levelname)s %(name)s %(message)s``, the time as ``logging`` writes it
    (local time, ``2026-11-30 11:27:50,008``), with the seconds formatted once per second."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._clock = _Clock(
            lambda second: time.strftime(self.default_time_format, self.converter(second)), ","
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        if datefmt:
            return super().formatTime(record, datefmt)
        return self._clock.stamp(record.created)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = message = record.getMessage()
        record.asctime = asctime = self.formatTime(record)
        return f"{asctime} {record.levelname} {record.name} {message}"

    def request_bytes(self, created: float, fields: RequestFields) -> bytes:
        """What ``format`` makes of the ``RequestRecord`` of these fields, without the
        record, and a newline, in UTF-8 (what ``LogHandler.write_bytes`` takes); a character
        UTF-8 cannot encode is escaped, as stderr's own error handler does."""
        return (
            f"{self._clock.stamp(created)} INFO {REQUEST_LOGGER} {request_message(fields)}\n"
        ).encode("utf-8", "backslashreplace")


class JsonFormatter(logging.Formatter):
    """One JSON object per record (through orjson); request lines carry ``FIELDS`` at the
    top level. The time is UTC, ISO 8601 with milliseconds."""

    def __init__(self) -> None:
        super().__init__()
        self._clock = _Clock(
            lambda second: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)), ".", "+00:00"
        )

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record, RequestRecord) and not (record.exc_info or record.stack_info):
            return self.request_line(record.created, record.request_fields)
        entry = {
            "time": self._clock.stamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()

    def request_line(self, created: float, fields: RequestFields) -> str:
        """What ``format`` makes of the ``RequestRecord`` of these fields, without the record."""
        return self.request_bytes(created, fields)[:-1].decode()

    def request_bytes(self, created: float, fields: RequestFields) -> bytes:
        """``request_line`` and a newline, as orjson writes it (UTF-8 bytes): the direct path
        hands them to the stream's byte layer as they are (``LogHandler.write_bytes``), where
        decoding them to text only for the stream to encode them again cost ~3,000
        instructions a line."""
        request_id, method, path, status, duration_us, tenant_id, key_id = fields
        return orjson.dumps(
            {
                "time": self._clock.stamp(created),
                "level": "INFO",
                "logger": REQUEST_LOGGER,
                "message": f"{method} {path} {'-' if status is None else status}",
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_us / 1000,
                "tenant_id": tenant_id,
                "key_id": key_id,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )


_FORMATTERS = (LineFormatter, JsonFormatter)


class LogHandler(logging.StreamHandler[TextIO]):
    """The handler ``configure_logging`` installs: a ``StreamHandler`` (stderr) that can also
    take a request line already formatted and encoded (``write_bytes``)."""

    lock: threading.RLock  # ``Handler.__init__`` creates it (``createLock``)
    # The stream ``write_bytes`` last saw, its byte layer and whether text may wait above it
    # (``_byte_layer``).
    _layer_of: tuple[object, BinaryIO | None, bool] = (None, None, False)

    def write_bytes(self, data: bytes) -> None:
        """``emit`` of a line already formatted and encoded (UTF-8, its newline included):
        one write and a flush, under the lock ``handle`` holds around ``emit`` (taken once,
        where ``emit`` takes it again to flush; ``acquire``/``release`` rather than ``with``,
        ~1,000 instructions less). Written to the stream's byte layer when that is
        equivalent (``_byte_layer``: stderr is), else decoded and written as text."""
        stream = self.stream
        seen, layer, text_may_wait = self._layer_of
        if seen is not stream:
            layer, text_may_wait = _byte_layer(stream)
            self._layer_of = (stream, layer, text_may_wait)
        lock = self.lock
        lock.acquire()
        try:
            if layer is None:
                stream.write(data.decode())
                stream.flush()
            else:
                if text_may_wait:
                    stream.flush()  # text written without a newline goes out first
                layer.write(data)
                layer.flush()
        finally:
            lock.release()


def _byte_layer(stream: object) -> tuple[BinaryIO | None, bool]:
    """The byte stream under ``stream`` when bytes written there read back as the same text,
    in the same order, as if written to ``stream``: a ``TextIOWrapper`` in UTF-8 that passes
    every write through (``write_through``) or every line (``line_buffering``: ``sys.stderr``
    when it is not a terminal, as under gunicorn), and whether text may wait in it (a write
    without a newline, on a line-buffered stream: flushed before the bytes). ``None`` for
    any other stream (a file opened in text mode keeps text; a ``StringIO`` has no bytes)."""
    if not isinstance(stream, io.TextIOWrapper):
        return None, False
    if not (stream.write_through or stream.line_buffering):
        return None, False
    try:
        utf8 = codecs.lookup(stream.encoding).name == "utf-8"
    except LookupError:
        return None, False
    return (stream.buffer, not stream.write_through) if utf8 else (None, False)


def _direct_handler() -> LogHandler | None:
    """The handler a request line would reach if the configuration is ours, untouched: the
    request logger enabled and without filters, and exactly one handler up the hierarchy,
    a ``LogHandler`` with one of our formatters, no filters and a level that lets INFO
    through. Anything else (``dictConfig``, a test's capture handler, a filter) is ``None``:
    the line then goes through ``Logger.handle`` like any record.

    This is what ``Logger.callHandlers`` walks, read rather than run: a few attribute reads
    instead of a record, a filter pass, a lock and a formatter lookup per request.
    """
    if request_log.disabled or request_log.filters:
        return None
    logger: logging.Logger | None = request_log
    found = None
    while logger is not None:
        handlers = logger.handlers
        if handlers:
            if found is not None or len(handlers) > 1:
                return None
            found = handlers[0]
        logger = logger.parent if logger.propagate else None
    if (
        type(found) is not LogHandler
        or found.filters
        or found.level > logging.INFO
        or found.terminator != "\n"
        or type(found.formatter) not in _FORMATTERS
    ):
        return None
    return found


def configure_logging(app: Flask) -> None:
    """Install one root handler (replacing ours from an earlier app).

    The request line itself is written by ``log_request``, from ``core.middleware``.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = LogHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else LineFormatter())
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


def _escape_path(path: str) -> str:
    """``path`` with spaces and unprintable characters (newlines, escape codes, ``\u2028``)
    percent-encoded: a client's ``%0A`` decoded by the server must not start a forged line,
    nor a ``%20`` a forged field of this one (text lines are split on spaces)."""
    return "".join(
        char
        if char != " " and char.isprintable()
        else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in path
    )


def log_request(environ: dict[str, Any], answered: list[str], started_ns: int) -> None:
    """The one ``loopwave.request`` line of a request (skipped cheaply below INFO).

    ``answered``: the status line the application answered with, if it did;
    ``started_ns``: ``time.perf_counter_ns()`` when the request came in.
    """
    if not request_log.isEnabledFor(logging.INFO):
        return
    duration_us = (time.perf_counter_ns() - started_ns) // 1000
    created = clock.timestamp()  # the store's clock seam: a bench or a test can fix it
    caller = environ.get(CALLER)
    path = environ.get("PATH_INFO", "")
    if not path.isascii():
        # WSGI carries the path as latin-1 text; Werkzeug decodes it as UTF-8 the same way.
        path = path.encode("latin-1").decode("utf-8", "replace")
    if " " in path or not path.isprintable():
        path = _escape_path(path)
    path = redact_keys(path)
    fields: RequestFields = (
        environ.get(REQUEST_ID),
        environ.get("REQUEST_METHOD", ""),
        path,
        int(answered[0][:3]) if answered else None,
        duration_us,
        None if caller is None else caller.tenant_id,
        None if caller is None else caller.key_id,
    )
    handler = _direct_handler()
    if handler is not None:
        # ``_direct_handler`` returns a handler only when its formatter is one of ours.
        line = handler.formatter.request_bytes(created, fields)  # type: ignore[union-attr]
        try:
            handler.write_bytes(line)
        except Exception:
            # What ``StreamHandler.emit`` does when its stream fails (closed, a broken pipe):
            # report it on stderr per ``logging.raiseExceptions``; the request goes on.
            handler.handleError(RequestRecord(created, fields))
    else:
        # ``Logger.handle``, not ``Logger.info``: the record is complete, so the caller
        # lookup of ``Logger._log`` would be work thrown away.
        request_log.handle(RequestRecord(created, fields))
