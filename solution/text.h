/*
 * text.h - what the chatroom lets through: clean UTF-8 and valid nicknames.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

/* Bytes text_clean() may write for LEN bytes of input, its NUL included. */
#define TEXT_CLEAN_SIZE(len) (3 * (len) + 1)

/*
 * Copies the LEN bytes of IN to OUT, which has room for TEXT_CLEAN_SIZE(LEN)
 * bytes, dropping control characters (C0 but TAB, DEL, C1) and replacing
 * every byte of invalid UTF-8 with U+FFFD. A terminal that prints the
 * result can then not be driven by escape sequences. Returns the length
 * written (a NUL follows).
 */
size_t text_clean(const char *in, size_t len, char *out);

/*
 * Shortens the valid UTF-8 string S (LEN bytes) to at most MAX bytes, on a
 * character boundary: a cut never splits a multibyte character. Returns
 * the new length (a NUL follows).
 */
size_t text_cut(char *s, size_t len, size_t max);

/*
 * Returns 1 if the LEN bytes of NICK are 1 to MAX_NICK characters of
 * A-Z a-z 0-9 _ -, else 0.
 */
int text_valid_nick(const char *nick, size_t len);

#endif
