#!/usr/bin/env python3
"""chatroom.py - the course's original chatroom design, kept as a baseline.

This is how the Python course wrote its server: one thread per client, a
shared list of clients under a lock, and a broadcast that calls sendall() to
each client in turn, from the thread of the client who spoke. The C steps of
the kit are measured against it with tools/chatbench.

It speaks the subset of the kit's chat protocol that steps 04 and 05 speak:

    *** welcome guestN      first line to a newcomer
    *** guestN joined       to everyone else when a client arrives
    *** guestN left         to everyone else when a client leaves
    <guestN> text           a chat line, to everyone but its sender

usage: chatroom.py [-h] [-a ADDRESS] [-p PORT]

Deliberate simplifications, as in the course: a client that stops reading
slows down everyone who talks to it (sendall() blocks), and there are no
commands.
"""

import argparse
import signal
import socket
import sys
import threading
import time

DEFAULT_PORT = 4242     # the kit's port (common/config.h)
MAX_LINE = 1024         # longest line accepted, in bytes, LF excluded
LISTEN_BACKLOG = 128    # connections the kernel holds for accept()

# C0 and C1 control characters, TAB excepted, are removed from chat text so
# that nobody can send terminal escape sequences to the others.
CONTROLS = dict.fromkeys(c for c in list(range(0x20)) + list(range(0x7f, 0xa0))
                         if c != 0x09)


class Client:
    """One connected client: its socket and nickname.

    send_lock makes each line go out whole: two threads broadcasting to the
    same client at once would otherwise interleave the pieces of their
    sendall() calls. It also keeps close() from racing with a send.
    """

    def __init__(self, sock, nick):
        self.sock = sock
        self.nick = nick
        self.send_lock = threading.Lock()
        self.closed = False

    def send(self, data):
        """Sends DATA (bytes) whole; a client that has gone is skipped."""
        with self.send_lock:
            if self.closed:
                return
            try:
                self.sock.sendall(data)
            except OSError:
                pass    # its own thread sees the failure and cleans up

    def close(self):
        """Closes the socket once no other thread is sending on it."""
        with self.send_lock:
            self.closed = True
            self.sock.close()


# The room. room_lock protects clients (everyone welcomed, in order of
# arrival) and next_guest (the number of the next guestN). No socket I/O is
# done while it is held: broadcasts work on a copy of the list.
room_lock = threading.Lock()
clients = []
next_guest = 1


def broadcast(line, sender):
    """Sends LINE (str, no LF) to every client but SENDER, one after another."""
    data = (line + "\n").encode("utf-8")
    with room_lock:
        others = [c for c in clients if c is not sender]
    for c in others:
        c.send(data)


def join(sock):
    """Names a newcomer, welcomes it and tells the others. Returns its Client."""
    global next_guest
    with room_lock:
        nick = "guest%d" % next_guest
        next_guest += 1
    client = Client(sock, nick)
    client.send(("*** welcome %s\n" % nick).encode("utf-8"))
    # Adding and copying under one lock: each pair of clients sees exactly
    # one "joined" line, the older one about the newer one.
    with room_lock:
        others = list(clients)
        clients.append(client)
    data = ("*** %s joined\n" % nick).encode("utf-8")
    for c in others:
        c.send(data)
    return client


def leave(client, reason):
    """Takes CLIENT out of the room, tells the others and closes its socket."""
    with room_lock:
        clients.remove(client)
    suffix = " (%s)" % reason if reason else ""
    broadcast("*** %s left%s" % (client.nick, suffix), client)
    client.close()


def read_lines(sock):
    """Yields each line the client sends (bytes, without LF or CR-LF).

    A line longer than MAX_LINE yields None instead, and the rest of it is
    skipped up to its LF, so memory stays bounded whatever the client sends.
    """
    skipping = False
    with sock.makefile("rb") as reader:
        for raw in iter(lambda: reader.readline(MAX_LINE + 1), b""):
            if skipping:
                skipping = not raw.endswith(b"\n")  # still in the refused line
                continue
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                skipping = True
                yield None
                continue
            line = raw.rstrip(b"\n")
            if line.endswith(b"\r"):
                line = line[:-1]
            yield line


def serve(sock):
    """The thread of one client: reads its lines and broadcasts each one."""
    client = join(sock)
    reason = ""
    try:
        for line in read_lines(sock):
            if line is None:
                client.send(b"*** error: line too long\n")
                continue
            text = line.decode("utf-8", "replace").translate(CONTROLS)
            broadcast("<%s> %s" % (client.nick, text), client)
    except OSError as e:
        reason = e.strerror or "error"
    leave(client, reason)


def open_listener(address, port):
    """Returns a socket listening on ADDRESS (None: every address) and PORT."""
    if address is None and socket.has_dualstack_ipv6():
        return socket.create_server(("::", port), family=socket.AF_INET6,
                                    backlog=LISTEN_BACKLOG, dualstack_ipv6=True)
    if address is None:
        address = "0.0.0.0"
    family = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM,
                                flags=socket.AI_PASSIVE)[0][0]
    return socket.create_server((address, port), family=family,
                                backlog=LISTEN_BACKLOG)


def ready_line(listener):
    """Returns 'listening on ADDRESS:PORT' ('[ADDRESS]:PORT' for IPv6)."""
    host, port = listener.getsockname()[:2]
    if listener.family == socket.AF_INET6:
        host = "[%s]" % host
    return "listening on %s:%d" % (host, port)


def port_number(text):
    """argparse type for PORT: an integer from 0 to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError("invalid PORT: '%s'" % text)
    return int(text)


def parse_args():
    """Reads the command line; -h and bad usage are handled by argparse."""
    parser = argparse.ArgumentParser(
        description="A thread-per-client chatroom: the course's Python design.")
    parser.add_argument("-a", metavar="ADDRESS", dest="address",
                        help="address to listen on (default: every address)")
    parser.add_argument("-p", metavar="PORT", dest="port", type=port_number,
                        default=DEFAULT_PORT,
                        help="port to listen on, 0 for any free one "
                             "(default: %d)" % DEFAULT_PORT)
    return parser.parse_args()


class Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM."""


def on_stop(signo, frame):
    """Signal handler: interrupts accept() in the main thread."""
    raise Stop()


def main():
    args = parse_args()
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    try:
        listener = open_listener(args.address, args.port)
    except OSError as e:
        print("chatroom.py: cannot listen on port %d: %s" % (args.port, e),
              file=sys.stderr)
        return 1
    print(ready_line(listener), flush=True)
    try:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError as e:
                # Out of descriptors, or a client gone before accept():
                # the server survives and tries again a little later.
                print("chatroom.py: accept: %s" % e.strerror, file=sys.stderr)
                time.sleep(0.1)
                continue
            # Daemon threads: a stop signal ends the process without
            # waiting for every client to leave.
            threading.Thread(target=serve, args=(sock,), daemon=True).start()
    except Stop:
        pass
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
