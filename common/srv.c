/*
 * srv.c - what every TCP server of the kit does around its lesson: see
 * srv.h.
 */
#include "srv.h"
#include "config.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int srv_start(const char *addr, const char *port)
{
	char name[NET_NAME_LEN];
	int lfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (util_catch_stop_signals() < 0 || util_ignore_sigpipe() < 0)
		die("cannot catch the stop signals:");
	if (srv_raise_fd_limit() < 0)
		note("cannot raise the open files limit:");	/* not fatal */
	lfd = net_listen(addr, port, LISTEN_BACKLOG);
	if (lfd < 0)
		die("cannot listen on port %s: %s", port, net_strerror());
	if (net_local_name(lfd, name, sizeof(name)) < 0)
		die("getsockname: %s", net_strerror());
	printf("listening on %s\n", name);
	return lfd;
}

int srv_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur == rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

int srv_starved(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

/*
 * After accept() failed with ERR, or with 0 once it worked again: logs the
 * failure, once for a run of the same error, so that a server out of
 * descriptors does not fill its log. EINTR, EAGAIN and ECONNABORTED (a
 * client gave up first) are not logged.
 */
static void log_accept(int err)
{
	static int last;	/* the error of the run going on; 0: none */

	if (err == EINTR || err == EAGAIN || err == EWOULDBLOCK ||
	    err == ECONNABORTED)
		return;
	if (err != 0 && err != last)
		note("accept: %s", strerror(err));
	last = err;
}

/*
 * Waits ACCEPT_PAUSE_MS if LFD is a blocking socket: its caller's loop
 * would otherwise call accept() again at once. A signal cuts it short.
 */
static void pause_if_blocking(int lfd)
{
	const struct timespec pause = { 0, ACCEPT_PAUSE_MS * 1000000L };
	int flags = fcntl(lfd, F_GETFL);

	if (flags >= 0 && !(flags & O_NONBLOCK))
		nanosleep(&pause, NULL);
}

int srv_accept(int lfd, char *nick, size_t size)
{
	static unsigned arrivals;	/* one thread calls this: see srv.h */
	char who[NET_NAME_LEN];
	int fd = accept(lfd, NULL, NULL), saved = errno;

	if (fd < 0) {
		log_accept(saved);
		if (srv_starved(saved))
			pause_if_blocking(lfd);
		errno = saved;
		return -1;
	}
	log_accept(0);
	if (net_set_send_timeout(fd, 1) < 0) {
		saved = errno;
		note("cannot take a new client:");
		close(fd);
		errno = saved;
		return -1;
	}
	snprintf(nick, size, "guest%u", ++arrivals);
	if (net_peer_name(fd, who, sizeof(who)) < 0)
		snprintf(who, sizeof(who), "?");
	note("%s connected from %s", nick, who);
	return fd;
}
