"""Socket writes under Daphne that go out at once instead of waiting for the next loop turn.

Twisted buffers every ``transport.write`` and registers the socket with the reactor to be told
when it is writable; with Daphne's asyncio reactor that is an ``add_writer`` (an ``epoll_ctl``
and a callback handle), a loop turn, the ``send`` and a ``remove_writer`` (another
``epoll_ctl``) for every WebSocket frame. A board event fanned out to 1,000 sockets paid that
1,000 times: bench/ws_fanout.py measured it as the largest share of a frame's cost that was not
the application's.

With :func:`install`, a write on a TCP connection whose buffer is empty is tried on the socket
straight away, as asyncio's own transports do. Whatever the kernel does not take (a slow
reader, a full socket buffer), any write while older data is still buffered, and every write on
a connection that switched to TLS with ``startTLS`` go through Twisted's path unchanged, so bytes
keep their order, back-pressure works as before, and nothing bypasses encryption. (Daphne's
``ssl:`` endpoints wrap the protocol instead: what reaches the connection is already encrypted.)
Errors are left to that path as well: a write the socket refuses is buffered, and Twisted's next
attempt reports the lost connection the way it always does.
"""

from __future__ import annotations

import errno
import sys

_RETRY_LATER = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR})


def install() -> bool:
    """Patch Twisted's TCP connections once, if this process runs Twisted (Daphne). True if
    the patch is in place."""
    if "twisted.internet.tcp" not in sys.modules:
        return False
    from twisted.internet import tcp

    if getattr(tcp.Connection.write, "writes_at_once", False):
        return True
    buffered_write = tcp.Connection.write

    def write(self: tcp.Connection, data: bytes) -> None:
        if (
            data
            and type(data) is bytes
            and not self.TLS  # after startTLS, bytes go through the TLS layer, never straight out
            and self.connected
            and not self._writeDisconnected
            and not self._tempDataLen
            and self.offset >= len(self.dataBuffer)
        ):
            try:
                sent = self.socket.send(data)
            except OSError as exc:
                if exc.errno not in _RETRY_LATER:
                    # Twisted's own attempt will meet the same error and close the connection.
                    buffered_write(self, data)
                    return
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        buffered_write(self, data)

    write.writes_at_once = True  # type: ignore[attr-defined]
    tcp.Connection.write = write
    return True
