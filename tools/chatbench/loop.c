/*
 * loop.c - the event loop: connecting, reading lines, sending lines.
 *
 * Every client is a non-blocking socket in one epoll set, and one thread
 * serves them all, so that the bench itself is never what is measured:
 *
 * - connecting: connect() says EINPROGRESS; the socket turns writable once
 *   the handshake is over, and SO_ERROR then says whether it worked.
 * - reading: one recv() into a big buffer shared by every client, right
 *   after the unfinished line this client's previous read left (its carry).
 *   Each complete line is handled; the new unfinished end is the new carry.
 * - sending: test lines are written into the client's output buffer and
 *   sent; what the socket does not take stays there, and EPOLLOUT says
 *   when there is room again. Nothing ever blocks.
 */
/* epoll, SOCK_NONBLOCK and SOCK_CLOEXEC are Linux extensions, not POSIX. */
#define _GNU_SOURCE

#include "chatbench.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken from the kernel per epoll_wait(). */
#define MAX_EVENTS 256

/* Why the first client failed, for the report. */
static char fail_text[160];

/* ---- registration and closing ------------------------------------------ */

/* Registers C's socket with epoll (OP: EPOLL_CTL_ADD or _MOD). Dies on failure. */
static void watch(struct client *c, int op, int out)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.u32 = (uint32_t)(c - bench.cl);
	if (epoll_ctl(bench.epfd, op, c->fd, &ev) < 0)
		die("epoll_ctl:");
	c->want_out = out;
}

/*
 * Closes C for the reason WHY and keeps the first reason for the report.
 * A client closed before its welcome counts as failed, after it as dropped.
 */
static void client_close(struct client *c, const char *why)
{
	if (c->state == CL_READY) {
		bench.dropped++;
	} else {
		bench.pending--;
		bench.failed++;
	}
	if (c->fd >= 0) {
		close(c->fd);	/* also takes it out of the epoll set */
		bench.open--;
	}
	c->fd = -1;
	c->state = CL_CLOSED;
	free(c->out);
	c->out = NULL;
	if (bench.fail_why == NULL) {
		snprintf(fail_text, sizeof(fail_text), "client %zu%s%s%s: %s",
			 (size_t)(c - bench.cl), *c->nick ? " (" : "", c->nick,
			 *c->nick ? ")" : "", why);
		bench.fail_why = fail_text;
	}
}

/* Closes C with the text of errno after CALL ("recv: Connection reset"). */
static void client_fail(struct client *c, const char *call, int err)
{
	char why[96];

	snprintf(why, sizeof(why), "%s: %s", call, strerror(err));
	client_close(c, why);
}

/*
 * Makes the connected or connecting socket FD the next client, in STATE.
 * Nagle's algorithm is turned off: the bench measures the server, not the
 * delay the client's own kernel would add to small writes.
 */
static void adopt(int fd, enum client_state state)
{
	struct client *c = &bench.cl[bench.ncl++];

	c->fd = fd;
	c->state = state;
	c->started = now_ns();
	bench.open++;
	bench.pending++;
	if (net_set_nodelay(fd) < 0)
		die("setsockopt TCP_NODELAY:");
	watch(c, EPOLL_CTL_ADD, state == CL_CONNECTING);
}

/* ---- connecting ---------------------------------------------------------- */

void loop_init(void)
{
	int fd;

	bench.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (bench.epfd < 0)
		die("epoll_create1:");
	bench.rbuf = malloc(CARRY_MAX + READ_CHUNK);
	if (bench.rbuf == NULL)
		die("malloc:");
	/*
	 * The first client connects the blocking way, through net_connect(),
	 * which tries every address HOST resolves to. The one that answered
	 * is where all the others go.
	 */
	fd = net_connect(bench.host, bench.port);
	if (fd < 0)
		die("cannot connect to %s port %s: %s", bench.host, bench.port,
		    net_strerror());
	bench.addrlen = sizeof(bench.addr);
	if (getpeername(fd, (struct sockaddr *)&bench.addr, &bench.addrlen) < 0)
		die("getpeername:");
	if (net_set_nonblocking(fd, 1) < 0)
		die("fcntl:");
	adopt(fd, CL_WAITING);
}

/*
 * Starts the non-blocking connect() of the next client. A failure (out of
 * descriptors, refused at once) makes it a failed client.
 */
static void start_client(void)
{
	const struct sockaddr *sa = (const struct sockaddr *)&bench.addr;
	int fd, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		struct client *c = &bench.cl[bench.ncl++];

		c->fd = -1;
		bench.pending++;
		client_fail(c, "socket", errno);
		return;
	}
	if (connect(fd, sa, bench.addrlen) == 0) {
		adopt(fd, CL_WAITING);
		return;
	}
	err = errno;		/* adopt() makes calls that may change it */
	adopt(fd, CL_CONNECTING);
	if (err != EINPROGRESS)
		client_fail(&bench.cl[bench.ncl - 1], "connect", err);
}

/* The socket of connecting client C turned writable: did connect() work? */
static void finish_connect(struct client *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		client_fail(c, "connect", err);
		return;
	}
	c->state = CL_WAITING;
	watch(c, EPOLL_CTL_MOD, 0);
}

/* Starts connections while the phase wants more and the window has room. */
static void refill(void)
{
	while (bench.ncl < bench.target && bench.pending < bench.window &&
	       bench.failed == 0)
		start_client();
}

static void read_client(struct client *c);

/*
 * -C: gives up on clients that connected but got no welcome in time. A
 * client's socket is read first: with thousands of sockets readable, the
 * bench may not have come to this one yet, and a welcome waiting in it
 * was the server's work done in time, not a failure.
 */
static void expire(int64_t now)
{
	for (size_t i = bench.scan_from; i < bench.ncl; i++) {
		struct client *c = &bench.cl[i];
		int waiting = c->state == CL_CONNECTING || c->state == CL_WAITING;

		if (!waiting && i == bench.scan_from) {
			bench.scan_from++;	/* settled: never look at it again */
			continue;
		}
		if (!waiting || now - c->started <= CAP_WELCOME_NS)
			continue;
		if (c->state == CL_WAITING)
			read_client(c);
		if (c->state == CL_WAITING || c->state == CL_CONNECTING)
			client_close(c, "no welcome within 2 s");
	}
}

size_t loop_ready(void)
{
	size_t n = 0;

	for (size_t i = 0; i < bench.ncl; i++)
		n += bench.cl[i].state == CL_READY;
	return n;
}

/* ---- receiving ----------------------------------------------------------- */

/* "*** welcome NICK": C has a name and is in the room. */
static void on_welcome(struct client *c, const char *nick)
{
	size_t n = strcspn(nick, " ");

	if (c->state != CL_WAITING)
		return;		/* a second welcome: not ours to judge */
	if (n > NICK_MAX)
		n = NICK_MAX;
	memcpy(c->nick, nick, n);
	c->nick[n] = '\0';
	c->state = CL_READY;
	bench.welcomed++;
	bench.pending--;
}

/*
 * Checks that M is the next line C expected from its sender. Returns 1 if
 * it counts as delivered, 0 for a duplicate or a line that came too late.
 */
static int in_order(struct client *c, const struct message *m)
{
	uint32_t *next;

	if (bench.next_seq == NULL)
		return 1;	/* -C sends one line: no order to check */
	next = &bench.next_seq[(size_t)(c - bench.cl) * bench.nclients + m->sender];
	if (m->seq == *next) {
		(*next)++;
		return 1;
	}
	bench.out_of_order++;
	if (m->seq < *next)
		return 0;
	*next = m->seq + 1;	/* lines were skipped: they count as lost */
	return 1;
}

/*
 * "<NICK> TEXT" to client C: TEXT must be an intact test line, from the
 * client whose nickname is NICK, and not from C itself.
 */
static void on_chat(struct client *c, char *line, size_t len, int64_t now)
{
	char *gt = memchr(line, '>', len);
	struct message m;
	const struct client *from;

	if (gt == NULL || gt[1] != ' ' ||
	    len - (size_t)(gt + 2 - line) != bench.size ||
	    message_parse(gt + 2, bench.size, &m) < 0 || m.sender >= bench.ncl) {
		bench.corrupt++;
		return;
	}
	from = &bench.cl[m.sender];
	*gt = '\0';
	if (from == c || strcmp(line + 1, from->nick) != 0 || m.stamp > now) {
		bench.corrupt++;
		return;
	}
	if (!in_order(c, &m))
		return;
	bench.received++;
	bench.t_last_delivery = now;
	hist_add(&bench.lat, now - m.stamp);
}

/* Returns 1 if the LEN bytes at S end with SUFFIX. */
static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* One complete LINE of LEN bytes (NUL-terminated) arrived for client C. */
static void on_line(struct client *c, char *line, size_t len, int64_t now)
{
	bench.t_last_rx = now;
	if (line[0] == '<')
		on_chat(c, line, len, now);
	else if (strncmp(line, "*** welcome ", 12) == 0)
		on_welcome(c, line + 12);
	else if (strncmp(line, "*** ", 4) == 0 && ends_with(line, len, " joined"))
		bench.joins_seen++;
	/* Anything else ("left", errors) is not what is measured. */
}

/*
 * Hands every complete line of the LEN bytes at BUF to on_line(), and keeps
 * the unfinished end in C's carry. A line too long to be a chat line is
 * counted as corrupt and skipped up to its LF.
 */
static void split_lines(struct client *c, char *buf, size_t len, int64_t now)
{
	char *p = buf, *end = buf + len, *lf;

	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t n = (size_t)(lf - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		p[n] = '\0';
		if (c->skipping)
			c->skipping = 0;	/* the end of an overlong line */
		else if (n >= CARRY_MAX)
			bench.corrupt++;
		else
			on_line(c, p, n, now);
		p = lf + 1;
	}
	c->ncarry = 0;
	if (!c->skipping && (size_t)(end - p) >= CARRY_MAX) {
		c->skipping = 1;
		bench.corrupt++;
	}
	if (!c->skipping) {
		c->ncarry = (size_t)(end - p);
		memcpy(c->carry, p, c->ncarry);
	}
}

/*
 * Reads what C's socket has, once: the carry goes in front of the shared
 * buffer, recv() fills the rest. End of stream or an error closes C.
 */
static void read_client(struct client *c)
{
	char *buf = bench.rbuf;
	ssize_t n;

	memcpy(buf, c->carry, c->ncarry);
	n = recv(c->fd, buf + c->ncarry, READ_CHUNK, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_fail(c, "recv", errno);
		return;
	}
	if (n == 0) {
		client_close(c, "the server closed the connection");
		return;
	}
	split_lines(c, buf, c->ncarry + (size_t)n, now_ns());
}

/* ---- sending ------------------------------------------------------------- */

/*
 * Sends what C's output buffer holds until the socket is full, then asks
 * for EPOLLOUT while anything is left to send or to write.
 */
static void flush(struct client *c)
{
	int want;

	while (c->out_start < c->out_end) {
		ssize_t n = send(c->fd, c->out + c->out_start,
				 c->out_end - c->out_start, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			client_fail(c, "send", errno);
			return;
		}
		c->out_start += (size_t)n;
		bench.t_last_tx = now_ns();
	}
	if (c->out_start == c->out_end)
		c->out_start = c->out_end = 0;
	want = c->out_end > 0 || c->made < c->due;
	if (want != c->want_out)
		watch(c, EPOLL_CTL_MOD, want);
}

/*
 * Writes C's due lines into its output buffer, as many as fit, each
 * stamped with the time now, then sends. Called again on EPOLLOUT, it
 * writes one buffer's worth each time, so every client gets its turn.
 */
static void pump(struct client *c)
{
	size_t line = bench.size + 1;	/* with its LF */
	int64_t now = now_ns();

	if (c->out == NULL && (c->out = malloc(OUT_CAP)) == NULL)
		die("malloc:");
	if (c->out_start > 0) {	/* slide the unsent part to the front */
		memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
		c->out_end -= c->out_start;
		c->out_start = 0;
	}
	/* message_format() adds a NUL after the line: one byte more of room. */
	while (c->made < c->due && OUT_CAP - c->out_end >= line + 1) {
		struct message m = { (uint32_t)(c - bench.cl), c->made, now };

		message_format(c->out + c->out_end, bench.size, &m);
		c->out[c->out_end + bench.size] = '\n';
		c->out_end += line;
		c->made++;
		bench.lines_made++;
	}
	if (bench.t_first_send == 0)
		bench.t_first_send = now;
	flush(c);
}

void loop_owe(struct client *c, uint32_t lines)
{
	if (c->state != CL_READY)
		return;		/* a closed client sends nothing more */
	c->due += lines;
	pump(c);
}

/* ---- the loop ------------------------------------------------------------ */

/* When send number I of the round robin is due (-r). */
static int64_t pace_time(uint64_t i)
{
	double gap = (double)NS_PER_S / (bench.rate * (double)bench.nclients);

	return bench.pace_start + (int64_t)((double)i * gap);
}

/*
 * -r: gives every client its due lines. Sends go round the clients in turn
 * (0, 1, ..., N-1, 0, ...), evenly spaced, so the room as a whole sends
 * N * RATE lines per second and each client RATE.
 */
static void pace(int64_t now)
{
	uint64_t total = (uint64_t)bench.nclients * bench.nlines;

	while (bench.pace_next < total && pace_time(bench.pace_next) <= now) {
		loop_owe(&bench.cl[bench.pace_next % bench.nclients], 1);
		bench.pace_next++;
	}
}

/* What runs after every wake-up, whatever woke the loop. */
static void tick(int64_t now)
{
	if (bench.pace_start > 0)
		pace(now);
	refill();
	if (bench.cap > 0)
		expire(now);
	if (now >= bench.next_sample) {
		server_sample();
		bench.next_sample = now + SAMPLE_NS;
	}
}

/* Milliseconds epoll_wait() may sleep: until the next thing tick() has to do. */
static int wait_ms(int64_t now)
{
	int64_t until = bench.deadline;

	if (bench.next_sample < until)
		until = bench.next_sample;
	if (bench.pace_start > 0 &&
	    bench.pace_next < (uint64_t)bench.nclients * bench.nlines &&
	    pace_time(bench.pace_next) < until)
		until = pace_time(bench.pace_next);
	if (until <= now)
		return 0;
	return (int)((until - now + 999999) / 1000000);	/* rounded up */
}

/* Hands the events of client C to the right step. */
static void handle(struct client *c, uint32_t events)
{
	if (c->state == CL_CLOSED)
		return;
	if (c->state == CL_CONNECTING) {
		finish_connect(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_client(c);
	if (c->state != CL_CLOSED && (events & EPOLLOUT))
		pump(c);
}

int loop_until(int (*done)(void))
{
	struct epoll_event ev[MAX_EVENTS];

	for (;;) {
		int64_t now = now_ns();
		int n;

		tick(now);
		if (done())
			return 0;
		if (now >= bench.deadline || stop_requested) {
			bench.timed_out = !stop_requested;
			return -1;
		}
		n = epoll_wait(bench.epfd, ev, MAX_EVENTS, wait_ms(now));
		if (n < 0 && errno != EINTR)
			die("epoll_wait:");
		for (int i = 0; i < n; i++)
			handle(&bench.cl[ev[i].data.u32], ev[i].events);
	}
}
