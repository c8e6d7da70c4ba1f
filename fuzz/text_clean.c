/*
 * text_clean.c - fuzz target for the text cleaner (solution/text.c).
 *
 * Input: any bytes, as a client could send them. Checked, beyond crashes:
 *   - the output fits TEXT_CLEAN_SIZE() and ends with a NUL;
 *   - it is valid UTF-8 (checked here by a decoder of its own, not
 *     text.c's) and holds no control character but TAB: no C0, no DEL,
 *     no C1, so nothing a terminal would act on;
 *   - text that is already clean comes out unchanged, and cleaning twice
 *     changes nothing more;
 *   - text_cut() shortens clean text to the longest prefix within its
 *     limit that does not split a character;
 *   - text_valid_nick() agrees with the nickname rule.
 */
#include "config.h"
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stops the run: libFuzzer saves the input that got here. */
static void fail(const char *what)
{
	fprintf(stderr, "text_clean: %s\n", what);
	abort();
}

/*
 * Length of the valid UTF-8 sequence at S (N bytes left), straight from
 * the table of well-formed sequences in the Unicode standard (3.9, table
 * 3-7); 0 if it is not one. *CP gets its code point.
 */
static size_t well_formed(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const struct {
		unsigned char lo0, hi0, lo1, hi1;
		size_t len;
	} rows[] = {
		{ 0x00, 0x7F, 0, 0, 1 },
		{ 0xC2, 0xDF, 0x80, 0xBF, 2 },
		{ 0xE0, 0xE0, 0xA0, 0xBF, 3 },
		{ 0xE1, 0xEC, 0x80, 0xBF, 3 },
		{ 0xED, 0xED, 0x80, 0x9F, 3 },
		{ 0xEE, 0xEF, 0x80, 0xBF, 3 },
		{ 0xF0, 0xF0, 0x90, 0xBF, 4 },
		{ 0xF1, 0xF3, 0x80, 0xBF, 4 },
		{ 0xF4, 0xF4, 0x80, 0x8F, 4 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t len = rows[r].len;

		if (s[0] < rows[r].lo0 || s[0] > rows[r].hi0)
			continue;
		if (len == 1) {
			*cp = s[0];
			return 1;
		}
		if (n < len || s[1] < rows[r].lo1 || s[1] > rows[r].hi1)
			return 0;
		for (size_t i = 2; i < len; i++)
			if (s[i] < 0x80 || s[i] > 0xBF)
				return 0;
		*cp = s[0] & (0xFF >> (len + 1));
		for (size_t i = 1; i < len; i++)
			*cp = (*cp << 6) | (s[i] & 0x3F);
		return len;
	}
	return 0;
}

/* Returns 1 if the LEN bytes at S are valid UTF-8 without control characters. */
static int is_clean(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = well_formed(u + i, len - i, &cp);

		if (n == 0)
			return 0;
		if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F))
			return 0;
		i += n;
	}
	return 1;
}

/* The nickname rule, spelled out: 1 to MAX_NICK of A-Z a-z 0-9 _ -. */
static int nick_rule(const char *s, size_t len)
{
	if (len == 0 || len > MAX_NICK)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Checks text_cut() on the clean text S (LEN bytes) at every limit. */
static void check_cut(const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		fail("out of memory");
	for (size_t max = 0; max <= len; max++) {
		size_t n, next;
		uint32_t cp;

		memcpy(copy, s, len + 1);
		n = text_cut(copy, len, max);
		if (n > max || copy[n] != '\0' || memcmp(copy, s, n) != 0)
			fail("text_cut: not a prefix within the limit");
		if (!is_clean(copy, n))
			fail("text_cut: split a character");
		next = n < len ? well_formed((const unsigned char *)s + n,
					     len - n, &cp) : 0;
		if (n < len && n + next <= max)
			fail("text_cut: cut more than it had to");
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *out = malloc(TEXT_CLEAN_SIZE(size));
	char *again = malloc(TEXT_CLEAN_SIZE(TEXT_CLEAN_SIZE(size)));
	char *nick = malloc(size + 1);
	size_t n, m;

	if (out == NULL || again == NULL || nick == NULL)
		fail("out of memory");
	n = text_clean(in, size, out);
	if (n + 1 > TEXT_CLEAN_SIZE(size) || out[n] != '\0')
		fail("output overflows TEXT_CLEAN_SIZE or lacks its NUL");
	if (!is_clean(out, n))
		fail("output is not clean UTF-8");
	if (is_clean(in, size) && (n != size || memcmp(in, out, size) != 0))
		fail("clean input was changed");
	m = text_clean(out, n, again);
	if (m != n || memcmp(out, again, n) != 0)
		fail("cleaning twice changed the text");
	if (n <= 64)
		check_cut(out, n);

	memcpy(nick, in, size);
	nick[size] = '\0';
	if (text_valid_nick(nick, size) != nick_rule(nick, size))
		fail("text_valid_nick disagrees with the nickname rule");
	free(out);
	free(again);
	free(nick);
	return 0;
}
