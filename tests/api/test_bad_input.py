"""Bad input of every kind gets a 4xx SPEC §4 envelope and changes nothing."""

import io

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.models import Base


def _snapshot() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
        if table.name != "key_usage"
    }


def _assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-Id"]


BAD_BODIES = [
    ("/api/v1/contacts", b"{not json", "application/json", 400, "VALIDATION_ERROR"),
    ("/api/v1/contacts", b"[1, 2]", "application/json", 400, "VALIDATION_ERROR"),
    ("/api/v1/contacts", b"", "application/json", 400, "VALIDATION_ERROR"),
    (
        "/api/v1/contacts",
        b'{"name": 5, "phone": "+14155550100"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/contacts",
        b'{"name": "A", "phone": "0800 123"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/contacts",
        b'{"name": "A", "phone": "+14155550100", "email": "nope"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/contacts",
        b'{"name": "A", "phone": "+14155550100", "admin": true}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/contacts",
        b'{"name": "   ", "phone": "+14155550100"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/contacts",
        b"name=A",
        "application/x-www-form-urlencoded",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    ("/api/v1/messages", b'{"to": "+14155550100"}', "application/json", 400, "VALIDATION_ERROR"),
    (
        "/api/v1/messages",
        b'{"to": "+14155550100", "text": "' + b"x" * 5000 + b'"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/tickets",
        b'{"subject": "s", "contact_id": 12}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/broadcasts",
        b'{"name": "n", "text": "t", "contact_ids": []}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/broadcasts",
        b'{"name": "n", "text": "t", "contact_ids": "con_x"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
    (
        "/api/v1/contacts",
        b'{"name": "' + b"x" * (1024 * 1024) + b'"}',
        "application/json",
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    (
        "/api/v1/contacts",
        b'{"name": "\xff\xfe", "phone": "+14155550100"}',
        "application/json",
        400,
        "VALIDATION_ERROR",
    ),
]


@pytest.mark.parametrize(("path", "body", "content_type", "status", "code"), BAD_BODIES)
def test_bad_bodies_are_refused_and_change_nothing(
    client, api_key, path, body, content_type, status, code
):
    key = api_key()
    before = _snapshot()
    response = client.post(
        path, data=body, content_type=content_type, headers={"x-tenant-api-key": key}
    )
    _assert_envelope(response, status, code)
    assert _snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=abc",
        "limit=-1",
        "cursor=%%%",
        "cursor=bm9wZQ",
        "cursor=" + "A" * 500,
    ],
)
def test_bad_pagination_is_a_validation_error(client, api_key, query):
    response = client.get(f"/api/v1/contacts?{query}", headers={"x-tenant-api-key": api_key()})
    _assert_envelope(response, 400, "VALIDATION_ERROR")


def test_unknown_route_is_a_404_envelope(client):
    _assert_envelope(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    _assert_envelope(client.get("/nowhere"), 404, "NOT_FOUND")


def test_unknown_chat_is_a_404(client, api_key):
    response = client.get(
        "/api/v1/chats/cht_01M85DYSN13V2BBBZFC514XYQH/messages",
        headers={"x-tenant-api-key": api_key()},
    )
    _assert_envelope(response, 404, "NOT_FOUND")


def test_wrong_method_is_a_405_envelope_with_allow(client):
    response = client.delete("/api/v1/contacts")
    _assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_refused_before_it_is_read(client, api_key):
    response = client.post(
        "/api/v1/messages",
        data=b"x" * (1024 * 1024 + 1),
        content_type="application/json",
        headers={"x-tenant-api-key": api_key()},
    )
    _assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_request_id_is_echoed_when_safe_and_replaced_otherwise(client):
    echoed = client.get("/api/v1/health", headers={"X-Request-Id": "abc-123.DEF_9"})
    assert echoed.headers["X-Request-Id"] == "abc-123.DEF_9"
    assert echoed.get_json()["request_id"] == "abc-123.DEF_9"
    for unsafe in ("x" * 129, "a b", "<script>", "id\u00e9"):
        replaced = client.get(
            "/api/v1/health", headers={"X-Request-Id": unsafe.encode("utf-8").decode("latin-1")}
        )
        assert replaced.headers["X-Request-Id"].startswith("req_")
        assert replaced.get_json()["request_id"] == replaced.headers["X-Request-Id"]


def test_internal_error_is_an_envelope_without_a_trace(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail lw_live_should_not_leak")

    response = app.test_client().get("/boom")
    _assert_envelope(response, 500, "INTERNAL_ERROR")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret detail" not in text
    assert response.get_json()["request_id"] in caplog.text


def test_unreachable_database_is_a_503_envelope(migrated, server_env):
    from app import create_app
    from tenants import keyformat

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        }
    )
    key = keyformat.generate("lw").full_key
    response = app.test_client().get("/api/v1/health", headers={"x-tenant-api-key": key})
    _assert_envelope(response, 503, "SERVICE_UNAVAILABLE")


def test_oversized_chunked_body_is_a_413_not_a_400(client, api_key):
    """Without Content-Length the limit is met while streaming; that is still a 413."""
    response = client.post(
        "/api/v1/messages",
        input_stream=io.BytesIO(b"x" * (2 * 1024 * 1024)),
        content_type="application/json",
        headers={"x-tenant-api-key": api_key(), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    _assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
