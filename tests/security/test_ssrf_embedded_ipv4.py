"""Pentest: IPv6 forms that carry an IPv4 address (SPEC §10 SSRF).

An IPv4-compatible address (``::127.0.0.1``), the NAT64 well-known prefix (``64:ff9b::/96``,
RFC 6052) and 6to4 (``2002::/16``, RFC 3056) each embed an IPv4 address that a translating
gateway (NAT64 in a dual-stack VPC, a 6to4 relay) delivers to. ``ipaddress`` calls them
global, so they passed ``check_address`` and reached loopback, private and metadata
addresses by the back door. They are judged by the IPv4 address they carry.
"""

from __future__ import annotations

import pytest

from tenants.outbound import UnsafeDestination, parse_url, resolve

EMBEDDED = [
    "[::127.0.0.1]",  # IPv4-compatible loopback
    "[::a9fe:a9fe]",  # IPv4-compatible 169.254.169.254
    "[64:ff9b::7f00:1]",  # NAT64 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 metadata service
    "[64:ff9b::a00:1]",  # NAT64 10.0.0.1
    "[2002:7f00:1::]",  # 6to4 127.0.0.1
    "[2002:a9fe:a9fe::1]",  # 6to4 metadata service
    "[2002:c0a8:101::1]",  # 6to4 192.168.1.1
]


@pytest.mark.parametrize("host", EMBEDDED)
def test_an_ipv6_form_embedding_a_non_public_ipv4_address_is_refused(host):
    with pytest.raises(UnsafeDestination, match="non-public"):
        parse_url(f"https://{host}/hook", allow_private=False)


@pytest.mark.parametrize("host", EMBEDDED)
def test_it_is_refused_at_delivery_time_too(host):
    target = parse_url(f"https://{host}/hook", allow_private=True)
    with pytest.raises(UnsafeDestination, match="non-public"):
        resolve(target, allow_private=False)


@pytest.mark.parametrize("host", ["[64:ff9b::808:808]", "[2002:808:808::1]"])
def test_the_same_forms_embedding_a_public_address_still_pass(host):
    target = parse_url(f"https://{host}/hook", allow_private=False)
    assert resolve(target, allow_private=False)
