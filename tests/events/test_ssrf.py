"""SSRF (SPEC §10): without WEBHOOK_ALLOW_PRIVATE only https to public addresses, checked on
the address the host resolves to when delivering, not only when the URL is saved."""

from __future__ import annotations

import socket

import pytest

from tenants.errors import InvalidInput
from tenants.outbound import Sender, UnsafeDestination, parse_url, resolve
from tests.conftest import TEST_ACTOR

# One per address class that must never be called.
REFUSED_ADDRESSES = [
    "127.0.0.1",  # loopback
    "127.1.2.3",
    "10.0.0.1",  # private
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # unspecified
    "224.0.0.1",  # multicast
    "[::1]",  # IPv6 loopback
    "[fc00::1]",  # IPv6 unique local
    "[fe80::1]",  # IPv6 link-local
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
    "[::ffff:169.254.169.254]",
]


@pytest.mark.parametrize("host", REFUSED_ADDRESSES)
def test_each_non_public_address_class_is_refused(host):
    with pytest.raises(UnsafeDestination, match="non-public"):
        parse_url(f"https://{host}/hook", allow_private=False)


def test_a_public_https_url_is_accepted():
    assert parse_url("https://8.8.8.8/hook?a=1", allow_private=False).path == "/hook?a=1"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "ftp://example.com/",
        "https://user:pw@example.com/",  # credentials
        "https://localhost/hook",
        "https://api.localhost/hook",
        "https://api.localhost./hook",
        "https://API.LOCALHOST/hook",
        "not a url",
        "https://[::1/",
    ],
)
def test_unsafe_urls_are_refused_when_saved(url):
    with pytest.raises(UnsafeDestination):
        parse_url(url, allow_private=False)


def test_a_name_resolving_to_loopback_is_refused_at_delivery():
    """The machine's own name resolves to 127.0.0.1 here (as a rebinding name would)."""
    name = socket.gethostname()
    assert socket.gethostbyname(name).startswith("127."), "precondition: a loopback name"
    target = parse_url(f"https://{name}/hook", allow_private=False)  # fine when saved
    with pytest.raises(UnsafeDestination, match="non-public"):
        resolve(target, allow_private=False)


def test_delivery_refuses_a_loopback_name_and_sends_nothing(receiver):
    name = socket.gethostname()
    answer = Sender(allow_private=False).post(
        f"https://{name}:{receiver.port}/hooks", b"{}", {"content-type": "application/json"}
    )
    assert answer.status is None and "non-public" in answer.error
    plain = Sender(allow_private=False).post(receiver.url, b"{}", {})
    assert plain.status is None and "https" in plain.error
    assert receiver.received == []


def test_allow_private_lets_development_deliver_to_loopback(receiver):
    name = socket.gethostname()
    answer = Sender(allow_private=True).post(f"http://{name}:{receiver.port}/hooks", b"{}", {})
    assert answer.status == 200
    # Connected to the checked address, the name kept in Host.
    assert receiver.received[0].headers["host"] == f"{name}:{receiver.port}"


@pytest.fixture
def production_hooks(app):
    from core.extensions import db
    from tenants.secretbox import SecretBox
    from tenants.webhooks import WebhookStore

    return WebhookStore(db.session, SecretBox("k"), allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://8.8.8.8/", "https://127.0.0.1/", "https://169.254.169.254/latest/"]
)
def test_store_refuses_unsafe_urls_with_a_400(production_hooks, tenant, url):
    with pytest.raises(InvalidInput):
        production_hooks.create(tenant.id, TEST_ACTOR, url, ["*"])
    assert production_hooks.list(tenant.id) == []
