/*
 * server.c - the reference chatroom server.
 *
 * The course's design, made robust: one thread per client reads its lines
 * (serve_client), and everything it says goes through the room (room.c),
 * which queues it for each listener's own writer thread. main() only
 * accepts. See README.md for the protocol and the architecture.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
			snprintf(ch->line, ch->size, "*** error: line too long "
				 "(max %zu bytes)", cfg.max_line);
			room_tell(c, ch->line);
			break;
		case LINE_AGAIN:
			chat_flush(ch, c);
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

	if (line_init(&lr, c->fd, cfg.max_line) < 0 ||
	    chat_init(&ch, &cfg) < 0) {
		log_say("%s: out of memory", c->addr);
		line_free(&lr);
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

/* ------------------------------------------------------- accepting clients */

/* ---------------------------------------------------------------- signals */

/* A pipe whose read end becomes readable (end of file) once we must stop. */
static int stop_pipe[2] = { -1, -1 };

/*
 * The signal thread. SIGINT and SIGTERM are blocked in every thread, so no
 * handler ever interrupts a thread at an awkward moment; this thread takes
 * them with sigwait() and wakes main() by closing the pipe's write end.
 */
static void *wait_for_signal(void *arg)
{
	const sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0)
		log_say("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	close(stop_pipe[1]);
	return NULL;
}

/*
 * Waits until LFD has a connection waiting or a stop signal came.
 * Returns 1 for a connection, 0 to stop.
 */
static int wait_for_client(int lfd)
{
	struct pollfd fds[2] = {
		{ .fd = lfd, .events = POLLIN },
		{ .fd = stop_pipe[0], .events = POLLIN },
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
	rc = room_spawn(fd, addr, serve_client);
	if (rc != 0)
		log_say("%s: cannot start a thread: %s", addr, strerror(rc));
}

/* ------------------------------------------------------------------ main */

/* Parses the command line into opt_* and cfg, or exits as the contract says. */
static void parse_options(int argc, char **argv)
{
	int rc = cli_parse(&cli, argc, argv);

	if (rc == CLI_RUN && cfg.max_queue < TEXT_CLEAN_SIZE(cfg.max_line) + 64) {
		snprintf(cli.error, sizeof(cli.error),
			 "-q must be at least %zu bytes for -l %zu",
			 TEXT_CLEAN_SIZE(cfg.max_line) + 64, cfg.max_line);
		rc = CLI_BAD;
	}
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
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
	static sigset_t stop_signals;
	pthread_t signal_thread;
	int lfd, rc;

	parse_options(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (util_catch_stop_signals() < 0)	/* for SIGPIPE, ignored */
		die("sigaction:");
	/* Blocked here, before any thread starts: every thread inherits it. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	if ((rc = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL)) != 0)
		die("pthread_sigmask: %s", strerror(rc));
	if (pipe(stop_pipe) < 0)
		die("pipe:");
	if ((rc = log_start()) != 0 || (rc = room_open(&cfg)) != 0 ||
	    (rc = pthread_create(&signal_thread, NULL, wait_for_signal,
				 &stop_signals)) != 0)
		die("pthread_create: %s", strerror(rc));
	lfd = open_listener();
	while (wait_for_client(lfd))
		accept_client(lfd);
	close(lfd);
	pthread_kill(signal_thread, SIGTERM);	/* in case poll() failed */
	pthread_join(signal_thread, NULL);
	close(stop_pipe[0]);
	log_say("shutting down");
	room_close();
	log_stop();
	return 0;
}
