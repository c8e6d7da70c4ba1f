/*
 * client.c - step 02: a UDP echo client.
 *
 * Each line of standard input goes out as one datagram, and the client
 * waits for the echo with poll(). UDP promises nothing: if no reply comes
 * within the wait, the datagram or its echo was lost, and the client says
 * so and moves on. A late echo of an earlier line may then show up in
 * place of the next one: a real protocol would number them.
 *
 * The socket is connect()ed to the server. For UDP that sends nothing: it
 * only fixes the peer, so that send() needs no address, the kernel drops
 * datagrams from anyone else, and an ICMP "port unreachable" comes back as
 * ECONNREFUSED instead of silence.
 */
#include "cli.h"
#include "config.h"
#include "net.h"
#include "todo.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* The longest -w accepted: an hour. */
#define UDP_MAX_WAIT_MS (3600 * 1000)

static size_t opt_wait = UDP_TIMEOUT_MS;

/* Stores -w MS, from 1 ms to an hour: poll() takes an int. */
static int set_wait(const char *arg, void *dst)
{
	return cli_parse_size(arg, dst, 1, UDP_MAX_WAIT_MS);
}

static const struct cli_option options[] = {
	{ 'w', "MS", "milliseconds to wait for each echo, at most an hour "
	  "(default: " CLI_STR(UDP_TIMEOUT_MS) ")", set_wait, &opt_wait },
	{ 0 }
};

static struct cli cli = {
	.about = "Sends each line of standard input as one UDP datagram and prints the echo.",
	.options = options,
	.operands = "HOST PORT",
	.noperands = 2,
};

/*
 * Waits up to opt_wait ms for a datagram on FD and prints it.
 * Returns 0, or -1 if none came in time.
 */
static int print_reply(int fd)
{
#ifndef STARTER
	static char buf[MAX_DATAGRAM];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ready;

	/* [udp-wait] */
	do
		ready = poll(&pfd, 1, (int)opt_wait);
	while (ready < 0 && errno == EINTR);
	if (ready < 0)
		die("poll:");
	if (ready == 0)
		return -1;	/* nothing came back: lost, or no server */
	/* [/udp-wait] */
	n = recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL);
	if (n < 0)
		die("recvfrom:");
	fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
	return 0;
#else /* STARTER */
	/*
	 * TODO: wait at most opt_wait ms for the echo: poll() FD for POLLIN
	 * with that timeout (try again on EINTR). poll() returns 0 when the
	 * time is up: return -1, the caller says the datagram was lost. Else
	 * recvfrom() it into a buffer of MAX_DATAGRAM bytes and fwrite() the
	 * n bytes to stdout (a datagram may hold NUL bytes: not printf).
	 * Pitfall: a plain recvfrom() waits forever if the echo is lost.
	 * Until then, the client stops here, after sending its first line.
	 */
	(void)fd;
	todo("tests/02-udp-echo.bats, \"the client gives up on a lost reply "
	     "in bounded time and says so\", \"the kit client prints each "
	     "echo and exits 0 at end of input\", \"with no server on the "
	     "port, the client says refused at once\", \"the client prints "
	     "only the server's echo, not a datagram from elsewhere\"");
#endif /* STARTER */
}

int main(int argc, char **argv)
{
	struct sockaddr_storage peer;
	socklen_t peerlen = sizeof(peer);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int fd, rc, lost = 0;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	fd = net_udp_open(cli.operand[0], cli.operand[1], &peer, &peerlen);
	if (fd < 0)
		die("cannot reach %s port %s: %s", cli.operand[0],
		    cli.operand[1], net_strerror());
	if (connect(fd, (struct sockaddr *)&peer, peerlen) < 0)
		die("connect:");	/* no packet sent: only the peer is set */
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if ((size_t)len > MAX_DATAGRAM) {
			complain("line of %zd bytes is too long for one datagram", len);
			continue;
		}
		if (send(fd, line, (size_t)len, 0) < 0)
			die("send:");	/* ECONNREFUSED: no server there */
		if (print_reply(fd) < 0) {
			complain("no echo within %zu ms: datagram lost?", opt_wait);
			lost++;
		}
	}
	free(line);
	close(fd);
	return lost ? 1 : 0;
}
