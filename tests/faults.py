"""Fault injection against real servers: a loopback TCP proxy that can fall silent.

``TcpProxy().start(host, port)`` returns a local port forwarding to ``host:port``. ``pause()``
makes it a silent network partition: connections (old and new) stay open and accepted, but no
byte goes either way and nothing is closed, so neither side learns anything until a timeout
fires. ``resume()`` heals it (bytes held back are then delivered); ``close()`` drops it all.

Threads, not asyncio: the proxy must keep running while the test's event loop is blocked, and
works the same for an app in this process or in a subprocess.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_CHUNK = 65536


class TcpProxy:
    def __init__(self) -> None:
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._target: tuple[str, int] | None = None
        self.port = 0

    def start(self, target_host: str, target_port: int) -> int:
        """Listen on 127.0.0.1 (a free port, returned) and forward to the target."""
        self._target = (target_host, target_port)
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        threading.Thread(target=self._accept_loop, name="tcp-proxy-accept", daemon=True).start()
        return self.port

    def pause(self) -> None:
        """Forward nothing from now on, close nothing: a silent partition."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        """Stop listening and drop every connection (both sides see a reset or EOF)."""
        self._closed.set()
        self._flowing.set()  # wake the pumps so they notice
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for sock in [*sockets, *([listener] if listener else [])]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._closed.is_set():
                sock.close()
                return False
            self._sockets.append(sock)
            return True

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self._track(client):
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        # While paused a new connection is accepted and held: the client's connect succeeds,
        # then it waits for a server greeting that does not come.
        self._flowing.wait()
        if self._closed.is_set() or self._target is None:
            return
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError:
            with contextlib.suppress(OSError):
                client.close()
            return
        upstream.settimeout(None)
        if not self._track(upstream):
            return
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                self._flowing.wait()
                if not data or self._closed.is_set():
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            # Half-close so the other direction drains; a paused proxy never gets here
            # because it waits above before acting on EOF.
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)
