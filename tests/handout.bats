#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The handout (tools/handout): the students' copy of the kit, where each
# marked region of the reference code is replaced by its starter branch.
# setup_file makes it once in a temporary folder and builds every step the
# way CI does (CI=true: warnings are errors); each test then checks one
# promise. The reference itself passing its suites is `make test` already.
#
# Sanitizer runs (make SAN=... test) skip this file: the handout does not
# depend on them, and the plain run has checked it.
# shellcheck disable=SC2154 # output, status, lines come from bats' run

load helpers

# What a test's failure says when it waited out a deadline (the helpers,
# timeout(1)'s status, the python clients) rather than seeing a program end.
WAITED_OUT='timed out|no line within|status : 124'
# Seconds a starter's suite may take in all, the five side by side on a
# loaded machine (tools/grading/time-suites measures them one by one).
SUITE_LIMIT=600

setup_file() {
	[ -z "${SAN:-}" ] || return 0
	export HANDOUT=$BATS_FILE_TMPDIR/one/handout
	"$KIT_ROOT/tools/handout" -o "$BATS_FILE_TMPDIR/one" \
		2>"$BATS_FILE_TMPDIR/handout.log" || {
		cat "$BATS_FILE_TMPDIR/handout.log" >&2
		return 1
	}
	local dir step
	for dir in "$HANDOUT"/steps/*/; do
		step=$(basename "$dir")
		[ -f "$dir/Makefile" ] || continue
		# Not the make flags of whoever runs us (SAN=..., -j): CI's own.
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$dir" CI=true \
			SAN= STARTER= >"$BATS_FILE_TMPDIR/$step.build" 2>&1 &&
			echo 0 >"$BATS_FILE_TMPDIR/$step.built" ||
			echo 1 >"$BATS_FILE_TMPDIR/$step.built"
	done
}

setup() {
	[ -z "${SAN:-}" ] || skip "checked by the plain run (make test)"
}

teardown() {
	local pid
	# A starter's suite still running (this test failed early): stop it.
	# timeout passes the signal on to everything the suite started.
	for pid in "${SUITE_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	kit_teardown
}
SUITE_PIDS=()

# marked STEP: succeeds if the kit's STEP (a folder name) has marked regions.
marked() {
	grep -qx '#ifndef STARTER' "$KIT_ROOT/steps/$1"/*.c 2>/dev/null
}

# sort_tap GIVEN TAP: each test of TAP (bats' TAP output) as "given ok N
# NAME" if its name is a line of the file GIVEN, else "other ok N NAME"
# ("not ok" for a failure).
sort_tap() {
	awk 'NR == FNR { given[$0] = 1; next }
		/^(not )?ok [0-9]+ / {
			name = $0; sub(/^(not )?ok [0-9]+ /, "", name)
			print (name in given ? "given " : "other ") $0
		}' "$1" "$2"
}

# waited_out TAP: prints each failed test of TAP (bats' TAP output) whose
# failure says it waited out a deadline (WAITED_OUT), with that line;
# fails if there is none.
waited_out() {
	awk -v re="$WAITED_OUT" '
		/^(not )?ok / { name = $0; failed = /^not ok /; shown = 0; next }
		failed && !shown && /^#/ && $0 ~ re { print name; print "  " $0; shown = 1; n++ }
		END { exit n == 0 }' "$1"
}

# listing: the names in the handout's tarball (the folder is built in place).
listing() {
	tar -tzf "$BATS_FILE_TMPDIR/one/handout.tar.gz"
}

# plain_path: PATH without bats' own folder, which bats puts first and whose
# `bats` is not the command: a suite run from a test needs the real one.
plain_path() {
	local dir out=
	local -a dirs
	IFS=: read -r -a dirs <<<"$PATH"
	for dir in "${dirs[@]}"; do
		[ "$dir" = "${BATS_LIBEXEC:-}" ] || out+=${out:+:}$dir
	done
	echo "$out"
}

# code CC-ARGS... FILE: the C code of FILE as the compiler sees it, blank
# lines out: what two versions of a file must share.
# The place a todo() names (the file's path, the line) differs between the
# two by construction: it is left out.
code() {
	cc -E -P -D_POSIX_C_SOURCE=200809L "$@" | grep -v '^[[:space:]]*$' |
		sed -E 's/todo_stop\("[^"]*", [0-9]+,/todo_stop(FILE, LINE,/g'
}

# markdown_problems DIR: every broken promise of the Markdown in DIR, one a
# line: a relative link to a file DIR lacks; a command in a code span or a
# code block that names a file DIR lacks (tools/x, tests/x.bats, ./server
# counts when its .c is there); a make target that `make -n` refuses, or
# whose recipe runs a file DIR lacks (make demo without tools/simulate).
# A command is looked up from the Markdown file's folder, then from DIR's
# top; words with placeholders (NN, DIR, ...) are skipped. Fails if any.
markdown_problems() {
	python3 - "$1" <<'PY'
import os, re, shlex, subprocess, sys

top = os.path.abspath(sys.argv[1])
# Words that name a file of the kit.
PREFIXES = ("tools/", "tests/", "./", "../", "steps/", "common/", "solution/",
            "slides/")
bad = []

def exists(path, base):
    """A path a Markdown file names: in its folder or from the top; a
    server or client that a step's Makefile builds counts."""
    for root in (base, top):
        p = os.path.normpath(os.path.join(root, path))
        if os.path.lexists(p):
            return True
        d, name = os.path.split(p)
        if name in ("server", "client") and (path.startswith("./") or
                os.path.exists(os.path.join(d, name + ".c"))):
            return True
    return False

def placeholder(word):
    return re.search(r"[A-Z]{2,}|\.\.\.|[<>*$]", word) is not None

def check_make(words, base, where):
    errs = []
    for d in dict.fromkeys([base, top]):
        if not os.path.exists(os.path.join(d, "Makefile")) and "-C" not in words:
            continue
        e = make_errors(words, d, base)
        if not e:
            return
        errs = errs or e
    bad.extend(f"{where}: {e}" for e in errs[:1])

def make_errors(words, d, base):
    errs = []
    targets, i = [], 1
    while i < len(words):
        w = words[i]
        if w == "-C" and i + 1 < len(words):
            if placeholder(words[i + 1]) or words[i + 1].startswith("/"):
                return []
            d = os.path.normpath(os.path.join(d, words[i + 1]))
            i += 2
            continue
        if not w.startswith("-") and "=" not in w:
            targets.append(w)
        i += 1
    if any(placeholder(t) for t in targets):
        return []
    r = subprocess.run(["make", "-n", "-s", "-C", d] + targets, capture_output=True, text=True,
                       env=dict(os.environ, MAKEFLAGS="", MFLAGS="", MAKELEVEL=""))
    if r.returncode != 0:
        return [f"`{' '.join(words)}`: make -n fails: {r.stderr.strip().splitlines()[-1:]}"]
    for line in r.stdout.splitlines():
        try:
            first = shlex.split(line)[0]
        except (ValueError, IndexError):
            continue
        if "/" in first and not first.startswith("/") and not os.path.exists(os.path.join(d, first)):
            errs.append(f"`{' '.join(words)}` runs {first}, which the handout lacks")
    return errs

def check_command(cmd, base, where):
    cmd = cmd.split(" #")[0].strip()
    for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", cmd):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        while words and re.match(r"^[A-Z_]+=", words[0]):
            words = words[1:]
        if not words:
            continue
        first = words[0]
        if first == "make":
            check_make(words, base, where)
            args = []
        elif first.startswith(PREFIXES):
            args = words
        elif first in ("bats", "cat", "less", "diff", "cd", "timeout", "valgrind", "strace"):
            args = words[1:]
        elif len(words) == 1 and "/" in first and not first.startswith(("/", "-", "~")):
            args = words  # a path by itself: `common/line.c`
        else:
            continue
        for w in args:
            w = w.split("=", 1)[-1]
            if w.startswith(PREFIXES) and not placeholder(w):
                if not exists(w, base):
                    bad.append(f"{where}: `{cmd}` names {w}, which the handout lacks")

for dirpath, dirs, files in os.walk(top):
    for f in files:
        if not f.endswith(".md"):
            continue
        path = os.path.join(dirpath, f)
        rel = os.path.relpath(path, top)
        text = open(path, encoding="utf-8").read()
        # Links, outside code.
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        prose = re.sub(r"`[^`\n]*`", "", prose)
        for m in re.finditer(r"\]\(([^)\s]+)\)", prose):
            target = m.group(1)
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            target = target.split("#")[0]
            if not os.path.lexists(os.path.normpath(os.path.join(dirpath, target))):
                bad.append(f"{rel}: link to {target}, which the handout lacks")
        # Commands: lines of code blocks and inline code spans.
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
            for line in block.splitlines():
                line = re.sub(r"^\s*\$\s+", "", line)
                check_command(line, dirpath, rel)
        for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", text, flags=re.S)):
            check_command(span, dirpath, rel)

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
}

@test "the handout has the kit's steps, common/ and tests, and no solution/" {
	local dir suite step
	[ -f "$HANDOUT/Makefile" ]
	[ -f "$HANDOUT/common/build.mk" ]
	[ -x "$HANDOUT/tests/run" ]
	[ ! -e "$HANDOUT/solution" ]
	for dir in "$KIT_ROOT"/steps/*/; do
		[ -f "$dir/Makefile" ] || continue
		step=steps/$(basename "$dir")
		[ -f "$HANDOUT/$step/Makefile" ] || {
			echo "$step is not in the handout" >&2
			return 1
		}
	done
	# Students run every suite they get: each must test a step they have.
	for suite in "$HANDOUT"/tests/*.bats; do
		step=$(sed -n 's/^STEP=\([^[:space:]]*\).*/\1/p' "$suite")
		if [[ $step != steps/* ]] || [ ! -d "$HANDOUT/$step" ]; then
			echo "tests/${suite##*/} tests '${step:-no step}', which students" \
				"do not get: add it to LEAVE_OUT in tools/handout" >&2
			return 1
		fi
	done
	# No build output: everything is built from source.
	run listing
	assert_success
	assert_line handout/steps/01-tcp-echo/server.c
	refute_line --regexp '/(build|dist|solution|\.git)/|\.(o|d|so|a)$|/(server|client)$'
}

@test "no mark is left, and each C file is its kit file built with STARTER" {
	local file n=0
	run grep -rnE --include='*.[ch]' \
		'^[[:space:]]*#[[:space:]]*(if|ifdef|ifndef|elif|else|endif)([^[:alnum:]_].*)?(STARTER|SOLUTION)' \
		"$HANDOUT"
	assert_output ""
	run grep -rnE --include='*.[ch]' \
		'^[[:space:]]*/\* \[/?[[:alnum:]_.-]+\] \*/[[:space:]]*$' "$HANDOUT"
	assert_output ""
	# The compiler's own reading of the kit's marks, against tools/handout's.
	while IFS= read -r file; do
		file=${file#"$KIT_ROOT"/}
		if ! diff <(code -DSTARTER -I"$KIT_ROOT/common" "$KIT_ROOT/$file") \
			<(code -I"$HANDOUT/common" "$HANDOUT/$file") >&2; then
			echo "$file: the handout's code is not the starter branch" >&2
			return 1
		fi
		n=$((n + 1))
	done < <(find "$KIT_ROOT/common" "$KIT_ROOT/steps" -name build -prune \
		-o -name '*.c' -print)
	[ "$n" -gt 0 ]
}

@test "making the handout twice gives the same tarball, byte for byte" {
	"$KIT_ROOT/tools/handout" -o "$BATS_TEST_TMPDIR/two" 2>/dev/null
	cmp "$BATS_FILE_TMPDIR/one/handout.tar.gz" "$BATS_TEST_TMPDIR/two/handout.tar.gz"
	# And the tarball holds the folder, owned by 0, dated 1970.
	mkdir "$BATS_TEST_TMPDIR/x"
	tar -xzf "$BATS_TEST_TMPDIR/two/handout.tar.gz" -C "$BATS_TEST_TMPDIR/x"
	diff -r "$BATS_TEST_TMPDIR/two/handout" "$BATS_TEST_TMPDIR/x/handout"
	run tar -tvzf "$BATS_TEST_TMPDIR/two/handout.tar.gz"
	assert_success
	run grep -cvE '^.{10} 0/0 +[0-9]+ 1970-01-01 00:00 handout/' <<<"$output"
	assert_output 0
}

@test "every step of the handout builds without a warning under CI=true" {
	local built step bad=0
	for built in "$BATS_FILE_TMPDIR"/*.built; do
		step=$(basename "$built" .built)
		if [ "$(cat "$built")" != 0 ] ||
			grep -q 'warning:' "$BATS_FILE_TMPDIR/$step.build" ||
			[ ! -x "$HANDOUT/steps/$step/server" ] ||
			[ ! -x "$HANDOUT/steps/$step/client" ]; then
			echo "--- steps/$step does not build cleanly:" >&2
			grep -E -A 3 'warning:|error:|Error' "$BATS_FILE_TMPDIR/$step.build" |
				head -n 30 >&2 || true
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

# What "fails" means. The tests worth no points (tools/grading/points)
# check code the starter gives: it answers -h, refuses bad usage, prints
# its ready line, says when a connection is refused, and step 01's client
# is whole. They must pass on it: if they fail, the suite failed for some
# other reason (no binary, a crash). Every other test must fail: a test
# the starter passes checks nothing the student writes. And each must fail
# fast: a part of the starter left to write stops its program at once
# (todo(), common/todo.h), so no failure may come from a wait that ran out
# its deadline (WAITED_OUT): that would be a starter that stays alive
# without answering, and every such test costs a student its deadline.
# bats must exit 1 (tests failed), not 124 (the time limit), having run
# every test. The suites run side by side.
@test "every step's suite fails on the starter code, at once, but for the tests of given code" {
	local dir step i rc tap total given others failing bad=0 path
	local -a steps=()
	path=$(plain_path)
	"$KIT_ROOT/tools/grade" --points >"$BATS_TEST_TMPDIR/points"
	for dir in "$HANDOUT"/steps/*/; do
		step=$(basename "$dir")
		[ -f "$KIT_ROOT/tests/$step.bats" ] || continue
		if ! marked "$step"; then
			echo "# $step: no marked region, handed out complete: not run" >&3
			continue
		fi
		mkdir -p "$BATS_TEST_TMPDIR/$step.tmp"
		(close_fds; exec timeout -k 10 "$SUITE_LIMIT" env -i PATH="$path" \
			HOME="$HOME" LANG=C.UTF-8 TMPDIR="$BATS_TEST_TMPDIR/$step.tmp" \
			BATS_LIB_PATH="${BATS_LIB_PATH:-/usr/lib/bats}" \
			KIT_IMPL="$HANDOUT" \
			bats --formatter tap "$KIT_ROOT/tests/$step.bats") \
			</dev/null >"$BATS_TEST_TMPDIR/$step.tap" \
			2>"$BATS_TEST_TMPDIR/$step.err" &
		SUITE_PIDS+=("$!")
		steps+=("$step")
	done
	[ "${#steps[@]}" -gt 0 ]
	for i in "${!steps[@]}"; do
		step=${steps[i]} tap=$BATS_TEST_TMPDIR/${steps[i]}.tap rc=0
		wait "${SUITE_PIDS[i]}" || rc=$?
		SUITE_PIDS[i]=
		if [ "$rc" -ne 1 ]; then
			echo "$step: bats exited $rc, not 1 (124: past ${SUITE_LIMIT}s)" >&2
			tail -n 5 "$BATS_TEST_TMPDIR/$step.err" >&2
			bad=1
			continue
		fi
		total=$(grep -cE '^(not )?ok ' "$tap" || true)
		if [ "$total" -ne "$(sed -n 's/^1\.\.//p' "$tap")" ]; then
			echo "$step: the suite did not run to its end" >&2
			bad=1
			continue
		fi
		awk -F '\t' -v s="$step" '$1 == 0 && $2 == s && $3 == "plain" { print $4 }' \
			"$BATS_TEST_TMPDIR/points" >"$BATS_TEST_TMPDIR/$step.given"
		sort_tap "$BATS_TEST_TMPDIR/$step.given" "$tap" >"$BATS_TEST_TMPDIR/$step.sorted"
		given=$(grep -c '^given ' "$BATS_TEST_TMPDIR/$step.sorted" || true)
		others=$((total - given))
		if grep '^given not ok ' "$BATS_TEST_TMPDIR/$step.sorted" >&2; then
			echo "$step: the starter fails tests of the code it gives (above)" >&2
			bad=1
		fi
		failing=$(grep -c '^other not ok ' "$BATS_TEST_TMPDIR/$step.sorted" || true)
		echo "# $step: $failing of $others tests fail on the starter" \
			"($given tests of given code pass)" >&3
		if [ "$failing" -lt "$others" ]; then
			echo "$step: only $failing of $others tests fail on the starter;" \
				"these pass, checking nothing the student writes:" >&2
			grep '^other ok ' "$BATS_TEST_TMPDIR/$step.sorted" >&2
			bad=1
		fi
		if waited_out "$tap" >"$BATS_TEST_TMPDIR/$step.waited"; then
			echo "$step: these tests fail on the starter only once a wait" \
				"runs out, not at once (a program alive that never answers):" >&2
			cat "$BATS_TEST_TMPDIR/$step.waited" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

@test "the grader runs in the handout (tools/grade --points)" {
	[ -x "$KIT_ROOT/tools/grade" ] || skip "no tools/grade in the kit"
	run "$HANDOUT/tools/grade" --points
	assert_success
	local dir
	for dir in "$HANDOUT"/steps/*/; do
		assert_line --partial $'\t'"$(basename "$dir")"$'\tplain\t'
	done
	refute_line --partial $'\tsolution\t'
}

# --- tools/handout itself, on a small kit of its own -------------------------

# fake_kit CODE: a kit with tools/handout and one step whose server.c is
# CODE; sets FAKE to its top.
fake_kit() {
	FAKE=$BATS_TEST_TMPDIR/fake
	rm -rf "$FAKE"
	mkdir -p "$FAKE/tools" "$FAKE/steps/01-x" "$FAKE/solution"
	cp "$KIT_ROOT/tools/handout" "$FAKE/tools/handout"
	printf '%s\n' "$1" >"$FAKE/steps/01-x/server.c"
	echo 'int answer;' >"$FAKE/solution/answer.c"
	echo '# For students' >"$FAKE/tools/handout-README.md"
	echo '# For instructors' >"$FAKE/README.md"
	git -C "$FAKE" init -q
	git -C "$FAKE" add .
}

@test "tools/handout keeps the starter branch and drops marks and slide markers" {
	fake_kit $'int f(int x)\n{\n#ifndef STARTER\n\t/* [slide] */\n\treturn x;\n\t/* [/slide] */\n#else /* STARTER */\n\t/* TODO */\n\treturn -1;\n#endif /* STARTER */\n}\n/* [kept] */\nint g;'
	run "$FAKE/tools/handout"
	assert_success
	assert_line "handout: steps/01-x: 1 marked region"
	run cat "$FAKE/dist/handout/steps/01-x/server.c"
	assert_output $'int f(int x)\n{\n\t/* TODO */\n\treturn -1;\n}\nint g;'
	[ ! -e "$FAKE/dist/handout/solution" ]
	[ ! -e "$FAKE/dist/handout/tools/handout" ]
}

@test "tools/handout stops at a malformed mark, naming its file and line" {
	fake_kit $'int x;\n#ifndef STARTER\nint y;'
	run "$FAKE/tools/handout"
	assert_failure
	assert_output --partial "steps/01-x/server.c:2: #ifndef STARTER is never closed"
	[ ! -e "$FAKE/dist/handout" ]
	fake_kit $'#if !defined(STARTER)\nint y;\n#endif'
	run "$FAKE/tools/handout"
	assert_failure
	assert_output --partial "steps/01-x/server.c:1: not a mark tools/handout knows"
	fake_kit $'#else /* STARTER */\n#endif /* STARTER */'
	run "$FAKE/tools/handout"
	assert_failure
	assert_output --partial "steps/01-x/server.c:1: #else /* STARTER */ without"
}

@test "tools/handout says when a step has no marked region" {
	fake_kit 'int main(void) { return 0; }'
	run "$FAKE/tools/handout"
	assert_success
	assert_line "handout: note: steps/01-x has no marked region: it goes out complete"
}

@test "tools/handout takes only what git tracks, and the students' README" {
	fake_kit 'int main(void) { return 0; }'
	echo "a private note" >"$FAKE/steps/01-x/notes.txt"	# never added
	echo "a log" >"$FAKE/server.log"
	run "$FAKE/tools/handout"
	assert_success
	[ -f "$FAKE/dist/handout/steps/01-x/server.c" ]
	[ ! -e "$FAKE/dist/handout/steps/01-x/notes.txt" ]
	[ ! -e "$FAKE/dist/handout/server.log" ]
	run cat "$FAKE/dist/handout/README.md"
	assert_output "# For students"
	[ ! -e "$FAKE/dist/handout/tools/handout-README.md" ]
	rm -rf "$FAKE/.git"
	run "$FAKE/tools/handout"
	assert_failure
	assert_output --partial "is not a git checkout"
}

@test "every link and command in the handout's Markdown works inside it" {
	run markdown_problems "$HANDOUT"
	assert_success
	assert_output ""
	# The students' README, not the instructor's.
	run grep -c 'make demo\|tools/simulate\|make handout' "$HANDOUT/README.md"
	assert_output 0
}

@test "the Markdown check finds a dead link, a missing file and a make target that needs one" {
	local t=$BATS_TEST_TMPDIR/md
	mkdir -p "$t/steps/01-x" "$t/tools"
	printf 'all:\n\ttrue\ndemo:\n\ttools/simulate\n' >"$t/Makefile"
	touch "$t/steps/01-x/server.c" "$t/tools/grade"
	# shellcheck disable=SC2016 # backquotes: Markdown, not the shell
	printf '%s\n' 'See [the solution](solution/README.md) and [x](steps/01-x/).' \
		'Run `tools/simulate --step 04`, `make demo`, `make`.' \
		'```sh' 'tests/run tests/01-x.bats' 'cd steps/01-x && ./server -p 0' \
		'tools/grade .' '```' >"$t/README.md"
	run markdown_problems "$t"
	assert_failure
	assert_line --partial 'link to solution/README.md'
	assert_line --partial 'names tools/simulate'
	assert_line --partial 'runs tools/simulate'
	assert_line --partial 'names tests/run'
	assert_line --partial 'names tests/01-x.bats'
	assert_equal "${#lines[@]}" 5
}

# diff_counts OLD NEW: "ADDED TAKEN", the lines `diff OLD NEW` adds and takes
# away, counted as each step's README tells students to count them.
diff_counts() {
	local out
	out=$(diff "$1" "$2" || true)
	echo "$(grep -c '^>' <<<"$out") $(grep -c '^<' <<<"$out")"
}

@test "each step's README gives the counts its diff against the step before prints" {
	local prev='' dir said want wrong=0
	for dir in "$KIT_ROOT"/steps/*/; do
		if [ -n "$prev" ]; then
			# shellcheck disable=SC2016 # backquotes: Markdown, not the shell
			said=$(tr '\n' ' ' <"$dir/README.md" | sed -nE \
				's/.*this prints ([0-9]+) and ([0-9]+); for `client\.c`, ([0-9]+) +and ([0-9]+)\..*/\1 \2 \3 \4/p')
			want="$(diff_counts "$prev/server.c" "$dir/server.c") $(diff_counts "$prev/client.c" "$dir/client.c")"
			if [ "$said" != "$want" ]; then
				echo "$(basename "$dir")/README.md says '${said:-nothing}'; the diffs print '$want'" \
					"(server.c added, taken away; client.c added, taken away)" >&2
				wrong=1
			fi
		fi
		prev=$dir
	done
	[ "$wrong" -eq 0 ]
}
