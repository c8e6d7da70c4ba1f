/*
 * client.c - step 04: a chat client that listens while you type.
 *
 * Step 03's client waited for one thing at a time: your next line, or the
 * server's answer. In a room, lines arrive whenever others speak, so this
 * client has two threads: the main thread reads what you type and sends
 * it, and the reader thread prints each line from the server as it comes.
 * (Step 05 does the same in one thread with poll().)
 *
 * /quit or the end of input (Ctrl-D) means you are done: /quit is sent,
 * then shutdown() tells the server, and the reader prints what is left
 * until the server closes; the exit status is then 0. If the server closes
 * first, while you could still type, or the connection fails, the client
 * says so and exits 1.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "todo.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct cli_option options[] = { { 0 } };

static struct cli cli = {
	.about = "Joins the chatroom at HOST PORT: lines you type are sent, "
		 "lines from the room are printed as they come.",
	.options = options,
	.operands = "HOST PORT",
	.noperands = 2,
};

/*
 * What the two threads share: lock protects done, which the main thread
 * sets once you are done typing and the reader thread reads at the end.
 */
static struct {
	pthread_mutex_t lock;
	int done;
} input = { PTHREAD_MUTEX_INITIALIZER, 0 };

/* With SET, records that you are done typing; returns whether you are. */
static int input_done(int set)
{
	int done, rc = pthread_mutex_lock(&input.lock);

	if (rc != 0)
		die("pthread_mutex_lock: %s", strerror(rc));
	if (set)
		input.done = 1;
	done = input.done;
	rc = pthread_mutex_unlock(&input.lock);
	if (rc != 0)
		die("pthread_mutex_unlock: %s", strerror(rc));
	return done;
}

/*
 * Reads the next line typed on KEYBOARD and sends it on FD. Empty lines are
 * skipped; a line over MAX_LINE is refused here, as the server would.
 * Returns 1 when a line was sent, 0 when you are done (end of input, or
 * /quit, which is sent first), or -1 if it could not be sent.
 */
static int say(int fd, struct line_reader *keyboard)
{
	char *line;
	size_t len;
	int rc;

	while ((rc = line_read(keyboard, &line, &len)) != LINE_OK || len == 0) {
		if (rc == LINE_EOF || rc == LINE_ERROR)
			return 0;
		if (rc == LINE_TOO_LONG)
			complain("line too long (max %d bytes): not sent",
			     MAX_LINE);
	}
	if (net_send_line(fd, "%s", line) < 0) {
		complain("send:");
		return -1;
	}
	return strcmp(line, "/quit") != 0;
}

/*
 * The reader thread: prints each line FROM the server as it comes, until
 * the server closes. Returns if you were done typing; otherwise exits the
 * whole program with status 1, since main is blocked reading the keyboard.
 */
static void *reader(void *arg)
{
#ifndef STARTER
	struct line_reader *from = arg;
	char *line;
	size_t len;
	int rc;

	/* [reader-thread] */
	while ((rc = line_read(from, &line, &len)) == LINE_OK ||
	       rc == LINE_TOO_LONG) {
		if (rc == LINE_OK)
			printf("%s\n", line);	/* stdout is line-buffered */
		else
			complain("a line from the server was too long: dropped");
	}
	/* [/reader-thread] */
	if (rc == LINE_ERROR)
		complain("connection lost:");
	else
		complain("connection closed by server");
	if (rc == LINE_ERROR || !input_done(0))
		exit(1);
#else /* STARTER */
	/*
	 * TODO: ARG is the line reader of the socket. Print each line
	 * line_read() gives (LINE_OK) on stdout, complain() about a LINE_TOO_LONG,
	 * until LINE_EOF or LINE_ERROR: then complain() "connection closed by
	 * server" or "connection lost:". If the connection failed, or if you
	 * were not done typing (input_done(0) is 0), exit(1): main is stuck
	 * reading the keyboard. Else return, and main's pthread_join() ends.
	 * Until then, the client stops here, once connected.
	 */
	(void)arg;
	todo("tests/04-threaded-chatroom.bats, \"the kit client prints lines "
	     "while its input is still open\", \"the kit client prints until "
	     "the server closes, then exits 0\", \"the kit client exits 1 if "
	     "the server leaves first\"");
#endif /* STARTER */
	return NULL;
}

int main(int argc, char **argv)
{
	struct line_reader keyboard, from;
	pthread_t tid;
	int fd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = net_connect(cli.operand[0], cli.operand[1]);
	if (fd < 0)
		die("cannot connect to %s port %s: %s", cli.operand[0],
		    cli.operand[1], net_strerror());
	if (line_init(&keyboard, STDIN_FILENO, MAX_LINE) < 0 ||
	    line_init(&from, fd, MAX_LINE_OUT) < 0)
		die("out of memory");
	rc = pthread_create(&tid, NULL, reader, &from);
	if (rc != 0)
		die("pthread_create: %s", strerror(rc));
	while ((rc = say(fd, &keyboard)) > 0)
		;
	/* Done typing: say so, and let the reader print what is left. */
	if (rc == 0) {
		input_done(1);
		if (shutdown(fd, SHUT_WR) < 0)
			complain("shutdown:");	/* the reader says why */
	}
	rc = pthread_join(tid, NULL);	/* if it returns, all went well */
	if (rc != 0)
		die("pthread_join: %s", strerror(rc));
	line_free(&keyboard);
	line_free(&from);
	close(fd);
	return 0;
}
