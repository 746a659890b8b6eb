"""Outbound HTTP to tenant-chosen URLs, safe against server-side request forgery (SPEC §10).

A webhook URL is the tenant's text; the server then connects where it says. So, unless
``WEBHOOK_ALLOW_PRIVATE`` (development and tests):

- only ``https://`` URLs are accepted, without credentials in them;
- the host name is resolved **at delivery time**, every address it resolves to must be a
  public (globally routable) one — no loopback, private, link-local (the cloud metadata
  service at 169.254.169.254 included), carrier-grade NAT, multicast or reserved address,
  IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, SIIT, 6to4) judged by
  it, ranges IANA marks not globally reachable (the NAT64 local-use prefix among them) —
  and the connection goes to that checked address, with
  the URL's host name in ``Host`` and in TLS (SNI and certificate check). A name that
  resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
  rebinding) cannot redirect the delivery, since nothing resolves the name again.
- redirects are never followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3

CONNECT_TIMEOUT = 5.0
MAX_POOLS = 1000  # one per (address, host) in use; beyond that they are all dropped
READ_TIMEOUT = 10.0
EXCERPT_BYTES = 1024
DRAIN_BYTES = 64 * 1024  # read past the excerpt to reuse the connection; more: it is closed


class UnsafeDestination(ValueError):
    """The URL may not be called: its scheme, form, or the address its host resolves to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, unsafe)
    duration_ms: int
    excerpt: str  # the first KiB of the body, or what went wrong
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def parse_url(url: str, allow_private: bool) -> Target:
    """The URL's parts, or ``UnsafeDestination`` naming what is wrong (checked when saved,
    and again when delivering)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination("the URL is not valid") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeDestination("the URL must be https://host/...")
    if parts.scheme != "https" and not allow_private:
        raise UnsafeDestination("webhook URLs must use https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination("webhook URLs may not carry credentials")
    literal = _literal_address(parts.hostname)
    if literal is None:
        _check_host_name(parts.hostname)
    if not allow_private:
        if literal is not None:
            check_address(literal)
        elif (name := parts.hostname.rstrip(".").lower()) == "localhost" or name.endswith(
            ".localhost"
        ):
            raise UnsafeDestination("webhook URLs may not point at localhost")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default_port, path)


def _check_host_name(host: str) -> None:
    """Refuse a name the resolver cannot even be asked about: ``getaddrinfo`` encodes it
    with IDNA first and raises ``UnicodeError`` (not ``OSError``) for a label over 63
    characters, an empty label or a character with no IDNA form."""
    try:
        encoded = host.encode("idna")
    except UnicodeError as exc:
        raise UnsafeDestination("the URL's host name is not valid") from exc
    if len(encoded) > 253:
        raise UnsafeDestination("the URL's host name is not valid")


# IPv6 forms that carry an IPv4 address a gateway delivers to: IPv4-compatible (``::/96``),
# the NAT64 well-known prefix (RFC 6052), SIIT's IPv4-translated form (``::ffff:0:0:0/96``,
# RFC 7915) and 6to4 (RFC 3056, ``IPv6Address.sixtofour``). ``ipaddress`` calls them global
# whatever they carry, so they are judged by that address.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIIT_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
# Ranges the IANA special-purpose registries mark not globally reachable that ``ipaddress``
# (as shipped with the Pythons we run on) still calls global; refused whole. The NAT64
# local-use prefix (RFC 8215) translates into IPv4 space its operator chose (a private
# network first of all), at any of RFC 6052's prefix lengths, so it is never public.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "64:ff9b:1::/48",  # NAT64 local-use (RFC 8215)
        "fec0::/10",  # site-local (RFC 3879: deprecated, still routed inside sites)
        "5f00::/16",  # SRv6 segment identifiers (RFC 9602)
        "3fff::/20",  # documentation (RFC 9637)
        "100:0:0:1::/64",  # the dummy prefix (RFC 9780)
        "192.0.0.8/32",  # the IPv4 dummy address (RFC 7600)
        "192.88.99.0/24",  # the former 6to4 relay anycast (RFC 7526)
    )
)


def check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    """Refuse anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        address = _embedded_ipv4(address) or address
    if (
        not address.is_global
        or address.is_multicast
        or any(address in network for network in _NOT_GLOBAL)
    ):
        raise UnsafeDestination(f"the URL's host resolves to a non-public address ({address})")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if (
        address in _NAT64
        or address in _SIIT_TRANSLATED
        or (address in _IPV4_COMPATIBLE and int(address) > 1)
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


# One answer for a host name that is refused, whatever it resolved to: naming the address (or
# saying that the name does not exist) would let a tenant read the deployment's internal DNS
# through its delivery log (tests/security/test_ssrf_dns_oracle.py).
NAME_REFUSED = "the URL's host resolves to no public address (a non-public one, or none)"


def resolve(target: Target, allow_private: bool) -> str:
    """The address to connect to: the first the host resolves to, after checking all."""
    literal = _literal_address(target.host)
    if literal is not None:
        if not allow_private:
            check_address(literal)
        return str(literal)
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found]
        if not addresses:
            raise UnsafeDestination(NAME_REFUSED)
        if not allow_private:
            for address in addresses:
                check_address(address)
    except (OSError, UnicodeError, UnsafeDestination) as exc:
        raise UnsafeDestination(NAME_REFUSED) from exc
    return str(addresses[0])


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class Sender:
    """POSTs to checked addresses, keeping a connection pool per (address, host) so
    consecutive deliveries to one endpoint reuse their connection. Thread-safe."""

    def __init__(
        self,
        allow_private: bool,
        pool_size: int = 8,
        answer_seconds: float = 10.0,
        ca_certs: str | None = None,
        read_timeout: float = READ_TIMEOUT,
    ):
        """``answer_seconds``: the deadline for all reads of an answer's body together;
        ``ca_certs``: the PEM bundle of the authorities a receiver's certificate must chain to
        (``WEBHOOK_CA_BUNDLE``; default: certifi's public ones); ``read_timeout``: how long
        each read may wait (tests stall receivers for longer than the default 10 s)."""
        self.allow_private = allow_private
        self.answer_seconds = answer_seconds  # for the body of an answer, all reads together
        self.read_timeout = read_timeout  # for each read, the first (the answer's head) included
        self._pool_size = pool_size
        self._ca_certs = ca_certs or certifi.where()
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.perf_counter()
        try:
            target = parse_url(url, self.allow_private)
            address = resolve(target, self.allow_private)
        except UnsafeDestination as exc:
            return Answer(None, _elapsed_ms(started), "", f"refused: {exc}")
        pool = self._pool(target, address)
        host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers={**headers, "host": host_header},
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=self.read_timeout),
            )
            try:
                # The whole answer has a deadline, not only each read: a receiver dripping a
                # byte just inside the read timeout must not hold a delivery thread either.
                deadline = time.monotonic() + self.answer_seconds
                excerpt, ended = _read_some(response, EXCERPT_BYTES, deadline)
                # A short rest is read so the connection can be reused; beyond that it is
                # closed: an endless answer must not hold a delivery thread (drain_conn
                # read until the receiver chose to stop).
                if not ended and not _read_some(response, DRAIN_BYTES, deadline)[1]:
                    response.close()
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            return Answer(None, _elapsed_ms(started), "", f"{type(exc).__name__}")
        return Answer(
            response.status, _elapsed_ms(started), excerpt.decode("utf-8", errors="replace")
        )

    def _pool(self, target: Target, address: str) -> urllib3.HTTPConnectionPool:
        name = (target.scheme, address, target.port, target.host)
        with self._lock:
            pool = self._pools.get(name)
            if pool is None:
                if len(self._pools) >= MAX_POOLS:
                    self._pools.clear()  # dropped pools close their connections when collected
                pool = self._new_pool(target, address)
                self._pools[name] = pool
            return pool

    def _new_pool(self, target: Target, address: str) -> urllib3.HTTPConnectionPool:
        if target.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address,
                target.port,
                maxsize=self._pool_size,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self._ca_certs,
            )
        return urllib3.HTTPConnectionPool(address, target.port, maxsize=self._pool_size)


def _read_some(
    response: urllib3.BaseHTTPResponse, limit: int, deadline: float
) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the body, reading only until ``deadline``; and whether the
    body ended within them (the connection is then clean to reuse)."""
    parts: list[bytes] = []
    size = 0
    while size < limit and time.monotonic() < deadline:
        chunk = response.read1(limit - size)
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts), False


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
