/*
 * server.c - step 04: a chatroom, one thread per client.
 *
 * Step 03 served one client and made it wait for its turn. Here the main
 * thread only accepts, and each client gets a thread of its own that
 * blocks on that client alone: every line it says goes to everyone else in
 * the room. The threads share one thing, the list of clients in the room,
 * and a mutex keeps them from using it at the same time.
 *
 * Protocol (the kit's chat protocol, its first lines): a newcomer gets
 * "*** welcome guestN", the others "*** guestN joined"; a line from guestN
 * reaches the others as "<guestN> text"; "*** guestN left" when it goes
 * (end of stream, error, or /quit). A line over MAX_LINE is refused.
 *
 * Deliberate simplification, and the lesson of the step: a broadcast holds
 * the room lock while it sends, so one client that stops reading freezes
 * the whole room once its socket buffers are full (see the README).
 * The solution gives each client its own output queue instead.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "srv.h"
#include "todo.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *opt_addr;
static const char *opt_port = DEFAULT_PORT;

static const struct cli_option options[] = {
	CLI_SERVER_OPTIONS(opt_addr, opt_port),
	{ 0 }
};

static struct cli cli = {
	.about = "A chatroom: each line a client sends goes to all the others.",
	.options = options,
	.operands = "",
};

/* One connected client. Its thread owns it and frees it when it leaves. */
struct client {
	int fd;				/* its socket */
	char nick[MAX_NICK + 1];	/* "guestN": how it is shown */
	struct line_reader in;		/* the lines it sends */
	struct client *next;		/* the next one in the room */
};

/* [room] */
/*
 * The room: every client welcomed and not gone yet, newest first.
 * lock protects head and every client's next, and the clients' sockets:
 * a thread sends to a client in the room only while holding it, and a
 * client's socket is closed only once the client is out of the list.
 */
static struct {
	pthread_mutex_t lock;
	struct client *head;
} room = { PTHREAD_MUTEX_INITIALIZER, NULL };
/* [/room] */

/* Takes the room lock. It fails only if the program is broken: stop then. */
static void room_lock(void)
{
	int rc = pthread_mutex_lock(&room.lock);

	if (rc != 0)
		die("pthread_mutex_lock: %s", strerror(rc));
}

/* Gives the room lock back; same rule as room_lock(). */
static void room_unlock(void)
{
	int rc = pthread_mutex_unlock(&room.lock);

	if (rc != 0)
		die("pthread_mutex_unlock: %s", strerror(rc));
}

/*
 * Waits for the next client on LFD and fills C: its socket, its nickname
 * (guest1, guest2, ... in order of arrival) and its line reader.
 * Returns 0, or -1 if no client could be taken or a signal came.
 */
static int accept_client(int lfd, struct client *c)
{
	c->fd = srv_accept(lfd, c->nick, sizeof(c->nick));
	if (c->fd < 0)
		return -1;	/* never a reason to stop */
	if (line_init(&c->in, c->fd, MAX_LINE) < 0) {
		complain("no memory for a new client");
		close(c->fd);
		return -1;
	}
	return 0;
}

/*
 * Sends one line, formatted like printf, to every client in the room but
 * FROM. A client whose send fails is shut down: its own thread then sees
 * the end of its stream and makes it leave.
 */
static KIT_PRINTF(2, 3) void broadcast(const struct client *from,
					const char *fmt, ...)
{
	char line[NET_LINE_SIZE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = net_format_line(line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;		/* cannot happen: chat lines are bounded */
#ifndef STARTER
	/* [broadcast] */
	room_lock();	/* held while sending: see the README */
	for (struct client *c = room.head; c != NULL; c = c->next)
		if (c != from && net_send_all(c->fd, line, (size_t)n) < 0)
			shutdown(c->fd, SHUT_RDWR);	/* wakes its thread */
	room_unlock();
	/* [/broadcast] */
#else /* STARTER */
	/*
	 * TODO: send the n bytes of line to every client in the room but
	 * FROM, with net_send_all() (one send() may take only part of it).
	 * Walk room.head only while holding the room lock: another thread
	 * may be joining or leaving. If a send fails, that client is gone:
	 * shutdown(c->fd, SHUT_RDWR) wakes its own thread, which then makes
	 * it leave(). Pitfall: never close() it here; its thread owns it.
	 * Until then, the server stops here at its first broadcast: the
	 * first client's "joined".
	 */
	(void)from;
	todo("tests/04-threaded-chatroom.bats, \"a line reaches everyone but "
	     "its sender\", \"30 clients talking at once: every line reaches "
	     "all others, intact\", \"clients that vanish while being written "
	     "to do not stop the room\", and every test with clients");
#endif /* STARTER */
}

/*
 * Tells C that the line it sent was over MAX_LINE and was dropped. The
 * lock keeps this line from cutting into a broadcast sent to C.
 */
static void refuse(struct client *c)
{
	room_lock();
	net_send_line(c->fd, "*** error: line too long (max %d bytes)",
		      MAX_LINE);
	room_unlock();
}

/*
 * Welcomes C, puts it in the room, and tells the others. The welcome goes
 * out before C is in the list, where no other line can reach it yet. Only
 * main() calls this, one newcomer at a time: arrivals are told in order.
 */
static void join(struct client *c)
{
	net_send_line(c->fd, "*** welcome %s", c->nick);
	room_lock();
	c->next = room.head;
	room.head = c;
	room_unlock();
	broadcast(c, "*** %s joined", c->nick);
}

/*
 * Takes C out of the room, tells the others, and frees it. Its socket is
 * closed last: once C is out of the list, no broadcast can be using it.
 */
static void leave(struct client *c)
{
#ifndef STARTER
	struct client **p;

	room_lock();
	for (p = &room.head; *p != c; p = &(*p)->next)
		;		/* p: the pointer that points at c */
	*p = c->next;
	room_unlock();
	broadcast(c, "*** %s left", c->nick);
	close(c->fd);
	line_free(&c->in);
	note("%s left", c->nick);
	free(c);
#else /* STARTER */
	/*
	 * TODO: unlink C from the list room.head, holding the room lock (as
	 * join() does to link it in); then broadcast() "*** NICK left" to the
	 * others; then close its socket, line_free() its reader, note() it,
	 * and free() it. Pitfall: in this order only. Closed while still in
	 * the list, its descriptor number may be reused by a newcomer and
	 * get someone else's broadcast.
	 * Until then, the server stops here when a client leaves.
	 */
	(void)c;
	todo("tests/04-threaded-chatroom.bats, \"welcome, joined and left come "
	     "in order; numbers are not reused\", \"a client killed with -9 "
	     "leaves; the room goes on\", \"200 clients come and go: no "
	     "descriptor or thread left behind\"");
#endif /* STARTER */
}

/*
 * A client's own thread, from its welcome to its departure: each line it
 * sends goes to the others. ARG is its struct client, which it now owns.
 */
static void *client_thread(void *arg)
{
#ifndef STARTER
	struct client *c = arg;
	char *line;
	size_t len;
	int rc;

	/* [client-thread] */
	while ((rc = line_read(&c->in, &line, &len)) != LINE_EOF &&
	       rc != LINE_ERROR) {
		if (rc == LINE_TOO_LONG)
			refuse(c);
		else if (strcmp(line, "/quit") == 0)
			break;
		else if (len > 0)
			broadcast(c, "<%s> %s", c->nick, line);
	}
	if (rc == LINE_ERROR)
		note("%s: recv:", c->nick);
	leave(c);
	/* [/client-thread] */
#else /* STARTER */
	/*
	 * TODO: ARG is this client's struct client. Read its lines with
	 * line_read(&c->in, ...) until LINE_EOF or LINE_ERROR (it left or
	 * failed) or "/quit"; refuse() a LINE_TOO_LONG; skip empty lines;
	 * broadcast() any other as "<NICK> text". Then leave(), which frees
	 * it. This thread blocks on its own client alone: the others go on.
	 * Until then, the server stops here as soon as a client's thread runs.
	 */
	(void)arg;
	(void)refuse;	/* keeps the compiler quiet until you call it */
	todo("tests/04-threaded-chatroom.bats, \"a line reaches everyone but "
	     "its sender\", \"/quit leaves the room\", \"empty lines are "
	     "ignored\", \"a line of 1024 bytes passes; 1025 is refused to its "
	     "sender only\", and every test with clients");
#endif /* STARTER */
	return NULL;
}

/*
 * Waits for the next client, welcomes it, and starts its thread, which
 * from then on owns it. A client the server cannot take is closed, and
 * the server goes on.
 */
static void spawn(int lfd)
{
#ifndef STARTER
	struct client *c = malloc(sizeof(*c));
	pthread_t tid;
	int rc;

	if (c == NULL) {
		complain("no memory for a new client");
		return;
	}
	if (accept_client(lfd, c) < 0) {
		free(c);
		return;
	}
	/* [spawn] */
	join(c);
	util_block_stop_signals(1);	/* the thread inherits this mask, */
	rc = pthread_create(&tid, NULL, client_thread, c);
	util_block_stop_signals(0);	/* so signals come to main alone */
	if (rc != 0) {
		complain("pthread_create: %s", strerror(rc));
		leave(c);
		return;
	}
	rc = pthread_detach(tid);	/* nobody will join it */
	/* [/spawn] */
	if (rc != 0)
		complain("pthread_detach: %s", strerror(rc));
#else /* STARTER */
	/*
	 * TODO: one thread per client, so that main() goes straight back to
	 * accept() while the client's own thread serves it.
	 * 1. malloc() its struct client: the thread's argument must outlive
	 *    spawn() (a local variable would be gone when it returns) and be
	 *    its own (one variable shared by all would be overwritten by the
	 *    next arrival). The thread frees it, in leave().
	 * 2. accept_client(lfd, c); if it fails, free(c) and return.
	 * 3. join(c), then pthread_create(&tid, NULL, client_thread, c), with
	 *    util_block_stop_signals(1) before it and (0) after it: the thread
	 *    inherits the mask, so SIGINT and SIGTERM reach main() alone.
	 *    pthread functions return the error (not -1 and errno): if it
	 *    fails, complain("pthread_create: %s", strerror(rc))
	 *    and leave(c).
	 * 4. pthread_detach(tid): nobody will join it. Pitfall: a thread
	 *    neither joined nor detached keeps its stack after it ends: the
	 *    server grows with every client that leaves.
	 * Until then, the server stops here, as soon as it has printed its
	 * ready line.
	 */
	(void)lfd;
	(void)accept_client;	/* keeps the compiler quiet until you */
	(void)join;		/* call them */
	(void)leave;
	(void)client_thread;
	todo("tests/04-threaded-chatroom.bats, every test with clients in it; "
	     "\"200 clients come and go: no descriptor or thread left "
	     "behind\" checks that threads do not pile up");
#endif /* STARTER */
}

int main(int argc, char **argv)
{
	int lfd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	lfd = srv_start(opt_addr, opt_port);
	while (!stop_requested)
		spawn(lfd);
	close(lfd);
	return 0;
}
