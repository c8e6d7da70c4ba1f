#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2153,SC2154 # STEP is read by helpers.bash, STATUS set by its status_of; bats' run sets stderr
# Step 02: the UDP echo server and its client.

STEP=steps/02-udp-echo
load helpers

teardown() { kit_teardown; }

# udp PYTHON-CODE: runs python3 with the server's port in PORT and a UDP
# socket `s` whose every receive gives up after the deadline, or at once if
# the server under test has ended (then says so, with its stderr).
udp() {
	local rc=0
	timeout "$((KIT_DEADLINE + 5))" python3 -c "
import os, select, socket, sys, time
PORT, PID, DEADLINE = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])

def server_gone():
    try:
        with open(f'/proc/{PID}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True

class Watched(socket.socket):
    # A UDP socket whose receives stop waiting once the server is gone.
    def recvfrom(self, n):
        end = time.monotonic() + DEADLINE
        while not select.select([self], [], [], 0.05)[0]:
            if server_gone():
                print('no datagram came back, and the server has ended', file=sys.stderr)
                sys.exit(3)
            if time.monotonic() > end:
                print(f'timed out after {DEADLINE:g}s: no datagram came back', file=sys.stderr)
                sys.exit(4)
        return super().recvfrom(n)

    def recv(self, n):
        return self.recvfrom(n)[0]

s = Watched(socket.AF_INET, socket.SOCK_DGRAM)
$1" "$SERVER_PORT" "$SERVER_PID" "$KIT_DEADLINE" || rc=$?
	[ "$rc" -eq 0 ] || prog_report server
	return "$rc"
}

@test "server -h exits 0; a bad option exits 2" {
	run "$(impl_bin server)" -h
	assert_success
	assert_output --partial "usage:"
	run "$(impl_bin server)" -p nope
	assert_equal "$status" 2
}

@test "client -h exits 0; a bad option exits 2" {
	run "$(impl_bin client)" -h
	assert_success
	run "$(impl_bin client)" -q 127.0.0.1 1
	assert_equal "$status" 2
}

@test "client -w out of its range (1 ms to an hour) exits 2" {
	local ms
	for ms in 0 3600001 18446744073709551617 -1 ' 5' 5x; do
		run --separate-stderr "$(impl_bin client)" -w "$ms" 127.0.0.1 1
		assert_equal "$status" 2
		[[ $stderr == *usage:* ]]
	done
	run "$(impl_bin client)" -w 3600000 -h
	assert_success
}

@test "the kit client prints each echo and exits 0 at end of input" {
	kit_server_start udp-echo
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$SERVER_PORT" < <(printf 'first datagram\nsecond\n')
	explain_run "the client under test ($STEP/client)"
	assert_success
	assert_output $'first datagram\nsecond'
}

@test "datagram boundaries are kept: three sends, three receives" {
	server_start
	run udp '
for msg in (b"a", b"bb", b"ccc"):
    s.sendto(msg, ("127.0.0.1", PORT))
print([len(s.recv(65535)) for _ in range(3)])'
	assert_success
	assert_output "[1, 2, 3]"
}

@test "a 60000-byte datagram comes back whole" {
	server_start
	run udp '
import os
data = os.urandom(60000)
s.sendto(data, ("127.0.0.1", PORT))
back, _ = s.recvfrom(65535)
print(len(back), back == data)'
	assert_success
	assert_output "60000 True"
}

@test "an empty datagram is echoed and the server goes on" {
	server_start
	run udp '
s.sendto(b"", ("127.0.0.1", PORT))
print(len(s.recv(100)))
s.sendto(b"after\n", ("127.0.0.1", PORT))
print(s.recv(100))'
	assert_success
	assert_output $'0\nb\'after\\n\''
}

@test "the client gives up on a lost reply in bounded time and says so" {
	# A bound UDP socket that never answers: every datagram is "lost".
	# It lives until teardown kills it.
	spawn hole /dev/null python3 -c '
import signal, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
signal.pause()'
	wait_for_line "$BATS_TEST_TMPDIR/hole.out" '^listening on '
	local port
	port=$(sed -n 's/.*://p' "$BATS_TEST_TMPDIR/hole.out")
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" -w 200 \
		127.0.0.1 "$port" < <(echo "anyone there?")
	assert_equal "$status" 1
	[[ $stderr == *"no echo"* ]]
}

@test "the client prints only the server's echo, not a datagram from elsewhere" {
	# A server that, before each echo, has a third socket (another port)
	# send the client a datagram of its own. The client's socket is
	# connect()ed to the server: the kernel drops the impostor's datagram.
	spawn impostor /dev/null python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
other.bind(("127.0.0.1", 0))
print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    data, peer = s.recvfrom(65535)
    other.sendto(b"not the echo\n", peer)
    s.sendto(data, peer)'
	wait_for_line "$BATS_TEST_TMPDIR/impostor.out" '^listening on '
	local port
	port=$(sed -n 's/.*://p' "$BATS_TEST_TMPDIR/impostor.out")
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$port" < <(printf 'first\nsecond\n')
	assert_success
	assert_output $'first\nsecond'
}

@test "with no server on the port, the client says refused at once" {
	# A port nobody listens on: the kernel answers the datagram with an
	# ICMP "port unreachable", which a connect()ed UDP socket reports as
	# ECONNREFUSED. An hour's -w shows the client did not wait it out.
	server_start
	server_stop
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		-w 3600000 127.0.0.1 "$SERVER_PORT" < <(echo "anyone there?")
	assert_equal "$status" 1
	assert_output ""
	[[ $stderr == *refused* ]]
}

@test "SIGTERM ends the server with status 0" {
	server_start
	# A server at work, waiting in recvfrom(), not one that ended at once.
	run udp '
s.sendto(b"ping", ("127.0.0.1", PORT))
print(s.recv(100))'
	assert_output "b'ping'"
	status_of server_stop
	assert_equal "$STATUS" 0
}
