#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The live simulation, tools/simulate: the plain transcript of its
# scenarios against the solution and the steps, what a wait that never
# comes says, its command line, its tmux mode, and that it always leaves
# no process behind.
# shellcheck disable=SC2154,SC2153 # stderr(_lines) come from bats' run, STATUS from helpers

load helpers

teardown() {
	if [ -n "${TMUX_TEST:-}" ]; then
		tmux -S "$TMUX_TEST" kill-server 2>/dev/null || true
	fi
	kit_teardown
	if [ -n "${LAB_UP:-}" ]; then
		NETLAB_ID=$LAB_UP "$KIT_ROOT/tools/netlab" down >/dev/null 2>&1 || true
	fi
}

setup() {
	SIMULATE=$KIT_ROOT/tools/simulate
	RUN=$BATS_TEST_TMPDIR/run	# the simulation's temporary folder goes here
	mkdir -p "$RUN"
}

# sim ARGS...: runs tools/simulate with a deadline, its output in $output
# and its stderr in $stderr, in English unless ARGS say otherwise.
sim() {
	run --separate-stderr timeout 120 env TMPDIR="$RUN" LANG=C.UTF-8 LC_ALL= \
		LC_MESSAGES= "$SIMULATE" "$@"
}

# leftovers: prints the pids of the processes that still hold a file of
# the simulation's run open (its FIFOs, its output files): none once done.
leftovers() {
	find /proc/[0-9]*/fd -maxdepth 1 -lname "$RUN/*" 2>/dev/null |
		cut -d/ -f3 | sort -u
}

# no_leftovers: fails, showing them, if a process of the run is still there.
no_leftovers() {
	local pids
	pids=$(leftovers)
	if [ -n "$pids" ]; then
		echo "processes of the simulation still running:" >&2
		ps -o pid,stat,args -p "${pids//$'\n'/,}" >&2 || true
		return 1
	fi
	[ -z "$(ls -A "$RUN")" ] || { echo "left in $RUN: $(ls "$RUN")" >&2; return 1; }
}

# line_index TEXT: prints the index of the first transcript line TEXT.
line_index() {
	local i
	for i in "${!lines[@]}"; do
		if [ "${lines[i]}" = "$1" ]; then echo "$i"; return 0; fi
	done
	echo "no line '$1' in the transcript" >&2
	return 1
}

# in_order TEXT...: the transcript has each line TEXT, in this order.
in_order() {
	local prev=-1 i
	while [ "$#" -gt 0 ]; do
		i=$(line_index "$1")
		if [ "$i" -le "$prev" ]; then
			echo "'$1' comes too early in the transcript" >&2
			return 1
		fi
		prev=$i
		shift
	done
}

# ------------------------------------------------------------ the scenarios

@test "standard, plain, against the solution: everyone sees the whole protocol" {
	sim --plain
	assert_success
	assert_line '[simulate] scenario tools/scenarios/standard.scenario'
	assert_line --regexp '^\[server\] \$ solution/(build/[a-z-]+/)?server -a 127\.0\.0\.1 -p 0 -v$'
	assert_line --regexp '^\[server\] listening on 127\.0\.0\.1:[0-9]+$'
	# Each one joins under its name, and the chat says so.
	assert_line --regexp '^\[bob\] \$ solution/(build/[a-z-]+/)?client -n bob 127\.0\.0\.1 [0-9]+$'
	in_order "[alice] *** welcome guest1" "[alice] *** guest1 is now known as alice" \
		"[alice] *** guest2 joined" "[alice] *** guest2 is now known as bob" \
		"[alice] > hi! who's there?" "[bob] <alice> hi! who's there?"
	in_order "[carol] > /nick bob" "[carol] *** error: nickname bob is taken"
	in_order "[carol] > /list" "[carol] *** online (3): alice, bob, carol"
	assert_line '[alice] * bob waves at carol'
	assert_line '[carol] * bob waves at carol'
	assert_line '[carol] *alice* psst, bob cannot see this'
	assert_line '[alice] -> *carol* psst, bob cannot see this'
	refute_line --partial '[bob] *alice* psst'
	refute_line --partial '[bob] * bob waves'	# not to its sender
	in_order "[carol] > /quit off to lunch" "[alice] *** carol left (off to lunch)"
	assert_line '[bob] *** carol left (off to lunch)'
	in_order "[bob] > ^D" "[alice] *** bob left"
	assert_line '[alice] *** server shutting down'
	assert_line '[simulate] the scenario went as written'
	# The server's log (-v) shows the chat lines that pass, not the /msg.
	assert_line --regexp '^\[server\] [0-9:]+ server: <alice> hi! who.s there\?$'
	assert_line --regexp '^\[server\] [0-9:]+ server: \* bob waves at carol$'
	# Every line says who saw it; no color when the output is not a terminal.
	local line
	for line in "${lines[@]}"; do
		[[ $line =~ ^\[(server|alice|bob|carol|note|simulate)\]\  ]] ||
			{ echo "a line without its reader: $line" >&2; return 1; }
		[[ $line != "[server] "*psst* ]] ||
			{ echo "the server logged a private message: $line" >&2; return 1; }
	done
	refute_output --partial $'\e'
	[[ $stderr != *simulate:* ]]
	no_leftovers
}

@test "--step 04 plays standard-04 against step 04's server and client" {
	sim --plain --step 04
	assert_success
	assert_line '[simulate] scenario tools/scenarios/standard-04.scenario'
	assert_line --regexp '^\[server\] \$ steps/04-[a-z-]+/(build/[a-z-]+/)?server -a 127\.0\.0\.1 -p 0$'
	assert_line --regexp '^\[alice\] \$ steps/04-[a-z-]+/(build/[a-z-]+/)?client 127\.0\.0\.1 [0-9]+$'
	in_order "[alice] *** welcome guest1" "[bob] <guest1> hi! who's there?"
	assert_line '[alice] <guest2> hello alice, hello carol'
	assert_line '[carol] <guest2> hello alice, hello carol'
	refute_line '[carol] <guest3> hi both!'
	in_order "[carol] > /quit" "[alice] *** guest3 left" "[bob] > ^D" "[alice] *** guest2 left"
	refute_line --partial 'now known as'
	# Step 04 has no /nick: the transcript says who is which guest.
	in_order "[bob] *** welcome guest2" \
		"[simulate] bob is guest2 in the chat (this server has no /nick)"
	refute_line --partial -- '-n bob'
	no_leftovers
}

@test "blocking-chat, step 03: a second line waits for the other side's turn" {
	sim --plain blocking-chat
	assert_success
	in_order "[alice] > hello, server?" "[server] <guest1> hello, server?" \
		"[server] > hi alice! how are you?" "[alice] <server> hi alice! how are you?"
	# alice's second line goes out only after the operator's answer ...
	in_order "[alice] > the second thing is..." "[server] > go on" \
		"[server] <guest1> the second thing is..."
	# ... and the operator's second line only after alice's next one.
	in_order "[server] > hello?" "[alice] > yes, bye!" "[alice] <server> hello?"
	no_leftovers
}

@test "frozen-client, part 2, solution: the frozen client is dropped, the room goes on" {
	sim --plain --part 2 frozen-client
	assert_success
	refute_line --partial 'step 04'		# only the solution's part
	assert_line '[simulate] part 2: the reference solution'
	assert_line --regexp "^\[simulate\] carol's client is frozen: kill -STOP [0-9]+$"
	in_order "[bob] > [pastes 20000 lines of 500 bytes]" \
		"[alice] *** carol left (too slow)"
	assert_line '[bob] *** carol left (too slow)'
	assert_line --regexp '^\[alice\] <bob> flood 20000/20000 x+\.\.\. \(505 bytes\)$'
	in_order "[alice] > is anyone there?" "[bob] <alice> is anyone there?"
	assert_line --regexp '^\[server\] .* carol .* too slow$'
	no_leftovers
}

@test "frozen-client, part 2, --step 05: step 05 drops the frozen client too" {
	sim --plain --part 2 --step 05 frozen-client
	assert_success
	assert_line '[simulate] part 2: step 05'
	in_order "[bob] > [pastes 20000 lines of 500 bytes]" \
		"[alice] *** guest3 left (too slow)"
	in_order "[alice] > is anyone there?" "[bob] <guest1> is anyone there?"
	no_leftovers
}

# bats test_tags=heavy
@test "frozen-client, both parts: step 04's room stalls, the solution's does not" {
	sim --plain frozen-client
	assert_success
	local thaw
	thaw=$(grep -m1 "^\[simulate\] carol's client goes on: kill -CONT " <<<"$output")
	# The waits of the scenario (quiet, sees-not) prove the stall; here, the order.
	in_order "[simulate] part 1: step 04" "[bob] > [pastes 20000 lines of 500 bytes]" \
		"[alice] > is anyone there?" "$thaw" "[bob] <guest1> is anyone there?" \
		"[simulate] part 2: the reference solution" "[alice] *** carol left (too slow)"
	no_leftovers
}

# bats test_tags=heavy
@test "--step 04 frozen-client plays both parts: step 04 stalls, then the solution" {
	sim --plain --step 04 frozen-client
	assert_success
	in_order "[simulate] part 1: step 04" "[simulate] part 2: the reference solution" \
		"[alice] *** carol left (too slow)"
	no_leftovers
}

# --------------------------------------------------------------- failures

@test "a wait that never comes names who and what, fails fast, leaves nothing" {
	cat >"$BATS_TEST_TMPDIR/never.scenario" <<'EOF'
# bob says hi, but the scenario waits for hello
deadline 1
server solution
join alice
sees alice *** welcome ...
join bob
sees bob *** welcome ...
say bob hi
sees alice <bob> hello
say bob this never happens
EOF
	local start=$SECONDS
	sim --plain "$BATS_TEST_TMPDIR/never.scenario"
	assert_equal "$status" 1
	[ $((SECONDS - start)) -le 8 ]
	assert_equal "${stderr_lines[0]}" "simulate: alice did not see '<bob> hello' within 1s"
	[[ $stderr == *"--- what alice saw last:"*"| <bob> hi"* ]]
	assert_line '[bob] > hi'
	refute_line '[bob] > this never happens'
	refute_line --partial 'went as written'
	no_leftovers
}

@test "a client that exits before it sees the line is a clear failure too" {
	cat >"$BATS_TEST_TMPDIR/gone.scenario" <<'EOF'
server solution
join alice
sees alice *** welcome ...
say alice /quit
sees alice <someone> hi
EOF
	sim --plain "$BATS_TEST_TMPDIR/gone.scenario"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "simulate: alice did not see '<someone> hi': alice's client has exited"
	no_leftovers
}

@test "a mistake in a scenario names its file and line, and starts nothing" {
	printf 'server solution\njoin alice\nsya alice hi\n' >"$BATS_TEST_TMPDIR/typo.scenario"
	sim --plain "$BATS_TEST_TMPDIR/typo.scenario"
	assert_equal "$status" 2
	assert_equal "$stderr" "simulate: $BATS_TEST_TMPDIR/typo.scenario:3: unknown command 'sya' (see tools/scenarios/README.md)"
	printf 'server solution\nsay alice hi\n' >"$BATS_TEST_TMPDIR/early.scenario"
	sim --plain "$BATS_TEST_TMPDIR/early.scenario"
	assert_equal "$status" 2
	[[ $stderr == *"early.scenario:2: alice has not joined"* ]]
	no_leftovers
}

@test "SIGTERM in the middle of a run stops everything it started" {
	cat >"$BATS_TEST_TMPDIR/long.scenario" <<'EOF'
deadline 60
server solution
join alice
sees alice *** welcome ...
note.en waiting
note.fr on attend
sees alice <nobody> never
EOF
	spawn sim /dev/null env TMPDIR="$RUN" "$SIMULATE" --plain "$BATS_TEST_TMPDIR/long.scenario"
	local pid=$SPAWNED
	wait_for_line "$BATS_TEST_TMPDIR/sim.out" '^\[note\] waiting$'
	[ -n "$(leftovers)" ]	# the server and alice's client are up
	kill -TERM "$pid"
	status_of wait_exit "$pid"
	assert_equal "$STATUS" 143
	no_leftovers
}

# ----------------------------------------------------------- command line

@test "-h documents every option and exits 0" {
	sim -h
	assert_success
	assert_line --index 0 'usage: simulate [-h] [--solution | --step NN] [--part N] [--lang fr|en] [--plain]'
	assert_line --index 1 '                [--step-by-step] [--speed FACTOR] [--lab] [SCENARIO]'
	for word in --solution "--step NN" "--part N" "--lang fr|en" --plain --step-by-step \
		"--speed FACTOR" --lab "tools/netlab up" standard standard-04 blocking-chat \
		frozen-client tools/scenarios/README.md "Space pauses" "Enter goes on"; do
		assert_output --partial "$word"
	done
	sim --help
	assert_success
}

@test "a bad option or value exits 2 with the usage on stderr" {
	local args
	for args in "--bogus" "--speed 0" "--speed fast" "--step" "--step 4x" \
		"--solution --step 04" "standard standard-04" "--lang de" "--lang" \
		"--part 0" "--part x" "--part 3 frozen-client"; do
		# shellcheck disable=SC2086 # the words of each case
		sim $args
		assert_equal "$status" 2
		assert_equal "$output" ""
		[[ $stderr == simulate:*$'\n'"usage: simulate "* ]] ||
			{ echo "$args: $stderr" >&2; return 1; }
	done
	sim --bogus
	assert_equal "${stderr_lines[0]}" "simulate: unknown option '--bogus'"
}

@test "an unknown scenario, or one for another server, exits 2 and says why" {
	sim --plain nosuch
	assert_equal "$status" 2
	[[ ${stderr_lines[0]} == "simulate: no scenario named 'nosuch' (in tools/scenarios/: "* ]]
	local name
	for name in blocking-chat frozen-client standard standard-04; do
		[[ ${stderr_lines[0]} == *" $name"[,\)]* ]]
	done
	sim --plain --step 04 standard
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "simulate: scenario 'standard' is written for solution, not step 04; try: tools/simulate --step 04"
	sim --plain --step 99
	assert_equal "$status" 2
	[[ ${stderr_lines[0]} == "simulate: no scenario has a part for step 99"* ]]
	no_leftovers
}

@test "without a terminal, it prints the transcript and says how to get the panes" {
	sim --step 04	# no --plain: bats' stdout is no terminal
	assert_success
	assert_line '[simulate] the scenario went as written'
	assert_equal "${stderr_lines[0]}" "simulate: $(command -v tmux >/dev/null ||
		echo 'tmux is not installed and ')this is not a terminal, so here is the plain transcript."
	assert_equal "${stderr_lines[1]}" "simulate: For the interactive demo (one pane per participant): $(
		command -v tmux >/dev/null || echo 'apt-get install tmux, then ')run 'make demo' in a terminal."
	no_leftovers
}

# --------------------------------------------------------------- tmux mode

# tmux_text: what the simulation's own tmux server shows, every pane.
tmux_text() {
	local pane
	for pane in $(tmux -S "$INNER" list-panes -F '#{pane_id}'); do
		tmux -S "$INNER" capture-pane -p -J -t "$pane"
	done
}

# shows TEXT: succeeds if a pane of the simulation shows TEXT.
shows() { tmux_text 2>/dev/null | grep -qF -- "$1"; }

# pane_of TITLE: prints the id of the simulation's pane titled TITLE.
pane_of() {
	tmux -S "$INNER" list-panes -F '#{pane_id} #{pane_title}' |
		sed -n "s/^\\(%[0-9]*\\) $1\$/\\1/p"
}

# titled: succeeds if the simulation's panes have the titles TITLES, in order.
titled() {
	[ "$(tmux -S "$INNER" list-panes -F '#{pane_title}' 2>/dev/null)" = "$TITLES" ]
}

# inner_socket: succeeds once the simulation's tmux server is up (INNER set).
inner_socket() {
	local s
	for s in "$RUN"/simulate.*/tmux; do
		if [ -S "$s" ]; then INNER=$s; return 0; fi
	done
	return 1
}

@test "tmux mode: titled panes, typing, the pane 'you', a key ends it cleanly" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	TMUX_TEST=$BATS_TEST_TMPDIR/outer
	# A terminal for the simulation: a pane of a tmux server of our own.
	tmux -S "$TMUX_TEST" -f /dev/null new-session -d -x 200 -y 60 \
		"cd '$KIT_ROOT' && TMPDIR='$RUN' tools/simulate --speed 20 standard-04; echo \$? >'$BATS_TEST_TMPDIR/rc'"
	wait_until "the simulation's tmux server" inner_socket
	TITLES=$(printf '%s\n' 'simulation: standard-04' 'server log' alice bob carol you)
	wait_until "one titled pane each: $TITLES" titled
	KIT_DEADLINE=60 wait_until "the end of the scenario" shows "The scenario is over"
	shows "<guest1> hi! who's there?"
	shows "*** guest3 left"
	# The instructor types in the pane "you", a client of the room too.
	tmux -S "$INNER" send-keys -t "$(pane_of you)" "hello from you" Enter
	wait_until "alice to see it" shows "<guest4> hello from you"
	tmux -S "$INNER" send-keys -t "$(pane_of "simulation: standard-04")" x
	wait_until "the end of the demo" test -s "$BATS_TEST_TMPDIR/rc"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	wait_until "every process of the run to end" test -z "$(leftovers)"
	no_leftovers
}

@test "tmux mode: Ctrl-C in the middle ends the demo and leaves nothing" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	TMUX_TEST=$BATS_TEST_TMPDIR/outer
	tmux -S "$TMUX_TEST" -f /dev/null new-session -d -x 160 -y 50 \
		"cd '$KIT_ROOT' && TMPDIR='$RUN' tools/simulate; echo \$? >'$BATS_TEST_TMPDIR/rc'"
	wait_until "the simulation's tmux server" inner_socket
	# At the demo's own pace, alice joins after a pause and some typing.
	KIT_DEADLINE=40 wait_until "alice to join" shows "*** welcome guest1"
	tmux -S "$TMUX_TEST" send-keys C-c
	wait_until "the end of the demo" test -s "$BATS_TEST_TMPDIR/rc"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	wait_until "every process of the run to end" test -z "$(leftovers)"
	no_leftovers
}

@test "tmux mode: Space pauses and resumes, step mode waits for Enter, hold waits too" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	TMUX_TEST=$BATS_TEST_TMPDIR/outer
	tmux -S "$TMUX_TEST" -f /dev/null new-session -d -x 200 -y 50 \
		"cd '$KIT_ROOT' && LANG=C.UTF-8 TMPDIR='$RUN' tools/simulate --speed 50 --step-by-step standard-04; echo \$? >'$BATS_TEST_TMPDIR/rc'"
	wait_until "the simulation's tmux server" inner_socket
	wait_until "the narration pane" has_pane "simulation: standard-04"
	local narration
	narration=$(pane_of "simulation: standard-04")
	# Step mode: announced, and the demo waits at its first note.
	wait_until "the step mode announced" shows "Step mode: at each note, the demo waits for Enter"
	wait_until "the status line to ask for Enter" status_says "Enter: next"
	run ! shows "*** welcome guest1"	# not before Enter
	tmux -S "$INNER" send-keys -t "$narration" Enter
	wait_until "alice to join after Enter" shows "*** welcome guest1"
	wait_until "the next note" shows "alice is alone in the room"
	# s turns the step mode off: the scenario then runs on by itself, until
	# Space pauses it.
	tmux -S "$INNER" send-keys -t "$narration" s
	wait_until "step mode off" shows "Step mode off"
	tmux -S "$INNER" send-keys -t "$narration" Enter Space
	wait_until "the pause announced" shows "Paused: Space resumes."
	wait_until "the status line to say so" status_says "PAUSED (Space)"
	# Paused, nothing moves: the narration pane keeps its last line for
	# as long as we look (the whole scenario takes well under 2 s at
	# --speed 50 when it runs).
	local before
	before=$(tmux -S "$INNER" capture-pane -p -J -t "$narration" | grep -c .)
	local end=$((SECONDS + 2))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(tmux -S "$INNER" capture-pane -p -J -t "$narration" | grep -c .)" = "$before" ] ||
			{ echo "the demo went on while paused" >&2; return 1; }
		sleep 0.2
	done
	tmux -S "$INNER" send-keys -t "$narration" Space
	wait_until "the demo to resume" shows "Resumed."
	KIT_DEADLINE=60 wait_until "the end of the scenario" shows "The scenario is over"
	tmux -S "$INNER" send-keys -t "$narration" x
	wait_until "the end of the demo" test -s "$BATS_TEST_TMPDIR/rc"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	wait_until "every process of the run to end" test -z "$(leftovers)"
	no_leftovers
}

# has_pane TITLE: the simulation has a pane titled TITLE.
has_pane() { [ -n "$(pane_of "$1")" ]; }

# status_says TEXT: the simulation's tmux status line shows TEXT.
status_says() {
	tmux -S "$INNER" show-options -gv status-right 2>/dev/null | grep -qF -- "$1"
}

# bats test_tags=heavy
@test "tmux mode, frozen-client: the stall holds until Enter; titles say frozen, dropped, left" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	TMUX_TEST=$BATS_TEST_TMPDIR/outer
	tmux -S "$TMUX_TEST" -f /dev/null new-session -d -x 200 -y 50 \
		"cd '$KIT_ROOT' && LANG=C.UTF-8 TMPDIR='$RUN' tools/simulate --speed 50 frozen-client; echo \$? >'$BATS_TEST_TMPDIR/rc'"
	wait_until "the simulation's tmux server" inner_socket
	# Step 04 has no /nick: the titles say who is which guest.
	KIT_DEADLINE=40 wait_until "bob's title with his guest name" pane_titled "bob = guest2"
	KIT_DEADLINE=60 wait_until "the hold" shows "The demo waits here until you press Enter."
	pane_titled "carol = guest3 (frozen)"
	run ! shows "carol's client goes on"	# not before Enter
	tmux -S "$INNER" send-keys -t "$(pane_of "simulation: frozen-client")" Enter
	wait_until "the thaw after Enter" shows "carol's client goes on"
	# Part 2, the solution: everyone under their own name; carol dropped.
	KIT_DEADLINE=60 wait_until "carol's title: frozen, dropped" pane_titled "carol (frozen, dropped by the server)"
	pane_titled bob
	KIT_DEADLINE=60 wait_until "the end of the scenario" shows "The scenario is over"
	tmux -S "$INNER" send-keys -t "$(pane_of "simulation: frozen-client")" x
	wait_until "the end of the demo" test -s "$BATS_TEST_TMPDIR/rc"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	wait_until "every process of the run to end" test -z "$(leftovers)"
	no_leftovers
}

# pane_titled TITLE: a pane of the simulation has the title TITLE.
pane_titled() {
	tmux -S "$INNER" list-panes -F '#{pane_title}' 2>/dev/null | grep -qxF -- "$1"
}

@test "tmux mode at 120x32: the projector layout, titles that say who left" {
	command -v tmux >/dev/null || skip "tmux is not installed"
	TMUX_TEST=$BATS_TEST_TMPDIR/outer
	tmux -S "$TMUX_TEST" -f /dev/null new-session -d -x 120 -y 32 \
		"cd '$KIT_ROOT' && LANG=C.UTF-8 TMPDIR='$RUN' tools/simulate --speed 50 standard; echo \$? >'$BATS_TEST_TMPDIR/rc'; exec sleep 600"
	wait_until "the simulation's tmux server" inner_socket
	wait_until "the panes" has_pane alice
	# A participant's pane is tall: a third of the screen's width, most of its height.
	local h
	h=$(tmux -S "$INNER" display-message -p -t "$(pane_of alice)" '#{pane_height}')
	[ "$h" -ge 16 ] || { echo "alice's pane has $h rows" >&2; return 1; }
	[ -z "$(pane_of you)" ]		# no empty pane "you" until it joins
	KIT_DEADLINE=60 wait_until "the end of the scenario" shows "The scenario is over"
	[ -n "$(pane_of you)" ]
	pane_titled "carol (left)"
	pane_titled "bob (left)"
	pane_titled "alice"
	shows "<alice> hi! who's there?"
	tmux -S "$INNER" send-keys -t "$(pane_of "simulation: standard")" x
	wait_until "the end of the demo" test -s "$BATS_TEST_TMPDIR/rc"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	# The terminal shows no "[server exited]", which reads as a crash.
	run tmux -S "$TMUX_TEST" capture-pane -p -J
	refute_output --partial "[server exited]"
	assert_output --partial "simulate: the demo is over."
	wait_until "every process of the run to end" test -z "$(leftovers)"
	no_leftovers
}

# ------------------------------------------------------------- languages

@test "--lang fr, or a French locale, narrates in French; --lang en overrides it" {
	sim --plain --lang fr --step 04
	assert_success
	assert_line "[simulate] scénario tools/scenarios/standard-04.scenario"
	assert_line "[simulate] partie 1"$'\u202f'": l'étape 04"
	assert_line "[note] alice est seule dans le salon. Le serveur l'a accueillie sous un nom d'invitée."
	refute_line --partial "alice is alone"
	run --separate-stderr timeout 120 env TMPDIR="$RUN" LC_ALL= LC_MESSAGES= LANG=fr_FR.UTF-8 \
		"$SIMULATE" --plain --step 04
	assert_success
	assert_line "[note] alice est seule dans le salon. Le serveur l'a accueillie sous un nom d'invitée."
	run --separate-stderr timeout 120 env TMPDIR="$RUN" LC_ALL= LC_MESSAGES= LANG=fr_FR.UTF-8 \
		"$SIMULATE" --plain --lang en --step 04
	assert_success
	assert_line "[note] alice is alone in the room. The server welcomed her with a guest name."
	no_leftovers
}

@test "every note of every scenario is written in French and in English" {
	local f n en fr
	for f in "$KIT_ROOT"/tools/scenarios/*.scenario; do
		en=$(grep -c '^note\.en ' "$f")
		fr=$(grep -c '^note\.fr ' "$f")
		[ "$en" -gt 0 ] && [ "$en" = "$fr" ] ||
			{ echo "${f##*/}: $en English notes, $fr French ones" >&2; return 1; }
		! grep -qE '^note( |$)' "$f" || { echo "${f##*/}: a note without its language" >&2; return 1; }
	done
	# And the parser refuses a note that lacks a language, naming its line.
	printf 'server solution\nnote.en hello\njoin alice\n' >"$BATS_TEST_TMPDIR/half.scenario"
	sim --plain "$BATS_TEST_TMPDIR/half.scenario"
	assert_equal "$status" 2
	assert_equal "$stderr" "simulate: $BATS_TEST_TMPDIR/half.scenario:2: this note has no note.fr line: say it in en and fr"
	printf 'server solution\nnote hello\n' >"$BATS_TEST_TMPDIR/bare.scenario"
	sim --plain "$BATS_TEST_TMPDIR/bare.scenario"
	assert_equal "$status" 2
	[[ $stderr == *"bare.scenario:2: say it in every language"* ]]
	no_leftovers
}

# ------------------------------------------------------------ make class

# free_port: prints a TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::", 0)); print(s.getsockname()[1])'
}

@test "make class runs tools/class, with PORT= if given" {
	run make -s -n -C "$KIT_ROOT" class PORT=5000
	assert_success
	assert_output "tools/class -p '5000'"
	run make -s -n -C "$KIT_ROOT" class
	assert_output "tools/class "
}

@test "tools/class: every address and the hostname, three ways to join, the room live, Ctrl-C" {
	command -v tmux >/dev/null || skip "tmux is not installed (the test presses Ctrl-C in a terminal)"
	local port host hosts out=$BATS_TEST_TMPDIR/class.out log=$BATS_TEST_TMPDIR/class.err
	port=$(free_port)
	# tools/class runs the plain build, and builds it if need be: not a
	# wait this test is about (under SAN, only the sanitizer build is there).
	make -s -C "$KIT_ROOT/solution" SAN= >/dev/null
	TMUX_TEST=$BATS_TEST_TMPDIR/outer
	tmux -S "$TMUX_TEST" -f /dev/null new-session -d -x 160 -y 50 \
		"bash -c 'cd $KIT_ROOT && PORT=$port tools/class >$out 2>$log; echo \$? >$BATS_TEST_TMPDIR/rc'"
	wait_for_line "$out" '^Ctrl-C closes the room'
	assert_equal "$(head -n 1 "$out")" "The chatroom is open on port $port, on every address of this machine."
	mapfile -t hosts < <(hostname; ip -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4 }')
	for host in "${hosts[@]}"; do
		grep -qE "^    solution/client -n YOURNAME $host $port +# " "$out"
		grep -qE "^    nc $host $port +# " "$out"
		grep -qE "^    telnet $host $port +# " "$out"
	done
	# A student joins from an address that is not loopback, with a client
	# the kit did not write, and the room shows it live.
	SERVER_PORT=$port
	raw_open student "${hosts[1]:-127.0.0.1}"
	raw_expect student '^\*\*\* welcome guest1$'
	raw_say student "hello class"
	wait_for_line "$log" ' server: <guest1> hello class$'
	# Ctrl-C: everyone is told, the room closes, the command ends well.
	tmux -S "$TMUX_TEST" send-keys C-c
	raw_skip_to student '^\*\*\* server shutting down$'
	raw_expect_eof student
	wait_until "the end of make class" test -s "$BATS_TEST_TMPDIR/rc"
	tail_of "$log" "tools/class's stderr (the room)"	# shown if this fails
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	assert_equal "$(tail -n 1 "$out")" "The room is closed."
	run ! pgrep -f "solution/server -p $port -v"
}

@test "tools/class: a port in use is said and exits 1; SIGTERM closes the room, exit 0" {
	local port pid
	port=$(free_port)
	make -s -C "$KIT_ROOT/solution" SAN= >/dev/null
	spawn class /dev/null env PORT="$port" "$KIT_ROOT/tools/class"
	pid=$SPAWNED
	wait_for_line "$BATS_TEST_TMPDIR/class.out" '^Ctrl-C closes the room'
	# A second room on the same port: the server's reason, then the end.
	run --separate-stderr timeout 30 env PORT="$port" "$KIT_ROOT/tools/class"
	assert_equal "$status" 1
	assert_output ""
	[[ ${stderr_lines[0]} == *"cannot listen on "*"port $port: "* ]]
	assert_equal "${stderr_lines[-1]}" "class: the server stopped with status 1"
	# SIGTERM to tools/class alone: it stops the server, which tells the
	# room, and ends well.
	kill -TERM "$pid"
	wait_until "tools/class to end" reap "$pid"
	tail_of "$BATS_TEST_TMPDIR/class.err" "tools/class's stderr"	# if this fails
	assert_equal "${EXIT_OF[$pid]}" 0
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/class.out")" "The room is closed."
	grep -q ' server: stop signal: shutting down$' "$BATS_TEST_TMPDIR/class.err"
	run ! pgrep -f "solution/server -p $port -v"
}

# ------------------------------------------------------------- the lab

@test "--lab without the lab up says how to bring it up, and starts nothing" {
	NETLAB_ID=nosuch$$ sim --plain --lab
	assert_equal "$status" 1
	[[ ${stderr_lines[0]} == "simulate: --lab: the network lab is not ready: "* ]]
	assert_equal "${stderr_lines[1]}" "simulate: Bring it up with 'tools/netlab up' (as root), then run this again; 'tools/netlab down' removes it."
	assert_output ""
	no_leftovers
}

@test "--lab: the server on the lab's host server, each participant on its own host" {
	[ "$(id -u)" -eq 0 ] || skip "the network lab needs root (tools/netlab); run this suite as root to test --lab"
	export NETLAB_ID=sim$$
	LAB_UP=$NETLAB_ID
	"$KIT_ROOT/tools/netlab" up >/dev/null
	sim --plain --lab --step 04
	assert_success
	assert_line --regexp '^\[server\] \$ tools/netlab run server steps/04-[a-z-]+/(build/[a-z-]+/)?server -p 0$'
	assert_line --regexp '^\[alice\] \$ tools/netlab run alice steps/04-[a-z-]+/(build/[a-z-]+/)?client server [0-9]+$'
	# The server saw each participant come from the address of its host.
	local i
	for i in 1 2 3; do	# alice, bob, carol: guest1, 2, 3 at .11, .12, .13
		assert_line --regexp "^\\[server\\] .* guest$i connected from \\[?(192\\.0\\.2\\.1$i|2001:db8::1$i)\\]?:[0-9]+$"
	done
	assert_line '[simulate] the scenario went as written'
	no_leftovers
}
