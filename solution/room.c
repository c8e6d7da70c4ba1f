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
	pthread_cond_t reap;	/* a client was handed to the reaper, or closing */
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
};

static void broadcast_locked(struct client *skip, const char *data,
			     size_t len, int lf, struct client **flush);

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

/* Bytes waiting for C, queued or taken for sending. Called with qlock held. */
static size_t pending(const struct client *c)
{
	return c->queue.len + c->out.len - c->out_pos;
}

/*
 * Queues LEN bytes of DATA for C, then an LF if LF is set (DATA is one
 * line), and puts C on the list *FLUSH unless it is on one already. If the
 * queue would outgrow max_queue, C is marked too slow instead and its
 * socket is shut down, so that a send() stuck on it gives up. Returns 0,
 * or -1 when C has just become too slow. Called with room.lock held, which
 * keeps C's descriptor open (shutdown() never blocks).
 */
static int enqueue(struct client *c, const char *data, size_t len, int lf,
		   struct client **flush)
{
	int rc = 0;

	pthread_mutex_lock(&c->qlock);
	if (!c->too_slow && !c->closing) {
		if (pending(c) + len + 1 > room.cfg.max_queue ||
		    buffer_add(&c->queue, data, len, lf) < 0) {
			c->too_slow = 1;
			shutdown(c->fd, SHUT_RDWR);
			pthread_cond_broadcast(&c->qcond);
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
 * Tells the room that C (already off the list) left, with REASON if any;
 * the clients to flush go on *FLUSH.
 */
static void say_left_locked(struct client *c, const char *reason,
			    struct client **flush)
{
	char line[MAX_NICK + 160];
	int n;

	if (reason != NULL)
		n = snprintf(line, sizeof(line), "*** %s left (%s)", c->nick,
			     reason);
	else
		n = snprintf(line, sizeof(line), "*** %s left", c->nick);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	log_say("%s (%s) left%s%s", c->nick, c->addr, reason ? ": " : "",
		reason ? reason : "");
	broadcast_locked(NULL, line, (size_t)n, 1, flush);
}

/*
 * Queues LINE for one client C; if that makes C too slow, drops C from the
 * room and tells the others. The clients to flush go on *FLUSH.
 */
static void send_locked(struct client *c, const char *line, size_t len,
			struct client **flush)
{
	if (enqueue(c, line, len, 1, flush) < 0 && c->in_room) {
		unlink_locked(c);
		say_left_locked(c, "too slow", flush);
	}
}

/*
 * Queues LEN bytes of DATA (and an LF if LF is set) for everyone in the
 * room but SKIP; the clients to flush go on *FLUSH. Those it makes too
 * slow are dropped once the loop is over, and the room is told.
 */
static void broadcast_locked(struct client *skip, const char *data,
			     size_t len, int lf, struct client **flush)
{
	struct client *c, *next, *slow = NULL;

	/* [broadcast] */
	for (c = room.first; c != NULL; c = next) {
		next = c->next;
		if (c != skip && enqueue(c, data, len, lf, flush) < 0) {
			unlink_locked(c);
			c->done_next = slow;	/* borrowed until the reader ends */
			slow = c;
		}
	}
	/* [/broadcast] */
	while (slow != NULL) {
		c = slow;
		slow = slow->done_next;
		say_left_locked(c, "too slow", flush);
	}
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

const struct room_config *room_config(void)
{
	return &room.cfg;
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
	pthread_cond_signal(&room.reap);
	pthread_mutex_unlock(&room.lock);
	flush(list);
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
		if (!room.closing)
			say_left_locked(c, reason, &list);
	}
	pthread_mutex_unlock(&room.lock);
	flush(list);
	if (c->has_writer)
		stop_writer(c);
	close(c->fd);
	pthread_mutex_lock(&room.lock);
	c->done_next = room.done;
	room.done = c;
	pthread_cond_signal(&room.reap);
	pthread_mutex_unlock(&room.lock);
}

void room_tell(struct client *c, const char *line)
{
	struct client *list = NULL;

	pthread_mutex_lock(&room.lock);
	send_locked(c, line, strlen(line), &list);
	pthread_mutex_unlock(&room.lock);
	flush(list);
}

void room_broadcast(struct client *skip, const char *line)
{
	struct client *list = NULL;

	pthread_mutex_lock(&room.lock);
	broadcast_locked(skip, line, strlen(line), 1, &list);
	pthread_mutex_unlock(&room.lock);
	flush(list);
}

void room_broadcast_lines(struct client *skip, const char *lines, size_t len)
{
	struct client *list = NULL;

	pthread_mutex_lock(&room.lock);
	broadcast_locked(skip, lines, len, 0, &list);
	pthread_mutex_unlock(&room.lock);
	flush(list);
}

int room_rename(struct client *c, const char *nick)
{
	char line[2 * MAX_NICK + 64], old[MAX_NICK + 1];
	struct client *other, *list = NULL;
	int n;

	pthread_mutex_lock(&room.lock);
	other = find_locked(nick);
	if (other != NULL && other != c) {
		pthread_mutex_unlock(&room.lock);
		return -1;
	}
	memcpy(old, c->nick, sizeof(old));
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	n = snprintf(line, sizeof(line), "*** %s is now known as %s", old, nick);
	broadcast_locked(NULL, line, (size_t)n, 1, &list);
	log_say("%s is now known as %s", old, nick);
	pthread_mutex_unlock(&room.lock);
	flush(list);
	return 0;
}

int room_whisper(struct client *c, const char *to, const char *text)
{
	size_t size = strlen(text) + MAX_NICK + 16;
	char *line = malloc(size);
	struct client *target, *list = NULL;
	int n;

	if (line == NULL)
		return 0;	/* out of memory: the message is lost */
	pthread_mutex_lock(&room.lock);
	target = find_locked(to);
	if (target != NULL) {
		n = snprintf(line, size, "*%s* %s", c->nick, text);
		send_locked(target, line, (size_t)n, &list);
		n = snprintf(line, size, "-> *%s* %s", target->nick, text);
		send_locked(c, line, (size_t)n, &list);
	}
	pthread_mutex_unlock(&room.lock);
	flush(list);
	free(line);
	return target != NULL ? 0 : -1;
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
	if (b.data != NULL) {
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

void room_nick(struct client *c, char *nick)
{
	pthread_mutex_lock(&room.lock);
	memcpy(nick, c->nick, MAX_NICK + 1);
	pthread_mutex_unlock(&room.lock);
}
