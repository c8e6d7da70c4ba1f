#!/usr/bin/env bats
# The benchmark driver behind make bench (tools/bench/run). Its figures
# are never tested (a busy machine would fail them, see BENCHMARKS.md);
# that it measures what it is asked to, and reports it, is.

# shellcheck disable=SC2154 # stderr: set by bats' run
load helpers

BENCH=$KIT_ROOT/tools/bench/run

# The table of a run's output: its lines up to the first empty one.
table_of() { sed -n '/^$/q; p' "$1"; }

@test "bench: --only and --run measure only what they name; --from-json prints the same table" {
	local json=$BATS_TEST_TMPDIR/bench.json
	run --separate-stderr timeout "$((KIT_DEADLINE * 6))" "$BENCH" --tiny \
		--only relay --only solution --run burst --json "$json"
	[ "$status" -eq 0 ] || explain_run "tools/bench/run"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/run.out"
	# The header names the two servers asked for, and no other.
	run head -n 1 "$BATS_TEST_TMPDIR/run.out"
	assert_output --regexp '^figure +target +relay +solution$'
	run grep -c '^burst deliveries/s ' "$BATS_TEST_TMPDIR/run.out"
	assert_output 1
	run grep -E '^(paced|clients held|flood)' "$BATS_TEST_TMPDIR/run.out"
	assert_failure
	# The JSON holds the burst of each, every line delivered: the run of
	# median deliveries/s of its two rounds (--tiny), with both rounds.
	run python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == ["relay", "solution"], sorted(d)
for name, runs in d.items():
    assert list(runs) == ["burst"], (name, list(runs))
    r = runs["burst"]
    assert r["ok"] and r["received"] == r["expected"] > 0, (name, r)
    rates = sorted(x["deliveries_per_s"] for x in r["rounds"])
    assert len(rates) == 2 and r["deliveries_per_s"] == rates[0], (name, r)
print("ok")' "$json"
	assert_output ok
	run "$BENCH" --tiny --from-json "$json"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/again.out"
	diff <(table_of "$BATS_TEST_TMPDIR/run.out") \
		<(table_of "$BATS_TEST_TMPDIR/again.out")
}

@test "bench: an unknown server or run is a usage error (exit 2) that lists the names" {
	run --separate-stderr "$BENCH" --only nosuch
	assert_failure 2
	[[ $stderr == *"invalid choice: 'nosuch'"*"'solution'"* ]]
	run --separate-stderr "$BENCH" --run nosuch
	assert_failure 2
	[[ $stderr == *"'burst'"*"'flood'"* ]]
}
