/*
 * room.h - the chatroom's shared state: who is in, and what they say.
 *
 * Threads, and what each one owns:
 *   main      accepts connections and starts one reader thread per client.
 *   reader    (one per client) reads the client's lines and acts on them;
 *             it joins the room, and at the end leaves it, lets its output
 *             drain (out_stop()) and closes the socket. When it sends a
 *             line to the room, it queues the line for each listener, then
 *             sends each one what its socket takes at once, without ever
 *             blocking (see out.h).
 *   writer    (only while a client's socket is full) sends the rest,
 *             blocking until that client reads, then ends. A stuck client
 *             blocks its own writer and nobody else.
 *   reaper    joins reader threads as they end and frees their clients;
 *             while the room talks, it also frees, once a second, the big
 *             buffers of the clients that have nothing left to send.
 *
 * Locks, always taken in this order:
 *   room.lock   the list of clients, their nicknames, the counters.
 *   out.lock    one client's output queue (out.h).
 * No socket I/O happens while either is held: queueing a line is a memcpy.
 *
 * Backpressure: a chat line is queued only when every listener's queue is
 * under half full; the reader waits for that meanwhile, and reads nothing,
 * so TCP slows its client down. A listener that takes nothing for
 * STALL_SECONDS while the chat waits for it is dropped as too slow; so is
 * one whose queue overflows (-q) with the server's own lines.
 */
#ifndef ROOM_H
#define ROOM_H

#include "config.h"
#include "net.h"
#include "out.h"

#include <pthread.h>
#include <stddef.h>

/* Seconds a listener may take nothing while the chat waits for it. */
#define STALL_SECONDS 5

/* What the room_* calls made by a client's reader return. */
enum {
	ROOM_OK = 0,
	ROOM_REFUSED = -1,	/* the name is taken, or nobody has it */
	ROOM_GONE = -2,		/* the client is no longer in the room: stop */
	ROOM_NOMEM = -3		/* out of memory: nothing was sent */
};

struct client {
	int fd;				/* closed by the reader, at the end */
	char addr[NET_NAME_LEN];	/* set before the reader starts */
	pthread_t reader;
	struct out out;			/* what waits to be sent to it */

	/*
	 * Guarded by room.lock. The nickname is only ever changed by the
	 * client's own reader thread, which may therefore read it unlocked.
	 */
	char nick[MAX_NICK + 1];
	int in_room;			/* on the list below */
	struct client *prev, *next;	/* the list, in order of arrival */
	struct client *gone_next;	/* a work list of clients that left */
	const char *why;		/* why it left, for that list; or NULL */
	struct client *done_next;	/* the reaper's list */
};

struct room_config {
	size_t max_clients;	/* -m */
	size_t max_line;	/* -l */
	size_t max_queue;	/* -q */
};

/* Starts the reaper thread. Returns 0 or an error code (pthread style). */
int room_open(const struct room_config *cfg);

/*
 * Tells every client the server is shutting down, lets what is queued
 * drain (FLUSH_SECONDS at most, then cuts every connection still open),
 * waits for every client thread to end, and frees everything.
 */
void room_close(void);

/*
 * Accepted connection FD from ADDR: starts its reader thread, which will
 * run READER. Returns 0, or an error code with FD closed.
 */
int room_spawn(int fd, const char *addr, void *(*reader)(void *));

/*
 * For the reader thread: adds C to the room under a guest name, welcomes
 * it and tells the others. Returns 0, or -1 if the room is full (C was
 * told so).
 */
int room_join(struct client *c);

/*
 * For the reader thread, at the end: removes C from the room (telling the
 * others, with REASON if not NULL), lets its output drain (FLUSH_SECONDS
 * at most), closes the socket and hands C to the reaper. C must not be
 * used afterwards.
 */
void room_leave(struct client *c, const char *reason);

/* Queues LINE (no LF) for C alone, if C is still in the room. */
void room_tell(struct client *c, const char *line);

/*
 * Queues LEN bytes of LINES, whole lines each ending in LF, from FROM for
 * everyone else: one lock and one wake-up per listener for a whole batch.
 * Backpressure: while a listener's queue is full, waits for it to drain
 * (or, if it takes nothing for STALL_SECONDS, drops it as too slow).
 * Returns ROOM_OK, or ROOM_GONE if FROM is no longer in the room.
 */
int room_broadcast_lines(struct client *from, const char *lines, size_t len);

/*
 * Renames C to NICK (already checked valid) and tells everyone. Returns
 * ROOM_OK, ROOM_REFUSED if another client has that name, ignoring case,
 * or ROOM_GONE.
 */
int room_rename(struct client *c, const char *nick);

/*
 * Sends TEXT privately from C to the client named TO (ignoring case), and
 * confirms to C; waits for room in TO's queue as room_broadcast_lines()
 * does. Returns ROOM_OK, ROOM_REFUSED if there is no such client,
 * ROOM_GONE or ROOM_NOMEM.
 */
int room_whisper(struct client *c, const char *to, const char *text);

/* Tells C who is online, in order of arrival. */
void room_list(struct client *c);

#endif
