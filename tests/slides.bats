#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # STEP is read by helpers.bash; bats' run sets stderr
# The slide decks: both languages build offline, and every piece of code
# on a slide comes from the kit's real sources.

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
	mkdir -p "$copy"
	cp -r "$KIT_ROOT/slides" "$KIT_ROOT/steps" "$KIT_ROOT/solution" \
		"$KIT_ROOT/common" "$copy/"
	sed -i 's/marker="api-socket"/marker="no-such-marker"/' "$copy/slides/en.md"
	run timeout 300 make -s -C "$copy/slides" ../dist/slides/en.html
	assert_failure
	assert_output --partial "no marker /* [no-such-marker] */"
	[ ! -e "$copy/dist/slides/en.html" ]
}
