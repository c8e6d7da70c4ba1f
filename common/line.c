/*
 * line.c - a bounded line reader: see line.h.
 */
#include "line.h"
#include "todo.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Smallest buffer: one read() can then bring in many short lines at once. */
#define LINE_BUF_MIN 4096

int line_init(struct line_reader *lr, int fd, size_t max)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = fd;
	lr->max = max;
	lr->cap = max + 2 > LINE_BUF_MIN ? max + 2 : LINE_BUF_MIN;
	lr->buf = malloc(lr->cap);
	return lr->buf ? 0 : -1;
}

void line_free(struct line_reader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

ssize_t line_fill(struct line_reader *lr)
{
	size_t room;
	ssize_t n;

	/* Slide what is left to the front: the lines before it are gone. */
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	room = lr->cap - 1 - lr->end;	/* keep one byte for a final NUL */
	if (room == 0) {
		errno = ENOBUFS;	/* line_next() would have said TOO_LONG */
		return -1;
	}
	do
		n = read(lr->fd, lr->buf + lr->end, room);
	while (n < 0 && util_retry());
	if (n == 0)
		lr->eof = 1;
	if (n > 0)
		lr->end += (size_t)n;
	return n;
}

/* Hands out the LEN bytes at START as a line and consumes SKIP bytes. */
static int take(struct line_reader *lr, size_t len, size_t skip,
		char **line, size_t *outlen)
{
	char *p = lr->buf + lr->start;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	p[len] = '\0';
	lr->start += skip;
	*line = p;
	*outlen = len;
	return LINE_OK;
}

int line_next(struct line_reader *lr, char **line, size_t *len)
{
#ifndef STARTER
	for (;;) {
		char *p = lr->buf + lr->start;
		size_t n = lr->end - lr->start;
		char *lf;

		if (lr->skipping) {
			lf = memchr(p, '\n', n);
			if (lf == NULL) {
				lr->start = lr->end = 0;
				return lr->eof ? LINE_EOF : LINE_AGAIN;
			}
			lr->skipping = 0;
			lr->start += (size_t)(lf - p) + 1;
			continue;
		}
		/* A line is only looked for within the limit, LF included. */
		lf = memchr(p, '\n', n < lr->max + 1 ? n : lr->max + 1);
		if (lf != NULL)
			return take(lr, (size_t)(lf - p), (size_t)(lf - p) + 1,
				    line, len);
		if (n > lr->max) {
			/* No LF within the limit: drop it, then skip to the LF. */
			lr->skipping = 1;
			lr->start += lr->max + 1;
			return LINE_TOO_LONG;
		}
		if (!lr->eof)
			return LINE_AGAIN;
		if (n == 0)
			return LINE_EOF;
		return take(lr, n, n, line, len);
	}
#else /* STARTER */
	/*
	 * TODO (step 03: framing lines out of a byte stream). The bytes not
	 * handed out yet are lr->buf[lr->start..lr->end): any number of lines,
	 * maybe the start of one more. Find the first LF with memchr(), looking
	 * at most lr->max + 1 bytes ahead (the limit and its LF):
	 * - found: return take(lr, LEN, LEN + 1, line, len), LEN being the
	 *   bytes before the LF (take() drops a CR, puts the NUL, moves start);
	 * - none in the first lr->max + 1 bytes: the line is over the limit.
	 *   Drop those bytes (lr->start += lr->max + 1), set lr->skipping and
	 *   return LINE_TOO_LONG; while skipping, throw bytes away up to and
	 *   including the next LF (all of them if none: start = end = 0);
	 * - none yet, under the limit: LINE_AGAIN, unless lr->eof: then a
	 *   last line without LF is handed out whole, and an empty buffer is
	 *   LINE_EOF.
	 * Pitfall: one read() may bring half a line or several lines; a line
	 * is only complete at its LF. And never keep more than the limit.
	 * Until then, a program stops here once it has bytes to cut lines
	 * from; steps 04 and 05 use your line reader too.
	 */
	(void)take;	/* keeps the compiler quiet until you call it */
	(void)line;
	(void)len;
	if (lr->start == lr->end && !lr->eof)
		return LINE_AGAIN;	/* no bytes yet: line_read() reads */
	todo("tests/03-blocking-chat.bats, \"lines split across reads and "
	     "packed in one read\", \"a client the kit did not write: CRLF, "
	     "empty lines, line limit, /quit\", and every test that exchanges "
	     "a line, in steps 03, 04 and 05");
#endif /* STARTER */
}

int line_read(struct line_reader *lr, char **line, size_t *len)
{
	for (;;) {
		int rc = line_next(lr, line, len);

		if (rc != LINE_AGAIN)
			return rc;
		if (line_fill(lr) < 0)
			return LINE_ERROR;
	}
}
