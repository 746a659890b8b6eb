"""``make run`` delivers webhooks with no set-up (issue 15): the embedded SQLite default, the
worker it starts beside the development server, a receiver on loopback; the delivery is
checked by the independent ``standardwebhooks`` library."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from tests.events.receiver import Receiver
from tests.servers import ROOT, free_port

pytestmark = pytest.mark.server

STARTUP_SECONDS = 120  # a loaded machine: migrations, two Flask processes
DELIVERY_SECONDS = 60


class MakeRun:
    """``make run PORT=<free port>`` in a process group of its own (make, its shell, the
    development server and the worker), stopped with the group at the end."""

    def __init__(self, instance: Path, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        # Only what a developer's shell has: no DATABASE_URL (the embedded SQLite default),
        # no WEBHOOK_ALLOW_PRIVATE, no DEV_LOGIN (``make run`` sets both). The instance
        # directory is the test's own, so ``instance/loopwave.db`` of the checkout is untouched.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "LOOPWAVE_INSTANCE_PATH": str(instance),
            "LOOPWAVE_IGNORE_DOTENV": "1",
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run", f"PORT={self.port}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make run exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        pytest.fail(f"make run did not answer in {STARTUP_SECONDS} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    server = MakeRun(tmp_path / "instance", tmp_path / "make-run.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_make_run_delivers_a_key_change_verified_by_standardwebhooks(
    make_run: MakeRun, receiver: Receiver, tmp_path: Path
):
    http = requests.Session()
    minted = http.post(
        f"{make_run.base}/dev-login/token",
        json={"user_id": "user_dev", "org_id": "org_devco", "org_slug": "devco", "role": "admin"},
        timeout=10,
    )
    assert minted.status_code == 200, minted.text
    http.headers["Authorization"] = f"Bearer {minted.json()['token']}"

    hook = http.post(
        f"{make_run.base}/console/webhooks",
        json={"url": receiver.url, "events": ["key.updated"]},
        timeout=10,
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]
    created = http.post(f"{make_run.base}/console/keys", json={"name": "ci"}, timeout=10)
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    renamed = http.patch(
        f"{make_run.base}/console/keys/{key_id}", json={"name": "ci-2"}, timeout=10
    )
    assert renamed.status_code == 200, renamed.text

    deadline = time.monotonic() + DELIVERY_SECONDS
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert receiver.received, (
        f"nothing delivered in {DELIVERY_SECONDS} s:\n" + (tmp_path / "make-run.log").read_text()
    )
    (received,) = receiver.received  # key.created is not subscribed
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload["type"] == "key.updated"
    assert payload["data"]["object"]["id"] == key_id
    assert payload["data"]["object"]["name"] == "ci-2"
    assert payload["data"]["previous_attributes"] == {"name": "ci"}
    assert received.headers["webhook-id"].startswith("msg_")
    assert json.loads(received.body) == payload
    # The embedded SQLite default, in the instance directory ``make run`` was given.
    assert (tmp_path / "instance" / "loopwave.db").is_file()
