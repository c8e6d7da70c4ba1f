# shellcheck shell=bash
# report.bash - what tools/grade writes once the tests have run: the table
# on stdout, results.json (Gradescope), junit.xml and scores.tsv. Sourced by
# tools/grade. The reports themselves are made by report.py, next to this
# file, with python's json and xml.etree: valid whatever a submission
# printed.
#
# Every function reads RESULTS, a file with one row per test, columns
# separated by TABs:
#
#   unit  run  name  earned  max  status  ms  hint  detail
#
#   unit    the suite (01-tcp-echo, solution)
#   run     build, plain or faults
#   status  passed, failed, timeout or skipped (a skip counts as passed; a
#           timeout, a test stopped by a deadline, counts as failed and is
#           shown as TIME)
#   ms      how long it took, in milliseconds, or -
#   hint    one line for the student, or -
#   detail  a file with everything the failure printed, or -
#
# (never an empty field: bash's read would take two TABs for one).
#
# and NOTES, a file of lines about the grading as a whole, and SEED.

REPORT_PY=$(dirname "${BASH_SOURCE[0]}")/report.py

# clean: copies stdin to stdout as valid UTF-8 with no control character but
# TAB and LF (for the one-line hints tools/grade keeps in RESULTS).
clean() {
	{ iconv -f UTF-8 -t UTF-8 -c || true; } |
		LC_ALL=C tr -d '\000-\010\013-\037\177'
}

# label UNIT RUN: how the tests of a run are named: "04", "solution",
# "04 [faults seed 1234]".
label() {
	local short=${1%%-*}
	case $2 in
	faults) printf '%s [faults seed %s]\n' "$short" "$SEED" ;;
	*) printf '%s\n' "$short" ;;
	esac
}

# report WHAT [ARG]: one of report.py's reports, on stdout.
report() {
	python3 "$REPORT_PY" "$1" "$RESULTS" "$NOTES" "$SEED" "${2:-}"
}

# render_table: the readable table, ending in "score: X/Y".
render_table() { report table; }

# total: prints "EARNED MAX" over every row.
total() { report total; }

# render_scores: one line per unit, "unit<TAB>earned<TAB>max", for grade-all.
render_scores() { report scores; }

# render_json SECONDS: the Gradescope results.json, on stdout.
render_json() { report json "$1"; }

# render_junit NAME: a JUnit XML report, one <testsuite> per suite and run
# (the build is a test case of the plain run), on stdout.
render_junit() { report junit "$1"; }
