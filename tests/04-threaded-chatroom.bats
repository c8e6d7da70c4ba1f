#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2153,SC2154 # STEP is read by helpers.bash, STATUS set by its status_of; bats' run sets stderr
# Step 04: the threaded chatroom and its two-thread client. The tests live
# in chatroom.bash, so that step 05 runs the very same ones.

STEP=steps/04-threaded-chatroom
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

@test "out of descriptors, it stops accepting until a client leaves" {
	chat_out_of_descriptors_waits_for_a_leaver
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
