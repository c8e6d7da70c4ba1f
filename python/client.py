#!/usr/bin/env python3
"""client.py - the course's chat client: it listens while you type.

This is the Python the C of step 04's client came from. Lines arrive
whenever others speak, so the client has two threads: the main thread
reads what you type and sends it, and the reader thread prints each line
from the server as it comes.

/quit or the end of input (Ctrl-D) means you are done: /quit is sent,
then shutdown() tells the server, and the reader prints what is left
until the server closes; the exit status is then 0. If the server closes
first, while you could still type, or the connection fails, the client
says so and exits 1.

usage: client.py [-h] HOST PORT
"""
import argparse
import os
import signal
import socket
import sys
import threading

MAX_LINE = 1024         # longest line the server accepts, LF excluded
MAX_LINE_OUT = 1088     # longest line it sends: MAX_LINE and "<nick> "
PROGRAM = os.path.basename(sys.argv[0]).removesuffix(".py")

# Set by the main thread once you are done typing; read by the reader.
done = threading.Event()


def warn(message):
    """Writes MESSAGE to stderr, after the program's name."""
    print("%s: %s" % (PROGRAM, message), file=sys.stderr, flush=True)


# [reader-thread]
def reader(sock):
    """The reader thread: prints each line from the server as it comes,
    until the server closes. Then ends the program if you were not done."""
    try:
        with sock.makefile("rb") as server:
            while line := server.readline(MAX_LINE_OUT + 1):
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
        warn("connection closed by server")
    except OSError as e:
        warn("connection lost: %s" % e.strerror)
        os._exit(1)
    if not done.is_set():           # main is stuck reading the keyboard
        os._exit(1)
# [/reader-thread]


def say(sock):
    """Reads the next line you type and sends it. Returns True when a line
    was sent, False when you are done (end of input, or /quit, sent first)."""
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return False
        line = line.removesuffix(b"\n").removesuffix(b"\r")
        if len(line) > MAX_LINE:
            warn("line too long (max %d bytes): not sent" % MAX_LINE)
        elif line:
            break
    sock.sendall(line + b"\n")
    return line != b"/quit"


def port_number(text):
    """The argparse type of PORT: a number from 1 to 65535."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError("invalid port '%s'" % text)
    return int(text)


def parse_args():
    """Reads the command line: -h exits 0, bad usage exits 2."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Joins the chatroom at HOST PORT: lines "
        "you type are sent, lines from the room are printed as they come.")
    parser.add_argument("host", metavar="HOST")
    parser.add_argument("port", metavar="PORT", type=port_number)
    return parser.parse_args()


def main():
    args = parse_args()
    signal.signal(signal.SIGINT, signal.SIG_DFL)    # Ctrl-C: just stop
    try:
        sock = socket.create_connection((args.host, args.port))
    except OSError as e:
        warn("cannot connect to %s port %d: %s"
             % (args.host, args.port, e.strerror or e))
        return 1
    # [client-main]
    thread = threading.Thread(target=reader, args=(sock,))
    thread.start()
    try:
        while say(sock):
            pass
        done.set()                  # done typing: say so,
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:            # the reader says why
        warn("send: %s" % e.strerror)
    thread.join()                   # and let the reader print what is left
    # [/client-main]
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
