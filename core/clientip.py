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
    return tuple(ip_network(str(part).strip(), strict=False) for part in parts if str(part).strip())


def client_ip_from(environ: dict[str, Any], trusted: Networks) -> str | None:
    """The client address of the request in ``environ``; the socket peer unless it is a
    trusted proxy that passed ``X-Forwarded-For`` on."""
    peer = environ.get("REMOTE_ADDR")
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


def _address(text: str | None) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text) if text else None
    except ValueError:
        return None


def _is_trusted(address: IPv4Address | IPv6Address | None, trusted: Networks) -> bool:
    return address is not None and any(address in network for network in trusted)
