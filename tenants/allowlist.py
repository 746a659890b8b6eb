"""A key's IP allow-list (SPEC §9.2): what may be stored, and whether an address is in it.

Entries are IPv4 or IPv6 addresses or CIDRs, kept as normalised text (``10.0.0.0/8``,
``2001:db8::/32``, a single address without a prefix length). A CIDR with host bits set
(``10.0.0.1/8``) is refused rather than silently widened or narrowed: the admin meant
something, and we cannot tell what.

The verified-key snapshot holds the parsed networks (``networks``), so a request pays for
parsing never, and for the check only when its key has an allow-list.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from tenants import keyformat
from tenants.errors import InvalidInput

MAX_ENTRIES = 50
MAX_ENTRY_LENGTH = 64  # the longest IPv6 CIDR text is 43 characters

Networks = tuple[IPv4Network | IPv6Network, ...]


def normalise(entries: object) -> list[str]:
    """The allow-list as stored: each entry checked and normalised, duplicates dropped, in the
    order given; ``InvalidInput`` naming the first bad entry."""
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise InvalidInput(
            f"allowed_ips must be a list of at most {MAX_ENTRIES} IP addresses or CIDRs",
            {"field": "allowed_ips"},
        )
    normalised: list[str] = []
    for entry in entries:
        text = _entry(entry)
        if text not in normalised:
            normalised.append(text)
    return normalised


def _entry(entry: object) -> str:
    if not isinstance(entry, str) or not entry.strip() or len(entry) > MAX_ENTRY_LENGTH:
        raise InvalidInput(
            "allowed_ips entries must be IPv4 or IPv6 addresses or CIDRs",
            {"field": "allowed_ips"},
        )
    text = entry.strip()
    try:
        if "%" in text:  # a zone id names an interface of some host: it means nothing here
            raise ValueError("zone id")
        if "/" not in text:
            return str(_unmapped(ip_address(text)))
        network = ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        if "host bits set" in str(exc):
            hint = f"; did you mean {ip_network(text, strict=False)}?"
        shown = keyformat.redact_keys(text)  # an answer never echoes a key (SPEC §5)
        raise InvalidInput(
            f"allowed_ips: {shown!r} is not an IP address or CIDR{hint}",
            {"field": "allowed_ips", "value": shown},
        ) from exc
    if isinstance(network, IPv6Network) and network.subnet_of(_IPV4_MAPPED):
        # Client addresses are compared unmapped (``allows``): keep the IPv4 network it names.
        network = IPv4Network((int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96))
    return str(network)


_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")


def _unmapped(address: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    """An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) as the IPv4 address it carries."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def networks(stored: list[str] | None) -> Networks | None:
    """The parsed allow-list of a key, or ``None`` when it has none (anywhere is allowed)."""
    if not stored:
        return None
    return tuple(ip_network(entry, strict=False) for entry in stored)


def allows(allowed: Networks, client_ip: str | None) -> bool:
    """Whether ``client_ip`` lies in one of ``allowed``. An unknown or unparsable address
    never does; an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a dual-stack socket
    reports for an IPv4 peer) is matched as the IPv4 address it carries."""
    if not client_ip:
        return False
    try:
        address: IPv4Address | IPv6Address = ip_address(client_ip)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)
