/*
 * message.c - the text of a test line: writing it and checking it.
 *
 * A test line is plain printable text, so that any chat server passes it
 * on untouched, and exactly SIZE bytes long:
 *
 *     SENDER SEQ STAMP PADDING SUM
 *     3 17 81234567890123 uvwxyzabcdefghijklmnopqrst 6c1f09a2
 *
 * SENDER is the index of the client that wrote it, SEQ its line number
 * (from 0), STAMP the CLOCK_MONOTONIC time in nanoseconds when it was
 * written, PADDING letters that bring the line to SIZE bytes, and SUM a
 * Fletcher checksum (32 bits, 8 hex digits) of everything before the space
 * in front of it. A receiver recomputes SUM: a line cut, merged with
 * another or altered by the server does not check out.
 *
 * Parsing is hand-written, not strtoull(): the receiving side handles
 * millions of lines a second, and the library's version (locales, signs,
 * bases) was most of the bench's time.
 */
#include "chatbench.h"

#include <inttypes.h>
#include <stdio.h>

/* " xxxxxxxx": the space and the 8 hex digits of SUM at the end of a line. */
#define SUM_LEN 9

/*
 * Fletcher's checksum of LEN bytes at P: SUM1 adds the bytes, SUM2 adds the
 * running SUM1 after each byte, so a byte counts once more for every byte
 * after it. Unlike a plain sum, it notices two bytes swapped. (Lines are
 * at most 1024 bytes, so neither sum can overflow 32 bits.)
 */
static uint32_t checksum(const char *p, size_t len)
{
	uint32_t sum1 = 0, sum2 = 0;

	while (len-- > 0) {
		sum1 += (unsigned char)*p++;
		sum2 += sum1;
	}
	return (sum2 << 16) ^ sum1;
}

void message_format(char *buf, size_t size, const struct message *m)
{
	size_t body = size - SUM_LEN;	/* where SUM's space goes */
	int n;

	/* MIN_SIZE leaves room for the three numbers at their widest. */
	n = snprintf(buf, body, "%" PRIu32 " %" PRIu32 " %" PRId64 " ",
		     m->sender, m->seq, m->stamp);
	for (size_t i = (size_t)n; i < body; i++)
		buf[i] = (char)('a' + (m->seq + i) % 26);
	snprintf(buf + body, SUM_LEN + 1, " %08" PRIx32, checksum(buf, body));
}

/*
 * Reads the decimal number at *P, which must end with a space, and moves *P
 * past that space. Returns 0, or -1 if there is no such number.
 */
static int take_number(const char **p, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;	/* more digits than any of ours */
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != ' ')
		return -1;
	*value = v;
	*p = s + 1;
	return 0;
}

/* Reads the 8 lowercase hex digits at S. Returns 0, or -1 if they are not. */
static int take_sum(const char *s, uint32_t *value)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = v << 4 | (uint32_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = v << 4 | (uint32_t)(s[i] - 'a' + 10);
		else
			return -1;
	}
	*value = v;
	return 0;
}

int message_parse(const char *text, size_t len, struct message *m)
{
	const char *p = text;
	uint64_t sender, seq, stamp;
	uint32_t sum;

	if (len < MIN_SIZE || text[len - SUM_LEN] != ' ' ||
	    take_sum(text + len - SUM_LEN + 1, &sum) < 0 ||
	    sum != checksum(text, len - SUM_LEN))
		return -1;
	if (take_number(&p, &sender) < 0 || take_number(&p, &seq) < 0 ||
	    take_number(&p, &stamp) < 0)
		return -1;
	if (sender > UINT32_MAX || seq > UINT32_MAX || stamp > INT64_MAX)
		return -1;
	m->sender = (uint32_t)sender;
	m->seq = (uint32_t)seq;
	m->stamp = (int64_t)stamp;
	return 0;
}
