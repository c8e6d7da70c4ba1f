/*
 * room.c - the chatroom's shared state: see room.h for the threads and the
 * locks.
 */
#include "room.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Stack size of client threads: they keep their buffers on the heap. */
#define THREAD_STACK (256 * 1024)

/* The one room of the server. */
static struct {
	pthread_mutex_t lock;	/* protects every field below but cfg and attr,
				   and each client's nick, in_room, prev,
				   next and done_next */
	pthread_cond_t reap;	/* a client left the room or was handed to the
				   reaper, or closing */
	pthread_cond_t space;	/* a queue someone waits on has room again, a
				   client left, or closing (backpressure) */
	struct client *first, *last;	/* clients in the room, by arrival */
	size_t count;		/* clients in the room */
	size_t threads;		/* reader threads not joined yet */
	unsigned long guests;	/* guest numbers handed out so far */
	struct client *done;	/* clients whose reader has ended */
	int closing;		/* shutting down: no more joins, no "left" */
	pthread_t reaper;
	struct room_config cfg;	/* set once by room_open() */
	pthread_attr_t attr;	/* set once by room_open() */
} room = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.reap = PTHREAD_COND_INITIALIZER,
	.space = PTHREAD_COND_INITIALIZER,
};

/* ---------------------------------------------------------------- output */

/*
 * How a line reaches a client:
 *  1. enqueue(), under room.lock: the line is appended to the client's
 *     queue (a memcpy), and the client goes on the caller's flush list.
 *  2. flush(), once room.lock is released: the caller sends each listed
 *     client what its socket takes right now, without blocking. Usually
 *     that is everything: no other thread is woken, no time is lost.
 *  3. What a full socket could not take waits in the client's out buffer;
 *     its writer thread sends it, blocking in send() until the client
 *     reads. A stuck client blocks only its own writer.
 * Only the thread that set c->sending may touch c->out or send on c->fd.
 */

/* A drained out buffer larger than this is freed: idle clients stay small. */
#define OUT_KEEP (16 * 1024)

/*
 * Appends LEN bytes of DATA to B, and an LF if LF is set. Returns 0, or -1
 * if out of memory.
 */
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

/* Bytes waiting for C, queued or taken for sending. Called with qlock held. */
static size_t pending(const struct client *c)
{
	return c->queue.len + c->out.len - c->out_pos;
}

/*
 * Marks C too slow: nothing more is queued for it, and its socket is shut
 * down so that a send() or read() stuck on it gives up. Called with qlock
 * held (and room.lock, which keeps the descriptor open).
 */
static void mark_too_slow(struct client *c)
{
	c->too_slow = 1;
	shutdown(c->fd, SHUT_RDWR);
	pthread_cond_broadcast(&c->qcond);
}

/*
 * Queues LEN bytes of DATA for C, then an LF if LF is set (DATA is one
 * line), and puts C on the list *FLUSH unless it is on one already. A
 * queue that would outgrow max_queue marks C too slow instead. Returns 0,
 * or -1 when C has just become too slow. Called with room.lock held.
 */
static int enqueue(struct client *c, const char *data, size_t len, int lf,
		   struct client **flush)
{
	int rc = 0;

	pthread_mutex_lock(&c->qlock);
	if (!c->too_slow && !c->closing) {
		if (pending(c) == 0)
			c->progress = now();	/* the stall clock starts */
		if (pending(c) + len + 1 > room.cfg.max_queue ||
		    buffer_add(&c->queue, data, len, lf) < 0) {
			mark_too_slow(c);
			rc = -1;
		} else if (!c->listed) {
			c->listed = 1;
			c->flush_next = *flush;
			*flush = c;
		}
	}
	pthread_mutex_unlock(&c->qlock);
	return rc;
}

/*
 * Sends what waits for C, with send() FLAGS (MSG_DONTWAIT: only what the
 * socket takes now). Called with qlock held and c->sending set by the
 * caller; lets go of qlock around each send(). Returns 0 when all is sent,
 * 1 when the socket is full, -1 on error (in c->send_error).
 */
static int send_pending(struct client *c, int flags)
{
	for (;;) {
		struct buffer swap;
		ssize_t n;
		int err;

		if (c->out_pos == c->out.len) {
			/* All of out is gone: take the whole queue at once. */
			swap = c->out;
			c->out = c->queue;
			c->queue = swap;
			c->queue.len = c->out_pos = 0;
		}
		if (c->out.len == 0)
			return 0;
		pthread_mutex_unlock(&c->qlock);
		n = send(c->fd, c->out.data + c->out_pos,
			 c->out.len - c->out_pos, flags | MSG_NOSIGNAL);
		err = errno;
		pthread_mutex_lock(&c->qlock);
		if (n >= 0) {
			c->out_pos += (size_t)n;
			c->progress = now();	/* it reads: not stalled */
		} else if (err == EAGAIN || err == EWOULDBLOCK) {
			return 1;
		} else if (err != EINTR) {
			c->send_error = err;
			return -1;
		}
		if (c->out_pos == c->out.len && c->out.cap > OUT_KEEP) {
			free(c->out.data);
			memset(&c->out, 0, sizeof(c->out));
			c->out_pos = 0;
		}
	}
}

/*
 * If a broadcaster waits for room in C's queue (c->wanted) and there is
 * some now, wakes it. Called with qlock held, by a thread that holds no
 * other lock; lets go of qlock meanwhile (room.lock comes first).
 */
static void wake_waiters(struct client *c)
{
	if (!c->wanted || pending(c) > room.cfg.max_queue / 2)
		return;
	c->wanted = 0;
	pthread_mutex_unlock(&c->qlock);
	pthread_mutex_lock(&room.lock);
	pthread_cond_broadcast(&room.space);
	pthread_mutex_unlock(&room.lock);
	pthread_mutex_lock(&c->qlock);
}

/*
 * Sends each client on LIST what its socket takes now, without blocking,
 * and leaves the rest to its writer. Called without room.lock: each client
 * stays alive while it is listed (room_leave() waits for that).
 */
static void flush(struct client *list)
{
	while (list != NULL) {
		struct client *c = list;

		list = c->flush_next;	/* before c->listed is cleared */
		pthread_mutex_lock(&c->qlock);
		if (!c->sending && !c->too_slow && !c->writer_done) {
			c->sending = 1;
			if (send_pending(c, MSG_DONTWAIT) < 0)
				shutdown(c->fd, SHUT_RDWR);
			c->sending = 0;
			wake_waiters(c);
		}
		c->listed = 0;
		if (pending(c) > 0 || c->closing)
			pthread_cond_broadcast(&c->qcond);
		pthread_mutex_unlock(&c->qlock);
	}
}

/*
 * The writer thread of a client: sends what flush() could not, blocking
 * until the client reads, and stops when the client leaves or fails. Then
 * it shuts the socket down, which wakes the reader if it is still reading.
 */
static void *writer_main(void *arg)
{
	struct client *c = arg;

	pthread_mutex_lock(&c->qlock);
	while (!c->too_slow && !c->send_error) {
		if (!c->sending && pending(c) > 0) {
			c->sending = 1;
			send_pending(c, 0);
			c->sending = 0;
			wake_waiters(c);
		} else if (c->closing && !c->sending) {
			break;		/* everything sent: done */
		} else {
			pthread_cond_wait(&c->qcond, &c->qlock);
		}
	}
	c->writer_done = 1;
	pthread_cond_broadcast(&c->qcond);
	pthread_mutex_unlock(&c->qlock);
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

/*
 * Asks C's writer to send what is left and stop; past FLUSH_SECONDS (a
 * client that does not read), cuts the connection. Waits until no flush()
 * holds C any more, then joins the writer.
 */
static void stop_writer(struct client *c)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FLUSH_SECONDS;
	pthread_mutex_lock(&c->qlock);
	c->closing = 1;
	pthread_cond_broadcast(&c->qcond);
	while (!c->writer_done &&
	       pthread_cond_timedwait(&c->qcond, &c->qlock, &deadline) == 0)
		;
	if (!c->writer_done)
		shutdown(c->fd, SHUT_RDWR);	/* its send() fails now */
	while (c->listed)	/* a flush() never blocks: this is short */
		pthread_cond_wait(&c->qcond, &c->qlock);
	pthread_mutex_unlock(&c->qlock);
	pthread_join(c->writer, NULL);
}

/* ------------------------------------------------------------ membership */

/* Returns the client in the room named NICK, ignoring case, or NULL. */
static struct client *find_locked(const char *nick)
{
	for (struct client *c = room.first; c != NULL; c = c->next)
		if (strcasecmp(c->nick, nick) == 0)
			return c;
	return NULL;
}

/* Appends C to the room's list. */
static void link_locked(struct client *c)
{
	c->prev = room.last;
	c->next = NULL;
	if (room.last != NULL)
		room.last->next = c;
	else
		room.first = c;
	room.last = c;
	room.count++;
	c->in_room = 1;
}

/* Takes C off the room's list. */
static void unlink_locked(struct client *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		room.first = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		room.last = c->prev;
	room.count--;
	c->in_room = 0;
}

/*
 * Takes C, whose queue overflowed or stalled, off the room's list and puts
 * it on the work list *GONE, to be announced by say_left_locked().
 */
static void drop_locked(struct client *c, struct client **gone)
{
	unlink_locked(c);
	c->why = "too slow";
	c->gone_next = *gone;
	*gone = c;
	pthread_cond_broadcast(&room.space);	/* nobody waits for it now */
}

/*
 * Queues LEN bytes of DATA (and an LF if LF is set) for everyone in the
 * room but SKIP; the clients to flush go on *FLUSH, those it makes too
 * slow on the work list *GONE.
 */
static void queue_all_locked(struct client *skip, const char *data,
			     size_t len, int lf, struct client **flush,
			     struct client **gone)
{
	struct client *c, *next;

	/* [broadcast] */
	for (c = room.first; c != NULL; c = next) {
		next = c->next;
		if (c != skip && enqueue(c, data, len, lf, flush) < 0)
			drop_locked(c, gone);
	}
	/* [/broadcast] */
}

/*
 * Tells the room that each client on the work list GONE (already off the
 * room's list) left, and why. A "left" line may make more clients too
 * slow: they join the list, and are told about in turn. A loop, not a
 * recursion: its depth would only be bounded by -m.
 */
static void say_left_locked(struct client *gone, struct client **flush)
{
	char line[MAX_NICK + 160];
	int n;

	while (gone != NULL) {
		struct client *c = gone;

		gone = c->gone_next;
		if (c->why != NULL && c->why[0] != '\0')
			n = snprintf(line, sizeof(line), "*** %s left (%s)",
				     c->nick, c->why);
		else
			n = snprintf(line, sizeof(line), "*** %s left", c->nick);
		if (n >= (int)sizeof(line))	/* never: the reason is short */
			n = sizeof(line) - 1;
		log_say("%s (%s) left%s%s", c->nick, c->addr,
			c->why ? ": " : "", c->why ? c->why : "");
		queue_all_locked(NULL, line, (size_t)n, 1, flush, &gone);
	}
}

/* Queues for everyone but SKIP, and says who that made too slow. */
static void broadcast_locked(struct client *skip, const char *data,
			     size_t len, int lf, struct client **flush)
{
	struct client *gone = NULL;

	queue_all_locked(skip, data, len, lf, flush, &gone);
	say_left_locked(gone, flush);
}

/* Queues LINE for C alone; if that makes C too slow, drops it. */
static void send_locked(struct client *c, const char *line, size_t len,
			struct client **flush)
{
	struct client *gone = NULL;

	if (enqueue(c, line, len, 1, flush) < 0 && c->in_room)
		drop_locked(c, &gone);
	say_left_locked(gone, flush);
}

/* ---------------------------------------------------------- backpressure */

/*
 * For LEN bytes of chat to C: returns -1 if C's queue has room for them
 * (it stays under half of max_queue; the other half is for the server's
 * own lines). Else marks C wanted, so that its sender wakes us, and
 * returns how many seconds C may still take nothing before it counts as
 * stalled: 0 if it is.
 */
static time_t stall_left(struct client *c, size_t len)
{
	time_t left = -1;

	pthread_mutex_lock(&c->qlock);
	if (!c->too_slow && !c->closing &&
	    pending(c) + len > room.cfg.max_queue / 2) {
		c->wanted = 1;
		left = c->progress + STALL_SECONDS - now();
		if (left < 0)
			left = 0;
	}
	pthread_mutex_unlock(&c->qlock);
	return left;
}

/* Waits on room.space, room.lock held, SECONDS at most. */
static void wait_space_locked(time_t seconds)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_cond_timedwait(&room.space, &room.lock, &deadline);
}

/*
 * Backpressure: before FROM's LEN bytes of chat are queued for TO (NULL:
 * everyone but FROM), checks that each has room. One that has none and
 * has taken nothing for STALL_SECONDS is dropped as too slow (onto
 * *GONE); for the others, waits for room. While FROM's reader waits here
 * it reads nothing, so TCP slows FROM down. Returns 0 when there is room,
 * 1 after a wait (the room may have changed: look again), or -1 if FROM
 * is no longer in the room or the server is closing.
 */
static int make_space_locked(struct client *from, struct client *to,
			     size_t len, struct client **gone)
{
	time_t wait = -1, left;
	struct client *c, *next;

	if (!from->in_room || room.closing)
		return -1;
	for (c = to ? to : room.first; c != NULL; c = next) {
		next = to ? NULL : c->next;
		if (c == from)
			continue;
		left = stall_left(c, len);
		if (left == 0)
			drop_locked(c, gone);
		else if (left > 0 && (wait < 0 || left < wait))
			wait = left;
	}
	if (wait < 0)
		return 0;
	wait_space_locked(wait);
	return 1;
}

/* Gives C the first free name guestN. */
static void name_guest_locked(struct client *c)
{
	do
		snprintf(c->nick, sizeof(c->nick), "guest%lu", ++room.guests);
	while (find_locked(c->nick) != NULL);
}

/* ------------------------------------------------------------ the reaper */

/*
 * The reaper thread: joins each reader thread that has ended and frees its
 * client. Ends when the room is closing and no reader is left.
 */
static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&room.lock);
	for (;;) {
		struct client *c;

		while (room.done == NULL && !(room.closing && room.threads == 0))
			pthread_cond_wait(&room.reap, &room.lock);
		if (room.done == NULL)
			break;
		c = room.done;
		room.done = c->done_next;
		pthread_mutex_unlock(&room.lock);
		pthread_join(c->reader, NULL);
		pthread_mutex_destroy(&c->qlock);
		pthread_cond_destroy(&c->qcond);
		free(c->queue.data);
		free(c->out.data);
		free(c);
		pthread_mutex_lock(&room.lock);
		room.threads--;
	}
	pthread_mutex_unlock(&room.lock);
	return NULL;
}

/* ------------------------------------------------------------ public API */

int room_open(const struct room_config *cfg)
{
	int rc;

	room.cfg = *cfg;
	rc = pthread_attr_init(&room.attr);
	if (rc == 0)
		rc = pthread_attr_setstacksize(&room.attr, THREAD_STACK);
	if (rc == 0)
		rc = pthread_create(&room.reaper, NULL, reaper_main, NULL);
	return rc;
}

/*
 * Cuts every connection still in the room once FLUSH_SECONDS have passed
 * since the goodbye: a client that does not read must not keep the server
 * alive. Each reader then sees the end of its input and leaves.
 */
static void cut_laggards(void)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FLUSH_SECONDS;
	pthread_mutex_lock(&room.lock);
	while (room.count > 0 &&
	       pthread_cond_timedwait(&room.reap, &room.lock, &deadline) == 0)
		;
	for (struct client *c = room.first; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);	/* open: c is on the list */
	pthread_mutex_unlock(&room.lock);
}

void room_close(void)
{
	static const char bye[] = "*** server shutting down";
	struct client *list = NULL;

	pthread_mutex_lock(&room.lock);
	room.closing = 1;
	for (struct client *c = room.first; c != NULL; c = c->next) {
		enqueue(c, bye, sizeof(bye) - 1, 1, &list);
		pthread_mutex_lock(&c->qlock);
		c->closing = 1;		/* the writer sends the rest, then stops */
		pthread_cond_broadcast(&c->qcond);
		pthread_mutex_unlock(&c->qlock);
	}
	pthread_cond_broadcast(&room.reap);
	pthread_cond_broadcast(&room.space);	/* no reader waits any more */
	pthread_mutex_unlock(&room.lock);
	flush(list);
	cut_laggards();
	pthread_join(room.reaper, NULL);
	pthread_attr_destroy(&room.attr);
}

int room_spawn(int fd, const char *addr, void *(*reader)(void *))
{
	struct client *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		close(fd);
		return ENOMEM;
	}
	c->fd = fd;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	pthread_mutex_init(&c->qlock, NULL);
	pthread_cond_init(&c->qcond, NULL);
	pthread_mutex_lock(&room.lock);
	room.threads++;
	pthread_mutex_unlock(&room.lock);
	rc = pthread_create(&c->reader, &room.attr, reader, c);
	if (rc != 0) {
		pthread_mutex_lock(&room.lock);
		room.threads--;
		pthread_mutex_unlock(&room.lock);
		pthread_mutex_destroy(&c->qlock);
		pthread_cond_destroy(&c->qcond);
		close(fd);
		free(c);
	}
	return rc;
}

int room_join(struct client *c)
{
	static const char full[] = "*** error: room is full";
	struct client *list = NULL;
	char line[MAX_NICK + 64];
	int rc, n;

	rc = pthread_create(&c->writer, &room.attr, writer_main, c);
	if (rc != 0) {
		log_say("%s: cannot start a writer: %s", c->addr, strerror(rc));
		return -1;
	}
	c->has_writer = 1;
	pthread_mutex_lock(&room.lock);
	if (room.closing || room.count >= room.cfg.max_clients) {
		enqueue(c, full, sizeof(full) - 1, 1, &list);
		pthread_mutex_unlock(&room.lock);
		flush(list);
		log_say("%s refused: room is full", c->addr);
		return -1;
	}
	name_guest_locked(c);
	link_locked(c);
	n = snprintf(line, sizeof(line), "*** welcome %s", c->nick);
	send_locked(c, line, (size_t)n, &list);
	n = snprintf(line, sizeof(line), "*** %s joined", c->nick);
	broadcast_locked(c, line, (size_t)n, 1, &list);
	log_say("%s joined from %s (%zu online)", c->nick, c->addr, room.count);
	pthread_mutex_unlock(&room.lock);
	flush(list);
	return 0;
}

void room_leave(struct client *c, const char *reason)
{
	struct client *list = NULL;

	pthread_mutex_lock(&room.lock);
	if (c->in_room) {
		unlink_locked(c);
		c->why = reason;
		c->gone_next = NULL;
		if (!room.closing)
			say_left_locked(c, &list);
		pthread_cond_broadcast(&room.space);	/* nobody waits for c */
	}
	pthread_mutex_unlock(&room.lock);
	flush(list);
	if (c->has_writer)
		stop_writer(c);
	close(c->fd);
	pthread_mutex_lock(&room.lock);
	c->done_next = room.done;
	room.done = c;
	pthread_cond_broadcast(&room.reap);
	pthread_mutex_unlock(&room.lock);
}

void room_tell(struct client *c, const char *line)
{
	struct client *list = NULL;

	pthread_mutex_lock(&room.lock);
	if (c->in_room)
		send_locked(c, line, strlen(line), &list);
	pthread_mutex_unlock(&room.lock);
	flush(list);
}

int room_broadcast_lines(struct client *from, const char *lines, size_t len)
{
	struct client *list = NULL, *gone = NULL;
	int rc;

	pthread_mutex_lock(&room.lock);
	while ((rc = make_space_locked(from, NULL, len, &gone)) == 1)
		;
	if (rc == 0)
		queue_all_locked(from, lines, len, 0, &list, &gone);
	say_left_locked(gone, &list);
	pthread_mutex_unlock(&room.lock);
	flush(list);
	return rc == 0 ? ROOM_OK : ROOM_GONE;
}

int room_rename(struct client *c, const char *nick)
{
	char line[2 * MAX_NICK + 64], old[MAX_NICK + 1];
	struct client *other, *list = NULL;
	int n;

	pthread_mutex_lock(&room.lock);
	other = find_locked(nick);
	if (!c->in_room || (other != NULL && other != c)) {
		pthread_mutex_unlock(&room.lock);
		return c->in_room ? ROOM_REFUSED : ROOM_GONE;
	}
	memcpy(old, c->nick, sizeof(old));
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	n = snprintf(line, sizeof(line), "*** %s is now known as %s", old, nick);
	broadcast_locked(NULL, line, (size_t)n, 1, &list);
	log_say("%s is now known as %s", old, nick);
	pthread_mutex_unlock(&room.lock);
	flush(list);
	return ROOM_OK;
}

/*
 * Finds the client named TO once there is room in its queue for LEN bytes
 * from C (see make_space_locked()). Returns it, or NULL with *RC set to
 * ROOM_REFUSED (no such client) or ROOM_GONE.
 */
static struct client *whisper_target_locked(struct client *c, const char *to,
					    size_t len, struct client **gone,
					    int *rc)
{
	struct client *target;
	int space;

	do {
		target = find_locked(to);
		if (target == NULL) {
			*rc = c->in_room ? ROOM_REFUSED : ROOM_GONE;
			return NULL;
		}
		space = make_space_locked(c, target, len, gone);
	} while (space == 1);	/* TARGET may have gone meanwhile */
	*rc = space == 0 ? ROOM_OK : ROOM_GONE;
	return space == 0 ? target : NULL;
}

int room_whisper(struct client *c, const char *to, const char *text)
{
	size_t size = strlen(text) + MAX_NICK + 16;
	char *line = malloc(size);
	struct client *target, *list = NULL, *gone = NULL;
	int n, rc;

	if (line == NULL)
		return ROOM_NOMEM;
	pthread_mutex_lock(&room.lock);
	target = whisper_target_locked(c, to, size, &gone, &rc);
	if (target != NULL) {
		n = snprintf(line, size, "*%s* %s", c->nick, text);
		send_locked(target, line, (size_t)n, &list);
		n = snprintf(line, size, "-> *%s* %s", target->nick, text);
		send_locked(c, line, (size_t)n, &list);
	}
	say_left_locked(gone, &list);
	pthread_mutex_unlock(&room.lock);
	flush(list);
	free(line);
	return rc;
}

void room_list(struct client *c)
{
	struct client *list = NULL;
	struct buffer b = { 0 };
	char head[64];
	int n;

	pthread_mutex_lock(&room.lock);
	n = snprintf(head, sizeof(head), "*** online (%zu): ", room.count);
	b.cap = (size_t)n + room.count * (MAX_NICK + 2) + 1;
	b.data = malloc(b.cap);
	if (b.data != NULL && c->in_room) {
		memcpy(b.data, head, (size_t)n);
		b.len = (size_t)n;
		for (struct client *o = room.first; o != NULL; o = o->next)
			b.len += (size_t)sprintf(b.data + b.len, "%s%s", o->nick,
						 o->next ? ", " : "");
		send_locked(c, b.data, b.len, &list);
	}
	pthread_mutex_unlock(&room.lock);
	flush(list);
	free(b.data);
}
