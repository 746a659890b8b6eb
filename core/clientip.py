"""The client's IP address (SPEC §3 ``TRUSTED_PROXIES``), for audit entries and the limit on
failed key authentications.

Written by hand because Werkzeug's ``ProxyFix`` trusts a fixed *number* of hops, while the
contract names the proxies by address: ``X-Forwarded-For`` is believed only when the socket
peer is one of them, and then read from the right, skipping every hop that is a trusted
proxy too. The first address that is not a trusted proxy is the client; whatever a client
wrote further left is never believed.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

Networks = tuple[IPv4Network | IPv6Network, ...]


def parse_networks(raw: str | Iterable[Any] | None) -> Networks:
    """``"10.0.0.0/8, 192.168.1.7"`` (or a list of such) as networks; ``ValueError`` if bad."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw or ())
    return tuple(
        _unmapped_network(ip_network(str(part).strip(), strict=False))
        for part in parts
        if str(part).strip()
    )


_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")


def _unmapped_network(network: IPv4Network | IPv6Network) -> IPv4Network | IPv6Network:
    """``::ffff:10.0.0.0/104`` as ``10.0.0.0/8``: client addresses are compared unmapped."""
    if isinstance(network, IPv6Network) and network.subnet_of(_IPV4_MAPPED):
        return IPv4Network((int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96))
    return network


def client_ip_from(environ: dict[str, Any], trusted: Networks) -> str | None:
    """The client address of the request in ``environ``; the socket peer unless it is a
    trusted proxy that passed ``X-Forwarded-For`` on. An IPv4 client is always named by its
    IPv4 address (``plain_peer``)."""
    peer = plain_peer(environ.get("REMOTE_ADDR"))
    if not trusted or not _is_trusted(_address(peer), trusted):
        return peer
    client = peer
    for hop in reversed((environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
        address = _address(hop.strip())
        if address is None:  # garbled or empty: nothing left of it can be believed
            break
        client = str(address)
        if not _is_trusted(address, trusted):
            break
    return client


def plain_peer(peer: str | None) -> str | None:
    """The socket peer ``REMOTE_ADDR`` as the client's own address: a server listening on
    ``[::]`` sees an IPv4 client as ``::ffff:203.0.113.7``, which would otherwise be counted
    (failed authentications, by /64: every IPv4 client in one bucket) and recorded (audit,
    ``last_used_ip``, decoy uses) as an IPv6 address. A string test first: this runs on
    every tenant API request, and almost no peer is mapped."""
    if peer is None or peer[:7].lower() != "::ffff:":
        return peer
    address = _address(peer)
    return str(address) if address is not None else peer


def _address(text: str | None) -> IPv4Address | IPv6Address | None:
    """An address as given, an IPv4-mapped one as the IPv4 address it carries; ``None`` when
    ``text`` is none."""
    try:
        address = ip_address(text) if text else None
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPv4Address | IPv6Address | None, trusted: Networks) -> bool:
    return address is not None and any(address in network for network in trusted)
