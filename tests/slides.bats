#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The slide decks: both languages build offline with their fonts, every
# piece of code on a slide comes from the kit's real sources (the French
# deck's with French comments), and the French deck's typography holds.

load helpers

setup() {
	command -v pandoc >/dev/null 2>&1 ||
		skip "pandoc is not installed (apt-get install pandoc)"
}

@test "make slides builds both decks and the offline check passes" {
	run timeout 300 make -s -C "$KIT_ROOT/slides" check
	assert_success
	assert_output --partial "check passed: 2 decks"
	[ -s "$KIT_ROOT/dist/slides/fr.html" ]
	[ -s "$KIT_ROOT/dist/slides/en.html" ]
	run grep -lE 'https?://' "$KIT_ROOT/dist/slides/fr.html" \
		"$KIT_ROOT/dist/slides/en.html"
	assert_failure
}

@test "a slide that quotes a marker the code lacks stops the build" {
	local copy="$BATS_TEST_TMPDIR/kit"
	copy_kit
	sed -i 's/marker="api-socket"/marker="no-such-marker"/' "$copy/slides/en.md"
	run timeout 300 make -s -C "$copy/slides" ../dist/slides/en.html
	assert_failure
	assert_output --partial "no marker /* [no-such-marker] */"
	[ ! -e "$copy/dist/slides/en.html" ]
}

# copy_kit: a copy of what the slides read, in BATS_TEST_TMPDIR/kit.
copy_kit() {
	local copy="$BATS_TEST_TMPDIR/kit"
	mkdir -p "$copy"
	cp -r "$KIT_ROOT/slides" "$KIT_ROOT/steps" "$KIT_ROOT/solution" \
		"$KIT_ROOT/common" "$KIT_ROOT/python" "$KIT_ROOT/tools" "$copy/"
}

@test "the French deck's code has French comments; the English deck's, English" {
	run timeout 300 make -s -C "$KIT_ROOT/slides"
	assert_success
	local fr="$KIT_ROOT/dist/slides/fr.html" en="$KIT_ROOT/dist/slides/en.html"
	grep -q 'réveille son thread' "$fr"
	grep -q 'wakes its thread' "$en"
	run grep -c 'wakes its thread\|held while sending' "$fr"
	assert_output 0
	# The Python of the course is on the slides, from python/.
	grep -q 'python/server.py' "$fr"
	grep -q 'python/client.py' "$en"
}

# lab_text DECK: the deck's text, with its embedded SVG pictures decoded.
lab_text() {
	python3 - "$1" <<'PY'
import base64, re, sys
deck = open(sys.argv[1], encoding="utf-8").read()
print(deck)
for svg in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", deck):
    print(base64.b64decode(svg).decode("utf-8"))
PY
}

@test "the lab's figures speak the deck's language, their tables aligned" {
	run timeout 300 make -s -C "$KIT_ROOT/slides"
	assert_success
	local fr en
	fr=$(lab_text "$KIT_ROOT/dist/slides/fr.html")
	en=$(lab_text "$KIT_ROOT/dist/slides/en.html")
	# Every English text of slides/lab.fr is gone from the French deck,
	# and the English deck still has each one it shows.
	local line text shown=0
	while IFS= read -r line; do
		text=${line#en }
		[ "$text" != "$line" ] || continue
		if [[ $fr == *"$text"* ]]; then
			echo "the French deck still shows: $text" >&2
			return 1
		fi
		[[ $en != *"$text"* ]] || shown=$((shown + 1))
	done <"$KIT_ROOT/slides/lab.fr"
	[ "$shown" -ge 5 ]
	[[ $fr == *"puis kill -9 après un écho"* ]]
	[[ $fr == *"lignes revenues (sur 1000)"* ]]
	# The translated table header keeps the English one's width.
	run python3 -c '
import sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()
en = next(r for r in rows if r.startswith("en loss "))
fr = next(r for r in rows if r.startswith("fr perte "))
print(len(en), len(fr))' "$KIT_ROOT/slides/lab.fr"
	assert_output "68 68"
}

@test "a code comment with no French translation fails the check" {
	copy_kit
	sed -i 's|/\* wakes its thread \*/|/* wakes the thread up */|' \
		"$BATS_TEST_TMPDIR/kit/steps/04-threaded-chatroom/server.c"
	cd "$BATS_TEST_TMPDIR/kit/slides"
	run timeout 300 ./check fr.md en.md
	assert_failure
	assert_output --partial 'no fr for the comment "wakes the thread up"'
}

@test "French typography: an ordinary space before ? or an English word fails" {
	copy_kit
	cd "$BATS_TEST_TMPDIR/kit/slides"
	run timeout 300 ./check fr.md en.md
	assert_success
	assert_output --partial "French typography checked"
	# U+202F before the ? of a title becomes an ordinary space.
	sed -i 's/^## TCP ou UDP\xe2\x80\xaf?$/## TCP ou UDP ?/' fr.md
	grep -qx '## TCP ou UDP ?' fr.md
	run timeout 300 ./check fr.md en.md
	assert_failure
	assert_output --regexp 'fr\.md:[0-9]+: an ordinary space before .*## TCP ou UDP \?'
	cp "$KIT_ROOT/slides/fr.md" fr.md
	sed -i 's/# terminaux 2 et 3/# terminals 2 et 3/' fr.md
	grep -q 'terminals 2' fr.md
	run timeout 300 ./check fr.md en.md
	assert_failure
	assert_output --regexp 'fr\.md:[0-9]+: an English word, "terminals"'
}

@test "the decks embed their fonts and need nothing installed to look right" {
	run timeout 300 make -s -C "$KIT_ROOT/slides"
	assert_success
	local deck
	for deck in fr en; do
		run grep -c '@font-face' "$KIT_ROOT/dist/slides/$deck.html"
		assert_output 4
		run grep -o 'url([^)]\{0,40\}' "$KIT_ROOT/dist/slides/$deck.html"
		refute_output --partial '/usr/share'
		assert_output --partial 'url(data:'
	done
}
