"""A TCP proxy on loopback that a test can make misbehave, between the app and a server.

Modes, switched at any time with ``set_mode``:

- ``pass``: bytes flow both ways.
- ``refuse``: new connections are refused (nothing listens on the port); open ones still flow.
  One proxy per instance in this mode is a partial outage.
- ``down``: open connections are cut (reset) and new ones refused: the server is gone.
- ``stall``: new connections are accepted, and no byte moves on any connection, in either
  direction, until the mode changes; what was held then flows (connections stay open).

Written by hand: it must stall and cut on command, which no proxy library offers in process.
One thread accepts; each connection has one pump thread per direction.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

MODES = ("pass", "refuse", "down", "stall")
_CHUNK = 65536
_TICK = 0.05


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self._mode = "pass"
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._closed = False
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, scheme: str = "redis", path: str = "") -> str:
        return f"{scheme}://{self.host_port}{path}"

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self._lock:
            self._mode = mode
            if mode == "stall":
                self._flowing.clear()
            else:
                self._flowing.set()
            if mode == "down":
                for pair in list(self._pairs):
                    _reset(*pair)
                self._pairs.clear()
            if mode in ("refuse", "down"):
                self._stop_listening()
            elif self._listener is None:
                self._listen()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._flowing.set()
            self._stop_listening()
            for pair in list(self._pairs):
                _reset(*pair)
            self._pairs.clear()

    def connection_count(self) -> int:
        with self._lock:
            return len(self._pairs)

    # -- internals -----------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # port 0 the first time: the kernel picks
        listener.listen(128)
        listener.settimeout(_TICK)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by ``_stop_listening``
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                if self._closed or self._listener is not listener:
                    _reset(client, upstream)
                    continue
                self._pairs.add((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, target, (client, upstream)), daemon=True
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair) -> None:
        source.settimeout(_TICK)
        while True:
            if not self._flowing.is_set():
                self._flowing.wait()  # stalled: hold what arrives in the kernel's buffers
                continue
            try:
                chunk = source.recv(_CHUNK)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                self._flowing.wait()  # a stall that began during ``recv`` holds this too
                try:
                    target.sendall(chunk)
                    continue
                except OSError:
                    pass
            with self._lock:
                self._pairs.discard(pair)
            _reset(*pair)
            return


def _reset(*sockets: socket.socket) -> None:
    """Close with a TCP reset, as a dropped connection looks to the other side."""
    for sock in sockets:
        with contextlib.suppress(OSError):  # already closed
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
