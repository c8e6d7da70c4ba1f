/*
 * client.c - step 01: a TCP echo client.
 *
 * The client side of the socket API, spelled out once: getaddrinfo() turns
 * HOST and PORT into addresses, then socket() -> connect() -> send()/recv()
 * -> close(). Each line typed is sent, and the echo is printed back.
 */
#include "cli.h"
#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes sent before reading their echo back; keeps both sides' buffers small. */
#define CHUNK 4096

static const struct cli_option options[] = { { 0 } };

static struct cli cli = {
	.about = "Sends each line of standard input to an echo server and prints the echo.",
	.options = options,
	.operands = "HOST PORT",
	.noperands = 2,
};

/*
 * Connects to HOST:PORT over TCP, trying every address the name resolves
 * to (IPv6 and IPv4). Dies with one clear line if none accepts.
 */
static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;	/* IPv4 or IPv6, whatever HOST has */
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		die("cannot resolve %s: %s", host, gai_strerror(rc));
	/* [api-connect] */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	/* [/api-connect] */
	freeaddrinfo(res);
	if (fd < 0)
		die("cannot connect to %s port %s:", host, port);
	return fd;
}

/*
 * Reads exactly LEN bytes (the echo of what was sent) and prints them.
 * Dies if the server closes or fails first.
 */
static void print_echo(int fd, size_t len)
{
	char buf[CHUNK];

	while (len > 0) {
		ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv:");
		if (n == 0)
			die("server closed the connection");
		fwrite(buf, 1, (size_t)n, stdout);
		len -= (size_t)n;
	}
	fflush(stdout);
}

/* Sends LEN bytes of BUF, in chunks, printing each chunk's echo. */
static void echo(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		size_t n = len < CHUNK ? len : CHUNK;
		size_t sent = 0;

		while (sent < n) {
			ssize_t w = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);

			if (w < 0 && errno != EINTR)
				die("send:");
			if (w > 0)
				sent += (size_t)w;
		}
		print_echo(fd, n);
		buf += n;
		len -= n;
	}
}

/*
 * After end of input: says so with shutdown(SHUT_WR) and prints whatever
 * the server still sends until it closes its side.
 */
static void finish(int fd)
{
	char buf[CHUNK];
	ssize_t n;

	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown:");
	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv:");
		fwrite(buf, 1, (size_t)n, stdout);
	}
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int fd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	fd = connect_to(cli.operand[0], cli.operand[1]);
	while ((len = getline(&line, &cap, stdin)) > 0)
		echo(fd, line, (size_t)len);
	free(line);
	finish(fd);
	close(fd);
	return 0;
}
