#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The grader: tools/grade, tools/grade-all and the Gradescope autograder,
# run on the kit itself and on copies of it broken on purpose (made here,
# from tools/grading/fixtures/). Some tests need root (the sandbox drops
# to another user); the slow ones are tagged heavy.
# shellcheck disable=SC2154 # stderr: from bats' run

load helpers

FIXTURES=$KIT_ROOT/tools/grading/fixtures

teardown() {
	kit_teardown
	if [ -n "${SHARED_TMP:-}" ]; then rm -rf "$SHARED_TMP"; fi
}

# kit_copy DIR: a kit-shaped copy of the kit. Its build outputs come along:
# the grader must rebuild from source anyway.
kit_copy() {
	mkdir -p "$1"
	cp -R "$KIT_ROOT/common" "$KIT_ROOT/steps" "$KIT_ROOT/solution" "$1/"
}

# grade ARGS...: runs tools/grade, its work folders under this test's
# folder, its reports in $OUT; the table in $output, progress in $stderr,
# its duration in seconds in $TOOK.
grade() {
	local start=$SECONDS
	OUT=$BATS_TEST_TMPDIR/out
	run --separate-stderr env GRADE_TMP="${GRADE_TMP:-$BATS_TEST_TMPDIR}" \
		timeout 900 "$KIT_ROOT/tools/grade" -o "$OUT" "$@"
	TOOK=$((SECONDS - start))
	echo "# graded in ${TOOK}s" >&3
}

# check_reports: results.json and junit.xml in $OUT are well-formed, agree
# with each other and with the table's last line ($output and $lines stay).
check_reports() {
	local said
	said=$(python3 - "$OUT" "${lines[-1]}" 2>&1 <<'PY'
import json, sys, xml.etree.ElementTree as ET
out, last = sys.argv[1], sys.argv[2]
with open(out + "/results.json", encoding="utf-8") as f:
    r = json.load(f)
assert {"score", "max_score", "output", "tests"} <= set(r), sorted(r)
for t in r["tests"]:
    assert {"name", "score", "max_score", "status", "output"} <= set(t), t
    assert t["status"] in ("passed", "failed"), t
    assert 0 <= t["score"] <= t["max_score"], t
    assert t["status"] == "passed" or t["score"] == 0, t
assert abs(sum(t["score"] for t in r["tests"]) - r["score"]) < 1e-6
assert abs(sum(t["max_score"] for t in r["tests"]) - r["max_score"]) < 1e-6
want = "score: %g/%g" % (r["score"], r["max_score"])
assert last == want, (last, want)
root = ET.parse(out + "/junit.xml").getroot()
assert root.tag == "testsuites", root.tag
cases = root.findall("./testsuite/testcase")
assert len(cases) == len(r["tests"]), (len(cases), len(r["tests"]))
failed = sum(c.find("failure") is not None for c in cases)
assert failed == sum(t["status"] == "failed" for t in r["tests"])
assert int(root.get("failures")) == failed
print("ok")
PY
	) || true
	[ "$said" = ok ] || { echo "$said" >&2; return 1; }
}

# result NAME: prints "status score/max" of test NAME in results.json.
result() {
	python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    if t["name"] == sys.argv[2]:
        print("%s %g/%g" % (t["status"], t["score"], t["max_score"]))' \
		"$OUT/results.json" "$1"
}

# output_of NAME: prints the output of test NAME in results.json.
output_of() {
	python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    if t["name"] == sys.argv[2]:
        print(t["output"])' "$OUT/results.json" "$1"
}

# nothing_left PATH: fails if a process's command line still names PATH.
# Builtins only, so that the check does not see itself.
nothing_left() {
	local f left=()
	local -a args
	for f in /proc/[0-9]*/cmdline; do
		{ mapfile -d '' -t args <"$f"; } 2>/dev/null || continue
		[[ "${args[*]}" != *"$1"* ]] || left+=("${f%/cmdline}: ${args[*]}")
	done
	if [ "${#left[@]}" -gt 0 ]; then
		printf 'left running: %s\n' "${left[@]}" >&2
		return 1
	fi
}

# needs_root: skips the test unless we are root (the sandbox's user switch).
needs_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# --------------------------------------------------------------- the kit

@test "--step 01 on the kit: full score, valid reports, the raw TAP kept" {
	grade --step 01 "$KIT_ROOT"
	assert_success
	assert_line "01-tcp-echo: build ok"
	assert_equal "${lines[-1]}" "score: 9/9"
	check_reports
	run cat "$OUT/scores.tsv"
	assert_output "$(printf '01-tcp-echo	9	9')"
	[ "$(grep -c '^ok ' "$OUT/01-tcp-echo.plain.tap")" -eq 14 ]
	[ -s "$OUT/01-tcp-echo.build.log" ]
	[ ! -e "$OUT/01-tcp-echo.faults.tap" ]
	run result "01: server -h prints the usage on stdout and exits 0"
	assert_output "passed 0/0"	# given code: worth nothing
}

# bats test_tags=heavy
@test "the kit itself: full score on every step, under fault injection too" {
	grade --seed 4242 "$KIT_ROOT"
	assert_success
	local score=${lines[-1]#score: }
	[ "${score%/*}" = "${score#*/}" ] || {
		printf '%s\n' "${lines[@]}" | grep -A1 FAIL >&2
		false
	}
	check_reports
	local suite short
	for suite in 03-blocking-chat 04-threaded-chatroom 05-event-loop-chatroom solution; do
		[ -e "$KIT_ROOT/tests/$suite.bats" ] || continue
		short=${suite%%-*}
		[ -s "$OUT/$suite.faults.tap" ]
		grep -q "\"$short \\[faults seed 4242\\]: " "$OUT/results.json"
	done
	assert_line --partial "fault injection: seed 4242"
	assert_line "nothing was left running after any stage"
}

@test "--points lists what each test is worth, from tools/grading/points" {
	run "$KIT_ROOT/tools/grade" --points --step 04
	assert_success
	assert_line "$(printf '1\t04-threaded-chatroom\tplain\ta line sent in pieces arrives as one line')"
	assert_line --regexp "^0	04-threaded-chatroom	plain	server -h prints the usage"
	assert_line "$(printf '1\t04-threaded-chatroom\tfaults\ta line sent in pieces arrives as one line')"
	# Tests that start no server under the library are left out of faults.
	refute_line "$(printf '1\t04-threaded-chatroom\tfaults\tclient -h exits 0; bad usage exits 2')"
}

@test "bad usage exits 2; an unknown step or folder is an error" {
	run "$KIT_ROOT/tools/grade"
	assert_equal "$status" 2
	run --separate-stderr "$KIT_ROOT/tools/grade" --step 99 "$KIT_ROOT"
	assert_equal "$status" 1
	[[ $stderr == *"no step '99'"* ]]
	run "$KIT_ROOT/tools/grade" "$BATS_TEST_TMPDIR/nowhere"
	assert_equal "$status" 1
}

# ------------------------------------------------------ broken submissions

# bats test_tags=heavy
@test "the starter code (make handout) scores 0 on every step" {
	"$KIT_ROOT/tools/handout" -o "$BATS_TEST_TMPDIR/h" >/dev/null
	grade --no-faults --deadline 2 "$BATS_TEST_TMPDIR/h/handout"
	assert_success
	check_reports
	run cat "$OUT/scores.tsv"
	echo "$output" >&3
	local suite points max steps=0
	while IFS=$'\t' read -r suite points max; do
		[[ $suite == 0[1-5]-* ]] || continue
		steps=$((steps + 1))
		# Every point is for a TODO's work; the given code earns none.
		[ "$points" -eq 0 ] ||
			{ echo "$suite: $points/$max on the starter" >&2; return 1; }
	done <"$OUT/scores.tsv"
	[ "$steps" -eq 5 ]
}

@test "a step that does not compile scores 0 with the compiler's error; others are unaffected" {
	local sub=$BATS_TEST_TMPDIR/broken
	kit_copy "$sub"
	echo 'this is not C;' >>"$sub/steps/02-udp-echo/server.c"
	# A binary newer than the source: a grader that kept it would pass.
	touch "$sub/steps/02-udp-echo/server"
	grade --step 01,02 --no-faults "$sub"
	assert_success
	assert_line "01-tcp-echo: build ok"
	assert_line --regexp '^02-udp-echo: build FAILED: does not build: .*error'
	assert_equal "${lines[-1]}" "score: 9/17"
	check_reports
	run result "02: build"
	assert_output "failed 0/0"
	run output_of "02: build"
	assert_output --partial "server.c"
	assert_output --partial "error"
	run result "02: a 60000-byte datagram comes back whole"
	assert_output "failed 0/1"
	run output_of "02: a 60000-byte datagram comes back whole"
	assert_output --partial "not graded: the build failed"
	run result "01: a python client gets 64 KiB of binary data back byte for byte"
	assert_output "passed 1/1"
}

@test "a server that never prints its ready line: bounded time, 0 for its tests, nothing left" {
	local sub=$BATS_TEST_TMPDIR/never-ready
	kit_copy "$sub"
	{ echo '#define NEVER_READY'; cat "$FIXTURES/hang-server.c"; } \
		>"$sub/steps/01-tcp-echo/server.c"
	grade --step 01 --deadline 2 "$sub"
	assert_success
	[ "$TOOK" -lt 120 ]
	check_reports
	run result "01: the ready line names the address and the port the kernel chose"
	assert_output "failed 0/1"
	run result "01: SIGTERM and SIGINT end the server with status 0"
	assert_output "failed 0/1"
	run result "01: server -h prints the usage on stdout and exits 0"
	assert_output "passed 0/0"	# given code: worth nothing
	# Its daemons were found and killed, and said so.
	run cat "$OUT/results.json"
	assert_output --partial "left running after the stage"
	nothing_left "$BATS_TEST_TMPDIR"
}

@test "a server that hangs after accept, deaf to SIGTERM: the suite's time limit stops it" {
	local sub=$BATS_TEST_TMPDIR/hang
	kit_copy "$sub"
	cp "$FIXTURES/hang-server.c" "$sub/steps/01-tcp-echo/server.c"
	GRADE_SUITE_TIMEOUT=12 grade --step 01 --deadline 2 "$sub"
	assert_success
	[ "$TOOK" -lt 90 ]
	assert_line --partial "01-tcp-echo.plain: killed at the time limit"
	assert_line --partial "not run: the suite hit its time limit of 12s"
	check_reports
	run result "01: SIGTERM and SIGINT end the server with status 0"
	assert_output "failed 0/1"
	nothing_left "$BATS_TEST_TMPDIR"
}

@test "a test that runs out of time is TIME, not a wrong answer; --regrade-timeouts grades only those" {
	# A server that takes 2 s to start serving each client: with a 1 s
	# deadline, every test that waits for an echo runs out of time, as on
	# an overloaded machine; with 10 s, they pass.
	local sub=$BATS_TEST_TMPDIR/slow
	kit_copy "$sub"
	sed -i '/^static void serve(int fd)$/,/^{$/ s|^{$|{\n\tsleep(2);\t/* FIXTURE: slow */|' \
		"$sub/steps/01-tcp-echo/server.c"
	grep -q 'FIXTURE: slow' "$sub/steps/01-tcp-echo/server.c"
	grade --step 01 --deadline 1 "$sub"
	assert_success
	check_reports
	local first=${lines[-1]}
	[ "$first" != "score: 9/9" ]
	assert_line --regexp '^timed out: [1-9][0-9]* test\(s\) \(TIME\)'
	local t
	t=$(awk -F '\t' '$6 == "timeout"' "$OUT/results.tsv" | wc -l)
	[ "$t" -ge 1 ]
	# Failed tests that did not time out are not graded again.
	local kept
	kept=$(awk -F '\t' '$6 == "passed"' "$OUT/results.tsv" | cut -f 1-3 | sort)
	[ -n "$kept" ]
	grade --step 01 --deadline 10 --regrade-timeouts "$sub"
	assert_success
	assert_line --regexp "regrade: $t test\\(s\\) that had timed out graded again"
	assert_equal "${lines[-1]}" "score: 9/9"
	check_reports
	run awk -F '\t' '$6 == "timeout"' "$OUT/results.tsv"
	assert_output ""
}

# bats test_tags=heavy
@test "fault injection catches a chat server that takes one recv() for one line" {
	local sub=$BATS_TEST_TMPDIR/naive
	kit_copy "$sub"
	sed -f "$FIXTURES/naive-recv.sed" -i "$sub/steps/04-threaded-chatroom/server.c"
	grep -q 'naive_read(c, &line, &len)' "$sub/steps/04-threaded-chatroom/server.c"
	grade --step 04 --seed 1 --deadline 3 "$sub"
	assert_success
	check_reports
	# Tests it passes without faults and fails with them: the point.
	run python3 -c '
import json, sys
tests = {t["name"]: t for t in json.load(open(sys.argv[1]))["tests"]}
caught = [n[4:] for n, t in tests.items()
          if n.startswith("04: ") and t["status"] == "passed"
          and tests.get("04 [faults seed 1]: " + n[4:], {}).get("status") == "failed"]
print(len(caught))
for n in caught:
    print(n)' "$OUT/results.json"
	assert_success
	echo "# caught only under faults: ${lines[*]:1}" >&3
	[ "${lines[0]}" -ge 1 ]
	run cat "$OUT/summary.txt"
	assert_output --partial "passes without faults, fails with them (server seed"
}

# bats test_tags=heavy
@test "a fork bomb is held by the process limit; the grading ends and nothing is left" {
	needs_root
	local sub=$BATS_TEST_TMPDIR/bomb
	kit_copy "$sub"
	cp "$FIXTURES/fork-bomb.c" "$sub/steps/01-tcp-echo/server.c"
	# A user of its own, so that the limit counts the bomb's processes only.
	GRADE_UID=64999 GRADE_GID=64999 GRADE_MAX_PROCS=60 GRADE_SUITE_TIMEOUT=20 \
		grade --step 01 --deadline 2 "$sub"
	assert_success
	[ "$TOOK" -lt 120 ]
	check_reports
	assert_line --regexp '01-tcp-echo.plain: (killed at the time limit|left running after the stage): [0-9]+'
	nothing_left "$BATS_TEST_TMPDIR"
}

# ------------------------------------------------------------- isolation

@test "what a submission's code can reach: no kit, no network, no shared /tmp, limits" {
	needs_root
	unshare --pid --fork --mount-proc --net true 2>/dev/null ||
		skip "no namespaces here"
	local sub=$BATS_TEST_TMPDIR/probe probe=grader-probe-$$-$RANDOM
	kit_copy "$sub"
	fake_server listener '
c, _ = l.accept()
print("accepted", flush=True)'
	# The probe runs at build time: a Makefile runs anything it likes.
	cat >"$sub/steps/01-tcp-echo/probe.sh" <<EOF
say() { echo "probe: \$*"; }
say "uid \$(id -u)"
if [ -e "$KIT_ROOT/tests" ]; then say "kit visible"; else say "kit hidden"; fi
if cat "$KIT_ROOT/solution/server.c" >/dev/null 2>&1; then say "solution read"; else say "solution unreadable"; fi
if touch "$KIT_ROOT/pwned" 2>/dev/null; then say "kit written"; else say "kit read-only"; fi
if (exec 3<>/dev/tcp/127.0.0.1/$FAKE_PORT) 2>/dev/null; then say "network reached"; else say "network unreachable"; fi
touch "/tmp/$probe" && say "tmp written"
say "home \$HOME"
say "tmpdir \$TMPDIR"
say "processes \$(ls /proc | grep -c '^[0-9]')"
say "limits \$(ulimit -u) \$(ulimit -v) \$(ulimit -f)"
EOF
	printf '\nall: probe\n.PHONY: probe\nprobe:\n\t@bash ./probe.sh\n' \
		>>"$sub/steps/01-tcp-echo/Makefile"
	GRADE_MAX_PROCS=500 GRADE_MAX_MEM_MB=3000 GRADE_MAX_FILE_MB=100 \
		grade --step 01 --no-faults "$sub"
	assert_success
	run grep '^probe: ' "$OUT/01-tcp-echo.build.log"
	assert_line "probe: uid $(id -u nobody)"
	assert_line "probe: kit hidden"
	assert_line "probe: solution unreadable"
	assert_line "probe: kit read-only"
	assert_line "probe: network unreachable"
	assert_line "probe: tmp written"
	assert_line --regexp "^probe: home $BATS_TEST_TMPDIR/kit-grade\.[^/]+/home$"
	assert_line --regexp "^probe: tmpdir $BATS_TEST_TMPDIR/kit-grade\.[^/]+/tmp$"
	assert_line "probe: limits 500 $((3000 * 1024)) $((100 * 1024))"
	local n
	n=$(sed -n 's/^probe: processes //p' "$OUT/01-tcp-echo.build.log")
	[ "$n" -lt 20 ]
	[ ! -e "/tmp/$probe" ]
	[ ! -e "$KIT_ROOT/pwned" ]
	run cat "$BATS_TEST_TMPDIR/listener.out"
	refute_output --partial accepted
}

@test "without namespaces (GRADE_ISOLATION=user), leftovers are still found and killed" {
	needs_root
	local sub=$BATS_TEST_TMPDIR/hang
	kit_copy "$sub"
	cp "$FIXTURES/hang-server.c" "$sub/steps/01-tcp-echo/server.c"
	# Without a private /tmp, the user must be able to reach the work folder.
	SHARED_TMP=$(mktemp -d /tmp/grader-bats.XXXXXX)
	chmod 755 "$SHARED_TMP"
	GRADE_TMP=$SHARED_TMP GRADE_ISOLATION=user GRADE_SUITE_TIMEOUT=12 \
		grade --step 01 --deadline 2 "$sub"
	assert_success
	assert_line --partial "isolation: runs as uid $(id -u nobody)"
	assert_line --regexp '01-tcp-echo.plain: (killed at the time limit|left running after the stage)'
	check_reports
	nothing_left "$SHARED_TMP"
}

# ----------------------------------------------- many submissions, Gradescope

@test "grade-all -j 2 grades a class into one CSV, one seed for all" {
	local class=$BATS_TEST_TMPDIR/class
	kit_copy "$class/alice"
	kit_copy "$class/bob, jr"
	echo 'this is not C;' >>"$class/bob, jr/steps/02-udp-echo/server.c"
	run --separate-stderr env GRADE_TMP="$BATS_TEST_TMPDIR" timeout 600 \
		"$KIT_ROOT/tools/grade-all" -j 2 --step 01,02 --no-faults --seed 77 \
		--reports "$BATS_TEST_TMPDIR/reports" -o "$BATS_TEST_TMPDIR/grades.csv" "$class"
	assert_success
	assert_line --partial "alice: score: 17/17"
	assert_line --partial "bob, jr: score: 9/17"
	run cat "$BATS_TEST_TMPDIR/grades.csv"
	assert_output "$(printf '%s\n' 'name,01-tcp-echo,02-udp-echo,total,max,seed' \
		'alice,9,8,17,17,77' '"bob, jr",9,0,9,17,77')"
	[ -s "$BATS_TEST_TMPDIR/reports/alice/results.json" ]
	[ -s "$BATS_TEST_TMPDIR/reports/bob, jr/grade.log" ]
}

@test "the Gradescope zip, and run_autograder on a simulated /autograder" {
	local zip=$BATS_TEST_TMPDIR/gs.zip root=$BATS_TEST_TMPDIR/autograder
	run make -n -C "$KIT_ROOT" gradescope
	assert_output --partial "tools/grading/gradescope/build dist/gradescope.zip"
	run "$KIT_ROOT/tools/grading/gradescope/build" "$zip" 01
	assert_success
	run unzip -Z1 "$zip"
	assert_line setup.sh
	assert_line run_autograder
	assert_line step
	assert_line kit/tools/grade
	assert_line kit/tests/01-tcp-echo.bats
	refute_line --regexp '(^|/)(build|\.git|dist)/'
	refute_line kit/steps/01-tcp-echo/server
	# Gradescope's layout: the zip in source/, the student's files in
	# submission/ (here only a step's sources, flat), results/.
	mkdir -p "$root/source" "$root/submission" "$root/results"
	unzip -q "$zip" -d "$root/source"
	cp "$KIT_ROOT"/steps/01-tcp-echo/*.c "$root/submission/"
	run env AUTOGRADER_ROOT="$root" GRADE_TMP="$BATS_TEST_TMPDIR" \
		timeout 600 "$root/source/run_autograder"
	assert_success
	run python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["score"], r["max_score"], len(r["tests"]))' "$root/results/results.json"
	assert_output "9 9 15"
}

# --------------------------------------------------------------- reports

@test "whatever bytes a submission prints, results.json and junit.xml stay valid" {
	# shellcheck source=tools/grading/report.bash
	. "$KIT_ROOT/tools/grading/report.bash"
	local raw=$BATS_TEST_TMPDIR/raw
	printf 'bad \xff\xc0 utf8, caf\xc3\xa9, esc \033[31m, "quotes", back\\slash,\ttab, nul \000, <tag> & more\r\nline 2\n' >"$raw"
	RESULTS=$BATS_TEST_TMPDIR/results NOTES=$BATS_TEST_TMPDIR/notes SEED=1
	printf '01-tcp-echo\tplain\tt\t0\t1\tfailed\t5\t-\t%s\n' "$raw" >"$RESULTS"
	cp "$raw" "$NOTES"
	render_json 3 >"$BATS_TEST_TMPDIR/results.json"
	render_junit kit >"$BATS_TEST_TMPDIR/junit.xml"
	run python3 -c '
import json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
ET.parse(sys.argv[2])
for text in (r["tests"][0]["output"], r["output"]):
    assert "caf\u00e9" in text and "<tag> & more" in text, text
    assert "\x1b" not in text and "\x00" not in text, text
print("valid")' "$BATS_TEST_TMPDIR/results.json" "$BATS_TEST_TMPDIR/junit.xml"
	assert_success
	assert_output valid
}

@test "every mutant of make mutants applies to today's code, without fuzz" {
	# A patch whose context has drifted is graded "does not apply" by
	# make mutants, which only the full run (40 minutes) would show.
	local patch bad=0
	command -v patch >/dev/null || "$KIT_ROOT/tools/require" patch
	for patch in "$KIT_ROOT"/tools/grading/mutants/*.patch; do
		if ! patch -p1 -F0 --dry-run -s -d "$KIT_ROOT" <"$patch" >/dev/null; then
			echo "$(basename "$patch") no longer applies as it is" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}
