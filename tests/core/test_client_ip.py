"""The client IP (SPEC §3 ``TRUSTED_PROXIES``): the socket peer, unless it is a trusted proxy;
then ``X-Forwarded-For`` read from the right, past every trusted hop."""

from __future__ import annotations

import pytest

from core.clientip import client_ip_from, parse_networks
from core.config import ConfigError, load_config

PROXIES = parse_networks("10.0.0.0/8, 192.168.1.7, 2001:db8::/32")

CASES = [
    # peer, X-Forwarded-For, expected
    ("198.51.100.9", None, "198.51.100.9"),
    ("198.51.100.9", "203.0.113.5", "198.51.100.9"),  # an untrusted peer cannot claim anything
    ("10.1.2.3", None, "10.1.2.3"),
    ("10.1.2.3", "203.0.113.5", "203.0.113.5"),
    ("10.1.2.3", "1.1.1.1, 203.0.113.5", "203.0.113.5"),  # the client's own claim is ignored
    ("10.1.2.3", "203.0.113.5, 192.168.1.7", "203.0.113.5"),  # a chain of trusted proxies
    ("10.1.2.3", "10.9.9.9, 192.168.1.7", "10.9.9.9"),  # every hop trusted: the farthest
    ("10.1.2.3", "203.0.113.5, not-an-ip", "10.1.2.3"),  # garbled hop: stop at the proxy
    ("10.1.2.3", "", "10.1.2.3"),
    ("2001:db8::1", "2001:db8::2, 2a00:1450::1", "2a00:1450::1"),
]


@pytest.mark.parametrize(("peer", "forwarded", "expected"), CASES)
def test_client_ip(peer, forwarded, expected):
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip_from(environ, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client():
    environ = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert client_ip_from(environ, ()) == "10.1.2.3"


def test_malformed_trusted_proxies_refuse_to_start(tmp_path):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config({"TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"}, str(tmp_path))
