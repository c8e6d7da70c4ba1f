#!/usr/bin/env bats
# Step 05 (bonus): the chatroom in one thread with poll(), and its poll()
# client. The first tests are step 04's, from chatroom.bash, word for word:
# the same protocol, the same behaviour. The last ones are this step's own.
# shellcheck disable=SC2034,SC2154 # STEP, SERVER_PID: for helpers; stderr: from run

STEP=steps/05-event-loop-chatroom
load helpers
load chatroom

teardown() { kit_teardown; }

# The command-line tests check code the starter gives (common/cli.c,
# common/net.c): the usage, the ready line, a refused connection.
@test "server -h prints the usage; a bad option exits 2; the ready line names the port" {
	chat_server_usage
	chat_ready_line
}

@test "client -h exits 0; bad usage exits 2; a refused connection says so in one line" {
	chat_client_usage
	chat_client_refused
}

@test "welcome, joined and left come in order; numbers are not reused" {
	chat_welcome_joined_left_order
}

@test "a line reaches everyone but its sender" {
	chat_reaches_everyone_but_the_sender
}

@test "/quit leaves the room" {
	chat_quit_leaves_the_room
}

@test "a client killed with -9 leaves; the room goes on" {
	chat_abrupt_disconnect_leaves_and_room_goes_on
}

@test "a line sent in pieces arrives as one line" {
	chat_split_line_is_one_line
}

@test "half lines never block the others; each ends on its own" {
	chat_half_lines_never_block_the_others
}

@test "lines sent in one write arrive as separate lines" {
	chat_lines_in_one_write_arrive_separately
}

@test "a CR before the LF is dropped" {
	chat_crlf_is_dropped
}

@test "empty lines are ignored" {
	chat_empty_lines_are_ignored
}

@test "a line of 1024 bytes passes; 1025 is refused to its sender only" {
	chat_line_of_1024_passes_1025_is_refused
}

@test "a 16 MiB line keeps the server's memory bounded" {
	chat_huge_line_keeps_memory_bounded
}

@test "30 clients talking at once: every line reaches all others, intact" {
	chat_30_clients_talking_at_once
}

@test "200 clients come and go: no descriptor or thread left behind" {
	chat_200_clients_leave_no_leak
}

@test "clients come and go while another floods: no line twice, astray or before a welcome" {
	chat_churn_with_a_flooder
}

@test "clients that vanish while being written to do not stop the room" {
	chat_clients_vanishing_while_written_to
}

@test "a log nobody reads never blocks the server" {
	chat_log_to_a_full_pipe_never_blocks
}

@test "the kit client prints lines while its input is still open" {
	chat_client_prints_while_typing
}

@test "the kit client prints until the server closes, then exits 0" {
	chat_client_prints_until_server_closes
}

@test "the kit client exits 1 if the server leaves first" {
	chat_client_exits_1_if_server_leaves_first
}

@test "SIGTERM and SIGINT end the server with status 0" {
	chat_stop_signals_exit_0
}

# --- This step's own ---------------------------------------------------------
# What one thread must get right, and what its promises are: no client can
# hold the loop, and one process holds thousands of clients. Step 04's room
# freezes behind a client that stops reading.

@test "a client that stops reading is dropped (too slow); the room goes on" {
	# The frozen client's queue (MAX_QUEUE, 1 MiB) and some slack; more
	# under a sanitizer or valgrind, whose bookkeeping grows with the heap.
	local limit=3072
	[ "$KIT_OUT" = . ] && [ -z "${KIT_WRAPPER:-}" ] || limit=8192
	server_start
	run --separate-stderr chat_py "LIMIT_KB = $limit"'
LINES, ROUND = 8000, 100  # 8 MB of flood, 100 KB a round
frozen = Peer(rcvbuf=4096)  # it never reads again
reader, flooder = Peer(), Peer()
reader.expect(joined(flooder))
before = peak = rss_kb()
got, others, dropped_at = 0, [], None
progress = threading.Condition()

def listen():
    global got, dropped_at
    while True:
        line = reader.line()
        if line == said(flooder, b"end"):
            return
        if line.startswith(b"*** "):
            others.append(line)
            dropped_at = got if dropped_at is None else dropped_at
        elif line != said(flooder, b"%d " % got + b"x" * 1000):
            fail(f"flood line {got} is {line[:40]!r}...")
        else:
            with progress:
                got += 1
                progress.notify()

t = threading.Thread(target=listen)
t.start()
for r in range(0, LINES, ROUND):
    flooder.send(b"".join(b"%d " % j + b"x" * 1000 + b"\n"
                          for j in range(r, r + ROUND)))
    with progress:  # the reader keeps up: never too slow itself
        if not progress.wait_for(lambda: got == r + ROUND, DEADLINE):
            fail(f"the reader got {got} flood lines of {r + ROUND}")
    peak = max(peak, rss_kb())
flooder.send(b"end\n")
t.join()
if others != [b"*** " + frozen.nick + b" left (too slow)"]:
    fail(f"expected the frozen client to be dropped, got {others!r}")
if dropped_at >= LINES:
    fail("the frozen client was dropped only after the flood")
wait_until("the server to close the frozen client",
           lambda: server_queues(frozen) is None)
print(f"dropped after {dropped_at} lines, RSS grew by {peak - before} KiB",
      file=sys.stderr)
if peak - before > LIMIT_KB:
    fail(f"the server grew by {peak - before} KiB (more than {LIMIT_KB})")
print("ok")'
	echo "$stderr" >&3
	assert_success
	assert_output ok
}

@test "a flood goes at its readers' pace: one that reads gets every line" {
	# Backpressure: the server stops reading the flooder while a reader's
	# queue is full, so a reader slower than loopback is never dropped;
	# only the frozen one is, after a few seconds, and the room goes on.
	server_start
	run --separate-stderr chat_py '
LINES, ROUND = 100000, 100  # 50 MB, in lines of 500 bytes
frozen = Peer(rcvbuf=4096)  # it never reads again
reader, flooder = Peer(), Peer()
reader.expect(joined(flooder))

def text(j):
    return b"%06d " % j + b"y" * 493

def flood():
    for r in range(0, LINES, ROUND):
        flooder.send(b"".join(text(j) + b"\n" for j in range(r, r + ROUND)))
    flooder.send(b"end\n")

threading.Thread(target=flood, daemon=True).start()
got, others = 0, []
while (line := reader.line()) != said(flooder, b"end"):
    if line.startswith(b"*** "):
        others.append(line)
    elif line != said(flooder, text(got)):
        fail(f"flood line {got} is {line[:40]!r}...")
    else:
        got += 1
if got != LINES:
    fail(f"the reader got {got} flood lines of {LINES}")
if others != [b"*** " + frozen.nick + b" left (too slow)"]:
    fail(f"expected the frozen client to be dropped, got {others!r}")
print("ok")'
	echo "$stderr" >&3
	assert_success
	assert_output ok
}

# Heavy: under valgrind the server cannot raise its open files limit.
# bats test_tags=heavy
@test "1000 clients connect at once: all welcomed, one line reaches all" {
	local hard
	hard=$(ulimit -H -n)
	if [ "$hard" != unlimited ] && [ "$hard" -lt 2100 ]; then
		skip "needs an open files hard limit of 2100 (ulimit -Hn: $hard)"
	fi
	# A low soft limit for this test's processes: the server must raise
	# its own to serve them all, and the python client raises its own.
	ulimit -S -n 256
	server_start
	run chat_py '
import resource, selectors
N = 1000
# Connections not welcomed yet, at most: fewer than the listen() backlog
# (128), or the kernel drops the handshakes it has no room for, whatever
# the server does.
WINDOW = 100
resource.setrlimit(resource.RLIMIT_NOFILE,
                   (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
sel = selectors.DefaultSelector()
socks, bufs, nick, heard = [], [], [], []

def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", PORT))
    sel.register(s, selectors.EVENT_READ, len(socks))
    socks.append(s)
    bufs.append(b"")
    nick.append(None)
    heard.append(False)

def pump(until):
    """Connects the next clients and reads every line until UNTIL()."""
    end = time.monotonic() + DEADLINE
    while not until():
        if time.monotonic() > end:
            fail(f"{nick.count(None) + N - len(nick)} clients unwelcomed, "
                 f"{heard.count(False)} did not hear the line")
        while len(socks) < N and len(socks) - welcomed[0] < WINDOW:
            connect()
        for key, _ in sel.select(POLL):
            i = key.data
            data = socks[i].recv(1 << 16)
            if not data:
                fail(f"client {i} ({nick[i]!r}) was closed")
            *lines, bufs[i] = (bufs[i] + data).split(b"\n")
            for line in lines:
                if nick[i] is None:
                    if not line.startswith(b"*** welcome "):
                        fail(f"client {i} first got {line!r}")
                    nick[i] = line[len(b"*** welcome "):]
                    welcomed[0] += 1
                elif nick[0] is not None and \
                        line == b"<" + nick[0] + b"> hello, all of you":
                    heard[i] = True

welcomed = [0]
pump(lambda: welcomed[0] == N)  # now all of them are in the room
heard[0] = True  # the sender
socks[0].setblocking(True)
socks[0].sendall(b"hello, all of you\n")
pump(lambda: all(heard))
if sorted(nick) != sorted(b"guest%d" % n for n in range(1, N + 1)):
    fail("the nicknames are not guest1 to guest1000")
print("ok")'
	assert_success
	assert_output ok
}

@test "out of descriptors, it stops accepting until a client leaves" {
	chat_out_of_descriptors_waits_for_a_leaver
}

@test "once a backlog is sent, the server sleeps in poll() again" {
	server_start
	run chat_py '
def asleep():
    """True if the server is sleeping (in poll()), not running."""
    with open(f"/proc/{PID}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"

slow = Peer(rcvbuf=4096)  # reads nothing until the end
talker = Peer()
slow.expect(joined(talker))
wait_until("the server to sleep in poll()", asleep)
sent = 0

def send_lines(n):
    global sent
    talker.send(b"".join(b"%d " % j + b"x" * 1000 + b"\n"
                         for j in range(sent, sent + n)))
    sent += n

def kernel_full():
    """Sends 100 more lines; true if the bytes the kernel holds for slow
    did not grow: the server keeps them in its output buffer."""
    before = server_queues(slow)
    send_lines(100)
    wait_until("the server to read them", lambda: server_has_read(talker))
    return server_queues(slow) == before

wait_until("the kernel buffers towards slow to be full", kernel_full)
send_lines(200)  # 200 KB more: far less than MAX_QUEUE
talker.send(b"end\n")
for j in range(sent):
    slow.expect(said(talker, b"%d " % j + b"x" * 1000))
slow.expect(said(talker, b"end"))
# Its output buffer is empty again: a server that still asks for POLLOUT
# gets it at once, again and again, and never sleeps.
wait_until("the server to sleep in poll() again", asleep)
print("ok")'
	assert_success
	assert_output ok
}
