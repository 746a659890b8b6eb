"""Concurrent first messages to a new number (a real 500 before: the second contact insert
hit the unique constraint). On a real gunicorn with several workers, so the requests race in
separate transactions; PostgreSQL is where they truly overlap (``TEST_DATABASE_URL``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from core.extensions import db
from tenants.records import Chat, Contact, Message
from tests.servers import Gunicorn

REQUESTS = 24


def _fire(server_env, key: str, log_dir, path: str, bodies: list[dict]) -> list[int]:
    """Post ``bodies`` to ``path``, 12 at a time, on a gunicorn of four workers; the statuses."""

    def post(body: dict) -> int:
        response = requests.post(
            f"{server.url}{path}",
            json=body,
            headers={"x-tenant-api-key": key, "Connection": "close"},
            timeout=30,
        )
        return response.status_code

    server = Gunicorn(server_env, workers=4, log_path=log_dir / "gunicorn.log")
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            return list(pool.map(post, bodies))
    finally:
        server.stop()


@pytest.mark.server
def test_concurrent_first_messages_to_a_new_number_share_one_contact_and_chat(
    server_env, api_key, tenant, tmp_path
):
    key = api_key(rate_limit_per_minute=0)
    bodies = [{"to": "+14155550177", "text": f"hello {n}"} for n in range(REQUESTS)]
    statuses = _fire(server_env, key, tmp_path, "/api/v1/messages", bodies)
    assert statuses == [202] * REQUESTS
    db.session.expire_all()
    assert _count(Contact) == 1
    assert _count(Chat) == 1
    assert _count(Message) == REQUESTS


@pytest.mark.server
def test_concurrent_creates_of_one_contact_are_one_201_and_409s(
    server_env, api_key, tenant, tmp_path
):
    key = api_key(rate_limit_per_minute=0)
    bodies = [{"name": f"Ada {n}", "phone": "+442071838750"} for n in range(REQUESTS)]
    statuses = _fire(server_env, key, tmp_path, "/api/v1/contacts", bodies)
    assert sorted(statuses) == [201] + [409] * (REQUESTS - 1)
    db.session.expire_all()
    assert _count(Contact) == 1


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
