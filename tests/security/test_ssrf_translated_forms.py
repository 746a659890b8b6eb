"""Pentest: more IPv6 forms that reach IPv4 space or are not globally reachable (SPEC §10).

The IPv4-translated form of SIIT (``::ffff:0:a.b.c.d``, ``::ffff:0:0:0/96``, RFC 7915 / 6052)
carries an IPv4 address a translator delivers to; the NAT64 local-use prefix
``64:ff9b:1::/48`` (RFC 8215) translates into whatever IPv4 space its operator chose, its own
private networks first. ``ipaddress`` (as shipped with this Python) calls both global, so
``::ffff:0:7f00:1`` reached loopback and ``64:ff9b:1::a9fe:a9fe`` the metadata service. The
first is now judged by the IPv4 address it carries; the second, and other ranges the IANA
special-purpose registry marks not globally reachable that this Python does not know yet
(site-local ``fec0::/10``, SRv6 ``5f00::/16``, documentation ``3fff::/20``, the dummy prefix
``100:0:0:1::/64``), are refused whole. Checked when saved, when resolved at delivery, and
for a name whose DNS answer is such an address.
"""

from __future__ import annotations

import socket

import pytest

from tenants.outbound import Sender, UnsafeDestination, parse_url, resolve

REFUSED = [
    "::ffff:0:127.0.0.1",  # SIIT: loopback
    "::ffff:0:a9fe:a9fe",  # SIIT: the metadata service
    "::ffff:0:10.0.0.1",  # SIIT: private
    "::ffff:0:192.168.1.1",
    "64:ff9b:1::7f00:1",  # NAT64 local-use, /96 layout: loopback
    "64:ff9b:1::a9fe:a9fe",  # ... the metadata service
    "64:ff9b:1:7f00:0:100::",  # ... /48 layout (RFC 6052 §2.2): 127.0.0.1
    "64:ff9b:1::808:808",  # local-use whatever it carries: its translator is private
    "fec0::1",  # site-local (deprecated, still routed inside sites)
    "5f00::1",  # SRv6 segment identifiers
    "3fff::1",  # documentation
    "100:0:0:1::1",  # the dummy prefix
]
STILL_PUBLIC = ["::ffff:0:8.8.8.8", "64:ff9b::808:808", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED)
def test_refused_when_saved(address):
    with pytest.raises(UnsafeDestination, match="non-public"):
        parse_url(f"https://[{address}]/hook", allow_private=False)


@pytest.mark.parametrize("address", REFUSED)
def test_refused_at_delivery_time(address):
    target = parse_url(f"https://[{address}]/hook", allow_private=True)  # saved in development
    with pytest.raises(UnsafeDestination, match="non-public"):
        resolve(target, allow_private=False)


@pytest.mark.parametrize("address", REFUSED)
def test_a_name_resolving_to_it_is_refused_and_nothing_is_sent(monkeypatch, address):
    """A DNS answer (an AAAA record) of the attacker's name; the resolver is the only fake."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "hooks.attacker.example":
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, 443, 0, 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answer = Sender(allow_private=False).post("https://hooks.attacker.example/h", b"{}", {})
    assert answer.status is None and "non-public" in (answer.error or "")


@pytest.mark.parametrize("address", STILL_PUBLIC)
def test_public_addresses_in_translated_forms_still_pass(address):
    target = parse_url(f"https://[{address}]/hook", allow_private=False)
    assert resolve(target, allow_private=False)
