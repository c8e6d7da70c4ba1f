# helpers.bash - the test contract, implemented once for every suite.
#
# A suite sets STEP (its folder, e.g. steps/01-tcp-echo), loads this file,
# and calls kit_teardown from its teardown(). Then:
#
#   server_start [ARGS...]     start STEP's server on port 0, wait for its
#                              ready line; sets SERVER_PID and SERVER_PORT
#   client_start NAME [ARGS]   start STEP's client, its stdin a FIFO we hold
#   client_say NAME LINE...    type lines into it
#   client_end NAME            close its stdin (end of input)
#   raw_open NAME / raw_say NAME LINE / raw_read NAME / raw_close NAME
#                              a client the kit did not write: bash /dev/tcp
#   wait_for_line FILE REGEX   wait, with a deadline, until FILE has a match
#   wait_exit PID              wait, with a deadline, for a process to end
#   server_start_fifo [ARGS]   server_start, its stdin a FIFO we hold:
#   server_say LINE / server_end   type into it / close it (step 03)
#   fake_server NAME CODE      a python3 server to test a client against
#
# Every background process gets its stdout and stderr in files under
# $BATS_TEST_TMPDIR (never a pipe that nobody reads), closes every
# descriptor above 2 (bats waits on fd 3 otherwise), and is killed and
# reaped by kit_teardown. Every wait has a deadline: no fixed sleeps.
#
# Environment:
#   KIT_IMPL      the tree under test (default: this kit); the grader points
#                 it at a student's tree
#   KIT_OUT       where the binaries are inside a step, e.g. build/thread
#                 for the TSan build (set by tests/run from SAN)
#   KIT_DEADLINE  seconds any single wait may take (default 10)
#   KIT_PRELOAD   a library to LD_PRELOAD into servers (fault injection)
#   KIT_WRAPPER   a command servers run under, e.g. "valgrind --leak-check=full"

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

KIT_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
KIT_IMPL=${KIT_IMPL:-$KIT_ROOT}
KIT_OUT=${KIT_OUT:-.}
KIT_DEADLINE=${KIT_DEADLINE:-10}
POLL=0.02	# seconds between two looks at a condition that has a deadline

# Sanitizers report, and make the exit status say so, instead of going on.
# A small quarantine: freed memory it holds would count in the RSS checks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:quarantine_size_mb=2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1}

declare -gA CLIENT_IN=() RAW_FD=()

# Prints the path of program $1 (server or client) of the step under test.
impl_bin() {
	printf '%s/%s/%s/%s\n' "$KIT_IMPL" "$STEP" "$KIT_OUT" "$1"
}

# Closes every descriptor above 2 of the current (sub)shell.
close_fds() {
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
	done
}

# spawn NAME INPUT CMD... : runs CMD in the background with stdin from INPUT,
# stdout in $BATS_TEST_TMPDIR/NAME.out and stderr in NAME.err. Sets SPAWNED.
spawn() {
	local name=$1 input=$2
	shift 2
	(close_fds; exec "$@") <"$input" >"$BATS_TEST_TMPDIR/$name.out" \
		2>"$BATS_TEST_TMPDIR/$name.err" &
	SPAWNED=$!
	echo "$SPAWNED" >>"$BATS_TEST_TMPDIR/pids"
	echo "$SPAWNED" >"$BATS_TEST_TMPDIR/$name.pid"
}

# wait_until DESCRIPTION CMD... : runs CMD until it succeeds; fails with
# DESCRIPTION once KIT_DEADLINE seconds have gone by.
wait_until() {
	local what=$1 end=$((SECONDS + KIT_DEADLINE))
	shift
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${KIT_DEADLINE}s waiting for $what" >&2
			return 1
		fi
		sleep "$POLL"
	done
}

# wait_for_line FILE REGEX [COUNT]: waits until FILE holds COUNT (default 1)
# lines matching the extended REGEX. Shows FILE when it gives up.
wait_for_line() {
	local file=$1 re=$2 count=${3:-1}
	if ! wait_until "$count line(s) matching '$re' in ${file##*/}" \
		count_at_least "$file" "$re" "$count"; then
		echo "--- ${file##*/}:" >&2
		tail -n 20 "$file" >&2 || true
		return 1
	fi
}

# count_at_least FILE REGEX N: succeeds if FILE has N lines matching REGEX.
count_at_least() {
	[ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$3" ]
}

# Succeeds if process $1 has ended (gone, or a zombie waiting to be reaped).
exited() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ]
}

# wait_exit PID: waits with a deadline for PID to end, then reaps it and
# returns its exit status. Returns 124 (like timeout) if it never ends.
wait_exit() {
	wait_until "process $1 to exit" exited "$1" || return 124
	local rc=0
	wait "$1" || rc=$?
	# Reaped: its pid is free for another process, which teardown must spare.
	echo "$1" >>"$BATS_TEST_TMPDIR/reaped"
	return "$rc"
}

# status_of CMD...: runs CMD in this shell (unlike bats' run, so that it
# may wait for our children) and puts its exit status in STATUS.
# shellcheck disable=SC2034 # STATUS is for the suites
status_of() {
	STATUS=0
	"$@" || STATUS=$?
}

# server_start [ARGS...]: starts the step's server on a free port, its
# stdin /dev/null (or SERVER_INPUT, which server_start_fifo sets).
server_start() {
	local bin
	bin=$(impl_bin server)
	# shellcheck disable=SC2086 # KIT_WRAPPER is a command and its words
	spawn server "${SERVER_INPUT:-/dev/null}" \
		env ${KIT_PRELOAD:+LD_PRELOAD="$KIT_PRELOAD"} \
		${KIT_WRAPPER:-} "$bin" -p 0 "$@"
	SERVER_PID=$SPAWNED
	[ -z "${KIT_WRAPPER:-}" ] || touch "$BATS_TEST_TMPDIR/server.wrapped"
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on ' || {
		cat "$BATS_TEST_TMPDIR/server.err" >&2
		return 1
	}
	SERVER_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' \
		"$BATS_TEST_TMPDIR/server.out")
	[ -n "$SERVER_PORT" ]
}

# server_stop: sends SIGTERM and returns the server's exit status.
server_stop() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait_exit "$SERVER_PID"
}

# server_start_fifo [ARGS...]: server_start, with the server's stdin a FIFO
# held open by this shell, for a server that reads what its operator types
# (step 03): type with server_say, end the input with server_end.
server_start_fifo() {
	local fifo="$BATS_TEST_TMPDIR/server.in" fd
	rm -f "$fifo"
	mkfifo "$fifo"
	# Read-write, so that opening it does not wait for the server to.
	exec {fd}<>"$fifo"
	CLIENT_IN[server]=$fd
	SERVER_INPUT=$fifo server_start "$@"
}

# server_say LINE... / server_end: the operator types LINEs / presses Ctrl-D.
server_say() { client_say server "$@"; }
server_end() { client_end server; }

# fake_server NAME CODE: runs python3 CODE in the background as a server the
# kit did not write, to test a client against: CODE finds `l`, a TCP socket
# listening on 127.0.0.1, and `socket` imported; what it prints goes to
# NAME.out. Sets FAKE_PORT once it listens.
fake_server() {
	spawn "$1" /dev/null python3 -c "
import socket
l = socket.create_server(('127.0.0.1', 0))
print('listening on 127.0.0.1:%d' % l.getsockname()[1], flush=True)
$2"
	wait_for_line "$BATS_TEST_TMPDIR/$1.out" '^listening on ' || return 1
	# shellcheck disable=SC2034 # for the suites
	FAKE_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' \
		"$BATS_TEST_TMPDIR/$1.out")
}

# client_start NAME [ARGS...]: starts the kit's client against the server
# (ARGS go before HOST PORT); its stdin is a FIFO held open by this shell.
client_start() {
	local name=$1 fifo="$BATS_TEST_TMPDIR/$1.in" fd
	shift
	mkfifo "$fifo"
	spawn "$name" "$fifo" "$(impl_bin client)" "$@" 127.0.0.1 "$SERVER_PORT"
	exec {fd}>"$fifo"
	CLIENT_IN[$name]=$fd
}

# client_say NAME LINE... : types each LINE into client NAME.
client_say() {
	local name=$1
	shift
	printf '%s\n' "$@" >&"${CLIENT_IN[$name]}"
}

# client_end NAME: closes client NAME's stdin, as Ctrl-D would.
client_end() {
	local fd=${CLIENT_IN[$1]:-}
	[ -z "$fd" ] || exec {fd}>&-
	unset "CLIENT_IN[$1]"
}

# client_pid NAME: prints the pid of client NAME.
client_pid() {
	cat "$BATS_TEST_TMPDIR/$1.pid"
}

# raw_open NAME [HOST]: connects this shell to the server with bash's
# /dev/tcp, a client the kit did not write.
raw_open() {
	local fd
	exec {fd}<>"/dev/tcp/${2:-127.0.0.1}/$SERVER_PORT"
	RAW_FD[$1]=$fd
}

# raw_say NAME LINE... : sends each LINE with its LF.
raw_say() {
	local name=$1
	shift
	printf '%s\n' "$@" >&"${RAW_FD[$name]}"
}

# raw_read NAME: reads one line (CR removed) into REPLY, with a deadline.
raw_read() {
	IFS= read -r -t "$KIT_DEADLINE" -u "${RAW_FD[$1]}" REPLY || {
		echo "no line from the server within ${KIT_DEADLINE}s" >&2
		return 1
	}
	REPLY=${REPLY%$'\r'}
}

# raw_expect NAME REGEX: reads one line and checks it matches REGEX.
raw_expect() {
	raw_read "$1" || return 1
	if ! [[ $REPLY =~ $2 ]]; then
		echo "expected a line matching '$2', got '$REPLY'" >&2
		return 1
	fi
}

# raw_skip_to NAME REGEX [MAX]: reads lines until one matches REGEX, reading
# at most MAX lines (default 10000).
raw_skip_to() {
	local i
	for ((i = 0; i < ${3:-10000}; i++)); do
		raw_read "$1" || return 1
		[[ $REPLY =~ $2 ]] && return 0
	done
	echo "no line matching '$2' in ${3:-10000} lines" >&2
	return 1
}

# raw_expect_eof NAME: checks the server closes the connection (no more lines).
raw_expect_eof() {
	local rc=0
	IFS= read -r -t "$KIT_DEADLINE" -u "${RAW_FD[$1]}" REPLY || rc=$?
	if [ "$rc" -eq 0 ] || [ -n "$REPLY" ]; then
		echo "expected the server to close, got '$REPLY'" >&2
		return 1
	fi
	if [ "$rc" -gt 128 ]; then
		echo "the server did not close within ${KIT_DEADLINE}s" >&2
		return 1
	fi
}

# raw_close NAME: closes the connection.
raw_close() {
	local fd=${RAW_FD[$1]:-}
	[ -z "$fd" ] || exec {fd}>&-
	unset "RAW_FD[$1]"
}

# fd_count PID / thread_count PID: what the kernel says the process holds.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
thread_count() { find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# rss_kb PID: the resident memory of a process, in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Fails if a sanitizer reported anything in a spawned process's stderr.
check_sanitizers() {
	local f bad=0
	for f in "$BATS_TEST_TMPDIR"/*.err; do
		[ -e "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|WARNING: ThreadSanitizer|runtime error:|ERROR SUMMARY: [1-9]' "$f"; then
			echo "--- sanitizer or valgrind report in ${f##*/}:" >&2
			head -n 40 "$f" >&2
			bad=1
		fi
	done
	f="$BATS_TEST_TMPDIR/server.err"
	if [[ ${KIT_WRAPPER:-} == *valgrind* ]] &&
		[ -e "$BATS_TEST_TMPDIR/server.wrapped" ] &&
		! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
		echo "--- valgrind gave no clean summary for the server:" >&2
		tail -n 40 "$f" >&2
		bad=1
	fi
	return "$bad"
}

# kit_teardown: closes our descriptors, stops every background process
# (SIGTERM, then SIGKILL past the deadline), reaps them, and fails the test
# if a sanitizer complained.
kit_teardown() {
	local name pid
	for name in "${!CLIENT_IN[@]}"; do client_end "$name"; done
	for name in "${!RAW_FD[@]}"; do raw_close "$name"; done
	[ -e "$BATS_TEST_TMPDIR/pids" ] || return 0
	local -a live=()
	while read -r pid; do
		grep -qx "$pid" "$BATS_TEST_TMPDIR/reaped" 2>/dev/null ||
			live+=("$pid")
	done <"$BATS_TEST_TMPDIR/pids"
	for pid in "${live[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${live[@]}"; do
		if ! wait_until "process $pid to stop" exited "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	check_sanitizers
}
