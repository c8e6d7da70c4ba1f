/*
 * server.c - the reference chatroom server.
 *
 * The course's design, made robust: one thread per client reads its lines
 * (serve_client), and everything it says goes through the room (room.c),
 * which queues it for each listener (out.c) and makes a talker wait for a
 * listener that is behind. main() only accepts. See README.md for the
 * protocol and the architecture.
 */
#include "chat.h"
#include "cli.h"
#include "config.h"
#include "line.h"
#include "log.h"
#include "net.h"
#include "room.h"
#include "text.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * The largest values -m, -l and -q take: far above any real use, and small
 * enough that no size computed from them can overflow.
 */
#define LIMIT_CLIENTS 1000000
#define LIMIT_LINE (1024 * 1024)
#define LIMIT_QUEUE (1024 * 1024 * 1024)

static const char *opt_addr;
static const char *opt_port = DEFAULT_PORT;
static int opt_verbose;		/* -v: log every chat line relayed */
static struct room_config cfg = {
	.max_clients = MAX_CLIENTS,
	.max_line = MAX_LINE,
	.max_queue = MAX_QUEUE,
};

static const struct cli_option options[] = {
	CLI_SERVER_OPTIONS(opt_addr, opt_port),
	{ 'm', "CLIENTS", "most clients at once (default: " CLI_STR(MAX_CLIENTS) ")",
	  cli_set_size, &cfg.max_clients },
	{ 'l', "BYTES", "longest line accepted (default: " CLI_STR(MAX_LINE) ")",
	  cli_set_size, &cfg.max_line },
	{ 'q', "BYTES", "output a client may have waiting before it is dropped "
	  "as too slow (default: " CLI_STR(MAX_QUEUE) ")",
	  cli_set_size, &cfg.max_queue },
	{ 'v', NULL, "log every chat line it relays (private messages never)",
	  cli_set_flag, &opt_verbose },
	{ 0 }
};

static struct cli cli = {
	.about = "A chatroom: every line a client sends goes to all the others.\n"
		 "Clients type /help for the commands.",
	.options = options,
	.operands = "",
};

/* --------------------------------------------------------- client threads */

/* Tells C its line was longer than -l and was dropped. */
static void too_long(struct client *c)
{
	char line[80];

	snprintf(line, sizeof(line), "*** error: line too long (max %zu bytes)",
		 cfg.max_line);
	room_tell(c, line);
}

/*
 * Reads lines from C and acts on each until C quits or goes. Chat lines
 * are batched, and the batch is handed on whenever the reader is about to
 * wait for input. Returns why C left, for the others: NULL for a plain
 * goodbye.
 */
static const char *converse(struct client *c, struct line_reader *lr,
			    struct chat *ch)
{
	char *line;
	size_t len;

	for (;;) {
		switch (line_next(lr, &line, &len)) {
		case LINE_OK:
			if (!chat_handle(ch, c, line, len))
				return ch->reason[0] ? ch->reason : NULL;
			break;
		case LINE_TOO_LONG:
			too_long(c);
			break;
		case LINE_AGAIN:
			if (chat_flush(ch, c) < 0)
				return NULL;	/* dropped: stop reading */
			if (line_fill(lr) < 0)
				return "connection lost";
			break;
		default:	/* LINE_EOF */
			chat_flush(ch, c);
			return NULL;
		}
	}
}

/* The reader thread of one client: joins, converses, leaves. */
static void *serve_client(void *arg)
{
	struct client *c = arg;
	struct line_reader lr;
	struct chat ch;
	const char *reason = NULL;

	chat_init(&ch, &cfg);
	if (line_init(&lr, c->fd, cfg.max_line) < 0) {
		log_say("%s: out of memory", c->addr);
		room_leave(c, NULL);
		return NULL;
	}
	ch.log_lines = opt_verbose;
	if (room_join(c) == 0)
		reason = converse(c, &lr, &ch);
	room_leave(c, reason);
	line_free(&lr);
	chat_free(&ch);
	return NULL;
}

/* ---------------------------------------------------------------- signals */

/*
 * Only the main thread takes SIGINT and SIGTERM: every other thread is
 * started while they are blocked, and inherits that, so no handler ever
 * interrupts its calls. The handler of common/util.c makes STOP_FD
 * readable.
 */
static int stop_fd = -1;

/*
 * Waits until LFD has a connection waiting or a stop signal came.
 * Returns 1 for a connection, 0 to stop.
 */
static int wait_for_client(int lfd)
{
	struct pollfd fds[2] = {
		{ .fd = lfd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_say("poll: %s", strerror(errno));
			return 0;
		}
		if (fds[1].revents != 0)
			return 0;
		if (fds[0].revents != 0)
			return 1;
	}
}

/* ------------------------------------------------------- accepting clients */

/*
 * Says why accept() failed (ERR), once per kind of failure in a row; 0
 * means it worked again. Out of descriptors or memory, it pauses a little:
 * the connection waits in the backlog, and retrying at once would only spin.
 */
static void accept_failed(int err)
{
	static int last;
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
		return;		/* the client gave up first, or a signal */
	if (err != 0 && err != last)
		log_say("accept: %s", strerror(err));
	last = err;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
		nanosleep(&pause, NULL);
}

/* Accepts one connection on LFD and starts its reader thread. */
static void accept_client(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[NET_NAME_LEN] = "?";
	int fd, rc;

	fd = accept(lfd, (struct sockaddr *)&ss, &len);
	if (fd < 0) {
		accept_failed(errno);
		return;
	}
	accept_failed(0);
	net_addr_name((struct sockaddr *)&ss, len, addr, sizeof(addr));
	/* Blocking, as the threads expect; and each batch sent at once. */
	if (net_set_nonblocking(fd, 0) < 0 || net_set_nodelay(fd) < 0) {
		log_say("%s: %s", addr, strerror(errno));
		close(fd);
		return;
	}
	util_block_stop_signals(1);	/* for the reader: see stop_fd */
	rc = room_spawn(fd, addr, serve_client);
	util_block_stop_signals(0);
	if (rc != 0)
		log_say("%s: cannot start a thread: %s", addr, strerror(rc));
}

/* ------------------------------------------------------------------ main */

/*
 * Checks that option -LETTER's VALUE is from LO to HI. Returns CLI_RUN, or
 * CLI_BAD with the message in cli.error.
 */
static int check_range(char letter, size_t value, size_t lo, size_t hi)
{
	if (value >= lo && value <= hi)
		return CLI_RUN;
	snprintf(cli.error, sizeof(cli.error), "-%c must be from %zu to %zu",
		 letter, lo, hi);
	return CLI_BAD;
}

/*
 * Parses the command line into opt_* and cfg, or exits as the contract
 * says. A queue must hold two of the longest lines: chat may fill half of
 * it (see room.c).
 */
static void parse_options(int argc, char **argv)
{
	int rc = cli_parse(&cli, argc, argv);

	if (rc == CLI_RUN)
		rc = check_range('m', cfg.max_clients, 1, LIMIT_CLIENTS);
	if (rc == CLI_RUN)
		rc = check_range('l', cfg.max_line, 1, LIMIT_LINE);
	if (rc == CLI_RUN)
		rc = check_range('q', cfg.max_queue,
				 2 * CHAT_LINE_SIZE(cfg.max_line), LIMIT_QUEUE);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
}

/*
 * Raises the soft limit on open files to the hard one: each client holds a
 * descriptor, and the default soft limit (often 1024) would cap the room
 * far below what threads and memory allow.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_say("cannot raise the open files limit: %s", strerror(errno));
}

/* Opens the non-blocking listening socket and prints the ready line. */
static int open_listener(void)
{
	char name[NET_NAME_LEN];
	int lfd = net_listen(opt_addr, opt_port, LISTEN_BACKLOG);

	if (lfd < 0)
		die("cannot listen on %s port %s: %s",
		    opt_addr ? opt_addr : "every address", opt_port,
		    net_strerror());
	if (net_set_nonblocking(lfd, 1) < 0)
		die("fcntl:");
	if (net_local_name(lfd, name, sizeof(name)) < 0)
		die("getsockname: %s", net_strerror());
	printf("listening on %s\n", name);
	log_say("listening on %s (at most %zu clients)", name, cfg.max_clients);
	return lfd;
}

int main(int argc, char **argv)
{
	int lfd, rc;

	parse_options(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (util_ignore_sigpipe() < 0 || util_catch_stop_signals() < 0 ||
	    (stop_fd = util_stop_fd()) < 0)
		die("cannot catch signals:");
	util_block_stop_signals(1);	/* inherited by the threads: see stop_fd */
	if ((rc = log_start()) != 0 || (rc = room_open(&cfg)) != 0)
		die("pthread_create: %s", strerror(rc));
	util_block_stop_signals(0);
	raise_fd_limit();
	lfd = open_listener();
	while (wait_for_client(lfd))
		accept_client(lfd);
	close(lfd);
	log_say("%s", stop_requested ? "stop signal: shutting down"
				     : "shutting down");
	room_close();
	log_stop();
	return 0;
}
