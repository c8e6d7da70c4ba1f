/*
 * line.h - a bounded line reader.
 *
 * TCP delivers a stream of bytes, not messages: one read() may return half a
 * line, or three lines and a bit. A line_reader keeps the bytes of one
 * connection in a fixed buffer and hands out complete lines only. A line
 * longer than the limit is reported and skipped up to its LF, so memory
 * stays bounded whatever the peer sends.
 *
 * Blocking code calls line_read(). Non-blocking code calls line_fill() when
 * the descriptor is readable, then line_next() until it says LINE_AGAIN.
 */
#ifndef LINE_H
#define LINE_H

#include <stddef.h>
#include <sys/types.h>

enum line_status {
	LINE_ERROR = -1,	/* read() failed: errno says why */
	LINE_EOF = 0,		/* the peer closed and every line was handed out */
	LINE_OK = 1,		/* *line holds one line */
	LINE_TOO_LONG = 2,	/* a line over the limit was dropped */
	LINE_AGAIN = 3		/* line_next(): no complete line buffered yet */
};

struct line_reader {
	int fd;		/* where the bytes come from */
	char *buf;	/* cap bytes: room for several lines per read() */
	size_t cap;	/* at least max + 2: a line, its LF, and a NUL */
	size_t max;	/* longest line accepted, LF excluded */
	size_t start;	/* first byte not yet handed out */
	size_t end;	/* one past the last byte read */
	int skipping;	/* dropping the rest of an overlong line */
	int eof;	/* read() returned 0 */
};

/*
 * Prepares LR to read lines of at most MAX bytes from FD.
 * Returns 0, or -1 if the buffer cannot be allocated.
 */
int line_init(struct line_reader *lr, int fd, size_t max);

/* Frees the buffer of LR (not the descriptor). */
void line_free(struct line_reader *lr);

/*
 * Reads once from the descriptor into the free end of the buffer, retrying
 * EINTR unless a stop signal came (util_retry()). Returns the byte count,
 * 0 at end of stream (and remembers it), or -1 (EAGAIN when a non-blocking
 * descriptor has nothing, EINTR on a stop signal).
 */
ssize_t line_fill(struct line_reader *lr);

/*
 * Takes the next complete line out of the buffer, without reading. On
 * LINE_OK, *LINE points at the line with its LF (and a CR before it)
 * removed and a NUL after it, and *LEN is its length; both stay valid until
 * the next line_fill(). After end of stream, a last line without an LF is
 * handed out as it is. Returns LINE_OK, LINE_TOO_LONG, LINE_AGAIN, or
 * LINE_EOF once the stream has ended and the buffer is empty.
 */
int line_next(struct line_reader *lr, char **line, size_t *len);

/*
 * Blocks until a line is available: line_next(), then line_fill() while it
 * says LINE_AGAIN. Returns LINE_OK, LINE_TOO_LONG, LINE_EOF or LINE_ERROR.
 */
int line_read(struct line_reader *lr, char **line, size_t *len);

#endif
