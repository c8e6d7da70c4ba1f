"""tools/bench/flood.py - one client floods the room; do the readers keep up?

The flood run of `make bench` (BENCHMARKS.md). Two clients that read as
fast as they can join first: the kit's own client (solution/client), its
output going to a file, and a Python socket reader (this file, run as
`flood.py read HOST PORT LINES`). Then a third client sends LINES lines of
SIZE bytes as fast as the server takes them, and records how many it has
sent over time. A server with backpressure stops reading the flooder while
its lines cannot be queued for the readers: the flooder is slowed down to
the readers' pace, and both readers get every line. A server without it
reads the flooder at full speed, and either queues without bound or drops
a reader as too slow.

Each flood line is "flood SEQ PADDING": SEQ counts from 0, so a reader
knows whether it got every line, in order.
"""
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time

SIZE = 500            # bytes per flood line, LF excluded
IDLE_S = 10           # a reader that gets nothing for this long gives up
SAMPLE_S = 0.02       # how often the file the kit client writes is measured


def flood_line(seq):
    """The flood line number SEQ, with its LF."""
    head = f"flood {seq:06d} "
    return (head + "x" * (SIZE - len(head)) + "\n").encode()


def connect(host, port, deadline):
    """Connects and waits for the welcome; returns (socket, nickname)."""
    sock = socket.create_connection((host, port), timeout=deadline)
    buf = b""
    while b"\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise RuntimeError("closed before the welcome")
        buf += data
    line = buf.split(b"\n", 1)[0].decode(errors="replace")
    if not line.startswith("*** welcome "):
        raise RuntimeError(f"no welcome: {line!r}")
    return sock, line.split()[2]


class Counter:
    """Counts the flood lines in a stream, and whether they came in order."""

    def __init__(self):
        self.rest, self.got, self.bad = b"", 0, 0

    def feed(self, data):
        """Takes DATA, a piece of the stream; counts the lines it completes."""
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            i = line.find(b"> flood ")
            if i < 0:
                continue    # joined lines and the like
            if line[i + 8:i + 14] != b"%06d" % self.got or \
                    len(line) - i - 2 != SIZE:
                self.bad += 1
            self.got += 1


def read_main(host, port, lines):
    """`flood.py read`: the Python reader. Prints JSON when it is done."""
    sock, _ = connect(host, int(port), 30)
    sock.settimeout(IDLE_S)
    print("ready", flush=True)
    count, progress, why = Counter(), [], "every line"
    start = time.monotonic()
    while count.got < lines:
        try:
            data = sock.recv(262144)
        except socket.timeout:
            why = f"nothing for {IDLE_S} s"
            break
        if not data:
            why = "the server closed the connection"
            break
        count.feed(data)
        progress.append((time.monotonic(), count.got))
    print(json.dumps({"got": count.got, "bad": count.bad, "why": why,
                      "start": start, "progress": thin(progress)}), flush=True)


def thin(progress, most=2000):
    """At most MOST evenly spread (time, count) samples of PROGRESS."""
    step = max(1, len(progress) // most)
    return progress[::step] + progress[-1:]


def count_file(path, counter, done):
    """Feeds what was added to the kit client's output file to COUNTER."""
    with open(path, "rb") as f:
        f.seek(done)
        data = f.read()
    counter.feed(data)
    return done + len(data)


def sent_by(flood_progress, t):
    """Lines the flooder had sent by time T (from its samples)."""
    n = 0
    for when, sent in flood_progress:
        if when > t:
            break
        n = sent
    return n


def backlog(flood_progress, reader_progress):
    """Most lines sent but not yet read, over the run."""
    most = 0
    for t, got in reader_progress:
        most = max(most, sent_by(flood_progress, t) - got)
    return most


def run(top, host, port, pid, lines, logdir, name):
    """Runs one flood against the server at HOST PORT; returns the figures."""
    base = os.path.join(logdir, name.replace(" ", "-"))
    out = open(base + "-kit-client.txt", "wb+")
    feed_r, feed_w = os.pipe()     # the kit client's stdin, held open
    client = subprocess.Popen([os.path.join(top, "solution/client"), host,
                               str(port)], stdin=feed_r, stdout=out,
                              stderr=open(base + "-kit-client.log", "wb"))
    os.close(feed_r)
    reader = subprocess.Popen([sys.executable, __file__, "read", host,
                               str(port), str(lines)], stdout=subprocess.PIPE)
    try:
        return measure(host, port, lines, out.name, client, reader, pid)
    finally:
        os.close(feed_w)           # the kit client half-closes, then ends
        for proc in (client, reader):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()
        os.unlink(out.name)        # up to 50 MB, and already counted


def wait_ready(client_file, reader, deadline):
    """Waits for both readers' welcomes, until DEADLINE (monotonic)."""
    ready = select.select([reader.stdout], [], [], deadline - time.monotonic())
    if not ready[0] or reader.stdout.readline() != b"ready\n":
        raise RuntimeError("flood: the Python reader got no welcome")
    while b"*** welcome" not in open(client_file, "rb").read(4096):
        if time.monotonic() > deadline:
            raise RuntimeError("flood: the kit client got no welcome")
        time.sleep(0.01)


def rss_kb(pid):
    """The resident memory of process PID in kB, or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for row in f:
                if row.startswith("VmRSS:"):
                    return int(row.split()[1])
    except OSError:
        pass
    return 0


class Flooder(threading.Thread):
    """Sends LINES flood lines on SOCK as fast as it takes them."""

    def __init__(self, sock, lines):
        super().__init__(daemon=True)
        self.sock, self.lines = sock, lines
        self.progress, self.error, self.end = [], None, None

    def run(self):
        batch = 100
        try:
            for seq in range(0, self.lines, batch):
                top = min(self.lines, seq + batch)
                self.sock.sendall(b"".join(flood_line(i)
                                           for i in range(seq, top)))
                self.progress.append((time.monotonic(), top))
        except OSError as e:    # a timeout: the server stopped reading it
            self.error = f"the flooder could not send: {e}"
        self.end = time.monotonic()


def measure(host, port, lines, client_file, client, reader, pid):
    """Floods once both readers are in; returns what each one got."""
    wait_ready(client_file, reader, time.monotonic() + 30)
    sock, _ = connect(host, port, 30)
    sock.settimeout(60)
    rss0 = rss_kb(pid)
    flooder = Flooder(sock, lines)
    start = time.monotonic()
    flooder.start()

    # While it floods, sample the kit client's file and the server's memory,
    # until the file is complete or stops growing once the flood is over.
    counter, done, kit, rss = Counter(), 0, [], rss0
    last_change = start
    while counter.got < lines:
        now = time.monotonic()
        grown = count_file(client_file, counter, done)
        rss = max(rss, rss_kb(pid))
        if grown != done:
            last_change, done = now, grown
            kit.append((now, counter.got))
        elif flooder.end is not None and now - last_change > IDLE_S:
            break
        elif now - start > 300:
            break
        time.sleep(SAMPLE_S)
    flooder.join(timeout=70)
    py = json.loads(reader.stdout.readline() or b"{}")
    sock.close()
    sent_s = (flooder.end or time.monotonic()) - start
    return {
        "lines": lines, "size": SIZE, "flood_sent_s": sent_s,
        "flood_lines_per_s": lines / sent_s if sent_s else None,
        "kit_got": counter.got, "kit_bad": counter.bad,
        "kit_done_s": kit[-1][0] - start if kit else None,
        "kit_backlog": backlog(flooder.progress, kit),
        "py_got": py.get("got", 0), "py_bad": py.get("bad", 0),
        "py_why": py.get("why", "no report"),
        "py_done_s": py["progress"][-1][0] - start
        if py.get("progress") else None,
        "py_backlog": backlog(flooder.progress, py.get("progress", [])),
        "server_rss_growth_kb": rss - rss0,
        "kit_alive": client.poll() is None, "flood_error": flooder.error,
        "ok": flooder.error is None and counter.got == lines and
        counter.bad == 0 and py.get("got") == lines and py.get("bad") == 0,
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "read":
        read_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        print("usage: flood.py read HOST PORT LINES", file=sys.stderr)
        sys.exit(2)
