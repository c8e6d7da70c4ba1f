/*
 * server.c - step 03: a blocking chat, one client at a time, turn by turn.
 *
 * The person at the server (the operator) and one client take turns: the
 * client says a line, the server prints it, the operator types an answer on
 * the server's standard input, the server sends it back, and so on. Every
 * call blocks, so each side can only wait for one thing at a time: the
 * client's next line, or the operator's. Step 04 removes that limit with
 * threads.
 *
 * When the client leaves (end of stream, /quit, or an error), the server
 * waits for the next one. When the operator types /quit or ends the input,
 * the conversation ends and so does the server.
 *
 * Deliberate simplifications: one client at a time (the next one waits in
 * the listen() backlog), and lines are printed as they come, control
 * characters included.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "srv.h"
#include "todo.h"
#include "util.h"

#include <stdio.h>
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
	.about = "Chats with one client at a time, turn by turn: "
		 "you answer each line it says.",
	.options = options,
	.operands = "",
};

/* The client being served. */
struct client {
	int fd;				/* its socket */
	char nick[MAX_NICK + 1];	/* "guestN": how it is shown */
	struct line_reader in;		/* the lines it sends */
};

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
 * Tells C that the line it sent was over MAX_LINE and was dropped. If that
 * fails (C is gone, or a stop signal came while C kept the send waiting),
 * C is shut down: the next read sees the end of its stream.
 */
static void refuse(struct client *c)
{
	if (net_send_line(c->fd, "*** error: line too long (max %d bytes)",
			  MAX_LINE) < 0)
		shutdown(c->fd, SHUT_RDWR);
}

/*
 * The operator's turn: reads a line typed on standard input and sends it to
 * C as "<server> text". Empty lines and lines over MAX_LINE are not sent.
 * Returns 0, or -1 once the operator is done: /quit, end of input, or a
 * stop signal.
 */
static int answer(struct client *c, struct line_reader *keyboard)
{
	char *line;
	size_t len;
	int rc;

	while ((rc = line_read(keyboard, &line, &len)) != LINE_OK || len == 0) {
		if (rc == LINE_EOF || rc == LINE_ERROR)
			return -1;
		if (rc == LINE_TOO_LONG)
			complain("line too long (max %d bytes): not sent",
			     MAX_LINE);
	}
	if (strcmp(line, "/quit") == 0)
		return -1;
	if (net_send_line(c->fd, "<server> %s", line) < 0) {
		note("%s: send:", c->nick);
		shutdown(c->fd, SHUT_RDWR);	/* as in refuse() */
	}
	return 0;
}

/* Closes the connection to C and frees what it held. */
static void leave(struct client *c)
{
	close(c->fd);
	line_free(&c->in);
	note("%s left", c->nick);
}

/*
 * Takes turns with C until it leaves: each line it says is printed, then
 * the operator answers. Returns 0 when the client left, or -1 when the
 * operator ended the conversation or a signal asks the server to stop.
 */
static int converse(struct client *c, struct line_reader *keyboard)
{
#ifndef STARTER
	char *line;
	size_t len;
	int rc;

	/* [chat-turn] */
	while ((rc = line_read(&c->in, &line, &len)) != LINE_EOF &&
	       rc != LINE_ERROR) {
		if (rc == LINE_TOO_LONG)
			refuse(c);	/* the client's turn again */
		else if (strcmp(line, "/quit") == 0)
			break;
		else if (len > 0) {
			printf("<%s> %s\n", c->nick, line);
			if (answer(c, keyboard) < 0)
				return -1;
		}
	}
	/* [/chat-turn] */
	if (rc == LINE_ERROR && stop_requested)
		return -1;
	if (rc == LINE_ERROR)
		note("%s: recv:", c->nick);
	return 0;
#else /* STARTER */
	/*
	 * TODO: the client's turn, then the operator's, until the client
	 * leaves. line_read(&c->in, ...) blocks for the client's next line:
	 * LINE_EOF or LINE_ERROR means it left; LINE_TOO_LONG: refuse() it,
	 * the client's turn again; "/quit": it leaves; an empty line is
	 * skipped. Print any other line as "<NICK> text" on stdout, then let
	 * answer() take the operator's turn: when it says -1, return -1.
	 * Pitfall: a stop signal also ends line_read() with LINE_ERROR (see
	 * util_retry()): if stop_requested, return -1, not 0, or it never stops.
	 * Until then, the server stops here, once a client has connected.
	 */
	(void)c;
	(void)keyboard;
	(void)answer;	/* keep the compiler quiet until you call them */
	(void)refuse;
	todo("tests/03-blocking-chat.bats, \"lines go both ways, turn by "
	     "turn, each side showing who said it\", \"the server waits for "
	     "its operator before it takes the next line\", \"a client's /quit "
	     "ends the chat on both sides; the next client is served\", "
	     "\"SIGTERM and SIGINT end the server with status 0, even "
	     "mid-chat\", and every test with a client");
#endif /* STARTER */
}

/*
 * Waits for the next client and chats with it until one side ends the
 * conversation. Returns 0 to go on with the next client, or -1 when the
 * server must stop.
 */
static int serve(int lfd, struct line_reader *keyboard)
{
	struct client c;
	int rc;

	if (accept_client(lfd, &c) < 0)
		return 0;
	rc = converse(&c, keyboard);
	leave(&c);
	return rc;
}

int main(int argc, char **argv)
{
	struct line_reader keyboard;
	int lfd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	lfd = srv_start(opt_addr, opt_port);
	if (line_init(&keyboard, STDIN_FILENO, MAX_LINE) < 0)
		die("out of memory");
	while (!stop_requested && serve(lfd, &keyboard) == 0)
		;
	line_free(&keyboard);
	close(lfd);
	return 0;
}
