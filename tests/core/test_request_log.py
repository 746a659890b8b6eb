"""The request log line of the default configuration: one per request, every field, in text
and in JSON, and never any key material (path, query string or header)."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from app import create_app
from core.extensions import db
from core.logging import JsonFormatter, LineFormatter, LogHandler, _direct_handler
from tenants.keyformat import REDACTED
from tenants.models import ApiKey

TEXT_LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO loopwave\.request"
    r" (?P<method>\S+) (?P<path>.+) (?P<status>\d{3}|-) (?P<duration>\d+\.\d{3})ms"
    r" request_id=(?P<request_id>\S+) tenant_id=(?P<tenant_id>\S+) key_id=(?P<key_id>\S+)"
)


@pytest.fixture
def logged_app(migrated):
    """An app built with the test's config, its log handler writing to the captured stderr;
    the handler is removed afterwards (it holds the captured stream)."""
    made = []

    def make(**config):
        app = create_app({"TESTING": True, **config})
        made.append(app)
        return app

    yield make
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_loopwave_handler", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    for app in made:
        with app.app_context():
            db.engine.dispose()
    made.clear()
    gc.collect()  # the apps' usage-flush threads end with their buffers


def _key_ids(store) -> tuple[str, str]:
    row = store.session.scalars(sa.select(ApiKey)).one()
    return row.tenant_id, row.id


def _requests(app, key: str) -> list:
    client = app.test_client()
    return [
        client.get("/api/v1/health", headers={"x-tenant-api-key": key}),
        client.get("/api/v1/health", headers={"x-tenant-api-key": key[:-1] + "!"}),
        client.get("/api/v1/nothing-here"),
    ]


@contextlib.contextmanager
def _taking(line_path: str) -> Iterator[None]:
    """Requests whose lines take ``line_path``: ``"direct"``, the path of a deployment (no
    handler but ours: ``core.logging``'s formatter writes the bytes, no ``LogRecord``), or
    ``"standard"``, ``Logger.handle`` (pytest's capture handlers on the root logger make any
    configuration not ours, as ``dictConfig`` or a handler of one's own would)."""
    root = logging.getLogger()
    others = [h for h in root.handlers if not getattr(h, "_loopwave_handler", False)]
    if line_path == "direct":
        for handler in others:
            root.removeHandler(handler)
    try:
        assert isinstance(_direct_handler(), LogHandler) == (line_path == "direct")
        yield
    finally:
        for handler in others:
            if handler not in root.handlers:
                root.addHandler(handler)


def _request_lines(err: str, marker: str) -> list[str]:
    return [line for line in err.splitlines() if marker in line]


@pytest.mark.parametrize("line_path", ["direct", "standard"])
def test_default_text_line_has_every_field_once_per_request(
    logged_app, store, api_key, capsys, request_clock, line_path
):
    key = api_key()
    capsys.readouterr()
    app = logged_app()  # the defaults: LOG_LEVEL=INFO, LOG_FORMAT=text
    with app.app_context(), _taking(line_path):
        answers = _requests(app, key)
    lines = _request_lines(capsys.readouterr().err, " loopwave.request ")
    assert len(lines) == len(answers) == 3
    parsed = [TEXT_LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    tenant_id, key_id = _key_ids(store)
    expected = [
        ("/api/v1/health", "200", tenant_id, key_id),
        ("/api/v1/health", "401", "-", "-"),
        ("/api/v1/nothing-here", "404", "-", "-"),
    ]
    for match, answer, (path, status, tenant, key_field) in zip(
        parsed, answers, expected, strict=True
    ):
        assert match["method"] == "GET"
        assert match["path"] == path
        assert match["status"] == status == str(answer.status_code)
        assert match["request_id"] == answer.headers["X-Request-Id"]
        assert (match["tenant_id"], match["key_id"]) == (tenant, key_field)
        assert float(match["duration"]) == request_clock
    assert key not in "\n".join(lines)


@pytest.mark.parametrize("line_path", ["direct", "standard"])
def test_json_line_has_every_field_once_per_request(
    logged_app, store, api_key, capsys, request_clock, line_path
):
    key = api_key()
    capsys.readouterr()
    app = logged_app(LOG_FORMAT="json")
    with app.app_context(), _taking(line_path):
        answers = _requests(app, key)
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    lines = [entry for entry in entries if entry["logger"] == "loopwave.request"]
    assert len(lines) == 3
    tenant_id, key_id = _key_ids(store)
    expected = [(200, tenant_id, key_id), (401, None, None), (404, None, None)]
    for line, answer, (status, tenant, key_field) in zip(lines, answers, expected, strict=True):
        assert set(line) == {
            "time", "level", "logger", "message", "request_id", "method", "path",
            "status", "duration_ms", "tenant_id", "key_id",
        }  # fmt: skip
        assert line["level"] == "INFO"
        assert line["method"] == "GET"
        assert line["status"] == status == answer.status_code
        assert line["request_id"] == answer.headers["X-Request-Id"]
        assert (line["tenant_id"], line["key_id"]) == (tenant, key_field)
        assert line["duration_ms"] == request_clock
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert [line["path"] for line in lines] == [
        "/api/v1/health",
        "/api/v1/health",
        "/api/v1/nothing-here",
    ]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_key_material_in_path_query_or_header(logged_app, store, api_key, capsys, log_format):
    key = api_key()
    capsys.readouterr()
    app = logged_app(LOG_FORMAT=log_format)
    with app.app_context():
        client = app.test_client()
        client.get(f"/api/v1/health/{key}", headers={"x-tenant-api-key": key})
        client.get(f"/api/v1/health?api_key={key}", headers={"x-tenant-api-key": key})
        client.get("/api/v1/health", headers={"x-tenant-api-key": key, "X-Request-Id": key})
    err = capsys.readouterr().err
    lines = _request_lines(err, "loopwave.request")
    assert len(lines) == 3
    random_part = key.split("_live_")[1][:26]
    assert key not in err and random_part not in err
    if log_format == "json":
        paths = [json.loads(line)["path"] for line in lines]
    else:
        paths = [TEXT_LINE.fullmatch(line)["path"] for line in lines]
    assert paths == [f"/api/v1/health/{REDACTED}", "/api/v1/health", "/api/v1/health"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_path_cannot_forge_a_line_or_a_field(logged_app, capsys, log_format):
    """A client's ``%0A`` (decoded to a newline by the server), ``%20``, ``%1B`` or ``\u2028``
    in the path is percent-encoded in the line: one request, one line, its own fields."""
    forged = (
        "\n2026-12-01 06:00:00,000 INFO loopwave.request POST /console/keys/key_1/revoke 200"
        " 1.000ms request_id=req_f tenant_id=ten_victim key_id=-\r\x1b[2J\u2028\x85"
    )
    capsys.readouterr()
    app = logged_app(LOG_FORMAT=log_format)
    with app.app_context():
        answer = app.test_client().get("/v1/x" + quote(forged))
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(lines) == 1
    path = json.loads(lines[0])["path"] if log_format == "json" else lines[0].split(" ")[5]
    assert path == "/v1/x%0A2026-12-01%2006:00:00,000%20INFO%20loopwave.request%20POST%20" + (
        "/console/keys/key_1/revoke%20200%201.000ms%20request_id=req_f%20tenant_id=ten_victim"
        "%20key_id=-%0D%1B[2J%E2%80%A8%C2%85"
    )
    if log_format == "text":
        match = TEXT_LINE.fullmatch(lines[0])
        assert match and match["tenant_id"] == "-"
        assert match["request_id"] == answer.headers["X-Request-Id"]


def test_warning_level_writes_no_request_line(logged_app, api_key, capsys):
    key = api_key()
    capsys.readouterr()
    app = logged_app(LOG_LEVEL="WARNING")
    with app.app_context():
        app.test_client().get("/api/v1/health", headers={"x-tenant-api-key": key})
    assert "loopwave.request" not in capsys.readouterr().err


@pytest.mark.parametrize("formatter", [LineFormatter, JsonFormatter])
def test_a_handler_of_ones_own_gets_a_standard_record_with_the_same_line(
    logged_app, api_key, capsys, formatter
):
    """With a handler added the usual way (as ``dictConfig`` would), the line goes through
    ``Logger.handle`` as a ``LogRecord``: the extra handler sees the fields as attributes,
    filters apply, and our formatters write the same line as the direct path."""
    key = api_key()
    capsys.readouterr()
    app = logged_app(LOG_FORMAT="json" if formatter is JsonFormatter else "text")
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    collector = Collect()
    collector.addFilter(lambda record: record.status != 404)
    request_logger = logging.getLogger("loopwave.request")
    request_logger.addHandler(collector)
    try:
        with app.app_context():
            client = app.test_client()
            direct_free = client.get("/api/v1/health", headers={"x-tenant-api-key": key})
            client.get("/api/v1/nothing-here")
    finally:
        request_logger.removeHandler(collector)
    assert len(records) == 1
    record = records[0]
    assert (record.levelno, record.name, record.status, record.method) == (
        logging.INFO, "loopwave.request", 200, "GET"
    )  # fmt: skip
    assert record.request_id == direct_free.headers["X-Request-Id"]
    written = _request_lines(capsys.readouterr().err, "loopwave.request")
    assert len(written) == 2  # the root handler still writes both
    assert written[0] == formatter().format(record)


def test_the_line_reads_the_time_through_the_stores_clock(logged_app, api_key, capsys, clock):
    """``tenants.clock`` is the seam a test (or the callgrind bench, which stops it) moves."""
    from datetime import UTC, datetime

    key = api_key()
    clock.now = datetime(2030, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    capsys.readouterr()
    app = logged_app(LOG_FORMAT="json")
    with app.app_context():
        app.test_client().get("/api/v1/health", headers={"x-tenant-api-key": key})
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    times = [entry["time"] for entry in entries if entry["logger"] == "loopwave.request"]
    assert times == ["2030-01-02T03:04:05.500+00:00"]


@pytest.mark.parametrize("buffering", ["line_buffering", "write_through"])
def test_the_lines_bytes_keep_their_place_after_text_written_to_the_stream(buffering):
    """``LogHandler.write_bytes`` writes under the text layer of a stream like stderr (as
    gunicorn runs it: line-buffered; or write-through): text already written to the stream,
    even without a newline, still comes out first."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", **{buffering: True})
    handler = LogHandler(stream)
    stream.write("before, no newline; ")
    handler.write_bytes("the line é\n".encode())
    stream.write("after\n")
    stream.flush()
    assert raw.getvalue().decode() == "before, no newline; the line é\nafter\n"


def test_a_stream_without_bytes_gets_the_line_as_text():
    stream = io.StringIO()
    LogHandler(stream).write_bytes("the line é\n".encode())
    assert stream.getvalue() == "the line é\n"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_stream_that_fails_loses_the_line_not_the_request(logged_app, store, api_key, log_format):
    """A closed or broken stream (a pipe whose reader went away) is reported the way
    ``StreamHandler.emit`` reports it, and the request is answered all the same."""
    key = api_key()
    app = logged_app(LOG_FORMAT=log_format)
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, LogHandler))
    raw = io.BytesIO()
    broken = io.TextIOWrapper(raw, encoding="utf-8", line_buffering=True)
    reports = []
    handler.handleError = reports.append  # type: ignore[method-assign]
    handler.setStream(broken)
    broken.close()
    # pytest's own capture handlers would send the line through ``Logger.handle``: without
    # them the handler is the whole configuration, and the line takes the direct path.
    root = logging.getLogger()
    others = [h for h in root.handlers if h is not handler]
    for other in others:
        root.removeHandler(other)
    try:
        with app.app_context():
            answer = app.test_client().get("/api/v1/health", headers={"x-tenant-api-key": key})
    finally:
        for other in others:
            root.addHandler(other)
    assert answer.status_code == 200
    assert [record.getMessage().split()[:2] for record in reports] == [["GET", "/api/v1/health"]]
