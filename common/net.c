/*
 * net.c - the kit's small socket layer: see net.h.
 */
#include "net.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* The resolver's error code from the last failed lookup of this thread, or 0. */
static _Thread_local int last_gai_error;

const char *net_strerror(void)
{
	return last_gai_error ? gai_strerror(last_gai_error) : strerror(errno);
}

/*
 * Resolves HOST and PORT for SOCKTYPE into *RES. PASSIVE asks for addresses
 * to bind to (HOST may then be NULL). Returns 0, or -1 with the resolver's
 * error kept for net_strerror().
 */
static int resolve(const char *host, const char *port, int socktype,
		   int passive, struct addrinfo **res)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	last_gai_error = 0;
	rc = getaddrinfo(host, port, &hints, res);
	if (rc == 0)
		return 0;
	if (rc != EAI_SYSTEM)
		last_gai_error = rc;
	if (errno == 0)
		errno = EINVAL;
	return -1;
}

/*
 * Creates a socket for AI and binds it, listening too for TCP. An IPv6
 * socket accepts IPv4 as well when DUAL is set. Returns the descriptor, or
 * -1 with errno set and nothing left open.
 */
static int bind_one(const struct addrinfo *ai, int backlog, int dual)
{
	int fd, on = 1, v6only = !dual;

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		goto fail;
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		       sizeof(v6only)) < 0)
		goto fail;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto fail;
	if (ai->ai_socktype == SOCK_STREAM && listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Binds a socket of SOCKTYPE on ADDR and PORT. With no ADDR, the IPv6
 * wildcard is tried first as a dual-stack socket, then the IPv4 one.
 * Returns the descriptor, or -1.
 */
static int bind_socket(const char *addr, const char *port, int socktype,
		       int backlog)
{
	struct addrinfo *res, *ai;
	int fd = -1, any = addr == NULL || *addr == '\0';

	if (resolve(any ? NULL : addr, port, socktype, 1, &res) < 0)
		return -1;
	for (int family = AF_INET6; fd < 0 && family >= 0;
	     family = family == AF_INET6 ? AF_INET : -1)
		for (ai = res; fd < 0 && ai != NULL; ai = ai->ai_next)
			if (!any || ai->ai_family == family)
				fd = bind_one(ai, backlog, any);
	freeaddrinfo(res);
	return fd;
}

int net_listen(const char *addr, const char *port, int backlog)
{
	return bind_socket(addr, port, SOCK_STREAM, backlog);
}

int net_udp_bind(const char *addr, const char *port)
{
	return bind_socket(addr, port, SOCK_DGRAM, 0);
}

int net_connect(const char *host, const char *port)
{
	struct addrinfo *res, *ai;
	int fd = -1;

	if (resolve(host, port, SOCK_STREAM, 0, &res) < 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		while (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (!util_retry()) {
				int saved = errno;

				close(fd);
				fd = -1;
				errno = saved;
				break;
			}
		}
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

int net_udp_open(const char *host, const char *port,
		 struct sockaddr_storage *peer, socklen_t *peerlen)
{
	struct addrinfo *res;
	int fd;

	if (resolve(host, port, SOCK_DGRAM, 0, &res) < 0)
		return -1;
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd >= 0) {
		if (res->ai_addrlen > *peerlen) {
			close(fd);
			fd = -1;
			errno = EINVAL;
		} else {
			memcpy(peer, res->ai_addr, res->ai_addrlen);
			*peerlen = res->ai_addrlen;
		}
	}
	freeaddrinfo(res);
	return fd;
}

int net_addr_name(const struct sockaddr *sa, socklen_t len,
		  char *buf, size_t size)
{
	char host[256], serv[32];
	int rc, n;

	last_gai_error = 0;
	rc = getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			 NI_NUMERICHOST | NI_NUMERICSERV);
	if (rc != 0) {
		last_gai_error = rc;
		errno = EINVAL;
		return -1;
	}
	if (sa->sa_family == AF_INET6)
		n = snprintf(buf, size, "[%s]:%s", host, serv);
	else
		n = snprintf(buf, size, "%s:%s", host, serv);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int net_local_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return net_addr_name((struct sockaddr *)&ss, len, buf, size);
}

int net_peer_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return net_addr_name((struct sockaddr *)&ss, len, buf, size);
}

/*
 * Says whether the send() on FD that just failed with EAGAIN only woke up
 * at its SO_SNDTIMEO (FD is blocking) and no stop signal came: send again.
 * If a stop signal came, errno becomes EINTR. On a non-blocking socket,
 * EAGAIN means full, and goes to the caller.
 */
static int send_timed_out(int fd)
{
	int flags;

	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return 0;
	flags = fcntl(fd, F_GETFL);
	errno = EAGAIN;
	if (flags < 0 || (flags & O_NONBLOCK))
		return 0;	/* full: the caller waits its own way */
	if (!stop_requested)
		return 1;
	errno = EINTR;	/* a stop signal came while it waited */
	return 0;
}

int net_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (util_retry() || send_timed_out(fd)))
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
		if (len > 0 && stop_requested) {
			errno = EINTR;	/* a stop signal cut it short */
			return -1;
		}
	}
	return 0;
}

int net_set_send_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };

	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int net_format_line(char *line, const char *fmt, va_list ap)
{
	int n = vsnprintf(line, NET_LINE_SIZE, fmt, ap);

	if (n < 0 || n > MAX_LINE_OUT) {
		errno = EMSGSIZE;
		return -1;
	}
	line[n] = '\n';	/* over the NUL */
	return n + 1;
}

int net_send_line(int fd, const char *fmt, ...)
{
	char line[NET_LINE_SIZE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = net_format_line(line, fmt, ap);
	va_end(ap);
	return n < 0 ? -1 : net_send_all(fd, line, (size_t)n);
}

int net_set_nonblocking(int fd, int on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

int net_set_nodelay(int fd)
{
	int on = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}
