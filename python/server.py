#!/usr/bin/env python3
"""server.py - the course's chatroom server: one thread per client.

This is the Python the C of step 04 came from. The main thread only
accepts; each client gets a thread of its own that waits on that client
alone, and every line it says goes to everyone else in the room. The
threads share one thing, the list of clients, and a lock guards it.

It speaks step 04's protocol: a newcomer gets "*** welcome guestN", the
others "*** guestN joined"; a line from guestN reaches the others as
"<guestN> text"; "*** guestN left" when it goes (end of stream, error or
/quit). A line over MAX_LINE bytes is refused.

Deliberate simplification, as in step 04: a broadcast holds the lock while
it sends, so one client that stops reading freezes the whole room once its
socket buffers are full.

usage: server.py [-h] [-a ADDRESS] [-p PORT]
"""
import argparse
import os
import signal
import socket
import sys
import threading
import time

DEFAULT_PORT = 4242     # the kit's port (common/config.h)
MAX_LINE = 1024         # longest line accepted, in bytes, LF excluded
BACKLOG = 128           # connections the kernel keeps waiting for accept()
PROGRAM = os.path.basename(sys.argv[0]).removesuffix(".py")


class Client:
    """One connected client: its socket and its nickname."""

    def __init__(self, sock, nick):
        self.sock = sock
        self.nick = nick


# [room]
# The room: every client welcomed and not gone yet, in order of arrival.
# lock protects the list, and the sockets in it: a thread sends to a
# client only while holding it.
clients = []
lock = threading.Lock()
# [/room]


def log(message):
    """Writes MESSAGE to stderr, with the time and the program's name."""
    print(time.strftime("%H:%M:%S"), "%s: %s" % (PROGRAM, message),
          file=sys.stderr, flush=True)


def send_line(client, line):
    """Sends LINE (str) and its LF to CLIENT. Once CLIENT is in the room,
    only with lock held: two lines sent at once would mix."""
    try:
        client.sock.sendall(line.encode("utf-8", "replace") + b"\n")
    except OSError:
        try:    # gone: its own thread sees the end and makes it leave
            client.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def broadcast(line, sender):
    """Sends LINE to every client in the room but SENDER."""
    # [broadcast]
    with lock:                      # held while sending, as in step 04
        for client in clients:
            if client is not sender:
                send_line(client, line)
    # [/broadcast]


def join(client):
    """Welcomes CLIENT, puts it in the room and tells the others."""
    # [join]
    send_line(client, "*** welcome " + client.nick)   # before the others
    with lock:
        clients.append(client)
    broadcast("*** %s joined" % client.nick, client)
    # [/join]


def leave(client):
    """Takes CLIENT out of the room, tells the others, closes its socket."""
    # [leave]
    with lock:
        clients.remove(client)
    broadcast("*** %s left" % client.nick, client)
    client.sock.close()             # out of the list: nobody uses it
    # [/leave]
    log("%s left" % client.nick)


def lines(sock):
    """Yields each line SOCK sends (bytes, without its LF nor a CR before
    it), or None for a line over MAX_LINE, which is skipped up to its LF.
    One recv() is not one line: the bytes wait in pending until their LF."""
    pending, skipping = b"", False
    while data := sock.recv(4096):
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if skipping:                # the end of a refused line
                skipping = False
            elif len(line) > MAX_LINE:
                yield None
            else:
                yield line.removesuffix(b"\r")
        if len(pending) > MAX_LINE:     # too long, and no LF yet: drop it
            if not skipping:
                yield None
            pending, skipping = b"", True
    if pending and not skipping:        # the last line, without its LF
        yield pending.removesuffix(b"\r")


def serve(client):
    """A client's own thread: each line it sends goes to the others."""
    # [client-thread]
    try:
        for line in lines(client.sock):
            if line is None:
                with lock:
                    send_line(client, "*** error: line too long "
                              "(max %d bytes)" % MAX_LINE)
            elif line == b"/quit":
                break
            elif line:
                text = line.decode("utf-8", "replace")
                broadcast("<%s> %s" % (client.nick, text), client)
    except OSError as e:            # reset by the peer, ...
        log("%s: recv: %s" % (client.nick, e.strerror))
    leave(client)
    # [/client-thread]


def accept_loop(listener):
    """Welcomes each newcomer and starts its thread, until a signal."""
    arrivals = 0
    # [spawn]
    while True:
        try:
            sock, address = listener.accept()
        except OSError as e:        # out of descriptors, ...: go on
            log("accept: %s" % e.strerror)
            time.sleep(0.1)
            continue
        arrivals += 1
        client = Client(sock, "guest%d" % arrivals)
        log("%s connected from %s" % (client.nick, address[0]))
        join(client)
        threading.Thread(target=serve, args=(client,), daemon=True).start()
    # [/spawn]


def listen(address, port):
    """Returns a socket listening on ADDRESS (None: every one) and PORT."""
    if address is None and socket.has_dualstack_ipv6():
        return socket.create_server(("::", port), family=socket.AF_INET6,
                                    backlog=BACKLOG, dualstack_ipv6=True)
    if address is None:
        address = "0.0.0.0"
    family = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM,
                                flags=socket.AI_PASSIVE)[0][0]
    return socket.create_server((address, port), family=family,
                                backlog=BACKLOG)


def port_number(text):
    """The argparse type of PORT: a number from 0 to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError("invalid port '%s'" % text)
    return int(text)


def parse_args():
    """Reads the command line: -h exits 0, a bad option exits 2."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="A chatroom: each line a client sends "
        "goes to all the others.")
    parser.add_argument("-a", metavar="ADDRESS", dest="address",
                        help="address to listen on (default: every one)")
    parser.add_argument("-p", metavar="PORT", dest="port", type=port_number,
                        default=DEFAULT_PORT, help="port to listen on, 0 "
                        "for any free one (default: %d)" % DEFAULT_PORT)
    return parser.parse_args()


def stop(signo, frame):
    """SIGINT and SIGTERM: ends accept_loop() in the main thread."""
    raise SystemExit(0)


def main():
    args = parse_args()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        listener = listen(args.address, args.port)
    except OSError as e:
        log("cannot listen on port %d: %s" % (args.port, e.strerror or e))
        return 1
    host, port = listener.getsockname()[:2]
    if listener.family == socket.AF_INET6:
        host = "[%s]" % host
    print("listening on %s:%d" % (host, port), flush=True)
    accept_loop(listener)           # the client threads are daemons:
    return 0                        # they end with the process


if __name__ == "__main__":
    sys.exit(main())
