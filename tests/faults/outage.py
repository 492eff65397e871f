"""A TCP proxy on loopback that can play an S3 server gone away and come back on the same port,
while the server behind it (moto, in memory) keeps the objects, as MinIO keeps them on its disk."""
from __future__ import annotations

import socket
import struct
import threading


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a crashed server's kernel answers."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class Outage:
    """`127.0.0.1:<port>` forwards to `upstream`; `down()` resets every open connection and every
    new one (counted in `refused`) until `up()`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refused = 0
        self.refusals = threading.Condition()
        self._down = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="outage-accept").start()

    def down(self) -> None:
        with self._lock:
            self._down = True
            open_now, self._open = self._open, set()
        for sock in open_now:
            _reset(sock)

    def up(self) -> None:
        with self._lock:
            self._down = False

    def wait_refused(self, count: int, timeout_s: float) -> bool:
        with self.refusals:
            return self.refusals.wait_for(lambda: self.refused >= count, timeout=timeout_s)

    def close(self) -> None:
        self.down()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _reset(client)
                continue
            with self._lock:  # checked and registered together: `down()` between them would miss it
                down = self._down
                if not down:
                    self._open |= {client, server}
            if down:
                _reset(client)
                server.close()
                with self.refusals:
                    self.refused += 1
                    self.refusals.notify_all()
                continue
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
