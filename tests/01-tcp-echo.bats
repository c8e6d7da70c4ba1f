#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2153,SC2154 # STEP is read by helpers.bash, STATUS set by its status_of; bats' run sets stderr
# Step 01: the iterative TCP echo server and its client.

STEP=steps/01-tcp-echo
load helpers

teardown() { kit_teardown; }

@test "server -h prints the usage on stdout and exits 0" {
	run "$(impl_bin server)" -h
	assert_success
	assert_line --partial "usage:"
	assert_output --partial "-p PORT"
}

@test "server with a bad option exits 2 with the usage on stderr" {
	run --separate-stderr "$(impl_bin server)" -Z
	assert_equal "$status" 2
	assert_equal "$output" ""
	[[ $stderr == *usage:* ]]
}

@test "client -h exits 0; a missing PORT or a bad port exits 2; a refused connection says so in one line" {
	run "$(impl_bin client)" -h
	assert_success
	assert_output --partial "HOST PORT"
	run "$(impl_bin client)" 127.0.0.1
	assert_equal "$status" 2
	run "$(impl_bin client)" 127.0.0.1 99999
	assert_equal "$status" 2
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$(free_port)" </dev/null
	explain_run "the client under test ($STEP/client)"
	assert_failure
	[ "$status" -ne 124 ]
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *refused* ]]
}

@test "the ready line names the address and the port the kernel chose" {
	server_start -a 127.0.0.1
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_output "listening on 127.0.0.1:$SERVER_PORT"
	[ "$SERVER_PORT" -gt 0 ]
}

@test "-p PORT listens on that very port" {
	local port
	port=$(free_port)
	server_start -a 127.0.0.1 -p "$port"
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_output "listening on 127.0.0.1:$port"
	raw_open a
	raw_say a "on the port I chose"
	raw_expect a '^on the port I chose$'
}

# A server stopped while a client is connected closes first, so its end of
# that connection stays in TIME-WAIT for a minute: without SO_REUSEADDR,
# the server started again on the same port fails to bind.
@test "stopped with a client connected, the server starts again on its port at once" {
	local port
	port=$(free_port)
	server_start -a 127.0.0.1 -p "$port"
	raw_open a
	raw_say a "before the restart"
	raw_expect a '^before the restart$'
	status_of server_stop
	assert_equal "$STATUS" 0
	raw_expect_eof a	# the server closed first: its side is in TIME-WAIT
	raw_close a
	SERVER_BLAME="open_listener(): setsockopt(SO_REUSEADDR) before bind()" \
		server_start -a 127.0.0.1 -p "$port"
	raw_open b
	raw_say b "after the restart"
	raw_expect b '^after the restart$'
}

@test "the kit client prints each echo and exits 0 at end of input" {
	kit_server_start echo
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$SERVER_PORT" < <(printf 'hello\nsocket world\n')
	explain_run "the client under test ($STEP/client)"
	assert_success
	assert_output $'hello\nsocket world'
}

@test "the kit client echoes 64 KiB of binary data with NUL bytes intact" {
	kit_server_start echo
	head -c 65536 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
	status_of timeout "$KIT_DEADLINE" "$(impl_bin client)" 127.0.0.1 "$SERVER_PORT" \
		<"$BATS_TEST_TMPDIR/blob" >"$BATS_TEST_TMPDIR/back" 2>"$BATS_TEST_TMPDIR/client.err"
	[ "$STATUS" -ne 124 ] || echo "the client under test timed out after ${KIT_DEADLINE}s" >&2
	if ! cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/back" >&2; then
		echo "the client under test ($STEP/client) sent 65536 random bytes to the kit's echo server and printed $(wc -c <"$BATS_TEST_TMPDIR/back") bytes that differ" >&2
		tail_of "$BATS_TEST_TMPDIR/client.err" "its stderr"
		return 1
	fi
}

@test "a python client gets 64 KiB of binary data back byte for byte" {
	server_start
	run timeout "$KIT_DEADLINE" python3 - "$SERVER_PORT" <<'PY'
import os, socket, sys
data = os.urandom(65536) + b"\0" * 1000
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
back = b""
while chunk := s.recv(65536):
    back += chunk
print("same" if back == data else f"differ: sent {len(data)}, got {len(back)}")
PY
	assert_success
	assert_output "same"
}

@test "the server is iterative: a second client waits until the first leaves" {
	server_start
	raw_open first
	raw_say first "one"
	raw_expect first '^one$'
	raw_open second
	raw_say second "two"
	# Two more round trips with the first client: a server serving both
	# at once would have echoed "two" by now.
	raw_say first "ping"
	raw_expect first '^ping$'
	raw_say first "pong"
	raw_expect first '^pong$'
	run read -r -t 0 -u "${RAW_FD[second]}"
	assert_failure
	raw_close first
	raw_expect second '^two$'
}

@test "a client that leaves mid-line or resets does not stop the server" {
	server_start
	raw_open quitter
	printf 'half a li' >&"${RAW_FD[quitter]}"
	raw_close quitter
	timeout "$KIT_DEADLINE" python3 - "$SERVER_PORT" "$KIT_DEADLINE" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(float(sys.argv[2]))
s.sendall(b"about to vanish\n")
back = b""
while not back.endswith(b"\n"):  # the echo: the server waits in recv() now
    chunk = s.recv(100)
    if not chunk:
        sys.exit(f"the server closed the connection after {back!r}")
    back += chunk
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()  # RST instead of FIN: that recv() fails with ECONNRESET
PY
	if reap "$SERVER_PID"; then
		echo "the server under test ended when a client reset its connection" \
			"(recv() failed with ECONNRESET): that ends this client, not the server" >&2
		prog_report server
		return 1
	fi
	raw_open survivor
	raw_say survivor "still here"
	raw_expect survivor '^still here$'
}

# Out of descriptors, accept() fails with EMFILE: a reason to wait, never to
# stop. The server's limit is lowered while it runs, then put back: the
# client that waited all along must then be served. (Not under KIT_WRAPPER:
# valgrind needs descriptors of its own.)
@test "an accept() failure (out of descriptors) does not stop the server" {
	local limit
	KIT_WRAPPER='' server_start
	limit=$(fd_limit "$SERVER_PID")
	raw_open first
	raw_open second
	raw_close first
	# Whether first was served or not, the next accept() has no descriptor.
	survives_emfile "$limit"
	raw_say second "served at last"
	raw_expect second '^served at last$'
	kill -0 "$SERVER_PID"
}

@test "SIGTERM and SIGINT end the server with status 0" {
	server_start
	status_of server_stop
	assert_equal "$STATUS" 0
	server_start
	kill -INT "$SERVER_PID"
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
}

@test "SIGTERM ends the server while it is blocked sending to a client that does not read" {
	server_start
	# It sends and never reads: the server's send() blocks once the
	# kernel buffers towards it are full. The stop signal must end that.
	# Filling the buffers takes a few MB: three deadlines for that.
	spawn nonreader /dev/null python3 "$BATS_TEST_DIRNAME/nonreader.py" \
		"$SERVER_PORT" "$((KIT_DEADLINE * 3))" bytes
	KIT_DEADLINE=$((KIT_DEADLINE * 3)) \
		wait_for_line "$BATS_TEST_TMPDIR/nonreader.out" '^stuck$' || {
		cat "$BATS_TEST_TMPDIR/nonreader.err" >&2
		return 1
	}
	status_of server_stop
	assert_equal "$STATUS" 0
}
