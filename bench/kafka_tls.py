"""TLS's cost on the client side: CPU time inside the SSL socket's `recv` and `send`.

    meter = SslMeter()
    meter.install()               # wraps ssl.SSLSocket.recv/send for this process
    ... produce or consume ...
    share = meter.report(process_cpu_seconds)

The broker has no plaintext listener (and is not given one for this), so TLS's cost is measured
inside the client: every call kafka-python's SSL transport makes on its socket (`recv(4096)` and
`send(chunk)`; `net/transport.py`) is wrapped, and the calling thread's CPU time
(`time.thread_time`, user + system, so the kernel's socket work is in it too) is summed, with the
calls and bytes. That is an upper bound of what TLS costs: a plaintext client would still make
its socket system calls. `plain_estimate` measures what the same calls and bytes cost on a plain
loopback TCP socket (the same wrapper round them), and the difference is a lower bound of TLS's
own share (the encryption, the decryption and OpenSSL's record handling): OpenSSL reads a whole
TLS record (up to 16 KiB) in one system call and hands it out over several `recv(4096)`, where
the plain estimate counts a system call for each. The broker's side of TLS (Java) is not in it.

Why a wrapper and not cProfile: cProfile adds its overhead to every Python call, and
kafka-python's record encoding and decoding is many small Python calls, while the SSL socket's
work is a few C calls; under cProfile the Python side is inflated (often twofold), which would
understate TLS's share. The wrapper costs two `thread_time` reads per socket call (about a
microsecond), on tens of thousands of calls: well under 1% of the runs' CPU.
"""

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SLOTS = 8
"""Per thread: seconds in recvs with data, in empty recvs, in sends; then the recvs with data,
the empty recvs, the bytes received, the sends and the bytes sent."""


@dataclass
class SslShare:
    """What a run spent in the SSL socket, and the estimate of TLS's own part of it."""

    cpu: float
    in_ssl: float
    plain: float
    counts: list[float]

    @property
    def fraction(self) -> float:
        return self.in_ssl / self.cpu if self.cpu else 0.0

    @property
    def tls_fraction(self) -> float:
        return max(0.0, self.in_ssl - self.plain) / self.cpu if self.cpu else 0.0


class SslMeter:
    """Sums the CPU time of a socket class's recv/send per thread; see the module docstring."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[list[float]] = []

    def _mine(self) -> list[float]:
        mine: list[float] | None = getattr(self._local, "counts", None)
        if mine is None:
            mine = self._local.counts = [0.0] * SLOTS
            self._all.append(mine)  # list.append is atomic: threads never lose a row
        return mine

    def reset(self) -> None:
        for counts in self._all:
            counts[:] = [0.0] * SLOTS

    def wrap(self, recv: Callable[..., Any], send: Callable[..., Any]) -> tuple[Any, Any]:
        """Timed versions of a socket class's `recv` and `send`."""

        def timed_recv(sock: Any, *args: Any, **kwargs: Any) -> Any:
            counts, begun = self._mine(), time.thread_time()
            try:
                data = recv(sock, *args, **kwargs)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                counts[1] += time.thread_time() - begun
                counts[4] += 1
                raise
            counts[0] += time.thread_time() - begun
            counts[3] += 1
            counts[5] += len(data)
            return data

        def timed_send(sock: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
            counts, begun = self._mine(), time.thread_time()
            try:
                sent = send(sock, data, *args, **kwargs)
            finally:
                counts[2] += time.thread_time() - begun
                counts[6] += 1
            counts[7] += sent
            return sent

        return timed_recv, timed_send

    def install(self) -> None:
        """Wrap ssl.SSLSocket's recv and send for every client this process makes."""
        ssl.SSLSocket.recv, ssl.SSLSocket.send = self.wrap(  # type: ignore[method-assign]
            ssl.SSLSocket.recv, ssl.SSLSocket.send
        )

    def totals(self) -> list[float]:
        return [sum(counts[i] for counts in self._all) for i in range(SLOTS)]

    def report(self, cpu: float) -> SslShare:
        """The run's share, out of `cpu` seconds of the process (every thread)."""
        counts = self.totals()
        return SslShare(cpu, sum(counts[:3]), plain_estimate(counts), counts)


def plain_estimate(counts: list[float]) -> float:
    """The CPU seconds the same socket calls and bytes (`counts`, as `SslMeter.totals`) take on
    plain loopback TCP with the same wrapper round them: each recv with data at what one
    `recv(4096)` with data waiting costs, each empty recv at what one finding none costs, each
    byte sent at what a byte costs in sends of the run's mean size."""
    recvs, empty, sends, sent = counts[3], counts[4], counts[6], counts[7]
    meter = SslMeter()
    recv, send = meter.wrap(socket.socket.recv, socket.socket.send)
    chunk = int(max(4096, min(1 << 20, sent / sends if sends else 4096)))
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
        writer = stack.enter_context(socket.create_connection(listener.getsockname()))
        reader = stack.enter_context(listener.accept()[0])
        for end in (reader, writer):
            end.setblocking(False)
        payload, moved = b"x" * chunk, 0
        while moved < max(64 << 20, 16 * chunk):  # enough calls for steady figures
            with contextlib.suppress(BlockingIOError):
                send(writer, payload)
            while True:
                try:
                    moved += len(recv(reader, 4096))
                except BlockingIOError:
                    break
        for _ in range(20_000):
            with contextlib.suppress(BlockingIOError):
                recv(reader, 4096)
    t = meter.totals()
    per_recv, per_empty, per_byte = t[0] / max(1, t[3]), t[1] / max(1, t[4]), t[2] / max(1, t[7])
    return recvs * per_recv + empty * per_empty + sent * per_byte
