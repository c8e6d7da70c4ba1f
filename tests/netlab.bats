#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The network lab (tools/netlab): hosts in namespaces, names, the step
# programs across hosts, the ladder of a real session, loss on the wire,
# and nothing left behind by down or Ctrl-C.
#
# Needs root (CI runs as root). The suite's labs are named t<PID>... so
# that they never meet a lab an instructor left up (NETLAB_ID=lab), nor
# another run of this suite. If the suite is killed outright, what it made
# is removed by NETLAB_ID=<its id> tools/netlab down.

STEP=steps/01-tcp-echo
load helpers

NETLAB=$BATS_TEST_DIRNAME/../tools/netlab

setup_file() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "the network lab needs root to create namespaces (run: sudo tests/run tests/netlab.bats; CI runs it as root)"
	fi
	export NETLAB_ID="t$$"
	if ! ip netns add "slk-$NETLAB_ID-probe" 2>/dev/null; then
		[ "${CI:-}" != true ] || { echo "netlab: cannot create a network namespace, and CI must run this suite" >&3; return 1; }
		skip "this machine cannot create network namespaces (ip netns add failed)"
	fi
	ip netns del "slk-$NETLAB_ID-probe"
	timeout 60 "$NETLAB" up >/dev/null
}

teardown_file() {
	[ -n "${NETLAB_ID:-}" ] || return 0
	timeout 60 "$NETLAB" down >/dev/null || true
}

setup() {
	[ -n "${NETLAB_ID:-}" ] || skip "no lab (see setup_file)"
	export NETLAB_OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	kit_teardown
	[ -z "${NETLAB_ID:-}" ] || timeout 30 "$NETLAB" clear >/dev/null 2>&1 || true
}

# lab_server NAME HOST CMD...: starts a server on HOST, waits for its ready
# line; sets PORT from it.
lab_server() {
	local name=$1
	shift
	spawn "$name" /dev/null "$NETLAB" run "$@"
	wait_for_line "$BATS_TEST_TMPDIR/$name.out" '^listening on '
	PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/$name.out")
	[ -n "$PORT" ]
}

# leftovers ID: prints whatever lab ID left: namespaces, hosts files, state,
# processes in its namespaces (nothing when all is clean).
leftovers() {
	ip netns list | awk -v p="slk-$1-" 'index($1, p) == 1 { print "namespace " $1 }'
	local f
	for f in /etc/netns/"slk-$1"-* /run/netlab/"$1"; do
		[ ! -e "$f" ] || echo "file $f"
	done
}

@test "every host is up and resolves every host by name, IPv6 then IPv4" {
	local h other
	for h in server alice bob carol; do
		run timeout 10 "$NETLAB" run "$h" getent ahosts bob
		assert_success
		assert_line --index 0 --regexp '^2001:db8::12 +STREAM bob$'
		assert_output --partial "192.0.2.12"
	done
	for other in server carol; do
		run timeout 10 "$NETLAB" run alice python3 -c \
			'import socket, sys; print(socket.getaddrinfo(sys.argv[1], 9)[0][4][0])' "$other"
		assert_success
	done
	run timeout 10 "$NETLAB" status
	assert_success
	assert_line --regexp '^carol +192\.0\.2\.13/24 2001:db8::13/64$'
}

@test "the network is closed: no route out, nothing of the lab in the machine's namespace" {
	run timeout 10 "$NETLAB" run alice ip -4 route show
	assert_output --regexp '^192\.0\.2\.0/24 dev eth0 proto kernel scope link src 192\.0\.2\.11 *$'
	run timeout 10 "$NETLAB" run alice ip route show default
	assert_output ""
	run timeout 10 "$NETLAB" run alice python3 -c \
		'import socket; socket.create_connection(("198.51.100.1", 9), timeout=5)'
	assert_failure
	assert_output --partial "Network is unreachable"
	# The machine's own namespace has no link of the lab: the bridge and the
	# host ends live in the lab's namespaces.
	run ip -o link show
	refute_output --partial "slk-$NETLAB_ID"
	run ip -n "slk-$NETLAB_ID-wire" -o link show master br0
	assert_line --partial " alice@"
}

@test "a second up says the lab is already up and changes nothing" {
	run --separate-stderr timeout 30 "$NETLAB" up
	assert_failure 1
	[[ $stderr == *"lab '$NETLAB_ID' is already up"* ]]
	run timeout 10 "$NETLAB" run bob getent hosts alice
	assert_success
}

@test "the step 01 and 02 programs talk across hosts, by name and by address" {
	lab_server tcp server steps/01-tcp-echo/server -p 0
	run timeout 10 "$NETLAB" run alice steps/01-tcp-echo/client server "$PORT" <<<"hello from alice"
	assert_success
	assert_output "hello from alice"
	run timeout 10 "$NETLAB" run carol steps/01-tcp-echo/client 192.0.2.10 "$PORT" <<<"hi from carol"
	assert_output "hi from carol"
	wait_for_line "$BATS_TEST_TMPDIR/tcp.err" "client 192\.0\.2\.13:[0-9]+ connected"
	lab_server udp server steps/02-udp-echo/server -p 0
	run timeout 10 "$NETLAB" run bob steps/02-udp-echo/client 2001:db8::10 "$PORT" <<<"bob over IPv6"
	assert_success
	assert_output "bob over IPv6"
	wait_for_line "$BATS_TEST_TMPDIR/udp.err" 'from \[2001:db8::12\]:'
}

@test "the ladder of a step 01 session shows the handshake, the data and both FINs" {
	lab_server tcp server steps/01-tcp-echo/server -p 0
	run timeout 60 "$NETLAB" capture -o "$BATS_TEST_TMPDIR/cap" alice -- \
		steps/01-tcp-echo/client 192.0.2.10 "$PORT" <<<"ping"
	assert_success
	local cport
	cport=$(sed -n 's/.*client 192\.0\.2\.11:\([0-9]*\) connected.*/\1/p' "$BATS_TEST_TMPDIR/tcp.err")
	[ -n "$cport" ]
	assert_line --index 0 "ping"
	assert_output --regexp "alice:$cport +server:$PORT"
	assert_line --regexp '\|-+ SYN seq=0 -+>\|'
	assert_line --regexp '\|<-+ SYN-ACK seq=0 ack=1 -+\|'
	assert_line --regexp '\|-+ ACK seq=1 ack=1 -+>\|'
	assert_line --regexp 'PSH-ACK seq=1 ack=1 len=5 -+>\|'
	assert_line --regexp '\|-+ FIN-ACK seq=6 ack=6 -+>\|'
	assert_line --regexp '\|<-+ FIN-ACK seq=6 ack=7 -+\|'
	refute_output --partial "RST"
	refute_output --partial "UDP"	# the capture's end marker is left out
	grep -q '<svg' "$BATS_TEST_TMPDIR/cap.svg"
	grep -q "alice:$cport" "$BATS_TEST_TMPDIR/cap.svg"
	[ -s "$BATS_TEST_TMPDIR/cap.pcap" ]
}

@test "under a 20% random drop, UDP loses a binomial share of round trips and TCP loses nothing" {
	lab_server udp server steps/02-udp-echo/server -p 0
	local udp=$PORT
	lab_server tcp server steps/01-tcp-echo/server -p 0
	run timeout 30 "$NETLAB" impair alice loss=20%
	assert_success
	# Each of the two packets of a round trip is dropped on its own:
	# p(back) = 0.8^2 = 0.64. n = 200: 99.9 % of runs give 128 +- 3.29 sd.
	local n=200 back lo hi
	seq -f 'line %03g' "$n" >"$BATS_TEST_TMPDIR/lines"
	timeout 120 "$NETLAB" run alice steps/02-udp-echo/client -w 100 server "$udp" \
		<"$BATS_TEST_TMPDIR/lines" >"$BATS_TEST_TMPDIR/udp.echo" 2>/dev/null || true
	back=$(sort -u "$BATS_TEST_TMPDIR/udp.echo" | grep -cxFf "$BATS_TEST_TMPDIR/lines" || true)
	read -r lo hi < <(awk -v n="$n" 'BEGIN { p = 0.64; sd = sqrt(n * p * (1 - p));
		printf "%d %d\n", n * p - 3.29 * sd, n * p + 3.29 * sd + 1 }')
	echo "UDP: $back of $n round trips came back; the band is $lo..$hi"
	[ "$back" -ge "$lo" ] && [ "$back" -le "$hi" ]
	run timeout 10 "$NETLAB" status
	assert_line --regexp '^ +wire: loss=20% \(dropped so far: [1-9][0-9]* sent, [1-9][0-9]* received\)$'
	# TCP: every line, in order, whatever the wire loses.
	seq -f 'tcp %03g' 40 >"$BATS_TEST_TMPDIR/tcp.lines"
	run timeout 150 "$NETLAB" run alice steps/01-tcp-echo/client server "$PORT" \
		<"$BATS_TEST_TMPDIR/tcp.lines"
	assert_success
	assert_output "$(cat "$BATS_TEST_TMPDIR/tcp.lines")"
}

@test "impair: delay is refused without netem, and nothing changes; bad specs exit 2" {
	if ip netns exec "slk-$NETLAB_ID-alice" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
		ip netns exec "slk-$NETLAB_ID-alice" tc qdisc del dev lo root
		skip "this kernel has netem: delay works"
	fi
	run --separate-stderr timeout 30 "$NETLAB" impair alice loss=5% delay=50ms
	assert_failure 1
	[[ $stderr == *"need the kernel's netem"*"nothing was changed"* ]]
	run timeout 10 "$NETLAB" status
	assert_line --regexp '^ +wire: none$'
	refute_output --partial "loss=5%"
	run timeout 10 "$NETLAB" impair alice loss=120%
	assert_failure 2
	run timeout 10 "$NETLAB" impair alice speed=9
	assert_failure 2
	run timeout 10 "$NETLAB" run nobody true
	assert_failure 1
	run timeout 10 "$NETLAB" frobnicate
	assert_failure 2
}

@test "experiment chat: every line reaches every host, carol's through a lossy link" {
	NETLAB_NO_SIMULATE=1 NETLAB_CHAT_LOSS=20 run timeout 200 "$NETLAB" experiment chat
	assert_success
	assert_output --partial "carol's link loses 20% of the packets"
	assert_line --regexp '^carol +message 4 from carol +alice +[0-9]+ +bob +[0-9]+$'
	[ "$(grep -cE '^(alice|bob|carol) +message [1-4] from' <<<"$output")" -eq 12 ]
	assert_output --regexp "carol's wire: dropped so far: [0-9]+ sent, [0-9]+ received"
	run timeout 10 "$NETLAB" status
	refute_output --partial "process"	# the experiment stopped what it started
	refute_output --partial "loss="
}

@test "down removes every namespace, hosts file, rule and process of its lab" {
	local id="d$$"
	NETLAB_ID=$id timeout 60 "$NETLAB" up >/dev/null
	NETLAB_ID=$id timeout 30 "$NETLAB" impair bob loss=10% rate=1mbit >/dev/null
	spawn srv /dev/null env NETLAB_ID="$id" "$NETLAB" run server steps/01-tcp-echo/server -p 0
	wait_for_line "$BATS_TEST_TMPDIR/srv.out" '^listening on '
	run leftovers "$id"
	assert_output --partial "namespace slk-$id-wire"
	run env NETLAB_ID="$id" timeout 60 "$NETLAB" down
	assert_success
	wait_exit "$SPAWNED" || true
	run leftovers "$id"
	assert_output ""
	run env NETLAB_ID="$id" timeout 10 "$NETLAB" status
	assert_output "lab '$id' is not up"
	# The suite's own lab is still there.
	run timeout 10 "$NETLAB" run alice true
	assert_success
}

@test "Ctrl-C in the middle of an experiment leaves nothing behind" {
	local id="c$$" pid
	# A lab of its own, brought up by the experiment; Ctrl-C reaches the
	# whole process group, as from a terminal.
	NETLAB_ID=$id NETLAB_LINES=100000 NETLAB_LOSSES=20 NETLAB_OUT=$BATS_TEST_TMPDIR/c \
		setsid env --default-signal=INT "$NETLAB" experiment tcp-vs-udp \
		>"$BATS_TEST_TMPDIR/x.out" 2>"$BATS_TEST_TMPDIR/x.err" </dev/null 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/pids"
	KIT_DEADLINE=60 wait_until "the experiment to impair alice" test -e "/run/netlab/$id/impair-alice"
	run leftovers "$id"
	assert_output --partial "namespace slk-$id-server"
	kill -INT -- "-$pid"
	KIT_DEADLINE=60 wait_exit "$pid" || true
	run leftovers "$id"
	assert_output ""
	run pgrep -f "slk-$id"
	assert_failure
}
