/*
 * client.c - the reference chatroom client.
 *
 * Step 04's client, with two more things: -n NICK asks for a nickname on
 * arrival, and everything printed is cleaned first (text_clean), so a
 * hostile server cannot drive your terminal with escape sequences.
 *
 * Two threads: main reads what you type and sends it; the reader thread
 * prints each line from the server as it comes. /quit or the end of input
 * (Ctrl-D) means you are done: shutdown() tells the server, the reader
 * prints what is left until the server closes, and the exit status is 0.
 * If the server closes first, while you could still type, or the
 * connection fails, the client says so and exits 1.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "text.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Longest line read from either side. The server sets the real limit for
 * what you type (-l); from the server, a /list of a big room is long.
 */
#define CLIENT_MAX_LINE (1024 * 1024)

static const char *opt_nick;

static const struct cli_option options[] = {
	{ 'n', "NICK", "ask for this nickname on arrival (sends /nick NICK)",
	  cli_set_string, &opt_nick },
	{ 0 }
};

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
	int done;

	pthread_mutex_lock(&input.lock);
	if (set)
		input.done = 1;
	done = input.done;
	pthread_mutex_unlock(&input.lock);
	return done;
}

/*
 * Reads the next line typed on KEYBOARD and sends it on FD, empty lines
 * skipped. Returns 1 when a line was sent, 0 when you are done (end of
 * input, or /quit, which is sent first), or -1 if it could not be sent.
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
			complain("line too long: not sent");
	}
	line[len] = '\n';	/* over the NUL: send the line with its LF */
	if (net_send_all(fd, line, len + 1) < 0) {
		complain("send:");
		return -1;
	}
	return strncasecmp(line, "/quit", 5) != 0 ||
	       (line[5] != '\n' && line[5] != ' ');
}

/*
 * The reader thread: prints each line from the server, cleaned, until the
 * server closes. Returns if you were done typing; otherwise exits the
 * whole program with status 1, since main is blocked reading the keyboard.
 */
static void *reader(void *arg)
{
	struct line_reader *from = arg;
	char *line, *clean = malloc(TEXT_CLEAN_SIZE(CLIENT_MAX_LINE));
	size_t len;
	int rc;

	if (clean == NULL)
		die("out of memory");
	while ((rc = line_read(from, &line, &len)) == LINE_OK ||
	       rc == LINE_TOO_LONG) {
		if (rc == LINE_OK) {
			text_clean(line, len, clean);
			printf("%s\n", clean);	/* stdout is line-buffered */
		}
	}
	free(clean);
	if (rc == LINE_ERROR)
		complain("connection lost:");
	else if (!input_done(0))
		complain("connection closed by server");
	if (rc == LINE_ERROR || !input_done(0))
		exit(1);
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
	if (line_init(&keyboard, STDIN_FILENO, CLIENT_MAX_LINE) < 0 ||
	    line_init(&from, fd, CLIENT_MAX_LINE) < 0)
		die("out of memory");
	rc = pthread_create(&tid, NULL, reader, &from);
	if (rc != 0)
		die("pthread_create: %s", strerror(rc));
	if (opt_nick != NULL && net_send_line(fd, "/nick %.40s", opt_nick) < 0)
		die("send:");
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
