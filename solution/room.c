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
			     size_t len, int lf);

/* ---------------------------------------------------------------- queues */

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

/*
 * Queues LEN bytes of DATA for C, then an LF if LF is set (DATA is one
 * line), and wakes C's writer. If the queue
 * would outgrow max_queue, C is marked too slow instead and its socket is
 * shut down, so that its writer, maybe stuck in send(), gives up. Returns 0,
 * or -1 when C has just become too slow. Called with room.lock held, which
 * keeps C's descriptor open (shutdown() never blocks).
 */
static int enqueue(struct client *c, const char *data, size_t len, int lf)
{
	int rc = 0;

	pthread_mutex_lock(&c->qlock);
	if (!c->too_slow && !c->closing) {
		if (c->queue.len + len + 1 > room.cfg.max_queue ||
		    buffer_add(&c->queue, data, len, lf) < 0) {
			c->too_slow = 1;
			shutdown(c->fd, SHUT_RDWR);
			rc = -1;
		}
		pthread_cond_signal(&c->qcond);
	}
	pthread_mutex_unlock(&c->qlock);
	return rc;
}

/*
 * The writer thread of a client: sends whatever is queued, in one send()
 * per batch, until the client closes or fails. Then it shuts the socket
 * down, which wakes the reader if it is still reading.
 */
static void *writer_main(void *arg)
{
	struct client *c = arg;
	struct buffer out = { 0 };

	pthread_mutex_lock(&c->qlock);
	for (;;) {
		struct buffer swap;
		int rc;

		while (c->queue.len == 0 && !c->closing && !c->too_slow)
			pthread_cond_wait(&c->qcond, &c->qlock);
		if (c->too_slow || c->queue.len == 0)
			break;
		/* Take the whole queue; the others can fill a fresh one meanwhile. */
		swap = out;
		out = c->queue;
		c->queue = swap;
		pthread_mutex_unlock(&c->qlock);
		rc = net_send_all(c->fd, out.data, out.len);
		out.len = 0;
		pthread_mutex_lock(&c->qlock);
		if (rc < 0) {
			c->send_error = errno;
			break;
		}
	}
	c->writer_done = 1;
	pthread_cond_broadcast(&c->qcond);
	pthread_mutex_unlock(&c->qlock);
	free(out.data);
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

/*
 * Asks C's writer to send what is queued and stop; past FLUSH_SECONDS (a
 * client that does not read), cuts the connection. Then joins the writer.
 */
static void stop_writer(struct client *c)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FLUSH_SECONDS;
	pthread_mutex_lock(&c->qlock);
	c->closing = 1;
	pthread_cond_signal(&c->qcond);
	while (!c->writer_done &&
	       pthread_cond_timedwait(&c->qcond, &c->qlock, &deadline) == 0)
		;
	if (!c->writer_done)
		shutdown(c->fd, SHUT_RDWR);	/* its send() fails now */
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

/* Tells the room that C (already off the list) left, with REASON if any. */
static void say_left_locked(struct client *c, const char *reason)
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
	broadcast_locked(NULL, line, (size_t)n, 1);
}

/*
 * Queues LINE for one client C; if that makes C too slow, drops C from the
 * room and tells the others.
 */
static void send_locked(struct client *c, const char *line, size_t len)
{
	if (enqueue(c, line, len, 1) < 0 && c->in_room) {
		unlink_locked(c);
		say_left_locked(c, "too slow");
	}
}

/*
 * Queues LEN bytes of DATA (and an LF if LF is set) for everyone in the
 * room but SKIP. Those it makes too slow are dropped once the loop is
 * over, and the room is told.
 */
static void broadcast_locked(struct client *skip, const char *data,
			     size_t len, int lf)
{
	struct client *c, *next, *slow = NULL;

	for (c = room.first; c != NULL; c = next) {
		next = c->next;
		if (c != skip && enqueue(c, data, len, lf) < 0) {
			unlink_locked(c);
			c->done_next = slow;	/* borrowed until the reader ends */
			slow = c;
		}
	}
	while (slow != NULL) {
		c = slow;
		slow = slow->done_next;
		say_left_locked(c, "too slow");
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

	pthread_mutex_lock(&room.lock);
	room.closing = 1;
	for (struct client *c = room.first; c != NULL; c = c->next) {
		enqueue(c, bye, sizeof(bye) - 1, 1);
		pthread_mutex_lock(&c->qlock);
		c->closing = 1;		/* the writer sends the notice, then stops */
		pthread_cond_signal(&c->qcond);
		pthread_mutex_unlock(&c->qlock);
	}
	pthread_cond_signal(&room.reap);
	pthread_mutex_unlock(&room.lock);
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
		enqueue(c, full, sizeof(full) - 1, 1);
		pthread_mutex_unlock(&room.lock);
		log_say("%s refused: room is full", c->addr);
		return -1;
	}
	name_guest_locked(c);
	link_locked(c);
	n = snprintf(line, sizeof(line), "*** welcome %s", c->nick);
	send_locked(c, line, (size_t)n);
	n = snprintf(line, sizeof(line), "*** %s joined", c->nick);
	broadcast_locked(c, line, (size_t)n, 1);
	log_say("%s joined from %s (%zu online)", c->nick, c->addr, room.count);
	pthread_mutex_unlock(&room.lock);
	return 0;
}

void room_leave(struct client *c, const char *reason)
{
	pthread_mutex_lock(&room.lock);
	if (c->in_room) {
		unlink_locked(c);
		if (!room.closing)
			say_left_locked(c, reason);
	}
	pthread_mutex_unlock(&room.lock);
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
	pthread_mutex_lock(&room.lock);
	send_locked(c, line, strlen(line));
	pthread_mutex_unlock(&room.lock);
}

void room_broadcast(struct client *skip, const char *line)
{
	pthread_mutex_lock(&room.lock);
	broadcast_locked(skip, line, strlen(line), 1);
	pthread_mutex_unlock(&room.lock);
}

void room_broadcast_lines(struct client *skip, const char *lines, size_t len)
{
	pthread_mutex_lock(&room.lock);
	broadcast_locked(skip, lines, len, 0);
	pthread_mutex_unlock(&room.lock);
}

int room_rename(struct client *c, const char *nick)
{
	char line[2 * MAX_NICK + 64], old[MAX_NICK + 1];
	struct client *other;
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
	broadcast_locked(NULL, line, (size_t)n, 1);
	log_say("%s is now known as %s", old, nick);
	pthread_mutex_unlock(&room.lock);
	return 0;
}

int room_whisper(struct client *c, const char *to, const char *text)
{
	size_t size = strlen(text) + MAX_NICK + 16;
	char *line = malloc(size);
	struct client *target;
	int n;

	if (line == NULL)
		return 0;	/* out of memory: the message is lost */
	pthread_mutex_lock(&room.lock);
	target = find_locked(to);
	if (target != NULL) {
		n = snprintf(line, size, "*%s* %s", c->nick, text);
		send_locked(target, line, (size_t)n);
		n = snprintf(line, size, "-> *%s* %s", target->nick, text);
		send_locked(c, line, (size_t)n);
	}
	pthread_mutex_unlock(&room.lock);
	free(line);
	return target != NULL ? 0 : -1;
}

void room_list(struct client *c)
{
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
		send_locked(c, b.data, b.len);
	}
	pthread_mutex_unlock(&room.lock);
	free(b.data);
}

void room_nick(struct client *c, char *nick)
{
	pthread_mutex_lock(&room.lock);
	memcpy(nick, c->nick, MAX_NICK + 1);
	pthread_mutex_unlock(&room.lock);
}
