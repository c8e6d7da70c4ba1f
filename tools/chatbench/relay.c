/*
 * relay.c - the machine's ceiling for the chat benchmarks: a minimal relay.
 *
 * usage: relay [-a ADDRESS] [-p PORT]
 *
 * One thread, one epoll set, every socket non-blocking. It speaks just
 * enough of the chat protocol for chatbench to drive it: "*** welcome
 * guestN" to a newcomer, "*** guestN joined" to the others, and each line
 * a client sends goes to all the others as "<guestN> line". Nothing else:
 * no commands, no cleaning, no nicknames to choose, no "left" lines, and
 * no limit on what waits to be sent to a client (a reader that stops makes
 * its buffer grow without bound). It is what a chat server costs when it
 * does nothing but move lines, so `make bench` reports every server
 * against it. It is not a chat server to use.
 *
 * Lines are handed out per round of the loop: a round appends what every
 * readable client sent to the others' output buffers, then sends each
 * buffer with one send(), as step 05 does. SIGINT or SIGTERM ends it.
 */
/* epoll and accept4() are Linux extensions, not POSIX. */
#define _GNU_SOURCE

#include "cli.h"
#include "config.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Events taken from the kernel per epoll_wait(). */
#define MAX_EVENTS 256

/*
 * One read() takes up to this much from a client. Small reads make a round
 * take a little from everyone, so output buffers stay small: with 64 KiB
 * reads they grew to over 100 MB in the burst run, and the relay was
 * several times slower.
 */
#define READ_CHUNK 4096

/* Longest "<guestN> " prefix, and the input kept for an unfinished line. */
#define PREFIX_MAX 32
#define IN_CAP (MAX_LINE + 1)

static const char *opt_addr;
static const char *opt_port = DEFAULT_PORT;

static const struct cli_option options[] = {
	CLI_SERVER_OPTIONS(opt_addr, opt_port),
	{ 0 }
};

static struct cli cli = {
	.about = "A minimal relay for benchmarks: each line goes to every "
		 "other client, nothing more.",
	.options = options,
	.operands = "",
};

/* One connected client; relay.conn[fd] points at it. */
struct conn {
	int fd;
	char prefix[PREFIX_MAX];	/* "<guestN> " */
	size_t nprefix;
	char in[IN_CAP];	/* the start of a line not complete yet */
	size_t nin;
	char *out;		/* out[out_pos, out_len) waits to be sent */
	size_t out_pos, out_len, out_cap;
	int dirty;		/* on relay.dirty: has output to send */
	int want_out;		/* EPOLLOUT is registered */
	struct conn *prev, *next;	/* every client, in order of arrival */
};

/* The whole state. */
static struct {
	int epfd, lfd;
	struct conn **conn;	/* by descriptor */
	size_t nconn;		/* entries in conn */
	struct conn *first;	/* the list of clients */
	struct conn **dirty;	/* clients with output to send this round */
	size_t ndirty;
	unsigned long guests;	/* the last guest number given */
	char rbuf[IN_CAP + READ_CHUNK];
} relay;

/* Adds LEN bytes of DATA to C's output. Returns 0, or -1 (out of memory). */
static int out_add(struct conn *c, const char *data, size_t len)
{
	if (c->out_len + len > c->out_cap && c->out_pos > 0) {
		/* Slide what is left to the front before growing. */
		memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
		c->out_len -= c->out_pos;
		c->out_pos = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (p == NULL)
			return -1;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	if (!c->dirty) {
		c->dirty = 1;
		relay.dirty[relay.ndirty++] = c;
	}
	return 0;
}

/* Registers C for EPOLLIN, and EPOLLOUT if OUT (OP: ADD or MOD). */
static void watch(struct conn *c, int op, int out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0) };

	ev.data.fd = c->fd;
	if (epoll_ctl(relay.epfd, op, c->fd, &ev) < 0)
		die("epoll_ctl:");
	c->want_out = out;
}

/* Closes C and frees it. */
static void drop(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		relay.first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	for (size_t i = 0; i < relay.ndirty; i++)
		if (relay.dirty[i] == c)
			relay.dirty[i] = NULL;
	relay.conn[c->fd] = NULL;
	close(c->fd);
	free(c->out);
	free(c);
}

/* Adds LEN bytes of LINE (with its LF) to everyone's output but SKIP. */
static void to_others(struct conn *skip, const char *line, size_t len)
{
	for (struct conn *c = relay.first; c; c = c->next)
		if (c != skip && out_add(c, line, len) < 0)
			die("out of memory");
}

/* Accepts every waiting connection: a welcome, and a joined line to the others. */
static void on_accept(void)
{
	char line[64];
	int fd, n;

	while ((fd = accept4(relay.lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));

		if (c == NULL || (size_t)fd >= relay.nconn) {
			free(c);
			close(fd);
			continue;
		}
		net_set_nodelay(fd);
		c->fd = fd;
		relay.conn[fd] = c;
		relay.guests++;
		c->nprefix = (size_t)snprintf(c->prefix, sizeof(c->prefix),
					      "<guest%lu> ", relay.guests);
		n = snprintf(line, sizeof(line), "*** guest%lu joined\n",
			     relay.guests);
		to_others(NULL, line, (size_t)n);
		c->next = relay.first;	/* at the front: not told it joined */
		if (c->next)
			c->next->prev = c;
		relay.first = c;
		n = snprintf(line, sizeof(line), "*** welcome guest%lu\n",
			     relay.guests);
		if (out_add(c, line, (size_t)n) < 0)
			die("out of memory");
		watch(c, EPOLL_CTL_ADD, 0);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		note("accept:");	/* EMFILE and the like: try again later */
}

/* Reads from C and hands each complete line to the others. */
static void on_read(struct conn *c)
{
	char *buf = relay.rbuf, *p, *lf, *end;
	ssize_t n;

	memcpy(buf, c->in, c->nin);
	n = read(c->fd, buf + c->nin, READ_CHUNK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		drop(c);
		return;
	}
	if (n < 0)
		return;
	end = buf + c->nin + n;
	for (p = buf; (lf = memchr(p, '\n', (size_t)(end - p))) != NULL;
	     p = lf + 1) {
		for (struct conn *o = relay.first; o; o = o->next) {
			if (o == c)
				continue;
			if (out_add(o, c->prefix, c->nprefix) < 0 ||
			    out_add(o, p, (size_t)(lf - p) + 1) < 0)
				die("out of memory");
		}
	}
	c->nin = (size_t)(end - p);
	if (c->nin > MAX_LINE) {
		drop(c);	/* no line is that long: not a chat client */
		return;
	}
	memcpy(c->in, p, c->nin);
}

/* Sends C's output with one send(); asks for EPOLLOUT if some is left. */
static void on_write(struct conn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos,
			 MSG_NOSIGNAL);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		drop(c);
		return;
	}
	if (n > 0)
		c->out_pos += (size_t)n;
	if (c->out_pos == c->out_len)
		c->out_pos = c->out_len = 0;
	if ((c->out_len > 0) != c->want_out)
		watch(c, EPOLL_CTL_MOD, c->out_len > 0);
}

/* Sends what this round gave each client. */
static void flush_round(void)
{
	for (size_t i = 0; i < relay.ndirty; i++) {
		struct conn *c = relay.dirty[i];

		if (c == NULL)
			continue;
		c->dirty = 0;
		if (!c->want_out)
			on_write(c);	/* with EPOLLOUT on, wait for room */
	}
	relay.ndirty = 0;
}

/* Raises the open files limit to its maximum, and sizes the tables on it. */
static void setup(void)
{
	struct rlimit rl;
	struct epoll_event ev = { .events = EPOLLIN };

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit:");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit:");
	relay.nconn = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576
		      ? 1048576 : (size_t)rl.rlim_cur;
	relay.conn = calloc(relay.nconn, sizeof(*relay.conn));
	relay.dirty = calloc(relay.nconn, sizeof(*relay.dirty));
	relay.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (relay.conn == NULL || relay.dirty == NULL || relay.epfd < 0)
		die("setup:");
	ev.data.fd = relay.lfd;
	if (net_set_nonblocking(relay.lfd, 1) < 0 ||
	    epoll_ctl(relay.epfd, EPOLL_CTL_ADD, relay.lfd, &ev) < 0)
		die("listening socket:");
}

int main(int argc, char **argv)
{
	struct epoll_event ev[MAX_EVENTS];
	char name[NET_NAME_LEN];
	int rc = cli_parse(&cli, argc, argv);

	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	relay.lfd = net_listen(opt_addr, opt_port, LISTEN_BACKLOG);
	if (relay.lfd < 0)
		die("cannot listen on port %s: %s", opt_port, net_strerror());
	if (net_local_name(relay.lfd, name, sizeof(name)) < 0)
		die("getsockname: %s", net_strerror());
	setup();
	printf("listening on %s\n", name);
	for (;;) {
		int n = epoll_wait(relay.epfd, ev, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			die("epoll_wait:");
		for (int i = 0; i < n; i++) {
			struct conn *c;

			if (ev[i].data.fd == relay.lfd) {
				on_accept();
				continue;
			}
			c = relay.conn[ev[i].data.fd];
			if (c != NULL && (ev[i].events & EPOLLOUT))
				on_write(c);
			c = relay.conn[ev[i].data.fd];
			if (c != NULL && (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				on_read(c);
		}
		flush_round();
	}
}
