#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2153,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The course's Python chatroom (python/server.py and client.py): step 04's
# suite, run against the Python pair, then the Python and C programs
# talking to each other in both directions.

STEP=steps/04-threaded-chatroom
# An interpreter starts slower than a C program, the more so on a loaded
# machine: a longer deadline, which only a failing test ever waits out.
KIT_DEADLINE=${KIT_DEADLINE:-30}
load helpers
load chatroom

# The suites run the server and client of $KIT_IMPL/$STEP: a tree of two
# links to the Python programs stands for a student's tree.
setup_file() {
	local top dir
	top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	dir="$BATS_FILE_TMPDIR/python/$STEP/${KIT_OUT:-.}"
	mkdir -p "$dir"
	ln -s "$top/python/server.py" "$dir/server"
	ln -s "$top/python/client.py" "$dir/client"
	export KIT_IMPL="$BATS_FILE_TMPDIR/python"
}

teardown() { kit_teardown; }

# The C programs of step 04, for the tests across languages.
c_impl() { KIT_IMPL=$KIT_ROOT "$@"; }

@test "python: server -h prints the usage; a bad option exits 2" {
	chat_server_usage
}

@test "python: client -h exits 0; bad usage exits 2" {
	chat_client_usage
}

@test "python: the ready line names the address and the port" {
	chat_ready_line
}

@test "python: welcome, joined and left come in order; numbers are not reused" {
	chat_welcome_joined_left_order
}

@test "python: a line reaches everyone but its sender" {
	chat_reaches_everyone_but_the_sender
}

@test "python: /quit leaves the room" {
	chat_quit_leaves_the_room
}

@test "python: a client killed with -9 leaves; the room goes on" {
	chat_abrupt_disconnect_leaves_and_room_goes_on
}

@test "python: a line sent in pieces arrives as one line" {
	chat_split_line_is_one_line
}

@test "python: half lines never block the others; each ends on its own" {
	chat_half_lines_never_block_the_others
}

@test "python: lines sent in one write arrive as separate lines" {
	chat_lines_in_one_write_arrive_separately
}

@test "python: a CR before the LF is dropped" {
	chat_crlf_is_dropped
}

@test "python: empty lines are ignored" {
	chat_empty_lines_are_ignored
}

@test "python: a line of 1024 bytes passes; 1025 is refused to its sender only" {
	chat_line_of_1024_passes_1025_is_refused
}

@test "python: a 16 MiB line keeps the server's memory bounded" {
	chat_huge_line_keeps_memory_bounded
}

@test "python: 30 clients talking at once: every line reaches all others, intact" {
	chat_30_clients_talking_at_once
}

@test "python: 200 clients come and go: no descriptor or thread left behind" {
	chat_200_clients_leave_no_leak
}

@test "python: clients that vanish while being written to do not stop the room" {
	chat_clients_vanishing_while_written_to
}

@test "python: the client prints lines while its input is still open" {
	chat_client_prints_while_typing
}

@test "python: the client prints until the server closes, then exits 0" {
	chat_client_prints_until_server_closes
}

@test "python: the client exits 1 if the server leaves first" {
	chat_client_exits_1_if_server_leaves_first
}

@test "python: the client exits non-zero with one line when refused" {
	chat_client_refused
}

@test "python: SIGTERM and SIGINT end the server with status 0" {
	chat_stop_signals_exit_0
}

# Two kit clients, one in each language, in one room, and a raw client:
# each line reaches the two others, whatever wrote the server.
chat_across_languages() {
	client_start py
	wait_for_line "$BATS_TEST_TMPDIR/py.out" '^\*\*\* welcome guest1$'
	c_impl client_start c
	wait_for_line "$BATS_TEST_TMPDIR/c.out" '^\*\*\* welcome guest2$'
	wait_for_line "$BATS_TEST_TMPDIR/py.out" '^\*\*\* guest2 joined$'
	chat_join raw
	client_say py "bonjour de Python"
	wait_for_line "$BATS_TEST_TMPDIR/c.out" '^<guest1> bonjour de Python$'
	raw_skip_to raw '^<guest1> bonjour de Python$' 1
	client_say c "hello from C"
	wait_for_line "$BATS_TEST_TMPDIR/py.out" '^<guest2> hello from C$'
	raw_skip_to raw '^<guest2> hello from C$' 1
	raw_say raw "à vous deux"
	wait_for_line "$BATS_TEST_TMPDIR/py.out" '^<guest3> à vous deux$'
	wait_for_line "$BATS_TEST_TMPDIR/c.out" '^<guest3> à vous deux$'
	client_end py
	wait_for_line "$BATS_TEST_TMPDIR/c.out" '^\*\*\* guest1 left$'
	raw_expect raw '^\*\*\* guest1 left$'
	status_of wait_exit "$(client_pid py)"
	assert_equal "$STATUS" 0
	client_end c
	raw_expect raw '^\*\*\* guest2 left$'
	status_of wait_exit "$(client_pid c)"
	assert_equal "$STATUS" 0
	run cat "$BATS_TEST_TMPDIR/py.out"
	assert_output "$(printf '%s\n' '*** welcome guest1' '*** guest2 joined' \
		'*** guest3 joined' '<guest2> hello from C' '<guest3> à vous deux')"
	run cat "$BATS_TEST_TMPDIR/c.out"
	assert_output "$(printf '%s\n' '*** welcome guest2' '*** guest3 joined' \
		'<guest1> bonjour de Python' '<guest3> à vous deux' \
		'*** guest1 left')"
}

@test "python server: the C client and the Python client talk through it" {
	server_start
	[[ $(readlink "$(impl_bin server)") == */python/server.py ]]
	chat_across_languages
}

@test "C server: the Python client and the C client talk through it" {
	c_impl server_start
	[[ $(c_impl impl_bin server) != "$(impl_bin server)" ]]
	chat_across_languages
}
