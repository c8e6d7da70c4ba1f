/*
 * room.c - the chatroom's shared state: see room.h for the threads and the
 * locks.
 */
#include "room.h"
#include "log.h"
#include "out.h"

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

/* While the room talks, the reaper trims idle queues this often. */
#define TRIM_SECONDS 1

/* The one room of the server. */
static struct {
	pthread_mutex_t lock;	/* protects every field below but cfg and attr,
				   and each client's nick, in_room, prev,
				   next, gone_next, why and done_next */
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
	int talked;		/* lines were queued since the last trim */
	struct timespec trim_at;	/* the reaper's next trim; 0: none set */
	pthread_t reaper;
	struct room_config cfg;	/* set once by room_open() */
	pthread_attr_t attr;	/* set once by room_open() */
} room = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.reap = PTHREAD_COND_INITIALIZER,
	.space = PTHREAD_COND_INITIALIZER,
};

/*
 * Wakes the broadcasters waiting for room in a queue (see
 * make_space_locked()). out.c calls it, holding no lock.
 */
static void room_has_room(void)
{
	pthread_mutex_lock(&room.lock);
	pthread_cond_broadcast(&room.space);
	pthread_mutex_unlock(&room.lock);
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
 * Drops C, whose queue overflowed or stalled: takes it off the room's list
 * and puts it on the work list *GONE, to be announced by say_left_locked().
 */
static void drop_locked(struct client *c, struct client **gone)
{
	out_drop(&c->out);
	unlink_locked(c);
	c->why = "too slow";
	c->gone_next = *gone;
	*gone = c;
	pthread_cond_broadcast(&room.space);	/* nobody waits for it now */
}

/*
 * Notes that lines are being queued: the reaper wakes to set its timer,
 * and trims the queues once they have drained.
 */
static void talked_locked(void)
{
	if (!room.talked) {
		room.talked = 1;
		pthread_cond_broadcast(&room.reap);
	}
}

/*
 * Queues LEN bytes of DATA (and an LF if LF is set) for everyone in the
 * room but SKIP; the clients to flush go on *FLUSH, those it makes too
 * slow on the work list *GONE.
 */
static void queue_all_locked(struct client *skip, const char *data,
			     size_t len, int lf, struct out **flush,
			     struct client **gone)
{
	struct client *c, *next;

	talked_locked();
	/* [broadcast] */
	for (c = room.first; c != NULL; c = next) {
		next = c->next;
		if (c != skip && out_queue(&c->out, data, len, lf, flush) < 0)
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
static void say_left_locked(struct client *gone, struct out **flush)
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
			     size_t len, int lf, struct out **flush)
{
	struct client *gone = NULL;

	queue_all_locked(skip, data, len, lf, flush, &gone);
	say_left_locked(gone, flush);
}

/* Queues LINE for C alone; if that makes C too slow, drops it. */
static void send_locked(struct client *c, const char *line, size_t len,
			struct out **flush)
{
	struct client *gone = NULL;

	talked_locked();
	if (out_queue(&c->out, line, len, 1, flush) < 0 && c->in_room)
		drop_locked(c, &gone);
	say_left_locked(gone, flush);
}

/* ---------------------------------------------------------- backpressure */

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
		left = out_stall(&c->out, len, STALL_SECONDS);
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
 * Frees the big buffers of the clients that have nothing left to send.
 * Returns 1 if some client still holds big ones: it was sending.
 */
static int trim_locked(void)
{
	int big = 0;

	for (struct client *c = room.first; c != NULL; c = c->next)
		big |= out_trim(&c->out);
	return big;
}

/*
 * Waits on room.reap. While the room talks, wakes up every TRIM_SECONDS
 * to trim the queues that have drained: a client keeps big buffers only
 * while lines flow to it. A quiet room wakes nobody.
 */
static void wait_reap_locked(void)
{
	if (!room.talked) {
		pthread_cond_wait(&room.reap, &room.lock);
		return;
	}
	if (room.trim_at.tv_sec == 0) {
		clock_gettime(CLOCK_REALTIME, &room.trim_at);
		room.trim_at.tv_sec += TRIM_SECONDS;
	}
	if (pthread_cond_timedwait(&room.reap, &room.lock, &room.trim_at) ==
	    ETIMEDOUT) {
		room.talked = trim_locked();
		room.trim_at.tv_sec = 0;
	}
}

/*
 * The reaper thread: joins each reader thread that has ended and frees its
 * client, and trims idle queues. Ends when the room is closing and no
 * reader is left.
 */
static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&room.lock);
	for (;;) {
		struct client *c;

		while (room.done == NULL && !(room.closing && room.threads == 0))
			wait_reap_locked();
		if (room.done == NULL)
			break;
		c = room.done;
		room.done = c->done_next;
		pthread_mutex_unlock(&room.lock);
		pthread_join(c->reader, NULL);
		out_free(&c->out);
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
	struct out *list = NULL;

	pthread_mutex_lock(&room.lock);
	room.closing = 1;
	for (struct client *c = room.first; c != NULL; c = c->next) {
		out_queue(&c->out, bye, sizeof(bye) - 1, 1, &list);
		out_close(&c->out);	/* sent, then the socket is shut */
	}
	pthread_cond_broadcast(&room.reap);
	pthread_cond_broadcast(&room.space);	/* no reader waits any more */
	pthread_mutex_unlock(&room.lock);
	out_flush(list);
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
	out_init(&c->out, fd, room.cfg.max_queue, room_has_room, &room.attr);
	pthread_mutex_lock(&room.lock);
	room.threads++;
	pthread_mutex_unlock(&room.lock);
	rc = pthread_create(&c->reader, &room.attr, reader, c);
	if (rc != 0) {
		pthread_mutex_lock(&room.lock);
		room.threads--;
		pthread_mutex_unlock(&room.lock);
		out_free(&c->out);
		close(fd);
		free(c);
	}
	return rc;
}

int room_join(struct client *c)
{
	static const char full[] = "*** error: room is full";
	struct out *list = NULL;
	char line[MAX_NICK + 64];
	int n;

	pthread_mutex_lock(&room.lock);
	if (room.closing || room.count >= room.cfg.max_clients) {
		out_queue(&c->out, full, sizeof(full) - 1, 1, &list);
		pthread_mutex_unlock(&room.lock);
		out_flush(list);
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
	out_flush(list);
	return 0;
}

void room_leave(struct client *c, const char *reason)
{
	struct out *list = NULL;

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
	out_flush(list);
	out_stop(&c->out);
	close(c->fd);
	pthread_mutex_lock(&room.lock);
	c->done_next = room.done;
	room.done = c;
	pthread_cond_broadcast(&room.reap);
	pthread_mutex_unlock(&room.lock);
}

void room_tell(struct client *c, const char *line)
{
	struct out *list = NULL;

	pthread_mutex_lock(&room.lock);
	if (c->in_room)
		send_locked(c, line, strlen(line), &list);
	pthread_mutex_unlock(&room.lock);
	out_flush(list);
}

int room_broadcast_lines(struct client *from, const char *lines, size_t len)
{
	struct client *gone = NULL;
	struct out *list = NULL;
	int rc;

	pthread_mutex_lock(&room.lock);
	while ((rc = make_space_locked(from, NULL, len, &gone)) == 1)
		;
	if (rc == 0)
		queue_all_locked(from, lines, len, 0, &list, &gone);
	say_left_locked(gone, &list);
	pthread_mutex_unlock(&room.lock);
	out_flush(list);
	return rc == 0 ? ROOM_OK : ROOM_GONE;
}

int room_rename(struct client *c, const char *nick)
{
	char line[2 * MAX_NICK + 64], old[MAX_NICK + 1];
	struct client *other;
	struct out *list = NULL;
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
	out_flush(list);
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
	struct client *target, *gone = NULL;
	struct out *list = NULL;
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
	out_flush(list);
	free(line);
	return rc;
}

void room_list(struct client *c)
{
	struct out *list = NULL;
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
	out_flush(list);
	free(b.data);
}
