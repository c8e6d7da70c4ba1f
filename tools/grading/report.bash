# shellcheck shell=bash
# report.bash - what tools/grade writes once the tests have run: the table
# on stdout, results.json (Gradescope), junit.xml and scores.tsv. Sourced by
# tools/grade; needs bash, awk, sed, tr and iconv, not python or jq.
#
# Every function reads RESULTS, a file with one row per test, columns
# separated by TABs:
#
#   unit  run  name  earned  max  status  ms  hint  detail
#
#   unit    the suite (01-tcp-echo, solution)
#   run     build, plain or faults
#   status  passed, failed or skipped (a skip counts as passed)
#   ms      how long it took, in milliseconds, or -
#   hint    one line for the student, or -
#   detail  a file with everything the failure printed, or -
#
# (never an empty field: bash's read would take two TABs for one).
#
# and NOTES, a file of lines about the grading as a whole.

# clean: copies stdin to stdout as valid UTF-8 with no control character but
# TAB and LF, so that any JSON or XML made of it is valid whatever a
# submission printed.
clean() {
	{ iconv -f UTF-8 -t UTF-8 -c || true; } |
		LC_ALL=C tr -d '\000-\010\013-\037\177'
}

# json_string: stdin as one JSON string literal, quotes included.
json_string() {
	clean | LC_ALL=C sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' |
		LC_ALL=C awk 'BEGIN { printf "\"" }
			{ printf "%s%s", (NR > 1 ? "\\n" : ""), $0 }
			END { printf "\"" }'
}

# xml_text: stdin as XML character data (for text and attribute values).
xml_text() {
	clean | LC_ALL=C sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
		-e 's/"/\&quot;/g' -e "s/'/\\&apos;/g"
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

# detail_text HINT DETAIL-FILE: the text a test shows: its hint, then what
# it printed (at most 6000 bytes of it).
detail_text() {
	[ "$1" = - ] || printf '%s\n' "$1"
	if [ "$2" != - ] && [ -s "$2" ]; then
		[ "$1" = - ] || echo
		head -c 6000 "$2"
		[ "$(wc -c <"$2")" -le 6000 ] || printf '\n[... cut: the raw TAP output has it all]\n'
	fi
}

# render_table: the readable table, ending in "score: X/Y".
render_table() {
	cat "$NOTES"
	LC_ALL=C awk -F '\t' -v seed="$SEED" '
	function num(x) {
		if (x == int(x)) return sprintf("%d", x)
		x = sprintf("%.2f", x); sub(/0+$/, "", x); return x
	}
	function close_unit() {
		if (unit != "")
			printf "  %s total: %s/%s\n\n", unit, num(ue), num(um)
		ue = um = 0
	}
	{
		if ($1 != unit) { close_unit(); unit = $1; run = "" }
		if ($2 == "build") {
			printf "%s: build %s%s\n", $1, ($6 == "passed" ? "ok" : "FAILED"),
				($8 != "-" ? ": " $8 : "")
			next
		}
		if ($2 != run) {
			run = $2
			if (run == "faults") {
				short = $1; sub(/-.*/, "", short)
				printf "  under fault injection, as \"%s [faults seed %s]\":\n", short, seed
			}
		}
		ue += $4; um += $5; te += $4; tm += $5
		mark = ($6 == "failed" ? "FAIL" : ($6 == "skipped" ? "SKIP" : "PASS"))
		printf "  %-4s %5s  %s\n", mark, num($4) "/" num($5), $3
		if ($6 != "passed" && $8 != "-")
			printf "              %s\n", $8
	}
	END { close_unit(); printf "score: %s/%s\n", num(te), num(tm) }
	' "$RESULTS"
}

# total: prints "EARNED MAX" over every row.
total() {
	awk -F '\t' '{ e += $4; m += $5 } END { printf "%.10g %.10g\n", e, m }' "$RESULTS"
}

# render_scores: one line per unit, "unit<TAB>earned<TAB>max", for grade-all.
render_scores() {
	awk -F '\t' '
	!($1 in e) { order[++n] = $1 }
	{ e[$1] += $4; m[$1] += $5 }
	END { for (i = 1; i <= n; i++) printf "%s\t%.10g\t%.10g\n", order[i], e[order[i]], m[order[i]] }
	' "$RESULTS"
}

# render_json SECONDS: the Gradescope results.json, on stdout.
render_json() {
	local unit run name earned max status ms hint detail sep="" e m
	read -r e m < <(total)
	printf '{\n  "score": %s,\n  "max_score": %s,\n  "execution_time": %s,\n' \
		"$e" "$m" "$1"
	printf '  "output": %s,\n  "tests": [' "$(json_string <"$NOTES")"
	while IFS=$'\t' read -r unit run name earned max status ms hint detail; do
		[ "$run" = build ] && name=build
		printf '%s\n    {"name": %s, "score": %s, "max_score": %s, "status": "%s", "output": %s}' \
			"$sep" "$(printf '%s: %s' "$(label "$unit" "$run")" "$name" | json_string)" \
			"$earned" "$max" "$([ "$status" = failed ] && echo failed || echo passed)" \
			"$(detail_text "$hint" "$detail" | json_string)"
		sep=,
	done <"$RESULTS"
	printf '\n  ]\n}\n'
}

# render_junit NAME: a JUnit XML report, one <testsuite> per suite and run
# (the build is a test case of the plain run), on stdout.
render_junit() {
	local unit run name earned max status ms hint detail suite="" e m
	read -r e m < <(total)
	printf '<?xml version="1.0" encoding="UTF-8"?>\n'
	printf '<testsuites name="%s" tests="%s" failures="%s">\n' \
		"$(printf '%s' "$1" | xml_text)" "$(wc -l <"$RESULTS")" \
		"$(awk -F '\t' '$6 == "failed"' "$RESULTS" | wc -l)"
	while IFS=$'\t' read -r unit run name earned max status ms hint detail; do
		[ "$run" = build ] && run=plain && name=build
		if [ "$unit/$run" != "$suite" ]; then
			[ -z "$suite" ] || printf '  </testsuite>\n'
			suite=$unit/$run
			junit_suite_open "$unit" "$run"
		fi
		printf '    <testcase classname="%s" name="%s" time="%s">\n' \
			"$(label "$unit" "$run" | xml_text)" "$(printf '%s' "$name" | xml_text)" \
			"$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
		printf '      <properties><property name="points" value="%s"/><property name="max_points" value="%s"/></properties>\n' \
			"$earned" "$max"
		case $status in
		failed)
			printf '      <failure message="%s">%s</failure>\n' \
				"$([ "$hint" = - ] || printf '%s' "$hint" | xml_text)" \
				"$(detail_text "$hint" "$detail" | xml_text)" ;;
		skipped)
			printf '      <skipped/>\n' ;;
		esac
		printf '    </testcase>\n'
	done <"$RESULTS"
	[ -z "$suite" ] || printf '  </testsuite>\n'
	printf '</testsuites>\n'
}

# junit_suite_open UNIT RUN: the <testsuite> tag of UNIT's RUN, with counts.
junit_suite_open() {
	local counts
	counts=$(awk -F '\t' -v u="$1" -v r="$2" '
		$1 == u && ($2 == r || (r == "plain" && $2 == "build")) {
			n++; if ($6 == "failed") f++; if ($6 == "skipped") s++; t += $7
		}
		END { printf "tests=\"%d\" failures=\"%d\" skipped=\"%d\" time=\"%.3f\"", n, f, s, t / 1000 }
	' "$RESULTS")
	printf '  <testsuite name="%s" %s>\n' "$(label "$1" "$2" | xml_text)" "$counts"
}
