#!/usr/bin/env python3
"""client.py - the selftest's client: a plain python3 socket.

    client.py echo PORT SIZE    sends SIZE random bytes to an echo server
                                and expects every one of them back, in order
    client.py lines PORT COUNT  sends "line 1" .. "line COUNT", one at a time,
                                and expects "got: line N" after each one

Exits 0 if the server answered correctly, 1 with one line on stdout saying
what went wrong otherwise. Every wait on the socket has a deadline: WAIT,
or GRACE for the rest of a line that came in part.
"""
import os
import socket
import sys
import threading

WAIT = 5.0  # seconds a single recv() or send() may take
GRACE = 0.5  # seconds the rest of a line may take once part of it came


def connect(port):
    """Returns a socket connected to 127.0.0.1:PORT, with the deadline set."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.settimeout(WAIT)
    return sock


def echo(port, size):
    """Sends SIZE random bytes while reading the echo; checks it is equal."""
    data = os.urandom(size)
    sock = connect(port)

    def feed():
        # A thread of its own: the server cannot send back more than we
        # read, so sending everything before reading could block both ends.
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=feed, daemon=True)
    sender.start()
    back = bytearray()
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            back += chunk
    except OSError as err:
        print(f"broken: {err} after {len(back)} of {size} bytes")
        return 1
    sender.join(WAIT)
    if bytes(back) == data:
        print(f"ok: {size} bytes came back intact")
        return 0
    same = next((i for i, (a, b) in enumerate(zip(back, data)) if a != b),
                min(len(back), len(data)))
    print(f"broken: sent {size} bytes, got {len(back)} back, "
          f"first difference at byte {same}")
    return 1


def read_line(sock, pending):
    """Returns one line (without its LF) and what followed it in PENDING.

    Waits up to WAIT for a line to start, then only GRACE for its end: the
    naive server answers with one send(), so the rest of a line cut short
    never comes, and waiting the full WAIT for it would only be slower.
    """
    while b"\n" not in pending:
        wait = GRACE if pending else WAIT
        sock.settimeout(wait)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            raise TimeoutError(f"no LF within {wait}s after {pending!r}") \
                from None
        if not chunk:
            raise ConnectionError(f"connection closed after {pending!r}")
        pending += chunk
    line, _, rest = pending.partition(b"\n")
    return line, rest


def lines(port, count):
    """Sends COUNT lines one at a time; checks each answer as it comes."""
    sock = connect(port)
    pending = b""
    for i in range(1, count + 1):
        sock.settimeout(WAIT)  # read_line() may have left GRACE
        sock.sendall(f"line {i}\n".encode())
        want = f"got: line {i}".encode()
        try:
            got, pending = read_line(sock, pending)
        except OSError as err:
            print(f"broken: after 'line {i}': {err}")
            return 1
        if got != want:
            print(f"broken: after 'line {i}' the answer was {got!r}")
            return 1
    print(f"ok: {count} lines, {count} right answers")
    return 0


def main():
    """Runs the check named on the command line; returns the exit status."""
    if len(sys.argv) != 4 or sys.argv[1] not in ("echo", "lines"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    check = echo if sys.argv[1] == "echo" else lines
    return check(int(sys.argv[2]), int(sys.argv[3]))


if __name__ == "__main__":
    sys.exit(main())
