/*
 * client.c - step 03: the client of the blocking chat, turn by turn.
 *
 * You type a line, it is sent, and the client waits for the server's
 * answer and prints it; then it is your turn again. While it waits for one
 * side it cannot listen to the other: a second line you type waits until
 * the answer has come, and the client cannot print anything while it
 * waits for you to type. Step 04 fixes that with a second thread.
 *
 * /quit or the end of input (Ctrl-D) ends the conversation: the client
 * says so to the server (/quit is sent, then shutdown() either way), prints
 * what the server still sends, and exits 0 once the server has closed.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "todo.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct cli_option options[] = { { 0 } };

static struct cli cli = {
	.about = "Chats with the server at HOST PORT, turn by turn: "
		 "type a line, then wait for the answer.",
	.options = options,
	.operands = "HOST PORT",
	.noperands = 2,
};

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
 * The server's turn: waits for its next line and prints it. Returns 1, or
 * 0 once the server has closed the connection, or -1 if the connection
 * failed; either way you are told.
 */
static int hear(struct line_reader *from)
{
	char *line;
	size_t len;
	int rc = line_read(from, &line, &len);

	if (rc == LINE_OK)
		printf("%s\n", line);
	else if (rc == LINE_TOO_LONG)
		complain("a line from the server was too long: dropped");
	else if (rc == LINE_EOF)
		complain("connection closed by server");
	else
		complain("connection lost:");
	return rc == LINE_EOF ? 0 : rc == LINE_ERROR ? -1 : 1;
}

/*
 * After the last line: says so with shutdown(SHUT_WR), then prints what
 * the server still sends until it closes. Returns the exit status.
 */
static int finish(int fd, struct line_reader *from)
{
	int rc;

	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown:");
	while ((rc = hear(from)) > 0)
		;
	return rc < 0;
}

/*
 * Takes turns with the server on FD: a line from KEYBOARD, then a line
 * FROM the server, and so on. Returns the exit status: 0 when either side
 * ended the conversation, 1 if the connection failed.
 */
static int converse(int fd, struct line_reader *keyboard,
		    struct line_reader *from)
{
#ifndef STARTER
	int rc;

	for (;;) {
		rc = say(fd, keyboard);
		if (rc == 0)
			return finish(fd, from);
		if (rc < 0)
			return 1;
		rc = hear(from);
		if (rc <= 0)
			return rc < 0;	/* 0: the server ended it */
	}
#else /* STARTER */
	/*
	 * TODO: take turns, for ever: say() a line, then hear() the answer.
	 * When say() returns 0 you are done: return finish(), which tells the
	 * server and prints what it still sends. When hear() returns 0 the
	 * server ended the conversation: return 0. Either one returning -1
	 * means the connection failed: return 1.
	 * Until then, the client stops here, once connected.
	 */
	(void)fd;
	(void)keyboard;
	(void)from;
	(void)say;	/* keep the compiler quiet until you call them */
	(void)finish;
	todo("tests/03-blocking-chat.bats, \"the client waits for the answer "
	     "before it sends its next line\", \"the client prints what comes "
	     "after its end of input, until the server closes\", \"end of input "
	     "on the client ends the chat; the server goes on\", \"the "
	     "operator's /quit ends the chat: the server closes and exits 0\"");
#endif /* STARTER */
}

int main(int argc, char **argv)
{
	struct line_reader keyboard, from;
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
	rc = converse(fd, &keyboard, &from);
	line_free(&keyboard);
	line_free(&from);
	close(fd);
	return rc;
}
