"""nonreader.py PORT DEADLINE KIND - a client that never reads.

Connects to 127.0.0.1:PORT and sends for ever without reading a byte:
KIND "bytes" sends bytes with no LF (an echo server sends them all back),
KIND "long-lines" sends lines over 1024 bytes (a chat server answers each
with an error line). Its receive buffer and its segment size are small, so
that little fills what the kernel holds for it.

Prints "stuck" once the server has stopped moving: bytes are waiting for
it to read and for it to send, and neither count changed over four looks,
50 ms apart. The server is then blocked sending to this client. It then
keeps the connection open until it is killed. Exits 1 if the server is
not stuck within DEADLINE seconds.
"""
import socket
import sys
import threading
import time

PORT, DEADLINE, KIND = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
LOOKS, POLL = 4, 0.05

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
# A small segment size keeps the server's send buffer for us small too.
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.connect(("127.0.0.1", PORT))
me = s.getsockname()[1]


def flood():
    chunk = b"x" * 65536 if KIND == "bytes" else (b"x" * 1100 + b"\n") * 60
    try:
        while True:
            s.sendall(chunk)
    except OSError:
        pass  # the server closed: the test says whether it should have


def queues():
    """(bytes not yet acknowledged, bytes not yet read) on the server's
    socket for us, as /proc/net/tcp* shows them, or None."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for row in f.read().splitlines()[1:]:
                field = row.split()
                local = int(field[1].rsplit(":", 1)[1], 16)
                remote = int(field[2].rsplit(":", 1)[1], 16)
                if local == PORT and remote == me and field[3] == "01":
                    tx, rx = field[4].split(":")
                    return int(tx, 16), int(rx, 16)
    return None


threading.Thread(target=flood, daemon=True).start()
end = time.monotonic() + DEADLINE
looks = []
while True:
    looks = (looks + [queues()])[-LOOKS:]
    first = looks[0]
    if (len(looks) == LOOKS and first is not None and min(first) > 0
            and all(q == first for q in looks)):
        break
    if time.monotonic() > end:
        print(f"the server is not stuck after {DEADLINE}s: {looks[-1]}",
              file=sys.stderr, flush=True)
        sys.exit(1)
    time.sleep(POLL)
print("stuck", flush=True)
threading.Event().wait()  # keep the connection open until killed
