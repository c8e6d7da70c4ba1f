/*
 * util.c - reporting errors, logging, writing everything, and stopping on
 * a signal: see util.h.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

atomic_int stop_requested;

static const char *progname = "kit";

/* --- Messages ------------------------------------------------------------ */

/*
 * Messages dropped because stderr was full, not yet told. The lock also
 * keeps two threads from both seeing room for one message and both writing.
 */
static struct {
	pthread_mutex_t lock;
	unsigned long dropped;
} reports = { PTHREAD_MUTEX_INITIALIZER, 0 };

void util_set_progname(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	progname = slash ? slash + 1 : argv0;
}

const char *util_progname(void)
{
	return progname;
}

/*
 * Writes LINE (LEN bytes, at most 1536) to stderr only if that cannot wait:
 * poll() says there is room now, and a write under PIPE_BUF (4096) bytes
 * then goes in whole. Else LINE is dropped, and counted. Lines dropped
 * before are told first, in the same write.
 */
static void emit(const char *stamp, const char *line, size_t len)
{
	struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	char buf[1664];
	int n = 0;

	pthread_mutex_lock(&reports.lock);
	if (poll(&pfd, 1, 0) != 1 || pfd.revents != POLLOUT) {
		reports.dropped++;
	} else {
		if (reports.dropped > 0)
			n = snprintf(buf, 128, "%s%s: (%lu messages dropped: "
				     "stderr was full)\n", stamp, progname,
				     reports.dropped);
		if (n < 0 || n >= 128)
			n = 0;
		memcpy(buf + n, line, len);
		if (write(STDERR_FILENO, buf, (size_t)n + len) >= 0)
			reports.dropped = 0;
	}
	pthread_mutex_unlock(&reports.lock);
}

/*
 * Formats one message into a single buffer and writes it with one call, so
 * that lines from several threads never interleave. errno is read first,
 * before anything can change it.
 */
static void report(const char *stamp, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024], line[1536];
	size_t n = strlen(fmt);
	int colon = n > 0 && fmt[n - 1] == ':', len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = snprintf(line, sizeof(line), "%s%s: %s%s%s\n", stamp, progname,
		       msg, colon ? " " : "", colon ? strerror(saved) : "");
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {	/* cut short, still a line */
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	emit(stamp, line, (size_t)len);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	exit(1);
}

void complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	int saved = errno;
	char stamp[16] = "";
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (localtime_r(&now, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%H:%M:%S ", &tm);
	errno = saved;
	va_start(ap, fmt);
	report(stamp, fmt, ap);
	va_end(ap);
}

/* --- Stop signals ---------------------------------------------------------- */

/*
 * The self-pipe behind util_stop_fd(): the handler writes a byte into its
 * write end, and nobody ever reads it, so the read end stays readable once
 * a stop signal has come. -1 until util_stop_fd() makes it.
 */
static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_pipe_in = -1;	/* the handler's copy of [1] */

/*
 * SIGINT, SIGTERM: records the request and wakes a poll() that waits on
 * util_stop_fd(). Only async-signal-safe calls here; errno is kept for the
 * code it interrupts.
 */
static void on_stop_signal(int signo)
{
	int saved = errno;
	int fd = stop_pipe_in;

	(void)signo;
	stop_requested = 1;
	if (fd >= 0 && write(fd, "", 1) < 0)
		errno = saved;	/* full: it is readable already */
	errno = saved;
}

int util_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;	/* and no SA_RESTART: see util.h */
	if (sigaction(SIGINT, &sa, NULL) < 0)
		return -1;
	return sigaction(SIGTERM, &sa, NULL);
}

/* Sets FD_CLOEXEC and, with NONBLOCK, O_NONBLOCK on FD. Returns 0 or -1. */
static int pipe_flags(int fd, int nonblock)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return nonblock ? fcntl(fd, F_SETFL, fl | O_NONBLOCK) : 0;
}

int util_stop_fd(void)
{
	if (stop_pipe[0] >= 0)
		return stop_pipe[0];
	/* Non-blocking write end: the handler must never wait on a full pipe. */
	if (pipe(stop_pipe) < 0)
		return -1;
	if (pipe_flags(stop_pipe[0], 0) < 0 || pipe_flags(stop_pipe[1], 1) < 0) {
		int saved = errno;

		close(stop_pipe[0]);
		close(stop_pipe[1]);
		stop_pipe[0] = stop_pipe[1] = -1;
		errno = saved;
		return -1;
	}
	stop_pipe_in = stop_pipe[1];
	/* A signal that came before the line above only set the flag. */
	if (stop_requested && write(stop_pipe[1], "", 1) < 0)
		return -1;
	return stop_pipe[0];
}

int util_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int util_block_stop_signals(int block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	return pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

int util_retry(void)
{
	return errno == EINTR && !stop_requested;
}

/* --- Writing everything ------------------------------------------------------ */

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && util_retry())
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
