/*
 * naive_server.c - a line server with the two classic bugs, on purpose.
 *
 * For each line a client sends, it answers "got: LINE". It trusts that one
 * recv() brings exactly one whole line, and that one send() sends the whole
 * answer. On a quiet loopback, with a client that waits for each answer,
 * both hold, and the server looks correct. Under libfaultinject.so they do
 * not, and the answers come out cut and mixed up: that is what the
 * selftest shows. Do not copy this server; copy the kit's.
 *
 * Everything else is done right (EINTR retried, SIGPIPE avoided), so that
 * the only faults that show are the two above.
 *
 * Usage: naive_server [-p PORT]   (127.0.0.1 only; -p 0 picks a free port)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Prints "naive_server: WHAT: <errno text>" and exits with status 1. */
static void die(const char *what)
{
	fprintf(stderr, "naive_server: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Prints the usage line on TO and exits with STATUS. */
static _Noreturn void usage(FILE *to, int status)
{
	fputs("usage: naive_server [-p PORT]\n", to);
	exit(status);
}

/* Parses the command line; returns the port to listen on (0 by default). */
static unsigned short parse_port(int argc, char **argv)
{
	long port = 0;
	char *end;
	int c;

	while ((c = getopt(argc, argv, "hp:")) != -1) {
		if (c == 'h')
			usage(stdout, 0);
		if (c != 'p')
			usage(stderr, 2);
		port = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || port < 0 || port > 65535)
			usage(stderr, 2);
	}
	if (optind != argc)
		usage(stderr, 2);
	return (unsigned short)port;
}

/* Listens on 127.0.0.1:PORT and prints the ready line. Returns the socket. */
static int open_listener(unsigned short port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		die("setsockopt");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind");
	if (listen(fd, 16) < 0)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die("getsockname");
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	return fd;
}

/*
 * Answers one client until it leaves. BUG, on purpose: each recv() is taken
 * as one whole line, and each send() as the whole answer.
 */
static void serve(int fd)
{
	char line[1024], reply[1100];
	ssize_t n;
	int len;

	for (;;) {
		n = recv(fd, line, sizeof(line) - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';	/* "the" line */
		len = snprintf(reply, sizeof(reply), "got: %s\n", line);
		do
			n = send(fd, reply, (size_t)len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return;
	}
}

int main(int argc, char **argv)
{
	unsigned short port = parse_port(argc, argv);
	int lfd;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* the ready line leaves at once */
	lfd = open_listener(port);
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);

		if (cfd < 0) {
			if (errno != EINTR)
				perror("naive_server: accept");
			continue;
		}
		serve(cfd);
		close(cfd);
	}
}
