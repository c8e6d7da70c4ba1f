/*
 * out.h - one client's output queue, and how it is sent.
 *
 * How a line reaches a client:
 *  1. out_queue(), under the room's lock: the line is appended to the
 *     client's queue (a memcpy), and the queue goes on the caller's flush
 *     list.
 *  2. out_flush(), once the room's lock is released: the caller sends each
 *     listed queue what its socket takes right now, without blocking.
 *     Usually that is everything: no other thread is involved.
 *  3. What a full socket could not take is sent by a writer thread that
 *     out_flush() starts then, and that ends once the queue is empty. An
 *     idle client costs no writer; a stuck one blocks only its own.
 *
 * Each queue has its own lock, taken after the room's lock, never before.
 * Only the thread that set o->sending may touch o->out or send on o->fd.
 */
#ifndef OUT_H
#define OUT_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

/* A growable byte buffer. */
struct buffer {
	char *data;
	size_t len, cap;
};

/*
 * Appends LEN bytes of DATA to B, and an LF if LF is set.
 * Returns 0, or -1 if out of memory.
 */
int buffer_add(struct buffer *b, const char *data, size_t len, int lf);

struct out {
	int fd;			/* the client's socket (not closed here) */
	size_t max;		/* most bytes that may wait: -q */
	void (*has_room)(void);	/* called, holding no lock, when a
				   broadcaster waits for room here and
				   there is some again */
	const pthread_attr_t *attr;	/* for writer threads */

	pthread_mutex_t lock;	/* protects every field below */
	pthread_cond_t changed;	/* the queue or a flag changed */
	struct buffer queue;	/* bytes queued */
	struct buffer out;	/* bytes being sent: only the sender's */
	size_t out_pos;		/* how much of out is sent */
	int sending;		/* a thread is sending: no other may */
	int listed;		/* on a flush list: must stay alive */
	struct out *flush_next;	/* that list, owned by who listed it */
	int closing;		/* send what is left, then shut down */
	int too_slow;		/* dropped: nothing more is sent */
	int failed;		/* errno of the send that failed, or 0 */
	int wanted;		/* a broadcaster waits for room here */
	time_t progress;	/* when it last took bytes, or last became
				   non-empty (CLOCK_MONOTONIC seconds) */
	int writer_running;	/* a writer thread is at work */
	int has_writer;		/* writer holds a thread to join */
	pthread_t writer;
};

/*
 * Prepares O for socket FD: at most MAX bytes may wait; HAS_ROOM and ATTR
 * as in struct out.
 */
void out_init(struct out *o, int fd, size_t max, void (*has_room)(void),
	      const pthread_attr_t *attr);

/* Frees what O holds. Only after out_stop(), or if nothing was queued. */
void out_free(struct out *o);

/*
 * Queues LEN bytes of DATA for O, then an LF if LF is set, and puts O on
 * the list *FLUSH unless it is on one already. A queue that would outgrow
 * o->max is dropped instead (out_drop()). Returns 0, or -1 when O has
 * just been dropped. Called with the room's lock held.
 */
int out_queue(struct out *o, const char *data, size_t len, int lf,
	      struct out **flush);

/*
 * Sends each queue on LIST what its socket takes now, without blocking;
 * starts a writer for what does not fit. Called without the room's lock:
 * a listed queue stays alive (out_stop() waits for that).
 */
void out_flush(struct out *list);

/*
 * Frees O's buffers beyond a few KiB if nothing waits to be sent. While
 * lines flow, the buffers are kept: growing them again after each send
 * would cost more than the copies. Returns 1 if O still holds big ones.
 */
int out_trim(struct out *o);

/*
 * Backpressure. Returns -1 if LEN more bytes fit in O with its queue
 * under half of o->max (the other half is for the server's own lines).
 * Else marks O wanted, so that o->has_room() is called when there is room,
 * and returns the seconds O may still take nothing before it has stalled
 * for STALL seconds: 0 if it has.
 */
time_t out_stall(struct out *o, size_t len, time_t stall);

/*
 * Drops O: nothing more is queued or sent, and its socket is shut down,
 * so that a send() or read() stuck on it gives up.
 */
void out_drop(struct out *o);

/* Sends what is queued, then shuts the socket down; queues nothing more. */
void out_close(struct out *o);

/*
 * For the end of a connection: out_close(), waits FLUSH_SECONDS at most
 * for the queue to drain (then cuts the connection), waits until no
 * out_flush() holds O, and joins the writer thread.
 */
void out_stop(struct out *o);

#endif
