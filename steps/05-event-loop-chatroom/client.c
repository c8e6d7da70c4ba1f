/*
 * client.c - step 05 (bonus): a chat client that listens while you type,
 * in one thread.
 *
 * Step 04's client had two threads: one read what you type, the other the
 * server's lines. This one waits for both at once with poll(): it sleeps
 * until stdin or the socket has something, reads once from whichever is
 * ready, and handles the complete lines that read brought. Nothing is
 * shared between threads, so nothing needs a lock.
 *
 * It behaves as step 04's client: /quit or the end of input (Ctrl-D) means
 * you are done: /quit is sent, then shutdown() tells the server, and the
 * client prints what is left until the server closes; the exit status is
 * then 0. If the server closes first, while you could still type, or the
 * connection fails, the client says so and exits 1.
 *
 * Deliberate simplification: the socket stays blocking, so a line you type
 * is sent with net_send_line(), which may wait if the server stopped
 * reading. The step's server never does, and a line is short.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
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

/* What the loop watches, in this order: what you type, then the server. */
enum { KEYBOARD, SERVER };

/*
 * Reads once from KEYBOARD (poll() said it would not wait) and sends each
 * complete line on FD. Empty lines are skipped; a line over MAX_LINE is
 * refused here, as the server would. Returns 1 while you may type more,
 * 0 when you are done (end of input, or /quit, which is sent first), or
 * -1 if a line could not be sent.
 */
static int say(int fd, struct line_reader *keyboard)
{
	char *line;
	size_t len;
	int rc;

	if (line_fill(keyboard) < 0)
		return 0;	/* as in step 04: a broken input ends it */
	while ((rc = line_next(keyboard, &line, &len)) != LINE_AGAIN) {
		if (rc == LINE_EOF)
			return 0;
		if (rc == LINE_TOO_LONG) {
			complain("line too long (max %d bytes): not sent",
			     MAX_LINE);
			continue;
		}
		if (len == 0)
			continue;
		if (net_send_line(fd, "%s", line) < 0) {
			complain("send:");
			return -1;
		}
		if (strcmp(line, "/quit") == 0)
			return 0;
	}
	return 1;
}

/*
 * Reads once FROM the server (poll() said it would not wait) and prints
 * each complete line. Returns 1 while the connection is up, 0 once the
 * server has closed it, or -1 if it failed (errno says why).
 */
static int hear(struct line_reader *from)
{
	char *line;
	size_t len;
	int rc;

	if (line_fill(from) < 0)
		return -1;
	while ((rc = line_next(from, &line, &len)) != LINE_AGAIN) {
		if (rc == LINE_EOF)
			return 0;
		if (rc == LINE_OK)
			printf("%s\n", line);	/* stdout is line-buffered */
		else
			complain("a line from the server was too long: dropped");
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct line_reader keyboard, from;
	struct pollfd fds[2];
	int fd, rc, done = 0;

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
	fds[KEYBOARD] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
	fds[SERVER] = (struct pollfd){ fd, POLLIN, 0 };
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll:");
		}
		if (fds[KEYBOARD].revents && (rc = say(fd, &keyboard)) <= 0) {
			/* No more typing: poll() skips a negative fd. */
			fds[KEYBOARD].fd = -1;
			done = rc == 0;	/* -1: the server's end says why */
			if (done && shutdown(fd, SHUT_WR) < 0)
				complain("shutdown:");
		}
		if (fds[SERVER].revents && (rc = hear(&from)) <= 0)
			break;
	}
	if (rc < 0)
		complain("connection lost:");
	else
		complain("connection closed by server");
	line_free(&keyboard);
	line_free(&from);
	close(fd);
	return rc < 0 || !done ? 1 : 0;
}
