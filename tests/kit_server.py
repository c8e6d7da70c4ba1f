"""kit_server.py KIND - servers the kit wrote, to test a step's client with.

A test of a client runs it against one of these rather than against the
step's server, which the student may not have finished: a failure is then
the client's. KIND:

  echo       step 01: TCP, one client at a time, every byte sent back
  udp-echo   step 02: every datagram sent back to where it came from
  chat       step 04's protocol: "*** welcome guestN" first, "*** guestN
             joined" / "*** guestN left" to the others, "<guestN> text" to all
             but the sender, "/quit" leaves, CR before LF dropped, empty lines
             ignored, over 1024 bytes refused with an error line

It listens on 127.0.0.1, port 0, prints "listening on 127.0.0.1:PORT" on
stdout, logs on stderr, and ends with status 0 on SIGTERM or SIGINT,
closing every connection.
"""
import os
import signal
import socket
import sys
import threading

MAX_LINE = 1024
TOO_LONG = b"*** error: line too long (max 1024 bytes)"

def log(msg):
    print(f"kit_server: {msg}", file=sys.stderr, flush=True)

def echo(listener):
    while True:
        c, peer = listener.accept()
        log(f"{peer[0]}:{peer[1]} connected")
        with c:
            while data := c.recv(65536):
                c.sendall(data)
        log(f"{peer[0]}:{peer[1]} left")

def udp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(f"listening on 127.0.0.1:{s.getsockname()[1]}", flush=True)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)

class Room:
    def __init__(self):
        self.lock = threading.Lock()
        self.clients = {}  # socket -> nick, in order of arrival
        self.count = 0

    def send(self, c, line):
        try:
            c.sendall(line + b"\n")
        except OSError:
            pass

    def broadcast(self, line, but=None):
        with self.lock:
            for c in self.clients:
                if c is not but:
                    self.send(c, line)

    def serve(self, c):
        with self.lock:
            self.count += 1
            nick = b"guest%d" % self.count
            self.send(c, b"*** welcome " + nick)
            for other in self.clients:
                self.send(other, b"*** " + nick + b" joined")
            self.clients[c] = nick
        log(f"{nick.decode()} joined")
        buf, skipping = b"", False
        try:
            while data := c.recv(4096):
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if skipping:  # the end of a line already refused
                        skipping = False
                        continue
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    if len(line) > MAX_LINE:
                        self.send(c, TOO_LONG)
                    elif line == b"/quit":
                        return
                    elif line:
                        self.broadcast(b"<" + nick + b"> " + line, but=c)
                if skipping:
                    buf = b""
                elif len(buf) > MAX_LINE + 1:
                    self.send(c, TOO_LONG)
                    buf, skipping = b"", True
        except OSError:
            pass
        finally:
            with self.lock:
                del self.clients[c]
            c.close()
            self.broadcast(b"*** " + nick + b" left")
            log(f"{nick.decode()} left")

def chat(listener):
    room = Room()
    while True:
        c, _ = listener.accept()
        threading.Thread(target=room.serve, args=(c,), daemon=True).start()

def stop(signum, frame):
    log("stopping")
    sys.stdout.flush()
    os._exit(0)

def main():
    kind = sys.argv[1]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if kind == "udp-echo":
        udp_echo()
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    {"echo": echo, "chat": chat}[kind](listener)

if __name__ == "__main__":
    main()
