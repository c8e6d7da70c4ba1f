/*
 * server.c - step 02: a UDP echo server.
 *
 * No listen(), no accept(), no connection: one socket receives datagrams
 * from anyone with recvfrom(), which also says who sent each one, and
 * sendto() sends each back to its sender. The socket set-up now comes from
 * common/net.c (net_udp_bind), which also handles IPv6.
 */
#include "cli.h"
#include "config.h"
#include "net.h"
#include "todo.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *opt_addr;
static const char *opt_port = DEFAULT_PORT;

static const struct cli_option options[] = {
	CLI_SERVER_OPTIONS(opt_addr, opt_port),
	{ 0 }
};

static struct cli cli = {
	.about = "Sends every UDP datagram it receives back to its sender.",
	.options = options,
	.operands = "",
};

/*
 * Receives one datagram and sends it back where it came from. A datagram
 * arrives whole or not at all: one recvfrom() is one message, unlike TCP.
 * Returns 0, or -1 when interrupted by a signal.
 */
static int echo_one(int fd)
{
#ifndef STARTER
	static char buf[MAX_DATAGRAM];
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char who[NET_NAME_LEN];
	ssize_t n;

	/* [udp-echo] */
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
	if (n < 0) {
		if (errno == EINTR)
			return -1;
		complain("recvfrom:");
		return 0;
	}
	if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len) < 0)
		complain("sendto:");
	/* [/udp-echo] */
	if (net_addr_name((struct sockaddr *)&peer, len, who, sizeof(who)) == 0)
		note("%zd bytes from %s", n, who);
	return 0;
#else /* STARTER */
	/*
	 * TODO: recvfrom() one datagram into a buffer of MAX_DATAGRAM bytes,
	 * with a struct sockaddr_storage and its length for the sender's
	 * address (set the length to sizeof before each call: recvfrom()
	 * changes it), then sendto() the n bytes back to that address. An
	 * empty datagram (n == 0) is a datagram too: echo it. EINTR means a
	 * stop signal: return -1. Any other failure: complain() and return 0.
	 * net_addr_name() turns the address into text for a note().
	 * Until then, the server stops here, right after its ready line.
	 */
	(void)fd;
	todo("tests/02-udp-echo.bats, \"datagram boundaries are kept: three "
	     "sends, three receives\", \"a 60000-byte datagram comes back "
	     "whole\", \"an empty datagram is echoed and the server goes on\", "
	     "\"SIGTERM ends the server with status 0\"");
#endif /* STARTER */
}

int main(int argc, char **argv)
{
	char name[NET_NAME_LEN];
	int fd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (util_catch_stop_signals() < 0 || util_ignore_sigpipe() < 0)
		die("sigaction:");
	fd = net_udp_bind(opt_addr, opt_port);
	if (fd < 0)
		die("cannot bind UDP port %s: %s", opt_port, net_strerror());
	if (net_local_name(fd, name, sizeof(name)) < 0)
		die("getsockname: %s", net_strerror());
	printf("listening on %s\n", name);
	while (!stop_requested && echo_one(fd) == 0)
		;
	close(fd);
	return 0;
}
