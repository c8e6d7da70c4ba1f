# shellcheck shell=bash
# shellcheck disable=SC2154 # SERVER_PORT, STATUS, ... come from helpers, bats
# chatroom.bash - the chatroom tests of step 04, one function per test, so
# that every step speaking the same protocol runs the very same tests: a
# suite sets STEP, loads helpers and this file, and has one @test per
# function (see 04-threaded-chatroom.bats).
#
# The protocol under test (step 04's README):
#   server to client   *** welcome guestN      first line to a newcomer
#                      *** guestN joined       to the others
#                      <guestN> text           a chat line, to all but guestN
#                      *** guestN left         to the others (step 05 may
#                                              add " (too slow)")
#                      *** error: line too long (max 1024 bytes)
#   client to server   a line of text (CR before LF dropped, empty ignored);
#                      /quit to leave
# A client is named in the order of arrival, from guest1, never reused.

# --- Helpers ----------------------------------------------------------------

declare -gA NICK=()	# raw client name -> its nickname
CHAT_ROOM=()		# the raw clients in the room, in order of arrival

# chat_join NAME...: opens one raw connection per NAME, in order, checks its
# first line is a welcome, records its nickname in NICK, and checks every
# raw client already in the room is told it joined.
chat_join() {
	local name other
	for name in "$@"; do
		raw_open "$name"
		raw_expect "$name" '^\*\*\* welcome guest[0-9]+$' || return 1
		NICK[$name]=${REPLY##* }
		for other in "${CHAT_ROOM[@]}"; do
			raw_expect "$other" "^\\*\\*\\* ${NICK[$name]} joined\$" ||
				return 1
		done
		CHAT_ROOM+=("$name")
	done
}

# chat_leave NAME: closes raw client NAME and checks every other raw client
# in the room is told it left.
chat_leave() {
	local other left=()
	raw_close "$1"
	for other in "${CHAT_ROOM[@]}"; do
		[ "$other" = "$1" ] && continue
		raw_expect "$other" "^\\*\\*\\* ${NICK[$1]} left\$" || return 1
		left+=("$other")
	done
	CHAT_ROOM=("${left[@]}")
}

# The prelude of chat_py: what every python client below is made of. (read,
# not $(cat): loading this file starts no process, and every test loads it.)
IFS= read -r -d '' CHAT_PY <<'PY' || true
import os, socket, struct, sys, threading, time

PORT, PID, DEADLINE = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
POLL = 0.02
ERROR = b"*** error: line too long (max 1024 bytes)"

def fail(msg):
    """Ends the whole test, from any thread, with MSG on stderr."""
    print(msg, file=sys.stderr, flush=True)
    os._exit(1)

def wait_until(what, cond):
    """Polls COND until it is true; fails once DEADLINE seconds are gone."""
    end = time.monotonic() + DEADLINE
    while not cond():
        if time.monotonic() > end:
            fail(f"timed out after {DEADLINE}s waiting for {what}")
        time.sleep(POLL)

class Peer:
    """A client the kit did not write, returned once it is welcomed."""
    def __init__(self, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # a small receive buffer fills up sooner
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(DEADLINE)
        try:
            self.s.connect(("127.0.0.1", PORT))
        except OSError as e:
            fail(f"could not connect to the server (port {PORT}): {e}")
        self.port = self.s.getsockname()[1]
        self.f = self.s.makefile("rb")
        welcome = self.line()
        if not welcome.startswith(b"*** welcome "):
            fail(f"expected a welcome, got {welcome[:80]!r}")
        self.nick = welcome[len(b"*** welcome "):]

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        """The next line, LF removed (and nothing else), or fail."""
        try:
            line = self.f.readline()
        except OSError as e:
            fail(f"no line within {DEADLINE}s: {e}")
        if not line.endswith(b"\n"):
            who = getattr(self, "nick", b"a newcomer").decode()
            fail(f"the server closed the connection to {who} after"
                 f" {line[:80]!r}")
        return line[:-1]

    def expect(self, want):
        got = self.line()
        if got != want:
            fail(f"expected {want[:80]!r}, got {got[:80]!r}")

    def close(self):
        self.f.close()  # the socket stays open as long as its file does
        self.s.close()

    def reset(self):
        """Vanishes: closes with an RST (SO_LINGER 0) instead of a FIN."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        self.close()

def joined(peer):
    return b"*** " + peer.nick + b" joined"

def said(peer, text):
    return b"<" + peer.nick + b"> " + text

def server_queues(peer):
    """(bytes not yet acknowledged, bytes not yet read) on the server's
    socket for PEER, as /proc/net/tcp* shows them; None once it is closed."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for row in f.read().splitlines()[1:]:
                field = row.split()
                local = int(field[1].rsplit(":", 1)[1], 16)
                remote = int(field[2].rsplit(":", 1)[1], 16)
                if local == PORT and remote == peer.port and field[3] == "01":
                    tx, rx = field[4].split(":")
                    return int(tx, 16), int(rx, 16)
    return None

def server_has_read(peer):
    """True once the server has read every byte PEER sent."""
    queues = server_queues(peer)
    return queues is not None and queues[1] == 0

def rss_kb():
    with open(f"/proc/{PID}/status") as f:
        for row in f:
            if row.startswith("VmRSS:"):
                return int(row.split()[1])
PY

# chat_py CODE: runs python3 CODE after the prelude above, with the server's
# port, pid and the deadline; the whole run may take three deadlines. If it
# fails, says what became of the server, with the end of its stderr.
chat_py() {
	local rc=0
	timeout "$((KIT_DEADLINE * 3))" python3 -c "$CHAT_PY
$1" "$SERVER_PORT" "$SERVER_PID" "$KIT_DEADLINE" || rc=$?
	[ "$rc" -eq 0 ] || prog_report server
	return "$rc"
}

# holds PID FDS THREADS: succeeds if PID has FDS descriptors and THREADS
# threads.
holds() {
	[ "$(fd_count "$1")" -eq "$2" ] && [ "$(thread_count "$1")" -eq "$3" ]
}

# --- Command line -----------------------------------------------------------

chat_server_usage() {
	run "$(impl_bin server)" -h
	assert_success
	assert_line --partial "usage:"
	assert_output --partial "-p PORT"
	run --separate-stderr "$(impl_bin server)" -Z
	assert_equal "$status" 2
	assert_equal "$output" ""
	[[ $stderr == *usage:* ]]
	run "$(impl_bin server)" -p nope
	assert_equal "$status" 2
}

chat_client_usage() {
	run "$(impl_bin client)" -h
	assert_success
	assert_output --partial "HOST PORT"
	run --separate-stderr "$(impl_bin client)" -Z 127.0.0.1 1
	assert_equal "$status" 2
	[[ $stderr == *usage:* ]]
	run "$(impl_bin client)" 127.0.0.1
	assert_equal "$status" 2
	run "$(impl_bin client)" 127.0.0.1 99999
	assert_equal "$status" 2
}

chat_ready_line() {
	server_start -a 127.0.0.1
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_output "listening on 127.0.0.1:$SERVER_PORT"
}

# --- The room ---------------------------------------------------------------

chat_welcome_joined_left_order() {
	server_start
	chat_join a b c
	assert_equal "${NICK[a]} ${NICK[b]} ${NICK[c]}" "guest1 guest2 guest3"
	chat_leave b
	chat_join d
	assert_equal "${NICK[d]}" guest4	# numbers are never reused
	chat_leave a
	chat_leave d
	raw_say c "alone"
	raw_open e
	raw_expect e '^\*\*\* welcome guest5$'	# nothing of the past first
	raw_expect c '^\*\*\* guest5 joined$'
}

chat_reaches_everyone_but_the_sender() {
	server_start
	kit_client_start kit
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* welcome guest1$'
	chat_join a b
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* guest3 joined$'
	client_say kit "hello from the kit"
	raw_expect a '^<guest1> hello from the kit$'
	raw_expect b '^<guest1> hello from the kit$'
	raw_say a "hi all"
	raw_expect b '^<guest2> hi all$'
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^<guest2> hi all$'
	raw_say b "me too"
	# Each one's next line is b's: nobody got its own line back.
	raw_expect a '^<guest3> me too$'
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^<guest3> me too$'
	run cat "$BATS_TEST_TMPDIR/kit.out"
	assert_output "$(printf '%s\n' '*** welcome guest1' '*** guest2 joined' \
		'*** guest3 joined' '<guest2> hi all' '<guest3> me too')"
}

chat_quit_leaves_the_room() {
	server_start
	chat_join a b
	raw_say a "/quit"
	raw_expect_eof a
	raw_expect b '^\*\*\* guest1 left$'	# and not "<guest1> /quit"
}

chat_abrupt_disconnect_leaves_and_room_goes_on() {
	server_start
	kit_client_start kit
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* welcome guest1$'
	chat_join a
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* guest2 joined$'
	kill -KILL "$(client_pid kit)"
	raw_expect a '^\*\*\* guest1 left$'
	chat_join b
	raw_say a "still here"
	raw_expect b '^<guest2> still here$'
}

# --- Lines ------------------------------------------------------------------

chat_split_line_is_one_line() {
	server_start
	run chat_py '
a, b = Peer(), Peer()
a.expect(joined(b))
for piece in (b"hel", b"lo wor"):
    a.send(piece)
    # The server has read the piece (its receive queue is empty) ...
    wait_until("the server to read " + repr(piece),
               lambda: server_has_read(a))
    # ... and a round trip through it proves it is not waiting on us.
    b.send(b"ping\n")
    a.expect(said(b, b"ping"))
a.send(b"ld\n")
b.expect(said(a, b"hello world"))
print("ok")'
	assert_success
	assert_output ok
}

# Two clients leave half a line each at the server (bash /dev/tcp, no LF);
# the others go on talking, and the halves end later, each with its own end.
chat_half_lines_never_block_the_others() {
	server_start
	chat_join a b c d
	printf 'half a li' >&"${RAW_FD[a]}"
	printf 'the other ha' >&"${RAW_FD[b]}"
	local i
	for i in 1 2 3; do
		raw_say c "ping $i"
		raw_expect d "^<guest3> ping $i\$"	# nothing of a or b first
		raw_say d "pong $i"
		raw_expect c "^<guest4> pong $i\$"
		printf '%s' "$i" >&"${RAW_FD[b]}"	# more, still no LF
	done
	printf 'ne\n' >&"${RAW_FD[a]}"
	raw_expect c '^<guest1> half a line$'
	printf 'lf\n' >&"${RAW_FD[b]}"
	raw_expect c '^<guest2> the other ha123lf$'
	# a went on hearing the room while its own line was incomplete.
	for i in 1 2 3; do
		raw_expect a "^<guest3> ping $i\$"
		raw_expect a "^<guest4> pong $i\$"
	done
	raw_expect a '^<guest2> the other ha123lf$'
}

chat_lines_in_one_write_arrive_separately() {
	server_start
	run chat_py '
a, b = Peer(), Peer()
a.expect(joined(b))
a.send(b"one\ntwo\nthree\n")  # one send(): the server reads it in one go
for text in (b"one", b"two", b"three"):
    b.expect(said(a, text))
print("ok")'
	assert_success
	assert_output ok
}

chat_crlf_is_dropped() {
	server_start
	run chat_py '
a, b = Peer(), Peer()
a.expect(joined(b))
a.send(b"from telnet\r\n")
b.expect(said(a, b"from telnet"))  # exact bytes: no CR left
print("ok")'
	assert_success
	assert_output ok
}

chat_empty_lines_are_ignored() {
	server_start
	run chat_py '
a, b = Peer(), Peer()
a.expect(joined(b))
a.send(b"\n\r\n\n")
a.send(b"after the blanks\n")
b.expect(said(a, b"after the blanks"))
b.send(b"and back\n")
a.expect(said(b, b"and back"))  # and no error for the blanks either
print("ok")'
	assert_success
	assert_output ok
}

chat_line_of_1024_passes_1025_is_refused() {
	server_start
	run chat_py '
a, b = Peer(), Peer()
a.expect(joined(b))
a.send(b"a" * 1024 + b"\n")
b.expect(said(a, b"a" * 1024))
a.send(b"b" * 1025 + b"\n")
a.expect(ERROR)  # the first line a gets: no error for the 1024 bytes
a.send(b"after\n")
b.expect(said(a, b"after"))  # nothing of the long line reached b
b.send(b"ping\n")
a.expect(said(b, b"ping"))  # one error, no more
print("ok")'
	assert_success
	assert_output ok
}

chat_huge_line_keeps_memory_bounded() {
	server_start
	run chat_py '
a, b = Peer(), Peer()
a.expect(joined(b))
before = rss_kb()
a.send(b"x" * (16 << 20))  # 16 MiB and no LF
a.expect(ERROR)
a.send(b"\nstill usable\n")
b.expect(said(a, b"still usable"))  # so the server read all of it
grown = rss_kb() - before
if grown > 4096:
    fail(f"the server grew by {grown} KiB reading a 16 MiB line")
print("ok")'
	assert_success
	assert_output ok
}

# --- Many clients -----------------------------------------------------------

chat_30_clients_talking_at_once() {
	server_start
	run chat_py '
N, LINES = 30, 20
peers = [Peer() for _ in range(N)]
for p in peers[1:]:
    peers[0].expect(joined(p))  # now all of them are in the room
index = {p.nick: i for i, p in enumerate(peers)}

def text(i, j):
    return b"%d %d " % (i, j) + bytes([97 + (i + j) % 26]) * 300

go = threading.Barrier(N)

def talk(i):
    go.wait()
    for j in range(LINES):
        peers[i].send(text(i, j) + b"\n")

def listen(i):
    following = [0] * N  # the next line expected from each sender
    for _ in range((N - 1) * LINES):
        line = peers[i].line()
        while line.startswith(b"*** "):
            line = peers[i].line()
        nick, _, body = line.partition(b"> ")
        k = index.get(nick[1:])
        if k is None or k == i or body != text(k, following[k]):
            fail(f"{peers[i].nick} got a broken line: {line[:60]!r}...")
        following[k] += 1

threads = [threading.Thread(target=f, args=(i,))
           for i in range(N) for f in (talk, listen)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")'
	assert_success
	assert_output ok
}

chat_200_clients_leave_no_leak() {
	# One malloc arena: glibc gives threads that allocate arenas of their
	# own (64 MiB of address space each, up to eight per core), and keeps
	# them after the threads end. Only the stacks of threads never joined
	# nor detached are then left to make the address space grow.
	MALLOC_ARENA_MAX=1 server_start
	local fds threads vm
	# A witness stays in the room. Counting with it there also counts the
	# threads a sanitizer starts along with the first client's.
	chat_join witness
	fds=$(fd_count "$SERVER_PID")
	threads=$(thread_count "$SERVER_PID")
	vm=$(vm_kb "$SERVER_PID")
	run chat_py '
for round in range(20):
    peers = [Peer() for _ in range(10)]
    for i, p in enumerate(peers):
        if i % 3 == 0:
            p.close()
        elif i % 3 == 1:
            p.reset()
        else:
            p.send(b"half a li")
            p.close()
last = Peer()
if last.nick != b"guest202":
    fail(f"the 202nd client is {last.nick!r}")
print("ok")'
	assert_success
	assert_output ok
	raw_skip_to witness '^\*\*\* guest202 left$' 1000
	if ! wait_until "the server to hold $fds descriptors and $threads threads" \
		holds "$SERVER_PID" "$fds" "$threads"; then
		echo "it holds $(fd_count "$SERVER_PID") descriptors," \
			"$(thread_count "$SERVER_PID") threads" >&2
		return 1
	fi
	# A thread neither joined nor detached keeps its stack (8 MiB of
	# address space) after it ends: the thread count cannot see it.
	if [ "$(vm_kb "$SERVER_PID")" -gt $((vm + 256 * 1024)) ]; then
		echo "the server's address space grew from $((vm / 1024)) MiB to" \
			"$(($(vm_kb "$SERVER_PID") / 1024)) MiB over 201 departed clients:" \
			"threads that end are neither joined nor detached (pthread_detach)" >&2
		return 1
	fi
}

# Clients come and go while another floods the room: a departed client's
# descriptor number is soon a newcomer's, and a server that closes it
# before the client is out of its list (or never takes it out) sends that
# newcomer lines meant for the old one: before its welcome, twice, or its
# own line back. Every client checks what it gets; a witness checks that
# it got every flood line, once, in order.
chat_churn_with_a_flooder() {
	server_start
	run chat_py "$CHAT_CHURN_PY"
	assert_success
	assert_output ok
}

# The python of chat_churn_with_a_flooder, which the solution's suite runs too.
IFS= read -r -d '' CHAT_CHURN_PY <<'PY' || true
CHURNERS, ROUNDS, SEEN = 4, 25, 5
witness, flooder = Peer(), Peer()
witness.expect(joined(flooder))
FLOOD = b"<" + flooder.nick + b"> "
done = threading.Event()

def check(peer, line, last, strict=False):
    """Checks LINE, a line PEER got after its welcome, LAST being the number
    of the last flood line it got; returns the number of the last now."""
    who = peer.nick.decode()
    if line.startswith(FLOOD):
        word = line[len(FLOOD):].split(b" ", 1)[0]
        k = int(word) if word.isdigit() else last + 1
        if k <= last:
            fail(f"{who} got flood line {k} after line {last}: a line sent"
                 " twice, or meant for a client that had left")
        if strict and k != last + 1:
            fail(f"{who}, reading all along, got flood line {k} after line"
                 f" {last}: lines lost")
        return k
    if line.startswith(b"<" + peer.nick + b"> "):
        fail(f"{who} got its own line back, {line[:60]!r}: it was sent to the"
             " descriptor of a client that had left")
    if line.startswith(b"*** welcome "):
        fail(f"{who} got a second welcome, {line[:60]!r}: meant for a newcomer")
    return last

def flood():
    j = 0
    while not done.is_set():
        flooder.send(b"".join(b"%d flood %s\n" % (k, b"x" * 80)
                              for k in range(j, j + 20)))
        j += 20
    flooder.send(b"end\n")

def drain():
    """The flooder reads what it is told (joined, left), so it never holds
    the room up; it ends when the flooder is shut down."""
    try:
        while flooder.s.recv(65536):
            pass
    except OSError:
        pass

def watch():
    last = -1
    while (line := witness.line()) != FLOOD + b"end":
        last = check(witness, line, last, strict=True)

def churn(t):
    for r in range(ROUNDS):
        p = Peer()  # fails unless its very first line is its welcome
        p.send(b"hello from " + p.nick + b"\n")
        last, seen = -1, 0
        while seen < SEEN:
            new = check(p, p.line(), last)
            seen, last = seen + (new != last), new
        (p.reset if (t + r) % 2 else p.close)()

helpers = [threading.Thread(target=f) for f in (flood, watch)]
threading.Thread(target=drain, daemon=True).start()
churners = [threading.Thread(target=churn, args=(t,)) for t in range(CHURNERS)]
for t in helpers + churners:
    t.start()
for t in churners:
    t.join()
done.set()
for t in helpers:
    t.join()
flooder.s.shutdown(socket.SHUT_RDWR)
print("ok")
PY

chat_clients_vanishing_while_written_to() {
	server_start
	run chat_py '
LINES = 8000  # 8 MB: more than the kernel buffers for a victim can hold
probe = Peer()
victims = [Peer(rcvbuf=4096) for _ in range(4)]  # they never read
flooder = Peer()
for p in victims + [flooder]:
    probe.expect(joined(p))
got, left = [], []

def listen():
    while len(got) < LINES or len(left) < len(victims):
        line = probe.line()
        # "*** NICK left", or "*** NICK left (too slow)" from a server that
        # drops a client it cannot write to (step 05) before it resets.
        (left if line.startswith(b"*** ") else got).append(line)

def flood():
    for j in range(LINES):
        flooder.send(b"%d " % j + b"x" * 1000 + b"\n")

threads = [threading.Thread(target=f) for f in (listen, flood)]
for t in threads:
    t.start()

def stuck(last=[None]):
    """True once the server has bytes queued for every victim, and the
    same as at the last look: it is blocked, writing to a full socket."""
    now = [server_queues(v) for v in victims]
    last[0], before = now, last[0]
    return now == before and all(q is None or q[0] > 0 for q in now)

wait_until("the server to be stuck writing to the victims", stuck)
for v in victims:
    v.reset()
for t in threads:
    t.join()
for j, line in enumerate(got):
    if line != said(flooder, b"%d " % j + b"x" * 1000):
        fail(f"flood line {j} is {line[:40]!r}...")
if (sorted(line.replace(b" (too slow)", b"") for line in left) !=
        sorted(b"*** " + v.nick + b" left" for v in victims)):
    fail(f"expected the victims to leave, got {left!r}")
late = Peer()
probe.send(b"still there?\n")
late.expect(said(probe, b"still there?"))
print("ok")'
	assert_success
	assert_output ok
	kill -0 "$SERVER_PID"
}

# Its log is a pipe nobody reads (shrunk to 4 KiB: it fills after a few
# dozen arrivals): the server must go on welcoming, relaying and stopping.
chat_log_to_a_full_pipe_never_blocks() {
	local fifo="$BATS_TEST_TMPDIR/log.fifo" fd
	mkfifo "$fifo"
	exec {fd}<>"$fifo"	# held open and never read; teardown closes it
	# shellcheck disable=SC2034 # kit_teardown closes what CLIENT_IN holds
	CLIENT_IN[log]=$fd
	python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
os.close(fd)' "$fifo"
	# shellcheck disable=SC2016 # $0 and $1 are for the inner bash
	spawn server /dev/null bash -c 'exec "$0" -p 0 2>"$1"' \
		"$(impl_bin server)" "$fifo"
	SERVER_PID=$SPAWNED
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on '
	SERVER_PORT=$(sed -n 's/.*://p' "$BATS_TEST_TMPDIR/server.out")
	run chat_py '
for i in range(300):  # about 80 bytes of log each
    Peer().close()
a, b = Peer(), Peer()
line = a.line()
while line.endswith(b" left"):  # step 04 tells late leavers in any order
    line = a.line()
if line != joined(b):
    fail(f"expected {joined(b)!r}, got {line!r}")
b.send(b"still talking\n")
line = a.line()
while line.endswith(b" left"):
    line = a.line()
if line != said(b, b"still talking"):
    fail(f"expected the relayed line, got {line!r}")
print("ok")'
	assert_success
	assert_output ok
	status_of server_stop
	assert_equal "$STATUS" 0
}

# Out of descriptors (ulimit -n 40), accept() fails with EMFILE: the server
# must neither spin nor fill its log, and must take the waiting clients as
# soon as others leave.
chat_out_of_descriptors_waits_for_a_leaver() {
	# 40 descriptors: the standard three, the listening socket (and step
	# 05's stop pipe), and 35 clients or so (fewer under a sanitizer). Not
	# under KIT_WRAPPER: valgrind needs descriptors of its own.
	# shellcheck disable=SC2016 # $0 is for the inner bash
	spawn server /dev/null bash -c 'ulimit -n 40 && exec "$0" -p 0' \
		"$(impl_bin server)"
	SERVER_PID=$SPAWNED
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on '
	SERVER_PORT=$(sed -n 's/.*://p' "$BATS_TEST_TMPDIR/server.out")
	LOG="$BATS_TEST_TMPDIR/server.err" run chat_py '
import select
EMFILE = b"accept: Too many open files"

def failures():
    with open(os.environ["LOG"], "rb") as f:
        return f.read().count(EMFILE)

# 45 connections: the kernel completes them all (the backlog is 128).
conns = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(45)]
wait_until("accept() to fail with EMFILE", lambda: failures() > 0)

def welcomed():
    return select.select(conns, [], [], 0)[0]

# Those it accepted get their welcome at the next round; the others wait.
wait_until("20 clients to be welcomed", lambda: len(welcomed()) >= 20)
ready = welcomed()
waiting = [c for c in conns if c not in ready]
if len(ready) < 20 or not waiting:
    fail(f"{len(ready)} accepted, {len(waiting)} waiting")
for c in ready[:20]:
    c.close()
for c in waiting:
    c.settimeout(DEADLINE)
    line = c.makefile("rb").readline()
    if not line.startswith(b"*** welcome "):
        fail(f"a waiting client got {line!r}")
# One failure logged per pause, and a pause ends only when a client
# leaves: a loop that keeps calling accept() logs thousands.
if failures() > 1 + 20:
    fail(f"{failures()} accept() failures: the loop spins on EMFILE")
print("ok")'
	assert_success
	assert_output ok
}

# --- The kit's client -------------------------------------------------------

chat_client_prints_while_typing() {
	kit_server_start chat
	client_start kit
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* welcome guest1$'
	chat_join a
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* guest2 joined$'
	raw_say a "are you there?"
	# Nothing typed yet: a client blocked reading its stdin prints nothing.
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^<guest2> are you there\?$'
	client_say kit "yes"
	raw_expect a '^<guest1> yes$'
	client_end kit
	raw_expect a '^\*\*\* guest1 left$'
	status_of wait_exit "$(client_pid kit)"
	assert_equal "$STATUS" 0
}

chat_client_prints_until_server_closes() {
	# A server that, once the client has said it is done, still sends a
	# line, and only then closes.
	fake_server fake '
c, _ = l.accept()
c.settimeout(30)
c.sendall(b"*** welcome guest1\n")
got = b""
while chunk := c.recv(4096):
    got += chunk
c.sendall(b"late line\n")
c.close()
print("got:" + got.decode().replace("\n", "|"), flush=True)'
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$FAKE_PORT" < <(printf 'first\nsecond\n')
	assert_success
	assert_output $'*** welcome guest1\nlate line'
	[[ $stderr == *"connection closed by server"* ]]
	wait_for_line "$BATS_TEST_TMPDIR/fake.out" '^got:'
	run cat "$BATS_TEST_TMPDIR/fake.out"
	assert_line --index 1 "got:first|second|"
}

chat_client_exits_1_if_server_leaves_first() {
	kit_server_start chat
	client_start kit
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* welcome guest1$'
	status_of server_stop
	assert_equal "$STATUS" 0
	# The kit client's input is still open: it did not choose to leave.
	status_of wait_exit "$(client_pid kit)"
	assert_equal "$STATUS" 1
	run cat "$BATS_TEST_TMPDIR/kit.err"
	assert_output "client: connection closed by server"
}

chat_client_refused() {
	SERVER_PORT=$(free_port)
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$SERVER_PORT" </dev/null
	explain_run "the client under test ($STEP/client)"
	assert_failure
	[ "$status" -ne 124 ]
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *refused* ]]
}

# --- Signals ----------------------------------------------------------------

chat_stop_signals_exit_0() {
	server_start
	kit_client_start kit
	wait_for_line "$BATS_TEST_TMPDIR/kit.out" '^\*\*\* welcome guest1$'
	chat_join a b
	status_of server_stop
	assert_equal "$STATUS" 0
	raw_expect_eof a
	server_start
	CHAT_ROOM=()	# a new room
	chat_join c
	kill -INT "$SERVER_PID"
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
}
