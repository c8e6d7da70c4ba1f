# shellcheck shell=bash
# procs.bash - the few process helpers every shell script of the kit needs,
# written once: sourced by tests/helpers.bash, tools/grade and
# tools/simulate. Defines functions only; sets no option and no variable.

# close_fds: closes every descriptor above 2 of the current (sub)shell, so
# that a background process holds no pipe of whoever started it (bats waits
# on its descriptor 3; a grader's caller waits on its stdout).
close_fds() {
	local fd
	for fd in /proc/"$BASHPID"/fd/*; do
		fd=${fd##*/}
		if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
	done
}

# exited PID: succeeds if process PID has ended: gone, or a zombie not yet
# reaped. The state is the field after the command name, which is in
# parentheses and may itself hold spaces or parentheses.
exited() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

# status_words STATUS: a shell exit status in words: "status 1", or
# "killed by SIGSEGV" for 128+N (and "timed out" is left to the caller).
status_words() {
	if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
		printf 'killed by SIG%s (status %s)\n' "$(kill -l "$(($1 - 128))" 2>/dev/null || echo "$(($1 - 128))")" "$1"
	else
		printf 'status %s\n' "$1"
	fi
}
