"""A bounded load run across both instances: no 5xx, every accepted write stored once."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from tenants.records import Contact
from tests.conftest import TEST_ACTOR

pytestmark = pytest.mark.server

DURATION_SECONDS = 8
CLIENTS = 6


def _client_loop(instances, key, stop_at, results, lock):
    session = requests.Session()
    session.headers["x-tenant-api-key"] = key
    for step in itertools.count():
        if time.monotonic() >= stop_at:
            return
        base = instances[step % len(instances)].url
        kind = ("health", "list", "create", "list", "create-retried")[step % 5]
        unique = uuid.uuid4()
        name = f"load-{unique.hex}"
        if kind == "health":
            answers = [session.get(base + "/api/v1/health", timeout=10)]
        elif kind == "list":
            answers = [session.get(base + "/api/v1/contacts?limit=20", timeout=10)]
        else:
            body = {"name": name, "phone": f"+1{unique.int % 10**13:013d}"}
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            retries = 2 if kind == "create-retried" else 1
            # A retry goes to the *other* instance, as after a load balancer failover.
            answers = [
                session.post(
                    instances[(step + attempt) % len(instances)].url + "/api/v1/contacts",
                    json=body,
                    headers=headers,
                    timeout=10,
                )
                for attempt in range(retries)
            ]
        with lock:
            for answer in answers:
                results.append((kind, answer.status_code, name, answer.text))


def test_mixed_load_across_instances_has_no_5xx_and_stores_each_write_once(
    instances, store, tenant
):
    keys = [store.create_key(tenant.id, f"load {n}", TEST_ACTOR).full_key for n in range(2)]
    results: list[tuple[str, int, str, str]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + DURATION_SECONDS
    threads = [
        threading.Thread(target=_client_loop, args=(instances, keys[n % 2], stop_at, results, lock))
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION_SECONDS + 30)

    statuses = Counter(status for _, status, _, _ in results)
    assert len(results) > 100, statuses
    assert not [status for status in statuses if status >= 500], statuses
    assert set(statuses) <= {200, 201}, statuses
    accepted = {name for kind, status, name, _ in results if status == 201}
    retried = [
        json.loads(text)["id"] for kind, status, _, text in results if kind == "create-retried"
    ]
    assert len(retried) == 2 * len(set(retried)), "a retry must answer the first write's id"

    store.session.expire_all()
    stored = Counter(
        store.session.scalars(sa.select(Contact.name).where(Contact.tenant_id == tenant.id)).all()
    )
    assert set(stored) == accepted
    assert set(stored.values()) == {1}

    log_text = instances[0].log_path.read_text()
    request_lines = [
        entry
        for entry in map(
            json.loads, filter(lambda line: line.startswith("{"), log_text.split("\n"))
        )
        if entry["logger"] == "loopwave.request" and entry["path"] == "/api/v1/contacts"
    ]
    assert request_lines and all(entry["key_id"] and entry["tenant_id"] for entry in request_lines)
    assert not any(key in log_text for key in keys)
