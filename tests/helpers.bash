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
# kit_load_library NAME: defines what bats_load_library NAME would, faster.
# A library's load.bash sources each of its src/*.bash through "$(dirname
# ...)": two processes a file, which every test pays again (0.2 s a test
# for bats-support and bats-assert on a machine where a process takes
# 5 ms to start). The src/ files hold only definitions, so sourcing them
# directly gives the same functions. A library laid out otherwise is
# loaded the usual way.
kit_load_library() {
	local dir f
	local -a dirs
	IFS=: read -ra dirs <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
	for dir in "${dirs[@]}"; do
		[ -f "$dir/$1/load.bash" ] || continue
		[ -d "$dir/$1/src" ] || break
		for f in "$dir/$1"/src/*.bash; do
			# shellcheck disable=SC1090 # the library's own files
			. "$f"
		done
		return 0
	done
	bats_load_library "$1"
}
kit_load_library bats-support
kit_load_library bats-assert

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

# python3 starts many times a test. A version manager's shim in front of
# it (pyenv's is a shell script that runs a dozen commands) costs far more
# than the interpreter itself: the interpreter's own folder goes first in
# PATH, found once for the whole suite (bats passes exports on to tests).
if [ -z "${KIT_PYTHON_DIR:-}" ]; then
	KIT_PYTHON_DIR=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))' \
		2>/dev/null) || true
	export KIT_PYTHON_DIR=${KIT_PYTHON_DIR:-none}
fi
if [ "$KIT_PYTHON_DIR" != none ] && [[ $PATH != "$KIT_PYTHON_DIR":* ]]; then
	PATH=$KIT_PYTHON_DIR:$PATH
fi

declare -gA CLIENT_IN=() RAW_FD=() RAW_SENT=()
# What spawn started, by NAME: its pid and which program it is; and the
# exit status of every process reap() has reaped, by pid.
declare -gA PROG_PID=() PROG_WHAT=() EXIT_OF=()

# Prints the path of program $1 (server or client) of the step under test.
impl_bin() {
	printf '%s/%s/%s/%s\n' "$KIT_IMPL" "$STEP" "$KIT_OUT" "$1"
}

# close_fds and exited come from procs.bash, shared with tools/grade and
# tools/simulate.
# shellcheck source=tests/procs.bash
. "$BATS_TEST_DIRNAME/procs.bash"

# spawn NAME INPUT CMD... : runs CMD in the background with stdin from INPUT,
# stdout in $BATS_TEST_TMPDIR/NAME.out and stderr in NAME.err. Sets SPAWNED.
# WHAT (a variable, if set) says which program it is, for failure messages:
# "the server under test (steps/01-tcp-echo/server)", "the kit's client".
spawn() {
	local name=$1 input=$2
	shift 2
	(close_fds; exec "$@") <"$input" >"$BATS_TEST_TMPDIR/$name.out" \
		2>"$BATS_TEST_TMPDIR/$name.err" &
	SPAWNED=$!
	PROG_PID[$name]=$SPAWNED
	PROG_WHAT[$name]=${WHAT:-$name}
	echo "$SPAWNED" >>"$BATS_TEST_TMPDIR/pids"
	echo "$SPAWNED" >"$BATS_TEST_TMPDIR/$name.pid"
}

# reap PID: if PID (a process this shell started) has ended, reaps it,
# records its status in EXIT_OF and succeeds; fails while it runs. From a
# subshell, which cannot wait for its parent's children, only says whether
# it ended.
reap() {
	[ -z "${EXIT_OF[$1]:-}" ] || return 0
	exited "$1" || return 1
	[ "$BASHPID" = "$$" ] || return 0
	local rc=0
	wait "$1" 2>/dev/null || rc=$?
	EXIT_OF[$1]=$rc
	# Reaped: its pid is free for another process, which teardown must spare.
	echo "$1" >>"$BATS_TEST_TMPDIR/reaped"
}

# prog_report NAME: on stderr, what became of program NAME (started by
# spawn): which program it is, whether it still runs or how it ended, and
# the end of its stderr.
prog_report() {
	local name=$1 pid=${PROG_PID[$1]:-} how
	[ -n "$pid" ] || return 0
	if reap "$pid"; then
		how="has exited"
		[ -z "${EXIT_OF[$pid]:-}" ] || how="exited with $(status_words "${EXIT_OF[$pid]}")"
	else
		how="is still running"
	fi
	echo "${PROG_WHAT[$name]} $how" >&2
	tail_of "$BATS_TEST_TMPDIR/$name.err" "its stderr"
}

# tail_of FILE WHAT: the last lines of FILE on stderr, under a title.
tail_of() {
	if [ -s "$1" ]; then
		echo "--- $2, last lines (${1##*/}):" >&2
		tail -n "${TAIL_LINES:-12}" "$1" | cut -c 1-300 >&2
	else
		echo "--- $2: nothing (${1##*/} is empty)" >&2
	fi
}

# gone NAME STRICT: succeeds if program NAME has ended in a way that means
# the awaited thing will never come: at all (STRICT: it was the one to
# produce it), or else with a non-zero status or a signal.
gone() {
	local pid=${PROG_PID[$1]:-}
	[ -n "$pid" ] && reap "$pid" || return 1
	[ -n "$2" ] || [ "${EXIT_OF[$pid]:-1}" -ne 0 ]
}

# wait_until DESCRIPTION CMD... : runs CMD until it succeeds; fails with
# DESCRIPTION once KIT_DEADLINE seconds have gone by, and at once if a
# program it depends on ends first: the program named in WAIT_FOR (the one
# that would produce what is awaited) whatever its status, and the server
# under test if it ends with a non-zero status or a signal.
wait_until() {
	local what=$1 end=$((SECONDS + KIT_DEADLINE)) name strict
	shift
	until "$@"; do
		for name in ${WAIT_FOR:-} server; do
			strict=
			[ "$name" != "${WAIT_FOR:-}" ] || strict=1
			[ -n "$strict" ] || [ -n "${SERVER_WATCH:-}" ] || continue
			if gone "$name" "$strict"; then
				! "$@" || return 0	# it did it just before it ended
				echo "failed while waiting for $what:" >&2
				prog_report "$name"
				WAIT_GAVE_UP=gone
				return 1
			fi
		done
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${KIT_DEADLINE}s waiting for $what" >&2
			WAIT_GAVE_UP=timeout
			return 1
		fi
		sleep "$POLL"
	done
}

# wait_for_line FILE REGEX [COUNT]: waits until FILE holds COUNT (default 1)
# lines matching the extended REGEX. When FILE is the output of a program
# spawn started (NAME.out, NAME.err), stops waiting as soon as that program
# has ended. Shows FILE, and what became of the programs, when it gives up.
wait_for_line() {
	local file=$1 re=$2 count=${3:-1} WAIT_FOR=${1##*/}
	WAIT_FOR=${WAIT_FOR%.*}
	[ -n "${PROG_PID[$WAIT_FOR]:-}" ] || WAIT_FOR=
	if ! wait_until "$count line(s) matching '$re' in ${file##*/}" \
		count_at_least "$file" "$re" "$count"; then
		tail_of "$file" "what ${file##*/} holds"
		[ "$WAIT_GAVE_UP" = timeout ] || return 1
		if [ -n "$WAIT_FOR" ] && [ "$WAIT_FOR" != server ]; then
			prog_report "$WAIT_FOR"
		fi
		prog_report server
		return 1
	fi
}

# count_at_least FILE REGEX N: succeeds if FILE has N lines matching REGEX.
count_at_least() {
	[ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$3" ]
}

# wait_exit PID: waits with a deadline for PID to end, then reaps it and
# returns its exit status. Returns 124 (like timeout) if it never ends.
wait_exit() {
	wait_until "process $1 to exit" exited "$1" || return 124
	reap "$1"
	return "${EXIT_OF[$1]:-0}"
}

# status_of CMD...: runs CMD in this shell (unlike bats' run, so that it
# may wait for our children) and puts its exit status in STATUS.
# shellcheck disable=SC2034 # STATUS is for the suites
status_of() {
	STATUS=0
	"$@" || STATUS=$?
}

# explain_run WHO: after bats' run of WHO under timeout, says in words (on
# stderr, shown if the test fails) what a bare status would hide: that WHO
# was stopped at its deadline, or killed by a signal, and the end of what
# it wrote on stderr (with run --separate-stderr).
# shellcheck disable=SC2154 # status, stderr: set by bats' run
explain_run() {
	if [ "$status" -eq 124 ]; then
		echo "$1 timed out: it did not finish within ${KIT_DEADLINE}s and was stopped" >&2
	else
		echo "$1 exited with $(status_words "$status")" >&2
	fi
	if [ -n "${stderr:-}" ]; then
		echo "--- its stderr, last lines:" >&2
		printf '%s\n' "$stderr" | tail -n "${TAIL_LINES:-12}" | cut -c 1-300 >&2
	fi
}

# server_start [ARGS...]: starts the step's server on a free port, its
# stdin /dev/null (or SERVER_INPUT, which server_start_fifo sets). Fails at
# once if the server ends before its ready line, saying how and showing its
# stderr.
server_start() {
	local bin WHAT="the server under test ($STEP/server)"
	bin=$(impl_bin server)
	# shellcheck disable=SC2086 # KIT_WRAPPER is a command and its words
	spawn server "${SERVER_INPUT:-/dev/null}" \
		env ${KIT_PRELOAD:+LD_PRELOAD="$KIT_PRELOAD"} \
		${KIT_WRAPPER:-} "$bin" -p 0 "$@"
	SERVER_PID=$SPAWNED
	SERVER_WATCH=1
	[ -z "${KIT_WRAPPER:-}" ] || touch "$BATS_TEST_TMPDIR/server.wrapped"
	if ! wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on '; then
		echo "the server never printed its ready line, 'listening on ADDRESS:PORT':" \
			"look at what main() does before it prints it (${SERVER_BLAME:-opening the listening socket})" >&2
		return 1
	fi
	SERVER_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' \
		"$BATS_TEST_TMPDIR/server.out")
	if [ -z "$SERVER_PORT" ]; then
		echo "the server's ready line is not 'listening on ADDRESS:PORT':" \
			"$(head -n 1 "$BATS_TEST_TMPDIR/server.out")" >&2
		return 1
	fi
}

# server_stop: sends SIGTERM and returns the server's exit status.
server_stop() {
	SERVER_WATCH=
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
# kit wrote, to test a client against: CODE finds `l`, a TCP socket
# listening on 127.0.0.1, and `socket` imported; what it prints goes to
# NAME.out. Sets FAKE_PORT once it listens.
fake_server() {
	local WHAT="the kit's test server (python, $1)"
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

# kit_server_start KIND: starts a server the kit wrote (tests/kit_server.py,
# python) to test the step's client against, so that a failure is the
# client's: KIND is echo (step 01), chat (step 04's protocol) or turn
# (step 03's). Sets SERVER_PID and SERVER_PORT as server_start does, and
# the server's files are server.out and server.err.
kit_server_start() {
	local WHAT="the kit's $1 server (tests/kit_server.py)"
	spawn server "${SERVER_INPUT:-/dev/null}" python3 \
		"$BATS_TEST_DIRNAME/kit_server.py" "$1"
	SERVER_PID=$SPAWNED
	SERVER_WATCH=1
	wait_for_line "$BATS_TEST_TMPDIR/server.out" '^listening on ' || return 1
	SERVER_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' \
		"$BATS_TEST_TMPDIR/server.out")
}

# free_port: prints a TCP port of 127.0.0.1 that nothing listens on (the
# kernel's choice, closed again): for a test of -p, and for a client that
# must be refused.
free_port() {
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# client_start NAME [ARGS...]: starts the step's client (the program under
# test) against the server (ARGS go before HOST PORT); its stdin is a FIFO
# held open by this shell. A test of the client runs it against a server
# the kit wrote (kit_server_start); a test of the server uses
# kit_client_start instead.
client_start() {
	local name=$1 fifo="$BATS_TEST_TMPDIR/$1.in" fd
	local WHAT="the client under test ($STEP/client)"
	shift
	mkfifo "$fifo"
	spawn "$name" "$fifo" "$(impl_bin client)" "$@" 127.0.0.1 "$SERVER_PORT"
	exec {fd}>"$fifo"
	CLIENT_IN[$name]=$fd
}

# kit_client_start NAME: starts the kit's own line client (tests/
# kit_client.py, python) against the server, to test the server with: a
# failure is then the server's, never the step's unfinished client. It
# sends what client_say types, prints every line the server sends, and at
# client_end shuts down its sending half and prints until the server
# closes (exit 0; 1 if the server closed first).
kit_client_start() {
	local name=$1 fifo="$BATS_TEST_TMPDIR/$1.in" fd
	local WHAT="the kit's client (tests/kit_client.py)"
	mkfifo "$fifo"
	spawn "$name" "$fifo" python3 "$BATS_TEST_DIRNAME/kit_client.py" \
		127.0.0.1 "$SERVER_PORT"
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
	if ! exec {fd}<>"/dev/tcp/${2:-127.0.0.1}/$SERVER_PORT"; then
		echo "$1 could not connect to ${2:-127.0.0.1}:$SERVER_PORT" >&2
		prog_report server
		return 1
	fi
	RAW_FD[$1]=$fd
	RAW_SENT[$1]=
}

# raw_say NAME LINE... : sends each LINE with its LF.
raw_say() {
	local name=$1
	shift
	RAW_SENT[$name]=$*
	printf '%s\n' "$@" >&"${RAW_FD[$name]}"
}

# raw_failed NAME WHAT: explains, on stderr, a line NAME did not get: what it
# last sent, what it expected, and what became of the server.
raw_failed() {
	echo "$1: $2" >&2
	[ -z "${RAW_SENT[$1]:-}" ] || echo "$1 had last sent: '${RAW_SENT[$1]:0:200}'" >&2
	prog_report server
}

# raw_read NAME [WANT]: reads one line (CR removed) into REPLY, with a
# deadline; WANT (what the caller expects) is for the failure message.
raw_read() {
	local rc=0 part=
	IFS= read -r -t "$KIT_DEADLINE" -u "${RAW_FD[$1]}" REPLY || rc=$?
	[ -z "$REPLY" ] || part=" after '${REPLY:0:200}' (no LF)"
	if [ "$rc" -gt 128 ]; then
		raw_failed "$1" "expected ${2:-a line}; timed out after ${KIT_DEADLINE}s: no line from the server$part"
		return 1
	elif [ "$rc" -ne 0 ]; then
		raw_failed "$1" "expected ${2:-a line}; the server closed the connection$part"
		return 1
	fi
	REPLY=${REPLY%$'\r'}
}

# raw_expect NAME REGEX: reads one line and checks it matches REGEX.
raw_expect() {
	raw_read "$1" "a line matching '$2'" || return 1
	if ! [[ $REPLY =~ $2 ]]; then
		raw_failed "$1" "expected a line matching '$2', got '${REPLY:0:300}'"
		return 1
	fi
}

# raw_skip_to NAME REGEX [MAX]: reads lines until one matches REGEX, reading
# at most MAX lines (default 10000).
raw_skip_to() {
	local i
	for ((i = 0; i < ${3:-10000}; i++)); do
		raw_read "$1" "a line matching '$2'" || return 1
		[[ $REPLY =~ $2 ]] && return 0
	done
	raw_failed "$1" "no line matching '$2' in ${3:-10000} lines"
	return 1
}

# raw_expect_eof NAME: checks the server closes the connection (no more lines).
raw_expect_eof() {
	local rc=0
	IFS= read -r -t "$KIT_DEADLINE" -u "${RAW_FD[$1]}" REPLY || rc=$?
	if [ "$rc" -eq 0 ] || [ -n "$REPLY" ]; then
		raw_failed "$1" "expected the server to close the connection, got '${REPLY:0:300}'"
		return 1
	fi
	if [ "$rc" -gt 128 ]; then
		raw_failed "$1" "expected the server to close the connection; timed out after ${KIT_DEADLINE}s: it did not"
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

# rss_kb PID / vm_kb PID: the resident memory / the address space of a
# process, in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
vm_kb() { awk '/^VmSize:/ { print $2 }' "/proc/$1/status"; }

# fd_limit PID [LIMIT]: sets the soft limit on PID's open descriptors to
# LIMIT, or by default to the lowest descriptor number PID has free, so
# that the next one it opens (an accept()) fails with EMFILE; prints the
# limit it had. prlimit(2) works on a running process of the same user.
fd_limit() {
	python3 -c '
import os, resource, sys
pid = int(sys.argv[1])
if len(sys.argv) > 2:
    limit = int(sys.argv[2])
else:
    held = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}
    limit = min(set(range(len(held) + 1)) - held)
soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, hard))
print(soft)' "$@"
}

# survives_emfile LIMIT: waits for the server's accept() to fail with
# EMFILE (fd_limit lowered its limit), checks it is still running, then
# puts its limit back to LIMIT. A server that ended, now or by the time its
# limit comes back, fails the test with its report.
survives_emfile() {
	wait_for_line "$BATS_TEST_TMPDIR/server.err" 'Too many open files' || return 1
	if reap "$SERVER_PID" || ! fd_limit "$SERVER_PID" "$1" >/dev/null 2>&1; then
		echo "the server under test ended once accept() failed with EMFILE" \
			"(out of descriptors): that is a reason to go round, never to stop" >&2
		prog_report server
		return 1
	fi
}

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
