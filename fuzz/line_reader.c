/*
 * line_reader.c - fuzz target for the bounded line reader (common/line.c).
 *
 * Input: two bytes of settings, then the stream a peer would send.
 *   byte 0: the line limit (a small one, or one that makes the buffer
 *           exactly a line long, so that lines straddle its end)
 *   byte 1: seeds the sizes of the pieces the stream is cut into
 *
 * The stream goes through a pipe twice: once whole, once cut into pieces,
 * each piece read before the next is written. Checked, beyond crashes:
 *   - no line is longer than the limit, and none holds an LF;
 *   - both readings give the same lines, in the same order;
 *   - and they are the lines a plain model of the contract gives (split at
 *     LF, one CR before it dropped, a line over the limit reported once as
 *     too long, a last line without LF handed out at end of stream).
 */
#include "line.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest stream tried: a pipe holds it whole, so writing never blocks. */
#define MAX_STREAM 16384

/* One event of a reading: a status, and for LINE_OK the line. */
struct event {
	int status;
	size_t off, len;	/* the line's bytes in the event log's text */
};

/* Everything a reading produced, in order. */
struct reading {
	struct event ev[MAX_STREAM + 2];
	size_t nev;
	char text[MAX_STREAM + 1];
	size_t ntext;
};

static struct reading whole, pieces, model;

/* Stops the run: libFuzzer saves the input that got here. */
static void fail(const char *what)
{
	fprintf(stderr, "line_reader: %s\n", what);
	abort();
}

/* Appends one event (with LINE bytes of LINE for LINE_OK) to R. */
static void record(struct reading *r, int status, const char *line, size_t len)
{
	struct event *e = &r->ev[r->nev++];

	e->status = status;
	e->off = r->ntext;
	e->len = len;
	memcpy(r->text + r->ntext, line, len);
	r->ntext += len;
}

/* Takes every complete line out of LR into R, checking each against MAX. */
static int drain(struct line_reader *lr, struct reading *r, size_t max)
{
	char *line;
	size_t len;
	int rc;

	while ((rc = line_next(lr, &line, &len)) == LINE_OK ||
	       rc == LINE_TOO_LONG) {
		if (rc == LINE_OK) {
			if (len > max)
				fail("a line longer than the limit");
			if (memchr(line, '\n', len) != NULL)
				fail("a line that holds an LF");
			if (line[len] != '\0')
				fail("a line without its NUL");
		}
		record(r, rc, rc == LINE_OK ? line : "", rc == LINE_OK ? len : 0);
	}
	return rc;
}

/* Small PRNG for the piece sizes: the same seed cuts the same way. */
static size_t next_piece(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	switch ((*state >> 16) % 4) {
	case 0:
		return 1;
	case 1:
		return 1 + (*state >> 20) % 8;
	case 2:
		return 1 + (*state >> 18) % 200;
	default:
		return 1 + (*state >> 12) % 6000;
	}
}

/*
 * Feeds DATA through a pipe to a reader with limit MAX, in pieces cut by
 * SEED (0: in one piece), into R.
 */
static void read_stream(const uint8_t *data, size_t size, size_t max,
			uint32_t seed, struct reading *r)
{
	struct line_reader lr;
	size_t sent = 0;
	int fds[2], rc;

	r->nev = r->ntext = 0;
	if (pipe(fds) < 0 || line_init(&lr, fds[0], max) < 0)
		fail("pipe or line_init failed");
	while (sent < size) {
		size_t n = seed ? next_piece(&seed) : size;
		size_t unread;

		if (n > size - sent)
			n = size - sent;
		if (write(fds[1], data + sent, n) != (ssize_t)n)
			fail("write to the pipe failed");
		sent += n;
		/* Read exactly this piece, handing out lines as they complete. */
		for (unread = n; unread > 0;) {
			ssize_t got;

			if (drain(&lr, r, max) != LINE_AGAIN)
				fail("line_next ended before the stream did");
			got = line_fill(&lr);
			if (got <= 0)
				fail(errno == ENOBUFS ? "the buffer filled up"
						      : "line_fill failed");
			unread -= (size_t)got;
		}
	}
	close(fds[1]);
	do
		rc = drain(&lr, r, max);
	while (rc == LINE_AGAIN && line_fill(&lr) >= 0);
	if (rc != LINE_EOF)
		fail("the stream did not end with LINE_EOF");
	record(r, LINE_EOF, "", 0);
	line_free(&lr);
	close(fds[0]);
}

/* The contract, written as simply as possible, into R. */
static void read_model(const uint8_t *data, size_t size, size_t max,
		       struct reading *r)
{
	const char *p = (const char *)data, *end = p + size;

	r->nev = r->ntext = 0;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf ? lf : end) - p);

		if (len > max)
			record(r, LINE_TOO_LONG, "", 0);
		else
			record(r, LINE_OK, p,
			       len > 0 && p[len - 1] == '\r' ? len - 1 : len);
		p += len + (lf != NULL);
	}
	record(r, LINE_EOF, "", 0);
}

/* Returns 1 if A and B hold the same events and lines. */
static int same(const struct reading *a, const struct reading *b)
{
	if (a->nev != b->nev)
		return 0;
	for (size_t i = 0; i < a->nev; i++) {
		const struct event *x = &a->ev[i], *y = &b->ev[i];

		if (x->status != y->status || x->len != y->len ||
		    memcmp(a->text + x->off, b->text + y->off, x->len) != 0)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max;
	uint32_t seed;

	if (size < 2 || size - 2 > MAX_STREAM)
		return 0;
	/* Below 128: limits of 1 to 64. From 128: the buffer is the line. */
	max = data[0] < 128 ? 1 + data[0] % 64 : 4094 + data[0] % 8;
	seed = data[1] | 0x100u;	/* never 0: that means "whole" */
	data += 2;
	size -= 2;
	read_stream(data, size, max, 0, &whole);
	read_stream(data, size, max, seed, &pieces);
	read_model(data, size, max, &model);
	if (!same(&whole, &pieces))
		fail("the same bytes cut differently gave different lines");
	if (!same(&whole, &model))
		fail("the lines differ from the contract's");
	return 0;
}
