/*
 * client.c - the reference chatroom client.
 *
 * Two threads, as in step 04: main reads what you type and sends it; the
 * reader thread prints what the server sends, as it comes. Everything
 * printed is cleaned first: a hostile server cannot drive your terminal
 * with escape sequences.
 */
#include "cli.h"
#include "config.h"
#include "line.h"
#include "net.h"
#include "text.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Longest line printed from the server (a /list of a big room is long). */
#define CLIENT_MAX_LINE (1024 * 1024)

static const char *opt_nick;

static const struct cli_option options[] = {
	{ 'n', "NICK", "ask for this nickname on arrival (sends /nick NICK)",
	  cli_set_string, &opt_nick },
	{ 0 }
};

static struct cli cli = {
	.about = "Joins the chatroom at HOST PORT: lines you type are sent, "
		 "lines from the room are printed.",
	.options = options,
	.operands = "HOST PORT",
	.noperands = 2,
};

/*
 * The reader thread: prints each line from the server, cleaned, until the
 * server closes (exit 0) or the connection fails (exit 1). It ends the
 * whole program, since main may be blocked reading the keyboard.
 */
static void *print_server_lines(void *arg)
{
	int fd = *(int *)arg;
	struct line_reader lr;
	char *line, *clean = NULL;
	size_t len;
	int rc;

	if (line_init(&lr, fd, CLIENT_MAX_LINE) < 0 ||
	    (clean = malloc(TEXT_CLEAN_SIZE(CLIENT_MAX_LINE))) == NULL)
		die("out of memory");
	while ((rc = line_read(&lr, &line, &len)) != LINE_EOF) {
		if (rc == LINE_ERROR)
			die("connection lost:");
		if (rc == LINE_TOO_LONG)
			continue;
		text_clean(line, len, clean);
		puts(clean);
	}
	exit(0);
}

/* Sends LEN bytes of LINE (LF included) to the server, or dies. */
static void send_line(int fd, const char *line, size_t len)
{
	if (net_send_all(fd, line, len) < 0)
		die("send:");
}

int main(int argc, char **argv)
{
	pthread_t reader;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int fd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = net_connect(cli.operand[0], cli.operand[1]);
	if (fd < 0)
		die("cannot connect to %s port %s: %s", cli.operand[0],
		    cli.operand[1], net_strerror());
	rc = pthread_create(&reader, NULL, print_server_lines, &fd);
	if (rc != 0)
		die("pthread_create: %s", strerror(rc));
	if (opt_nick != NULL) {
		char cmd[64];
		int n = snprintf(cmd, sizeof(cmd), "/nick %.40s\n", opt_nick);

		send_line(fd, cmd, (size_t)n);
	}
	while ((len = getline(&line, &cap, stdin)) > 0)
		send_line(fd, line, (size_t)len);
	free(line);
	/* End of input: say so, and keep printing until the server closes. */
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown:");
	pthread_join(reader, NULL);	/* never returns: the reader exits */
	return 0;
}
