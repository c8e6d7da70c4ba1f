#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2153,SC2154 # STEP is read by helpers.bash, STATUS set by its status_of; bats' run sets stderr
# Step 03: the blocking chat, one client at a time, turn by turn. The
# server's operator is played by a FIFO on the server's stdin.

STEP=steps/03-blocking-chat
load helpers

teardown() { kit_teardown; }

# The command-line tests check code the starter gives (common/cli.c,
# common/net.c): the usage, the ready line, a refused connection.
@test "server -h prints the usage on stdout and exits 0; a bad option exits 2; the ready line names the port" {
	run "$(impl_bin server)" -h
	assert_success
	assert_line --partial "usage:"
	assert_output --partial "-p PORT"
	run --separate-stderr "$(impl_bin server)" -Z
	assert_equal "$status" 2
	assert_equal "$output" ""
	[[ $stderr == *usage:* ]]
	# The ready line names the address and the port the kernel chose.
	server_start -a 127.0.0.1
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_output "listening on 127.0.0.1:$SERVER_PORT"
}

@test "client -h exits 0; a bad option, a missing PORT or a bad port exits 2; a refused connection says so in one line" {
	run "$(impl_bin client)" -h
	assert_success
	assert_output --partial "HOST PORT"
	run "$(impl_bin client)" -Z 127.0.0.1 1
	assert_equal "$status" 2
	run "$(impl_bin client)" 127.0.0.1
	assert_equal "$status" 2
	run "$(impl_bin client)" 127.0.0.1 99999
	assert_equal "$status" 2
	# A refused connection exits non-zero with one line on stderr.
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$(free_port)" </dev/null
	explain_run "the client under test ($STEP/client)"
	assert_failure
	[ "$status" -ne 124 ]
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *refused* ]]
}

@test "lines go both ways, turn by turn, each side showing who said it" {
	server_start_fifo
	kit_client_start alice
	client_say alice "hello server"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> hello server$'
	server_say "hello guest1"
	wait_for_line "$BATS_TEST_TMPDIR/alice.out" '^<server> hello guest1$'
	client_say alice "how are you?"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> how are you\?$'
	server_say "fine"
	wait_for_line "$BATS_TEST_TMPDIR/alice.out" '^<server> fine$'
	run cat "$BATS_TEST_TMPDIR/alice.out"
	assert_output $'<server> hello guest1\n<server> fine'
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_equal "${#lines[@]}" 3
	assert_line --index 1 "<guest1> hello server"
	assert_line --index 2 "<guest1> how are you?"
}

@test "the server waits for its operator before it takes the next line" {
	server_start_fifo
	raw_open nc
	printf 'one\ntwo\n' >&"${RAW_FD[nc]}"	# both lines in one write
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> one$'
	# The operator ends the chat instead of answering. A server that does
	# not wait for its operator has shown "two" by now, or shows it next.
	server_end
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
	raw_expect_eof nc
	run grep -c two "$BATS_TEST_TMPDIR/server.out"
	assert_output 0
}

@test "the client waits for the answer before it sends its next line" {
	# A server that takes one line and, instead of answering, closes.
	fake_server fake '
c, _ = l.accept()
c.settimeout(30)
got = b""
while b"\n" not in got and (chunk := c.recv(100)):
    got += chunk
c.shutdown(socket.SHUT_WR)
while chunk := c.recv(100):
    got += chunk
print("got:" + got.decode().replace("\n", "|"), flush=True)'
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$FAKE_PORT" < <(printf 'one\ntwo\n')
	assert_success
	assert_output ""
	[[ $stderr == *"connection closed by server"* ]]
	# "two" was never sent: the client was waiting for an answer.
	wait_for_line "$BATS_TEST_TMPDIR/fake.out" '^got:'
	run cat "$BATS_TEST_TMPDIR/fake.out"
	assert_line --index 1 "got:one|"
}

@test "the client prints what comes after its end of input, until the server closes" {
	# A server that answers, then waits for the client's end of input
	# (its half-close), says one more line, and only then closes.
	fake_server fake '
c, _ = l.accept()
c.settimeout(30)
got = b""
while b"\n" not in got and (chunk := c.recv(100)):
    got += chunk
c.sendall(b"<server> first answer\n")
while chunk := c.recv(100):
    got += chunk
c.sendall(b"<server> after your end of input\n")
c.close()'
	run --separate-stderr timeout "$KIT_DEADLINE" "$(impl_bin client)" \
		127.0.0.1 "$FAKE_PORT" < <(printf 'one\n')
	explain_run "the client under test ($STEP/client)"
	assert_success
	assert_output $'<server> first answer\n<server> after your end of input'
}

@test "a client's /quit ends the chat on both sides; the next client is served" {
	server_start_fifo
	kit_client_start alice
	client_say alice "bye now"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> bye now$'
	server_say "see you"
	wait_for_line "$BATS_TEST_TMPDIR/alice.out" '^<server> see you$'
	client_say alice "/quit"
	# The server closes: the kit's client, its input still open, says so.
	status_of wait_exit "$(client_pid alice)"
	assert_equal "$STATUS" 1
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'guest1 left'
	run grep -c quit "$BATS_TEST_TMPDIR/server.out"
	assert_output 0
	raw_open bob
	raw_say bob "my turn"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest2> my turn$'
	server_say "hi bob"
	raw_expect bob '^<server> hi bob$'
}

@test "end of input on the client ends the chat; the server goes on" {
	server_start_fifo
	kit_client_start alice
	client_say alice "hi"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> hi$'
	server_say "hello"
	wait_for_line "$BATS_TEST_TMPDIR/alice.out" '^<server> hello$'
	client_end alice
	status_of wait_exit "$(client_pid alice)"
	assert_equal "$STATUS" 0
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'guest1 left'
	raw_open bob
	raw_say bob "still open?"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest2> still open\?$'
}

@test "a client killed with -9 is noticed at once; the next one is served" {
	server_start_fifo
	kit_client_start alice
	client_say alice "hi"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> hi$'
	server_say "your turn"
	wait_for_line "$BATS_TEST_TMPDIR/alice.out" '^<server> your turn$'
	# The server is now blocked in recv(), waiting for alice's next line.
	kill -KILL "$(client_pid alice)"
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'guest1 left'
	raw_open bob
	raw_say bob "hello?"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest2> hello\?$'
	server_say "yes"
	raw_expect bob '^<server> yes$'
}

@test "the operator's /quit ends the chat: the server closes and exits 0" {
	server_start_fifo
	kit_client_start alice
	client_say alice "anyone?"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> anyone\?$'
	server_say "/quit"
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
	status_of wait_exit "$(client_pid alice)"
	assert_equal "$STATUS" 1	# the kit's client: closed while its input is open
	run cat "$BATS_TEST_TMPDIR/alice.err"
	assert_output "kit_client: connection closed by server"
	run cat "$BATS_TEST_TMPDIR/alice.out"
	assert_output ""
}

@test "end of input on the server ends the chat the same way" {
	server_start_fifo
	kit_client_start alice
	client_say alice "anyone?"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> anyone\?$'
	server_end
	status_of wait_exit "$SERVER_PID"
	assert_equal "$STATUS" 0
	status_of wait_exit "$(client_pid alice)"
	assert_equal "$STATUS" 1	# the kit's client: closed while its input is open
	run cat "$BATS_TEST_TMPDIR/alice.err"
	assert_output "kit_client: connection closed by server"
}

# Out of descriptors, accept() fails with EMFILE: a reason to wait, never to
# stop. The server's limit is lowered while it runs, then put back: the
# client that waited all along must then be served. (Not under KIT_WRAPPER:
# valgrind needs descriptors of its own.)
@test "an accept() failure (out of descriptors) does not stop the server" {
	local limit
	KIT_WRAPPER='' server_start_fifo
	limit=$(fd_limit "$SERVER_PID")
	raw_open first
	raw_open second
	raw_close first
	# Whether first was served or not, the next accept() has no descriptor.
	survives_emfile "$limit"
	raw_say second "served at last"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest[0-9]+> served at last$'
	server_say "welcome back"
	raw_expect second '^<server> welcome back$'
}

@test "a second client waits until the first has left" {
	server_start_fifo
	kit_client_start alice
	client_say alice "first"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> first$'
	raw_open bob
	raw_say bob "me too"
	# A round trip with alice after bob spoke: a server serving both at
	# once would have shown bob's line by now.
	server_say "answer"
	wait_for_line "$BATS_TEST_TMPDIR/alice.out" '^<server> answer$'
	client_say alice "again"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> again$'
	run grep -c guest2 "$BATS_TEST_TMPDIR/server.out"
	assert_output 0
	server_say "bye"
	client_say alice "/quit"
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'guest1 left'
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest2> me too$'
	server_say "your turn, bob"
	raw_expect bob '^<server> your turn, bob$'
}

# server_read_all: succeeds once the server's end of every connection to
# SERVER_PORT has nothing left unread in its receive queue.
server_read_all() {
	local port
	port=$(printf '%04X' "$SERVER_PORT")
	awk -v port=":$port" '
		$2 ~ port "$" && $4 == "01" { n++; split($5, q, ":"); if (q[2] !~ /^0+$/) busy = 1 }
		END { exit !(n > 0 && !busy) }' /proc/net/tcp /proc/net/tcp6
}

# The line reader (common/line.c, step 03's TODO): a line is complete at
# its LF, whatever the reads that brought it.
@test "lines split across reads and packed in one read" {
	server_start_fifo
	raw_open nc
	printf 'hel' >&"${RAW_FD[nc]}"
	wait_until "the server to read 'hel' (no LF yet)" server_read_all
	printf 'lo\n' >&"${RAW_FD[nc]}"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> '
	run tail -n 1 "$BATS_TEST_TMPDIR/server.out"
	assert_output "<guest1> hello"	# not "hel", then "lo"
	server_say "ok"
	raw_expect nc '^<server> ok$'
	printf 'one\ntwo\n' >&"${RAW_FD[nc]}"	# one write, two lines
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> one$'
	server_say "next"
	raw_expect nc '^<server> next$'
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> two$'
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_equal "${#lines[@]}" 4
	assert_line --index 1 "<guest1> hello"
	assert_line --index 2 "<guest1> one"
	assert_line --index 3 "<guest1> two"
}

@test "a client the kit did not write: CRLF, empty lines, line limit, /quit" {
	local l1024 l1025
	printf -v l1024 '%*s' 1024 ''
	l1024=${l1024// /x}
	# Over the limit, and longer than one byte over: a reader that does
	# not skip up to the LF would hand out the rest as a line of its own.
	l1025=${l1024}y-and-the-rest-of-a-long-line
	server_start_fifo
	raw_open nc
	raw_say nc $'hi there\r' "" "$l1024"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> hi there'
	server_say "hello nc"
	raw_expect nc '^<server> hello nc$'
	wait_for_line "$BATS_TEST_TMPDIR/server.out" "^<guest1> $l1024\$"
	server_say "got it"
	raw_expect nc '^<server> got it$'
	raw_say nc "$l1025"
	raw_expect nc '^\*\*\* error: line too long \(max 1024 bytes\)$'
	raw_say nc "/quit"
	raw_expect_eof nc
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'guest1 left'
	run cat "$BATS_TEST_TMPDIR/server.out"
	assert_equal "${#lines[@]}" 3
	assert_line --index 1 "<guest1> hi there"
	assert_line --index 2 "<guest1> $l1024"
}

@test "SIGTERM and SIGINT end the server with status 0, even mid-chat" {
	server_start_fifo
	kit_client_start alice
	client_say alice "are you there?"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^<guest1> are you there\?$'
	# The server is reading its operator's answer from stdin.
	status_of server_stop
	assert_equal "$STATUS" 0
	status_of wait_exit "$(client_pid alice)"
	assert_equal "$STATUS" 1	# the server closed the kit client's connection
	server_start
	raw_open bob
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'guest1 connected'
	# The server is waiting for bob's first line in recv().
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
		"$SERVER_PORT" "$((KIT_DEADLINE * 3))" long-lines
	KIT_DEADLINE=$((KIT_DEADLINE * 3)) \
		wait_for_line "$BATS_TEST_TMPDIR/nonreader.out" '^stuck$' || {
		cat "$BATS_TEST_TMPDIR/nonreader.err" >&2
		return 1
	}
	status_of server_stop
	assert_equal "$STATUS" 0
}
