#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031,SC2034,SC2153,SC2154 # STEP is read by helpers.bash, STATUS set by its status_of, SERVER_PID/PORT set per test; bats' run sets stderr
# The reference chatroom: every line of the protocol and every rule of the
# server, driven by clients the kit did not write (bash /dev/tcp, python3),
# and the kit's own client.

STEP=solution
load helpers
load chatroom	# chat_py: python clients with deadlines (Peer, server_queues)

teardown() { kit_teardown; }

# join NAME...: opens one raw connection per NAME, in order, and checks each
# is welcomed as guestN and announced to the ones already there.
join() {
	local name other i=0 n
	local -a joined=()
	for name in "$@"; do
		raw_open "$name"
		raw_expect "$name" '^\*\*\* welcome guest[0-9]+$'
		n=${REPLY##* }
		for other in "${joined[@]}"; do
			raw_expect "$other" "^\\*\\*\\* $n joined$"
		done
		joined+=("$name")
		i=$((i + 1))
	done
}

# py PROGRAM ARGS...: runs python3 on PROGRAM with the server's port first.
py() {
	local prog=$1
	shift
	timeout "$((KIT_DEADLINE * 3))" python3 -c "$prog" "$SERVER_PORT" "$@"
}

# ------------------------------------------------------------ command line

@test "server -h documents every option; a bad one exits 2" {
	run "$(impl_bin server)" -h
	assert_success
	for opt in "-a ADDRESS" "-p PORT" "-m CLIENTS" "-l BYTES" "-q BYTES"; do
		assert_output --partial "$opt"
	done
	run "$(impl_bin server)" -m 0
	assert_equal "$status" 2
	run "$(impl_bin server)" -q 10
	assert_equal "$status" 2
}

@test "every numeric option is range-checked: out of range exits 2 with the usage" {
	local args
	# -l 6148914691236517205 once made 3*l+1 wrap to 0: every client was
	# then closed without a word.
	for args in "-l 6148914691236517205" "-l 0" "-l 1048577" "-m 1000001" \
		"-q 1073741825" "-q 18446744073709551615" "-l 100000 -q 65536"; do
		# shellcheck disable=SC2086 # ARGS is several words
		run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin server)" \
			-p 0 $args
		[ "$status" -eq 2 ] || fail "server $args: exit $status, expected 2"
		[[ $stderr == *"usage: server"* ]] ||
			fail "server $args: no usage on stderr: $stderr"
	done
}

@test "client -h shows -n NICK; a bad option exits 2" {
	run "$(impl_bin client)" -h
	assert_success
	assert_output --partial "-n NICK"
	run "$(impl_bin client)" -x 127.0.0.1 1
	assert_equal "$status" 2
}

# ------------------------------------------------------------ the protocol

@test "welcome, joined, chat to all but the sender, left" {
	server_start
	join a b c
	raw_say a "hello room"
	raw_expect b '^<guest1> hello room$'
	raw_expect c '^<guest1> hello room$'
	raw_say b "hi a"
	raw_expect a '^<guest2> hi a$'
	raw_expect c '^<guest2> hi a$'
	raw_close a
	raw_expect b '^\*\*\* guest1 left$'
	raw_expect c '^\*\*\* guest1 left$'
	# a never got its own line: b's line was the next thing it saw.
}

@test "/nick renames, for everyone; invalid and taken names are refused" {
	server_start
	join a b
	raw_say a "/nick Alice"
	raw_expect a '^\*\*\* guest1 is now known as Alice$'
	raw_expect b '^\*\*\* guest1 is now known as Alice$'
	raw_say b "/nick alice"
	raw_expect b '^\*\*\* error: .*taken'
	raw_say b "/nick bad!name"
	raw_expect b '^\*\*\* error: invalid nickname'
	raw_say b "/nick seventeen_chars_x"
	raw_expect b '^\*\*\* error: invalid nickname'
	raw_say b "/nick sixteen_chars_xx"
	raw_expect b '^\*\*\* guest2 is now known as sixteen_chars_xx$'
	raw_say a "still here"
	raw_expect b '^<Alice> still here$'
}

@test "/nick with two words is an error that says a nickname has no spaces" {
	server_start
	join a b
	raw_say a "/nick bad name"
	raw_expect a '^\*\*\* error: .*nickname has no spaces'
	raw_say a "/list"
	raw_expect a '^\*\*\* online \(2\): guest1, guest2$'
	raw_say a "/nick good  "
	raw_expect a '^\*\*\* guest1 is now known as good$'
}

@test "every line the server sends is valid UTF-8, even when it cuts names and reasons" {
	server_start
	run chat_py '
e = "\u00e9".encode()           # two bytes: a cut may fall between them
a, b = Peer(), Peer()
a.expect(joined(b))
def check(line, start):
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as err:
        fail(f"invalid UTF-8 from the server: {line!r} ({err})")
    if not line.startswith(start):
        fail(f"expected {start!r}..., got {line[:80]!r}")
a.send(b"/nick " + b"a" * 31 + e + b"\n")
check(a.line(), b"*** error: invalid nickname")
a.send(b"/msg " + b"n" * 31 + e + b" hi\n")
check(a.line(), b"*** error: no such nickname")
a.send(b"/" + b"c" * 31 + e + b"\n")
check(a.line(), b"*** error: unknown command")
a.send(b"/quit " + b"q" * 126 + e * 10 + b"\n")
check(b.line(), b"*** " + a.nick + b" left (" + b"q" * 126)
print("ok")'
	assert_success
	assert_output ok
}

@test "/list and /who answer in order of arrival" {
	server_start
	join a b c
	raw_say b "/nick bob"
	raw_expect b 'now known as bob$'
	raw_say c "/list"
	raw_expect c 'now known as bob$'
	raw_expect c '^\*\*\* online \(3\): guest1, bob, guest3$'
	raw_say a "/who"
	raw_expect a 'now known as bob$'
	raw_expect a '^\*\*\* online \(3\): guest1, bob, guest3$'
}

@test "/msg reaches only its target, and the sender gets a receipt" {
	server_start
	join a b c
	raw_say a "/msg GUEST2 psst"
	raw_expect b '^\*guest1\* psst$'
	raw_expect a '^-> \*guest2\* psst$'
	raw_say a "public"
	raw_expect c '^<guest1> public$'	# c saw nothing before it
	raw_say a "/msg nobody hi"
	raw_expect a '^\*\*\* error: no such nickname'
	raw_say a "/msg guest2"
	raw_expect a '^\*\*\* error: usage'
}

@test "/me is an action; // sends a line that starts with /" {
	server_start
	join a b
	raw_say a "/me waves"
	raw_expect b '^\* guest1 waves$'
	raw_say a "//etc/passwd is a path"
	raw_expect b '^<guest1> /etc/passwd is a path$'
}

@test "/quit with a reason: the others see it and the quitter is closed" {
	server_start
	join a b
	raw_say a "/quit off to lunch"
	raw_expect b '^\*\*\* guest1 left \(off to lunch\)$'
	raw_expect_eof a
}

@test "/list answers with 60 clients of 16-character nicknames" {
	server_start
	run timeout "$((KIT_DEADLINE * 3))" python3 - "$SERVER_PORT" "$KIT_DEADLINE" <<'PY'
import socket, sys
port, deadline = int(sys.argv[1]), float(sys.argv[2])
def line(f):
    got = f.readline()
    if not got.endswith(b"\n"):
        sys.exit(f"the server closed the connection after {got[:80]!r}")
    return got[:-1]
peers = []
for i in range(60):
    s = socket.create_connection(("127.0.0.1", port), timeout=deadline)
    f = s.makefile("rb")
    if not line(f).startswith(b"*** welcome "):
        sys.exit("no welcome")
    peers.append((s, f))
names = [b"nickname_%06d" % i + b"x" for i in range(60)]  # 16 characters
for (s, f), name in zip(peers, names):
    s.sendall(b"/nick " + name + b"\n")
    while not line(f).endswith(b"is now known as " + name):
        pass
s, f = peers[0]
s.sendall(b"/list\n")
want = b"*** online (60): " + b", ".join(names)
while not (got := line(f)).startswith(b"*** online"):
    pass
print("ok" if got == want else f"got {got[:120]!r}...")
PY
	assert_success
	assert_output ok
	kill -0 "$SERVER_PID"
}

@test "escape sequences are cleaned from every relayed field" {
	server_start
	run timeout "$((KIT_DEADLINE * 3))" python3 - "$SERVER_PORT" "$KIT_DEADLINE" <<'PY'
import re, socket, sys
port, deadline = int(sys.argv[1]), float(sys.argv[2])
BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]")
def peer():
    s = socket.create_connection(("127.0.0.1", port), timeout=deadline)
    f = s.makefile("rb")
    f.readline()
    return s, f
(a, fa), (b, fb) = peer(), peer()
fa.readline()  # guest2 joined
ESC = b"\x1b[31m\x07\xc2\x9b"
for cmd in (b"/me " + ESC + b"me", b"/msg guest2 " + ESC + b"msg",
            b"/nick bad" + ESC, b"/msg nobody" + ESC + b" x",
            b"/nosuch" + ESC, b"//" + ESC + b"slash", b"/quit " + ESC + b"bye"):
    a.sendall(cmd + b"\n")
seen = []
for f in (fb, fa):
    while got := f.readline():
        seen.append(got[:-1])
        if b"left" in got or b"unknown command" in got:
            break
bad = [l for l in seen if BAD.search(l)]
print("ok" if not bad and len(seen) >= 6 else f"not cleaned: {bad[:3]!r} (of {len(seen)} lines)")
PY
	assert_success
	assert_output ok
}

@test "/help lists the commands; an unknown one is an error, not a goodbye" {
	server_start
	join a
	raw_say a "/help"
	local i seen=""
	for i in 1 2 3 4 5 6 7 8; do
		raw_read a
		[[ $REPLY == '*** '* ]]
		seen+="$REPLY"$'\n'
	done
	for cmd in /nick /list /msg /me /quit; do
		[[ $seen == *"$cmd"* ]]
	done
	raw_say a "/dance"
	raw_expect a '^\*\*\* error: unknown command /dance'
	raw_say a "/list"
	raw_expect a '^\*\*\* online \(1\): guest1$'
}

# ----------------------------------------------------------- framing rules

@test "a line in pieces is one line; packed lines are several; CRLF is fine" {
	server_start
	join a b
	printf 'first ha' >&"${RAW_FD[a]}"
	raw_say b "/list"	# a round trip: the server has the first piece
	raw_expect b '^\*\*\* online'
	printf 'lf\r\none\ntwo\r\n' >&"${RAW_FD[a]}"
	raw_expect b '^<guest1> first half$'
	raw_expect b '^<guest1> one$'
	raw_expect b '^<guest1> two$'
}

@test "a 1024-byte line passes; a 1025-byte one is refused, the client stays" {
	server_start
	join a b
	local ok long
	ok=$(printf 'x%.0s' {1..1024})
	long=$(printf 'y%.0s' {1..1025})
	raw_say a "$long" "$ok"
	raw_expect a '^\*\*\* error: line too long'
	raw_expect b "^<guest1> $ok$"
	raw_say a "after"
	raw_expect b '^<guest1> after$'
}

@test "a 16 MB line without a newline costs the server no memory" {
	server_start
	join a b
	local before after
	before=$(rss_kb "$SERVER_PID")
	head -c $((16 * 1024 * 1024)) /dev/zero | tr '\0' 'z' >&"${RAW_FD[a]}"
	raw_say a ""
	raw_expect a '^\*\*\* error: line too long'
	after=$(rss_kb "$SERVER_PID")
	echo "server RSS: $before KiB before, $after KiB after" >&3
	[ "$((after - before))" -lt 8192 ]
	raw_say a "fine"
	raw_expect b '^<guest1> fine$'
}

@test "escape sequences and invalid UTF-8 are cleaned; UTF-8 is kept" {
	server_start
	join a b
	printf 'red\033[31m bell\a tab\tend\r\n' >&"${RAW_FD[a]}"
	raw_expect b $'^<guest1> red\\[31m bell tab\tend$'
	printf 'caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5 bad\xff\xc0\xafc1\xc2\x9b.\n' >&"${RAW_FD[a]}"
	raw_expect b $'^<guest1> caf\u00e9 \u2713 \u65e5 bad\ufffd\ufffd\ufffdc1.$'
}

# --------------------------------------------------------- the robustness

# bats test_tags=heavy
@test "a client that never reads is dropped; the others get every line" {
	server_start
	run py '
import socket, sys, threading
port = int(sys.argv[1])
ROUNDS, PER_ROUND, SIZE = 80, 200, 500  # 8 MB in all, 100 KB a round

def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    f = s.makefile("rb")
    assert f.readline().startswith(b"*** welcome")
    return s, f

stalled, _ = connect(rcvbuf=4096)      # guest1: never reads again
reader, rf = connect()                 # guest2: reads everything
flooder, ff = connect()                # guest3: talks a lot
got, dropped = 0, False
progress = threading.Condition()

def read_all():
    global got, dropped
    for line in rf:
        if line == b"*** guest1 left (too slow)\n":
            dropped = True
        elif line.startswith(b"<guest3> "):
            assert line == b"<guest3> %06d %s\n" % (got, body), line[:40]
            with progress:
                got += 1
                progress.notify()
            if got == ROUNDS * PER_ROUND:
                return

body = b"x" * (SIZE - 7)
t = threading.Thread(target=read_all)
t.start()
for r in range(ROUNDS):
    flooder.sendall(b"".join(b"%06d %s\n" % (r * PER_ROUND + i, body)
                             for i in range(PER_ROUND)))
    with progress:  # a reader that keeps up is never too slow
        progress.wait_for(lambda: got == (r + 1) * PER_ROUND, timeout=20)
t.join(20)
print(got, dropped)'
	assert_success
	assert_output "16000 True"
	[ "$(rss_kb "$SERVER_PID")" -lt 65536 ]
}

# bats test_tags=heavy
@test "a reader that caught up gives its buffers back once the room is quiet" {
	# With -q 64M, 24 MB wait for the reader without any backpressure:
	# the server's memory grows by about that much. Once the reader has
	# read it all, the buffers that held it must be freed, not kept for
	# a reader that now gets nothing.
	server_start -q 67108864
	chat_py '
reader, talker = Peer(), Peer()
reader.expect(joined(talker))
before = rss_kb()
body = b"x" * 1000
talker.send(b"".join(b"%05d %s\n" % (i, body) for i in range(24000)))
wait_until("the server to hold 16 MB for the reader",
           lambda: rss_kb() > before + 16384)
peak = rss_kb()
for i in range(24000):
    reader.expect(said(talker, b"%05d %s" % (i, body)))
wait_until(f"the server to give back what it held: {before} KiB before,"
           f" {peak} KiB at the peak, {rss_kb()} KiB now",
           lambda: rss_kb() < before + 8192)
print(f"server RSS: {before} KiB before, {peak} KiB at the peak,"
      f" {rss_kb()} KiB once quiet")'
}

# bats test_tags=heavy
@test "a flood slows its sender down; readers that keep reading get every line" {
	# Each time the python reader pauses, the flooder fills that reader's
	# queue: the server must stop reading the flooder (backpressure), not
	# drop the reader. The kit's own client reads into a file meanwhile.
	server_start -q 262144
	client_start k
	wait_for_line "$BATS_TEST_TMPDIR/k.out" '^\*\*\* welcome guest1$'
	run chat_py '
N, SIZE = 20000, 500
r = Peer(rcvbuf=16384)        # guest2: reads, with pauses
f = Peer()                    # guest3: floods, never reads
r.expect(joined(f))
body = b"x" * (SIZE - 7)

flooded = threading.Event()

def flood():
    for i in range(0, N, 100):
        f.send(b"".join(b"%06d %s\n" % (j, body) for j in range(i, i + 100)))
    flooded.set()
threading.Thread(target=flood, daemon=True).start()

last = [None]

def pushed_back():
    # The server has stopped reading the flooder: what the flooder sent
    # waits unread in the server socket, the same from one look to the
    # next (how much fits there depends on the kernel: no fixed size).
    # Or the server has cut r off, or the flood is over.
    fq, last[0] = last[0], server_queues(f)
    return (server_queues(r) is None or flooded.is_set() or
            (fq is not None and fq[1] > 0 and fq == last[0]))

got = 0
for pause_at in (1000, 6000, 11000, 16000, N):
    while got < pause_at:
        line = r.line()
        if line != said(f, b"%06d %s" % (got, body)):
            fail(f"line {got}: got {line[:60]!r}")
        got += 1
    if got < N:
        wait_until(f"the server to stop reading the flooder ({got} read)",
                   pushed_back)
print(got)'
	assert_success
	assert_output 20000
	wait_for_line "$BATS_TEST_TMPDIR/k.out" '^<guest3> 019999 '
	run awk '/^<guest3> / { if ($2 + 0 != n++) { print "line " n ": " $2; exit 1 } }
		/too slow/ { print; exit 1 } END { print n }' "$BATS_TEST_TMPDIR/k.out"
	assert_success
	assert_output 20000
}

# bats test_tags=heavy
@test "nothing from a client dropped as too slow reaches the room after its 'left' line" {
	server_start -q 262144
	run chat_py '
o = Peer()                     # reads everything
v = Peer(rcvbuf=4096)          # talks without end, never reads
f = Peer()                     # floods v until it is dropped
o.expect(joined(v)); o.expect(joined(f))
gone = threading.Event()

def drain():
    try:
        while f.s.recv(65536):
            pass
    except OSError:
        pass

heard = threading.Semaphore(20)  # v may be 20 chunks ahead of o

def talk():
    try:
        for i in range(0, 10**6, 100):
            v.send(b"".join(b"v %d\n" % j for j in range(i, i + 100)))
            heard.acquire(timeout=DEADLINE)
    except OSError:
        pass                   # the server cut v off

seen = threading.Semaphore(0)  # one per chunk of f that o has read

def flood():
    # Paced by o, which keeps up: only v, which does not read, falls behind.
    while not gone.is_set():
        f.send(b"".join(b"f %s\n" % (b"x" * 1000) for _ in range(50)))
        seen.acquire(timeout=DEADLINE)
for job in (drain, talk, flood):
    threading.Thread(target=job, daemon=True).start()

left = b"*** " + v.nick + b" left (too slow)"
got = {f.nick: 0, v.nick: 0}
while (line := o.line()) != left:
    for peer, chunk, sem in ((f, 50, seen), (v, 100, heard)):
        if line.startswith(said(peer, b"")):
            got[peer.nick] += 1
            if got[peer.nick] % chunk == 0:
                sem.release()
gone.set()
wait_until("the server to close v", lambda: server_queues(v) is None)
f.send(b"the end\n")           # the last line o waits for
after = 0
while (line := o.line()) != said(f, b"the end"):
    after += line.startswith(b"<" + v.nick + b"> ")
print(after, "lines from v after its left line")'
	assert_success
	assert_output "0 lines from v after its left line"
}

@test "a full room says so and closes" {
	server_start -m 2
	join a b
	raw_open c
	raw_expect c '^\*\*\* error: room is full$'
	raw_expect_eof c
	raw_close a
	raw_expect b '^\*\*\* guest1 left$'
	raw_open d
	raw_expect d '^\*\*\* welcome guest3$'
}

# bats test_tags=heavy
@test "300 connect/reset cycles leak no descriptor and no thread" {
	server_start
	join a
	local fds threads
	fds=$(fd_count "$SERVER_PID")
	threads=$(thread_count "$SERVER_PID")
	run py '
import socket, struct, sys
port = int(sys.argv[1])
for i in range(300):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.makefile("rb").readline()   # half of them wait for the welcome
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()'
	assert_success
	wait_until "the server's descriptors to come back to $fds" \
		test_count fd_count "$fds"
	wait_until "the server's threads to come back to $threads" \
		test_count thread_count "$threads"
	raw_say a "/list"
	raw_skip_to a '^\*\*\* online'
	assert_equal "$REPLY" "*** online (1): guest1"
}

# test_count FUNCTION N: FUNCTION of the server's pid prints N.
test_count() { [ "$("$1" "$SERVER_PID")" -eq "$2" ]; }

# bats test_tags=heavy
@test "60 clients x 20 lines: every line reaches every other client intact" {
	server_start
	run py '
import selectors, socket, sys, time
port, N, M = int(sys.argv[1]), 60, 20
socks = []
for i in range(N):
    s = socket.create_connection(("127.0.0.1", port))
    socks.append(s)
bufs, nick, got = [b""] * N, [None] * N, [0] * N
last = [dict() for _ in range(N)]
want = (N - 1) * M
sel = selectors.DefaultSelector()
for i, s in enumerate(socks):
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
sent = False
deadline = time.monotonic() + 60
while sum(got) < N * want and time.monotonic() < deadline:
    if not sent and all(nick):
        for i, s in enumerate(socks):
            s.setblocking(True)
            s.sendall(b"".join(b"%s line %02d %s\n" % (nick[i], j, b"=" * 40) for j in range(M)))
            s.setblocking(False)
        sent = True
    for key, _ in sel.select(1):
        i = key.data
        bufs[i] += socks[i].recv(65536)
        *lines, bufs[i] = bufs[i].split(b"\n")
        for line in lines:
            if line.startswith(b"*** welcome "):
                nick[i] = line[12:]
            elif line.startswith(b"<"):
                who, text = line[1:].split(b"> ", 1)
                assert text.startswith(who + b" line ") and text.endswith(b"=" * 40), line
                assert who != nick[i], line
                seq = int(text.split()[2])
                assert last[i].get(who, -1) == seq - 1, line  # in order
                last[i][who] = seq
                got[i] += 1
print(min(got), max(got), want)'
	assert_success
	assert_output "1180 1180 1180"
	echo "$output" >&3
}

@test "clients come and go while another floods: no line twice, astray or before a welcome" {
	chat_churn_with_a_flooder
}

@test "clients that vanish while being written to do not hurt the room" {
	server_start
	run py '
import socket, struct, sys
port = int(sys.argv[1])
talker = socket.create_connection(("127.0.0.1", port))
for round in range(5):
    victims = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    for i in range(300):
        talker.sendall(b"%d %s\n" % (i, b"v" * 900))
    for v in victims:   # gone, with unread data and more on its way
        v.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        v.close()
talker.close()'
	assert_success
	# The talker never reads, so it may be dropped as too slow itself:
	# either way the server must still serve a newcomer, alone at last.
	join a
	wait_until "the room to hold only the newcomer" alone_in_room a
}

# alone_in_room NAME: asks /list and succeeds if NAME is the only one online.
alone_in_room() {
	raw_say "$1" "/list"
	raw_skip_to "$1" '^\*\*\* online' && [[ $REPLY == '*** online (1): '* ]]
}

@test "out of descriptors, accept() fails and the server waits it out" {
	# shellcheck disable=SC2016 # $0: expanded by the inner bash
	spawn server /dev/null bash -c 'ulimit -n 40 && exec "$0" -p 0' \
		"$(impl_bin server)"
	SERVER_PID=$SPAWNED
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on '
	SERVER_PORT=$(sed -n 's/.*://p' "$BATS_TEST_TMPDIR/server.out")
	run py '
import socket, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(45)]
deadline = time.monotonic() + 10
while b"accept: Too many open files" not in open(log, "rb").read():
    assert time.monotonic() < deadline, "no EMFILE in the log"
    time.sleep(0.02)  # polling the log, within the deadline above
for c in conns[:20]:
    c.close()
for c in conns[20:]:
    c.settimeout(10)
    line = c.makefile("rb").readline()
    assert line.startswith(b"*** welcome"), line
print("all served")' "$BATS_TEST_TMPDIR/server.err"
	assert_success
	assert_output "all served"
	[ "$(grep -c 'accept: Too many open files' "$BATS_TEST_TMPDIR/server.err")" -ge 1 ]
}

@test "SIGTERM: everyone gets the notice, the server exits 0" {
	server_start
	join a b
	kill -TERM "$SERVER_PID"
	raw_expect a '^\*\*\* server shutting down$'
	raw_expect b '^\*\*\* server shutting down$'
	raw_expect_eof a
	raw_expect_eof b
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
}

@test "SIGTERM with output stuck on a client that does not read: exit 0 all the same" {
	# 6 MB wait for a, which never reads: its writer is stuck in send().
	# The server must tell b, flush for two seconds at most, and exit 0.
	server_start -q 67108864
	run chat_py '
import signal
a = Peer(rcvbuf=4096)
b = Peer()
a.expect(joined(b))
b.send((b"y" * 1000 + b"\n") * 6000)
wait_until("the server to read b", lambda: server_has_read(b))
wait_until("output to wait for a", lambda: server_queues(a)[0] > 0)
os.kill(PID, signal.SIGTERM)
b.expect(b"*** server shutting down")
if b.f.readline() != b"":
    fail("b: expected the end of the connection")

def ended():
    try:
        with open(f"/proc/{PID}/stat") as s:
            return s.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
wait_until("the server to exit", ended)
print("ok")'
	assert_success
	assert_output ok
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
}

@test "one listener takes IPv6 (::1) and IPv4 (127.0.0.1) clients" {
	[ -e /proc/net/if_inet6 ] || skip "this machine has no IPv6"
	server_start
	grep -q '^listening on \[::\]:' "$BATS_TEST_TMPDIR/server.out"
	raw_open six ::1
	raw_expect six '^\*\*\* welcome guest1$'
	raw_open four 127.0.0.1
	raw_expect four '^\*\*\* welcome guest2$'
	raw_expect six '^\*\*\* guest2 joined$'
	raw_say four "over IPv4"
	raw_expect six '^<guest2> over IPv4$'
}

@test "-a picks one address family" {
	server_start -a 127.0.0.1
	grep -qx "listening on 127.0.0.1:$SERVER_PORT" "$BATS_TEST_TMPDIR/server.out"
	raw_open a
	raw_expect a '^\*\*\* welcome guest1$'
}

@test "the server logs on stderr with a timestamp" {
	server_start
	join a
	raw_say a "/nick ann"
	raw_expect a 'now known as ann$'
	raw_close a
	wait_for_line "$BATS_TEST_TMPDIR/server.err" '^[0-9]{2}:[0-9]{2}:[0-9]{2} server: ann .* left'
	grep -qE '^[0-9:]{8} server: guest1 joined from' "$BATS_TEST_TMPDIR/server.err"
	grep -qE '^[0-9:]{8} server: guest1 is now known as ann$' "$BATS_TEST_TMPDIR/server.err"
}

@test "a log nobody reads never blocks the server" {
	# The server's stderr is a FIFO whose reader never reads: the pipe
	# fills after 64 KiB of log, and the server must go on regardless.
	mkfifo "$BATS_TEST_TMPDIR/log"
	spawn sink /dev/null python3 -c '
import signal, sys
f = open(sys.argv[1], "rb")
signal.pause()' "$BATS_TEST_TMPDIR/log"
	(close_fds; exec "$(impl_bin server)" -p 0) </dev/null \
		>"$BATS_TEST_TMPDIR/server.out" 2>"$BATS_TEST_TMPDIR/log" &
	SERVER_PID=$!
	echo "$SERVER_PID" >>"$BATS_TEST_TMPDIR/pids"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on '
	SERVER_PORT=$(sed -n 's/.*://p' "$BATS_TEST_TMPDIR/server.out")
	run py '
import socket, sys
port = int(sys.argv[1])
for i in range(1500):     # two log lines each: far more than 64 KiB
    s = socket.create_connection(("127.0.0.1", port))
    s.makefile("rb").readline()
    s.close()
print("done")'
	assert_success
	join a b
	raw_say a "still talking"
	raw_expect b '^<guest[0-9]+> still talking$'
	status_of server_stop
	assert_equal "$STATUS" 0
}

# -------------------------------------------------------------- the client

@test "the kit client fed by a pipe prints the room and exits 0" {
	server_start
	join a
	run timeout "$KIT_DEADLINE" "$(impl_bin client)" 127.0.0.1 "$SERVER_PORT" \
		< <(printf 'from a pipe\n/list\n/quit\n')
	assert_success
	assert_line --index 0 '*** welcome guest2'
	assert_line --index 1 '*** online (2): guest1, guest2'
	raw_expect a '^\*\*\* guest2 joined$'
	raw_expect a '^<guest2> from a pipe$'
}

@test "the kit client -n asks for a nickname; end of input ends it" {
	server_start
	join a
	client_start k -n kay
	raw_expect a '^\*\*\* guest2 joined$'
	raw_expect a '^\*\*\* guest2 is now known as kay$'
	client_say k "hello from kay"
	raw_expect a '^<kay> hello from kay$'
	raw_say a "hi kay"
	wait_for_line "$BATS_TEST_TMPDIR/k.out" '^<guest1> hi kay$'
	client_end k
	raw_expect a '^\*\*\* kay left$'
	status_of wait_exit "$(client_pid k)"
	assert_equal "$STATUS" 0
}

@test "the kit client cleans what a hostile server sends" {
	fake_server evil '
c, _ = l.accept()
c.sendall(b"\x1b]0;owned\x07title \x1b[2Jclear \x9b31m c1 \xc2\x9b31m ok\n")
c.recv(100)'
	SERVER_PORT=$FAKE_PORT
	client_start k
	wait_for_line "$BATS_TEST_TMPDIR/k.out" 'ok$'
	run cat "$BATS_TEST_TMPDIR/k.out"
	assert_output $']0;ownedtitle [2Jclear \ufffd31m c1 31m ok'
}

@test "the kit client: a refused connection is one clear line and exit 1" {
	server_start
	server_stop
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$SERVER_PORT" </dev/null
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *"cannot connect"*refused* ]]
}

@test "the kit client: a server that resets is a lost connection, exit 1" {
	fake_server rst '
import struct
c, _ = l.accept()
c.sendall(b"*** welcome guest1\n")
c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()'
	SERVER_PORT=$FAKE_PORT
	client_start k
	wait_for_line "$BATS_TEST_TMPDIR/k.out" '^\*\*\* welcome guest1$'
	client_say k "anyone?"
	status_of wait_exit "$(client_pid k)"
	assert_equal "$STATUS" 1
	grep -q 'connection lost' "$BATS_TEST_TMPDIR/k.err"
}

@test "the kit client: a server that closes while you type is reported, exit 1" {
	server_start
	client_start k
	wait_for_line "$BATS_TEST_TMPDIR/k.out" '^\*\*\* welcome guest1$'
	server_stop
	status_of wait_exit "$(client_pid k)"
	assert_equal "$STATUS" 1
	grep -q '^\*\*\* server shutting down$' "$BATS_TEST_TMPDIR/k.out"
	grep -q 'connection closed by server' "$BATS_TEST_TMPDIR/k.err"
}
