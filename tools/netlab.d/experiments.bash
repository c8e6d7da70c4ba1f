# experiments.bash - the lab's experiments, sourced by tools/netlab.
#
# Each experiment uses the lab that is up (NETLAB_ID), or brings one up for
# its run and takes it down after. It prints what it measured, and keeps
# its files (results, ladders as text and SVG, captures) in
# dist/netlab/NAME/ (or $NETLAB_OUT/NAME/), where the slides find them. Every process it starts
# is stopped, and every impairment it set is cleared, however it ends.
# shellcheck shell=bash

EXPERIMENTS=(addressing handshake tcp-vs-udp chat)
X_PIDS=()
declare -A NARRATION=(
	[addressing]="A host has addresses and a name; getaddrinfo turns the name into the addresses, in an order."
	[handshake]="What TCP puts on the wire for one echo session: opening, data, closing, refusing."
	[tcp-vs-udp]="Reliable but slower, or faster but less reliable: the same lines over a link that loses packets."
	[chat]="The chatroom across hosts, one participant behind a link that loses packets."
)
X_OWN_LAB=0
X_DIR=
PORT=4242

# Starts the experiment NAME: its folder, the lab, the clean-up.
x_begin() {
	X_DIR=${NETLAB_OUT:-$KIT/dist/netlab}/$1
	rm -rf "$X_DIR"
	mkdir -p "$X_DIR"
	local b
	for b in steps/01-tcp-echo/server steps/01-tcp-echo/client steps/02-udp-echo/server \
		steps/02-udp-echo/client solution/server solution/client; do
		[ -x "$KIT/$b" ] || die "$b is not built: run make first (make lab does both)"
	done
	trap x_end EXIT
	trap 'exit 130' INT TERM
	if ! is_up; then
		X_OWN_LAB=1
		(cmd_up) >/dev/null	# a subshell: up's traps are not ours
	fi
	local h
	for h in "${HOSTS[@]}"; do clear_host "$h"; done
	cd "$KIT" || exit 1
}

# The EXIT trap: stops what the experiment started, clears the wire, and
# takes the lab down if the experiment brought it up.
x_end() {
	local pid h
	for pid in "${X_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${X_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	X_PIDS=()
declare -A NARRATION=(
	[addressing]="A host has addresses and a name; getaddrinfo turns the name into the addresses, in an order."
	[handshake]="What TCP puts on the wire for one echo session: opening, data, closing, refusing."
	[tcp-vs-udp]="Reliable but slower, or faster but less reliable: the same lines over a link that loses packets."
	[chat]="The chatroom across hosts, one participant behind a link that loses packets."
)
	stop_capture
	if [ "$X_OWN_LAB" -eq 1 ]; then
		teardown
		X_OWN_LAB=0
	elif is_up; then
		for h in "${HOSTS[@]}"; do clear_host "$h"; done
	fi
}

# x_spawn NAME HOST CMD...: runs CMD on HOST in the background, its output
# in NAME.out and NAME.err of the experiment's folder. Sets X_PID.
x_spawn() {
	local name=$1 h=$2
	shift 2
	ip netns exec "$(ns_of "$h")" "$@" </dev/null >"$X_DIR/$name.out" 2>"$X_DIR/$name.err" &
	X_PID=$!
	X_PIDS+=("$X_PID")
}

# x_server NAME HOST CMD...: x_spawn, then waits for the ready line.
x_server() {
	x_spawn "$@"
	wait_file "$X_DIR/$1.out" "listening on" ||
		die "$1 did not start on $2: $(tail -n 3 "$X_DIR/$1.err")"
}

# x_stop PID: stops one process the experiment started.
x_stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Seconds since the epoch, to the microsecond (no process started).
now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }

# Prints B - A, two times from now(), in seconds with 2 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Prints the TCP segments NS has retransmitted so far (its own counter).
retrans() {
	# shellcheck disable=SC2016 # awk's own $
	in_ns "$(ns_of "$1")" awk '/^Tcp:/ { if (!k) { for (i = 1; i <= NF; i++) col[$i] = i; k = 1 }
		else print $col["RetransSegs"] }' /proc/net/snmp
}

# ------------------------------------------------------------ 1. addressing

x_addressing() {
	x_begin addressing
	echo "== addressing: one server, reached from alice by IPv4 address, IPv6 address and name"
	echo
	echo "getaddrinfo(\"server\", \"4242\", AF_UNSPEC, SOCK_STREAM) on alice returned, in order:"
	in_ns "$(ns_of alice)" python3 -c 'import socket
for i, a in enumerate(socket.getaddrinfo("server", 4242, type=socket.SOCK_STREAM), 1):
    print(f"  {i}. {a[4][0]:<14} {a[0].name}")' | tee "$X_DIR/getaddrinfo.txt"
	echo
	x_server tcp server steps/01-tcp-echo/server -p "$PORT"
	local tcp=$X_PID target out rc
	echo "step 01 (TCP; its server opens an AF_INET socket: $(cat "$X_DIR/tcp.out")):"
	for target in 192.0.2.10 2001:db8::10 server; do
		rc=0
		out=$(echo "hello by $target" | timeout 10 ip netns exec "$(ns_of alice)" \
			steps/01-tcp-echo/client "$target" "$PORT" 2>&1) || rc=$?
		printf '  client %-13s exit %d  %s\n' "$target" "$rc" "${out##*: }"
	done | tee "$X_DIR/tcp.txt"
	echo "  the server saw: $(grep -o 'client .* connected' "$X_DIR/tcp.err" | sed 's/ connected//' | paste -sd, - | sed 's/,/, /g')"
	echo
	echo "What the client did for the name 'server' (packets seen on alice):"
	echo "hello by name" | cmd_capture -o "$X_DIR/by-name" -t "step 01 client on alice: client server 4242" \
		alice -- steps/01-tcp-echo/client server "$PORT" >/dev/null
	cat "$X_DIR/by-name.txt"
	x_stop "$tcp"
	echo
	x_server udp server steps/02-udp-echo/server -p "$PORT"
	echo "step 02 (UDP; its server binds with common/net.c, IPv6 and IPv4: $(cat "$X_DIR/udp.out")):"
	for target in 192.0.2.10 2001:db8::10 server; do
		rc=0
		out=$(echo "hello by $target" | timeout 10 ip netns exec "$(ns_of alice)" \
			steps/02-udp-echo/client "$target" "$PORT" 2>&1) || rc=$?
		printf '  client %-13s exit %d  %s\n' "$target" "$rc" "${out##*: }"
	done | tee "$X_DIR/udp.txt"
	echo "  the server saw datagrams from: $(grep -o 'from .*' "$X_DIR/udp.err" | sed 's/from //' | paste -sd, - | sed 's/,/, /g')"
}

# ------------------------------------------------------------ 2. handshake

x_handshake() {
	x_begin handshake
	echo "== handshake: a step 01 echo session between alice and server, packet by packet"
	echo
	x_server tcp server steps/01-tcp-echo/server -p "$PORT"
	local tcp=$X_PID
	printf 'hello\nworld\n' | cmd_capture -o "$X_DIR/session" \
		-t "alice: printf 'hello\\nworld\\n' | client 192.0.2.10 4242" \
		alice -- steps/01-tcp-echo/client 192.0.2.10 "$PORT" >/dev/null
	cat "$X_DIR/session.txt"
	echo
	echo "TIME-WAIT right after (ss -tan state time-wait), on each side:"
	{
		local h
		for h in alice server; do
			printf '  %-7s ' "$h"
			in_ns "$(ns_of "$h")" ss -Htn state time-wait | awk '{ printf "%s -> %s  ", $3, $4 } END { if (!NR) printf "(none)" }'
			echo
		done
	} | tee "$X_DIR/time-wait.txt"
	echo
	echo "Nobody listening on port 4343:"
	cmd_capture -o "$X_DIR/refused" -t "alice: client 192.0.2.10 4343 (no server there)" \
		alice -- steps/01-tcp-echo/client 192.0.2.10 4343 >/dev/null 2>"$X_DIR/refused.err" || true
	cat "$X_DIR/refused.txt"
	echo "  the client said: $(cat "$X_DIR/refused.err")"
	echo
	echo "A client killed (kill -9) in the middle of its session:"
	# shellcheck disable=SC2016 # the inner script's own $
	cmd_capture -o "$X_DIR/killed" -t "alice: client 192.0.2.10 4242, then kill -9 after one echo" \
		alice -- bash -c '
		exec 3< <(echo hello; sleep 30)
		steps/01-tcp-echo/client 192.0.2.10 4242 <&3 >"$1" &
		end=$((SECONDS + 10))
		until grep -q hello "$1"; do [ "$SECONDS" -lt "$end" ] || exit 1; sleep 0.02; done
		kill -9 $!' killed "$X_DIR/killed.out" >/dev/null
	cat "$X_DIR/killed.txt"
	x_stop "$tcp"
	echo "  the server's log: $(grep -o 'client .*' "$X_DIR/tcp.err" | tail -n 2 | paste -sd';' - | sed 's/;/; /')"
}

# ------------------------------------------------------------ 3. tcp-vs-udp

# x_udp_run LOSS LINES WAIT: the UDP half of one row; prints "BACK SECONDS".
x_udp_run() {
	local t0 t1
	t0=$(now)
	ip netns exec "$(ns_of alice)" steps/02-udp-echo/client -w "$3" server "$PORT" \
		<"$X_DIR/lines.txt" >"$X_DIR/udp-$1.out" 2>"$X_DIR/udp-$1.err" || true
	t1=$(now)
	printf '%s %s\n' "$(sort -u "$X_DIR/udp-$1.out" | grep -cx 'line [0-9]*')" "$(elapsed "$t0" "$t1")"
}

# x_tcp_run LOSS: the TCP half of one row; prints "DELIVERED SECONDS RETRANSMISSIONS".
x_tcp_run() {
	local t0 t1 r0 r1
	r0=$(($(retrans alice) + $(retrans server)))
	t0=$(now)
	ip netns exec "$(ns_of alice)" steps/01-tcp-echo/client server "$PORT" \
		<"$X_DIR/lines.txt" >"$X_DIR/tcp-$1.out" 2>"$X_DIR/tcp-$1.err" || true
	t1=$(now)
	r1=$(($(retrans alice) + $(retrans server)))
	printf '%s %s %s\n' "$(grep -cxFf "$X_DIR/lines.txt" "$X_DIR/tcp-$1.out" || true)" \
		"$(elapsed "$t0" "$t1")" "$((r1 - r0))"
}

x_tcp_vs_udp() {
	local lines=${NETLAB_LINES:-1000} losses=${NETLAB_LOSSES:-0 2 5 10} wait=${NETLAB_UDP_WAIT:-50}
	x_begin tcp-vs-udp
	echo "== tcp-vs-udp: $lines lines echoed from alice to server, alice's link losing packets"
	echo "   (each packet to or from alice is dropped with the probability shown, each on its own;"
	echo "   a UDP round trip needs 2 packets: expected lost = 1 - (1 - loss)^2; the UDP client waits ${wait} ms per echo)"
	echo
	seq -f 'line %04g' "$lines" >"$X_DIR/lines.txt"
	x_server tcp server steps/01-tcp-echo/server -p "$PORT"
	x_server udp server steps/02-udp-echo/server -p "$PORT"
	local loss tcp back s expect
	{
		printf '%-5s  %-31s  %s\n' "" "UDP (step 02)" "TCP (step 01)"
		printf '%-5s  %5s %5s %8s %8s  %9s %8s %8s\n' loss back lost expected time \
			delivered time retrans
	} | tee "$X_DIR/table.txt"
	: >"$X_DIR/results.tsv"
	for loss in $losses; do
		if [ "$loss" = 0 ]; then clear_host alice; else cmd_impair alice "loss=$loss%" >/dev/null; fi
		read -r back s <<<"$(x_udp_run "$loss" "$lines" "$wait")"
		read -r -a tcp <<<"$(x_tcp_run "$loss")"
		expect=$(awk -v p="$loss" -v n="$lines" 'BEGIN { printf "%.0f", n * (1 - (1 - p / 100)^2) }')
		printf '%4s%%  %5d %5d %8s %7ss  %9d %7ss %8d\n' "$loss" "$back" \
			$((lines - back)) "~$expect" "$s" "${tcp[0]}" "${tcp[1]}" "${tcp[2]}" |
			tee -a "$X_DIR/table.txt"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$loss" "$lines" "$back" "$s" "${tcp[@]}" >>"$X_DIR/results.tsv"
	done
	clear_host alice
	python3 "$LIB/plot.py" "$X_DIR/results.tsv" "$X_DIR/plot.svg"
	echo
	echo "(plot: ${X_DIR#"$KIT"/}/plot.svg)"
}

# ------------------------------------------------------------ 4. chat

# Prints "yes" if tools/simulate knows the lab.
simulate_has_lab() {
	[ -x "$KIT/tools/simulate" ] && "$KIT/tools/simulate" --help 2>&1 | grep -q -- '--lab'
}

x_chat() {
	local loss=${NETLAB_CHAT_LOSS:-20}
	x_begin chat
	echo "== chat: the solution's server on server, alice, bob and carol each on her own host;"
	echo "   carol's link loses ${loss}% of the packets each way"
	echo
	cmd_impair carol "loss=$loss%" >/dev/null
	local rc0 rs0
	rc0=$(retrans carol)
	rs0=$(retrans server)
	if simulate_has_lab && [ -z "${NETLAB_NO_SIMULATE:-}" ]; then
		echo "(tools/simulate --lab --plain)"
		export NETLAB_ID
		"$KIT/tools/simulate" --lab --plain | tee "$X_DIR/simulate.txt"
	else
		x_chat_scripted
	fi
	echo
	echo "carol's wire: $(drop_counts carol); TCP retransmissions: carol $(($(retrans carol) - rc0)), server $(($(retrans server) - rs0))"
}

# x_chat_read WHO LINE: reads what WHO's screen got since the last look
# (keeping a line not yet finished for the next look); succeeds if LINE
# came. Uses rfd and part of x_chat_scripted.
x_chat_read() {
	local l got=1
	while IFS= read -r l <&"${rfd[$1]}"; do
		l=${part[$1]}$l
		part[$1]=
		[ "$l" != "$2" ] || got=0
	done
	part[$1]+=$l
	return "$got"
}

# The same without tools/simulate: a scripted session, each participant the
# kit's solution client on its own host, typing through a FIFO.
x_chat_scripted() {
	x_server room server solution/server -p "$PORT"
	local who fifo fd
	declare -gA X_IN=()
	for who in alice bob carol; do
		fifo=$X_DIR/$who.in
		mkfifo "$fifo"
		ip netns exec "$(ns_of "$who")" solution/client -n "$who" server "$PORT" \
			<"$fifo" >"$X_DIR/$who.out" 2>"$X_DIR/$who.err" &
		X_PIDS+=("$!")
		exec {fd}>"$fifo"
		X_IN[$who]=$fd
		wait_file "$X_DIR/$who.out" "is now known as $who" ||
			die "$who did not join: $(tail -n 2 "$X_DIR/$who.err")"
	done
	printf '%-6s %-22s  %s\n' from message "arrived at each other host after (ms)" | tee "$X_DIR/chat.txt"
	# Each host's screen is read as it grows, through a descriptor kept
	# open, and the clock is bash's own: no process is started while a
	# line travels, so the times are the network's, not the machine's.
	local n from text t0 to line end tick
	local -A at rfd part
	mkfifo "$X_DIR/tick"
	exec {tick}<>"$X_DIR/tick"
	for who in alice bob carol; do
		exec {fd}<"$X_DIR/$who.out"
		rfd[$who]=$fd
		part[$who]=
	done
	for n in 1 2 3 4; do
		for from in alice bob carol; do
			text="message $n from $from"
			at=()
			t0=${EPOCHREALTIME/[.,]/}
			echo "$text" >&"${X_IN[$from]}"
			end=$((SECONDS + DEADLINE))
			while [ "${#at[@]}" -lt 2 ]; do
				for to in alice bob carol; do
					[ "$to" = "$from" ] && continue
					x_chat_read "$to" "<$from> $text" && at[$to]=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
				done
				[ "$SECONDS" -lt "$end" ] || die "not everyone got: $text"
				read -rt 0.002 -u "$tick" _ || true
			done
			line=$(printf '%-6s %-22s' "$from" "$text")
			for to in alice bob carol; do
				[ "$to" = "$from" ] || line+=$(printf '  %-5s %5s' "$to" "${at[$to]}")
			done
			echo "$line" | tee -a "$X_DIR/chat.txt"
		done
	done
	exec {tick}>&-
	for who in alice bob carol; do
		fd=${rfd[$who]}
		exec {fd}<&-
	done
	for who in alice bob carol; do
		fd=${X_IN[$who]}
		exec {fd}>&-
	done
	echo
	echo "what carol's screen shows (the last lines):"
	tail -n 4 "$X_DIR/carol.out" | sed 's/^/  /'
}

# ------------------------------------------------------------ the command

# record: runs every experiment into tools/netlab.d/figures/, the run the
# slides and the README show when no newer run is in dist/netlab/. Keeps
# the transcript, the tables and the ladders; not the captures nor logs.
cmd_record() {
	[ "$#" -eq 0 ] || bad_usage "record takes no argument"
	local dir=$LIB/figures
	rm -rf "$dir"
	mkdir -p "$dir"
	NETLAB_OUT=$dir "$SELF" experiment all | tee "$dir/transcript.txt"
	find "$dir" -type f ! -name '*.txt' ! -name '*.svg' ! -name '*.tsv' -delete
	find "$dir" -type f \( -name 'lines.txt' -o -name '*.in' \) -delete
	echo "recorded in ${dir#"$KIT"/}"
}

cmd_experiment() {
	[ "$#" -eq 1 ] || bad_usage "experiment NAME (${EXPERIMENTS[*]}, or all)"
	need_root experiment "$@"
	need_tools tcpdump ss=iproute2
	case $1 in
	addressing) x_addressing ;;
	handshake) x_handshake ;;
	tcp-vs-udp) x_tcp_vs_udp ;;
	chat) x_chat ;;
	all)
		local x n=0
		echo "The network lab: ${#EXPERIMENTS[@]} experiments on the hosts of a closed network on this"
		echo "machine (server, alice, bob, carol). What to look for: tools/netlab.d/README.md."
		for x in "${EXPERIMENTS[@]}"; do
			n=$((n + 1))
			echo
			echo "--- $n/${#EXPERIMENTS[@]}. ${NARRATION[$x]}"
			"$SELF" experiment "$x"
		done ;;
	*) bad_usage "no experiment '$1' (${EXPERIMENTS[*]}, or all)" ;;
	esac
}
