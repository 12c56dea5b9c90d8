"""Writes on Twisted TCP connections under Daphne (config/twisted_writes.py): at once when
nothing is buffered, through Twisted's buffer otherwise, never out of order, never lost.

A real socket pair carries the bytes; the reactor is a stand-in that records whether the
connection asked to be told when its socket is writable (the cost the change removes), and the
test plays the reactor's part by calling ``doWrite`` when it would.
"""

from __future__ import annotations

import contextlib
import socket

import pytest
from twisted.internet import protocol, tcp

from config import twisted_writes


class Reactor:
    """Only what a connection asks of its reactor when it writes."""

    def __init__(self) -> None:
        self.writers: set = set()
        self.registrations = 0

    def addWriter(self, writer) -> None:
        self.registrations += 1
        self.writers.add(writer)

    def removeWriter(self, writer) -> None:
        self.writers.discard(writer)


@pytest.fixture
def connection():
    assert twisted_writes.install()
    ours, theirs = socket.socketpair()
    reactor = Reactor()
    conn = tcp.Connection(ours, protocol.Protocol(), reactor)
    conn.connected = 1
    yield conn, theirs, reactor
    ours.close()
    theirs.close()


def read_all(sock: socket.socket, size: int) -> bytes:
    sock.settimeout(2)
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(1 << 20)
        assert chunk, "the connection closed early"
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def test_a_frame_is_written_at_once_without_waiting_for_the_reactor(connection):
    conn, theirs, reactor = connection
    for number in range(100):
        conn.write(b"frame %d;" % number)
    expected = b"".join(b"frame %d;" % n for n in range(100))
    assert read_all(theirs, len(expected)) == expected
    assert reactor.registrations == 0  # no add_writer / remove_writer per frame


def test_what_the_socket_cannot_take_is_buffered_and_later_writes_keep_their_order(connection):
    """A reader that has stopped reading: the kernel takes part of a large write, Twisted
    buffers the rest, and a small frame written next waits behind it."""
    conn, theirs, reactor = connection
    big = bytes(range(256)) * 16384  # 4 MiB, more than a socket buffer holds
    conn.write(big)
    assert conn._tempDataLen > 0 and reactor.writers == {conn}
    conn.write(b"next frame")
    expected = big + b"next frame"

    received = bytearray()
    theirs.setblocking(False)
    while len(received) < len(expected):
        with contextlib.suppress(BlockingIOError):
            received += theirs.recv(1 << 20)
        if conn in reactor.writers:
            conn.doWrite()  # what the reactor does when the socket is writable again
    assert bytes(received) == expected
    assert reactor.writers == set()  # all written: no longer waiting on the socket


def test_a_write_after_the_other_side_closed_is_left_to_twisted_to_report(connection):
    conn, theirs, _reactor = connection
    theirs.close()
    conn.write(b"x" * 10)  # may still reach the kernel buffer
    conn.write(b"y" * 10_000_000)
    assert conn.doWrite() is not None  # Twisted's path sees the lost connection, as before


def test_a_connection_switched_to_tls_never_writes_past_its_tls_layer(connection):
    conn, theirs, reactor = connection

    class TLSLayer(protocol.Protocol):
        def __init__(self) -> None:
            self.plain: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.plain.append(data)

    conn.protocol = TLSLayer()
    conn.TLS = True  # what startTLS leaves behind
    conn.write(b"secret")
    assert conn.protocol.plain == [b"secret"]
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(100)
    assert reactor.registrations == 0


def test_installing_twice_patches_once():
    assert twisted_writes.install()
    patched = tcp.Connection.write
    assert twisted_writes.install()
    assert tcp.Connection.write is patched
