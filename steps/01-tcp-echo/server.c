/*
 * server.c - step 01: an iterative TCP echo server.
 *
 * The whole server side of the socket API, spelled out once:
 * socket() -> bind() -> listen() -> accept() -> recv()/send() -> close().
 * Later steps call common/net.c, which does the same, instead.
 *
 * Deliberate simplifications: IPv4 only, and one client at a time (the
 * next one waits in the listen() backlog until this one leaves). Also, a
 * Ctrl-C that lands just between the stop_requested check and accept() is
 * only seen at the next connection: the solution shows the cure.
 */
#include "cli.h"
#include "config.h"
#include "todo.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* -a and -p; NULL means every address, as INADDR_ANY does. */
static const char *opt_addr;
static const char *opt_port = DEFAULT_PORT;

static const struct cli_option options[] = {
	CLI_SERVER_OPTIONS(opt_addr, opt_port),
	{ 0 }
};

static struct cli cli = {
	.about = "Echoes back what each client sends, one client at a time (IPv4).",
	.options = options,
	.operands = "",
};

/*
 * Creates the listening socket for ADDR:PORT. Dies if any step fails,
 * naming the call that failed.
 */
static int open_listener(const char *addr, const char *port)
{
#ifndef STARTER
	struct sockaddr_in sin;
	int fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(port));	/* network byte order */
	if (addr == NULL)
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		die("'%s' is not an IPv4 address", addr);

	/* [api-socket] */
	fd = socket(AF_INET, SOCK_STREAM, 0);	/* TCP over IPv4 */
	if (fd < 0)
		die("socket:");
	/* Without this, a restarted server fails to bind for a minute or so. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		die("setsockopt:");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind %s:%s:", addr ? addr : "0.0.0.0", port);
	if (listen(fd, LISTEN_BACKLOG) < 0)
		die("listen:");
	/* [/api-socket] */
	return fd;
#else /* STARTER */
	/*
	 * TODO: the server's half of the socket API (README: "The server,
	 * call by call"). Fill a struct sockaddr_in: AF_INET, the port in
	 * network byte order (htons), INADDR_ANY (htonl) when ADDR is NULL,
	 * else inet_pton(). Then socket(), setsockopt(SO_REUSEADDR) before
	 * bind(), bind(), listen(fd, LISTEN_BACKLOG). Check each call and
	 * die() naming it: die("bind:") appends strerror(errno).
	 * Pitfall: without htons(), -p 4242 listens on another port.
	 * Until then, the server stops here, before its ready line.
	 */
	(void)addr;
	(void)port;
	todo("tests/01-tcp-echo.bats, \"the ready line names the address and "
	     "the port the kernel chose\", and every test that starts a server");
#endif /* STARTER */
}

/* Prints the ready line with the port the kernel really gave us (-p 0). */
static void announce(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char ip[INET_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die("getsockname:");
	inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
	printf("listening on %s:%u\n", ip, ntohs(sin.sin_port));
}

/*
 * Sends all LEN bytes of BUF: send() may take fewer bytes than asked, so it
 * loops. (common/net.c has the same loop as net_send_all() for later steps.)
 * Returns 0, or -1 if the client is gone or a stop signal came: a client
 * that does not read keeps send() waiting, and only a stop signal ends that.
 */
static int send_all(int fd, const char *buf, size_t len)
{
	/*
	 * A stop signal that lands just before send() starts to wait does not
	 * interrupt it: send() gives up waiting every second (SO_SNDTIMEO,
	 * then EAGAIN) so that the loop looks at stop_requested again.
	 */
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };

	/* If that fails, send() just waits as it would without it. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EINTR || errno == EAGAIN) &&
		    !stop_requested)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		if (len > 0 && stop_requested)
			return -1;	/* the signal cut the send short */
	}
	return 0;
}

/*
 * Echoes everything one client sends until it closes, it fails, or a stop
 * signal arrives. The bytes are sent back as they came: no lines here.
 */
static void serve(int fd)
{
#ifndef STARTER
	char buf[4096];
	ssize_t n;

	/* [api-echo] */
	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0 && errno == EINTR && !stop_requested)
			continue;
		if (n < 0) {
			if (!stop_requested)
				complain("recv:");
			return;
		}
		if (send_all(fd, buf, (size_t)n) < 0) {
			if (!stop_requested)
				complain("send:");
			return;
		}
	}
	/* [/api-echo] */
#else /* STARTER */
	/*
	 * TODO: the echo loop. recv() into a buffer, then send_all() back
	 * exactly the n bytes recv() returned (TCP hands you any number of
	 * bytes, not lines), until recv() returns 0: the client is done.
	 * recv() fails with EINTR when a signal arrives: try again, unless
	 * stop_requested is set; on any other error, complain("recv:") and return.
	 */
	(void)fd;
	(void)send_all;	/* keeps the compiler quiet until you call it */
	todo("tests/01-tcp-echo.bats, \"a python client gets 64 KiB of "
	     "binary data back byte for byte\", and every test that expects an echo");
#endif /* STARTER */
}

int main(int argc, char **argv)
{
	int lfd, rc;

	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (util_catch_stop_signals() < 0 || util_ignore_sigpipe() < 0)
		die("sigaction:");
	lfd = open_listener(opt_addr, opt_port);
	announce(lfd);

	/* [api-accept] */
#ifndef STARTER
	while (!stop_requested) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		char ip[INET_ADDRSTRLEN];
		int cfd = accept(lfd, (struct sockaddr *)&peer, &len);

		if (cfd < 0) {
			if (errno != EINTR)
				complain("accept:");
			continue;	/* a failed accept never stops the server */
		}
		inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
		note("client %s:%u connected", ip, ntohs(peer.sin_port));
		serve(cfd);
		close(cfd);
		note("client %s:%u left", ip, ntohs(peer.sin_port));
	}
#else /* STARTER */
	/*
	 * TODO: until stop_requested is set: accept() the next client on lfd
	 * (a new descriptor, for that client alone), note() who it is, serve()
	 * it, close() its descriptor, note() that it left. accept() fails with
	 * EINTR on a stop signal: just go round, the loop checks the flag.
	 * Any other failure: complain("accept:") and go on; never stop the server.
	 * Until then, the server stops here, right after its ready line.
	 */
	(void)serve;	/* keeps the compiler quiet until you call it */
	todo("tests/01-tcp-echo.bats, \"the server is iterative: a second "
	     "client waits until the first leaves\", \"SIGTERM and SIGINT end "
	     "the server with status 0\", and every test that connects");
#endif /* STARTER */
	/* [/api-accept] */
	close(lfd);
	return 0;
}
