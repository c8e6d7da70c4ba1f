#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# Step 02: the UDP echo server and its client.

STEP=steps/02-udp-echo
load helpers

teardown() { kit_teardown; }

# udp PYTHON-CODE: runs python3 with the server's port in PORT and a UDP
# socket `s` whose every receive gives up after the deadline.
udp() {
	timeout "$KIT_DEADLINE" python3 -c "
import socket, sys
PORT = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout($KIT_DEADLINE)
$1" "$SERVER_PORT"
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
	server_start
	run timeout "$KIT_DEADLINE" "$(impl_bin client)" 127.0.0.1 "$SERVER_PORT" \
		< <(printf 'first datagram\nsecond\n')
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
	status_of server_stop
	assert_equal "$STATUS" 0
}
