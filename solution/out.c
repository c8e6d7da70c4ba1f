/*
 * out.c - one client's output queue, and how it is sent: see out.h.
 */
#include "out.h"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* out_trim() frees buffers larger than this: idle clients stay small. */
#define OUT_KEEP (16 * 1024)

int buffer_add(struct buffer *b, const char *data, size_t len, int lf)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	if (lf)
		b->data[b->len++] = '\n';
	return 0;
}

/* Seconds on a clock that never jumps: to tell how long a client stalls. */
static time_t now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* Bytes waiting for O, queued or taken for sending. Called with o->lock. */
static size_t pending(const struct out *o)
{
	return o->queue.len + o->out.len - o->out_pos;
}

/* Marks O dropped and shuts its socket down. Called with o->lock held. */
static void drop_locked(struct out *o)
{
	o->too_slow = 1;
	shutdown(o->fd, SHUT_RDWR);
	pthread_cond_broadcast(&o->changed);
}

/*
 * Once O is closing and all is sent, shuts the socket down: the client
 * sees the end, and the reader, if it still reads, sees it too. Called
 * with o->lock held.
 */
static void finish_locked(struct out *o)
{
	if (o->closing && !o->sending && pending(o) == 0)
		shutdown(o->fd, SHUT_RDWR);
}

/*
 * Sends what waits for O, with send() FLAGS (MSG_DONTWAIT: only what the
 * socket takes now). Called with o->lock held and o->sending set by the
 * caller; lets go of the lock around each send(). Returns 0 when all is
 * sent, 1 when the socket is full, -1 on error (in o->failed).
 */
static int send_pending(struct out *o, int flags)
{
	for (;;) {
		struct buffer swap;
		ssize_t n;
		int err;

		if (o->out_pos == o->out.len) {
			/* All of out is gone: take the whole queue at once. */
			swap = o->out;
			o->out = o->queue;
			o->queue = swap;
			o->queue.len = o->out_pos = 0;
		}
		if (o->out.len == 0)
			return 0;
		pthread_mutex_unlock(&o->lock);
		n = send(o->fd, o->out.data + o->out_pos,
			 o->out.len - o->out_pos, flags | MSG_NOSIGNAL);
		err = errno;
		pthread_mutex_lock(&o->lock);
		if (n >= 0) {
			o->out_pos += (size_t)n;
			o->progress = now();	/* it reads: not stalled */
		} else if (err == EAGAIN || err == EWOULDBLOCK) {
			return 1;
		} else if (err != EINTR) {
			o->failed = err;
			return -1;
		}
	}
}

/*
 * If a broadcaster waits for room in O and there is some now, tells the
 * room. Called with o->lock held, by a thread that holds no other lock;
 * lets go of o->lock meanwhile (the room's lock comes first).
 */
static void wake_waiters(struct out *o)
{
	if (!o->wanted || pending(o) > o->max / 2)
		return;
	o->wanted = 0;
	pthread_mutex_unlock(&o->lock);
	o->has_room();
	pthread_mutex_lock(&o->lock);
}

/*
 * A writer thread: sends what the socket could not take at once, blocking
 * until the client reads, and ends once the queue is empty (or the client
 * is dropped, or fails).
 */
static void *writer_main(void *arg)
{
	struct out *o = arg;

	pthread_mutex_lock(&o->lock);
	while (!o->too_slow && !o->failed && pending(o) > 0) {
		if (o->sending) {	/* an out_flush() is at it */
			pthread_cond_wait(&o->changed, &o->lock);
			continue;
		}
		o->sending = 1;
		if (send_pending(o, 0) < 0)
			shutdown(o->fd, SHUT_RDWR);	/* wakes the reader */
		o->sending = 0;
		wake_waiters(o);
	}
	finish_locked(o);
	o->writer_running = 0;
	pthread_cond_broadcast(&o->changed);
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/*
 * Starts a writer for O, after joining the last one (which has ended: it
 * cleared writer_running under the lock we hold). Called with o->lock.
 * If no thread can be started, the client is dropped.
 */
static void start_writer(struct out *o)
{
	int rc;

	if (o->has_writer)
		pthread_join(o->writer, NULL);
	o->has_writer = 0;
	rc = pthread_create(&o->writer, o->attr, writer_main, o);
	if (rc != 0) {
		o->failed = rc;
		drop_locked(o);
		return;
	}
	o->has_writer = 1;
	o->writer_running = 1;
}

void out_init(struct out *o, int fd, size_t max, void (*has_room)(void),
	      const pthread_attr_t *attr)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->max = max;
	o->has_room = has_room;
	o->attr = attr;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->changed, NULL);
}

void out_free(struct out *o)
{
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->changed);
	free(o->queue.data);
	free(o->out.data);
}

int out_queue(struct out *o, const char *data, size_t len, int lf,
	      struct out **flush)
{
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	if (!o->too_slow && !o->closing) {
		if (pending(o) == 0)
			o->progress = now();	/* the stall clock starts */
		if (pending(o) + len + 1 > o->max ||
		    buffer_add(&o->queue, data, len, lf) < 0) {
			drop_locked(o);
			rc = -1;
		} else if (!o->listed) {
			o->listed = 1;
			o->flush_next = *flush;
			*flush = o;
		}
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

void out_flush(struct out *list)
{
	while (list != NULL) {
		struct out *o = list;

		list = o->flush_next;	/* before o->listed is cleared */
		pthread_mutex_lock(&o->lock);
		if (!o->sending && !o->writer_running && !o->too_slow &&
		    !o->failed) {
			int rc;

			o->sending = 1;
			rc = send_pending(o, MSG_DONTWAIT);
			o->sending = 0;
			if (rc > 0)
				start_writer(o);	/* the socket is full */
			else if (rc < 0)
				shutdown(o->fd, SHUT_RDWR);
			finish_locked(o);
			wake_waiters(o);
		}
		o->listed = 0;
		pthread_cond_broadcast(&o->changed);
		pthread_mutex_unlock(&o->lock);
	}
}

int out_trim(struct out *o)
{
	int big;

	pthread_mutex_lock(&o->lock);
	if (!o->sending && pending(o) == 0) {
		if (o->out.cap > OUT_KEEP) {
			free(o->out.data);
			memset(&o->out, 0, sizeof(o->out));
			o->out_pos = 0;
		}
		if (o->queue.cap > OUT_KEEP) {
			free(o->queue.data);
			memset(&o->queue, 0, sizeof(o->queue));
		}
	}
	big = o->out.cap > OUT_KEEP || o->queue.cap > OUT_KEEP;
	pthread_mutex_unlock(&o->lock);
	return big;
}

time_t out_stall(struct out *o, size_t len, time_t stall)
{
	time_t left = -1;

	pthread_mutex_lock(&o->lock);
	if (!o->too_slow && !o->closing && pending(o) + len > o->max / 2) {
		o->wanted = 1;
		left = o->progress + stall - now();
		if (left < 0)
			left = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return left;
}

void out_drop(struct out *o)
{
	pthread_mutex_lock(&o->lock);
	drop_locked(o);
	pthread_mutex_unlock(&o->lock);
}

void out_close(struct out *o)
{
	pthread_mutex_lock(&o->lock);
	o->closing = 1;
	if (!o->writer_running)
		finish_locked(o);
	pthread_cond_broadcast(&o->changed);
	pthread_mutex_unlock(&o->lock);
}

void out_stop(struct out *o)
{
	struct timespec deadline;

	out_close(o);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FLUSH_SECONDS;
	pthread_mutex_lock(&o->lock);
	while ((o->listed || o->writer_running) &&
	       pthread_cond_timedwait(&o->changed, &o->lock, &deadline) == 0)
		;
	if (o->listed || o->writer_running)
		shutdown(o->fd, SHUT_RDWR);	/* every send() fails now */
	while (o->listed || o->writer_running)	/* short: nothing blocks */
		pthread_cond_wait(&o->changed, &o->lock);
	if (o->has_writer)
		pthread_join(o->writer, NULL);	/* it has ended */
	o->has_writer = 0;
	pthread_mutex_unlock(&o->lock);
}
