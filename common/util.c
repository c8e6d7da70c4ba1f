/*
 * util.c - reporting errors, logging, and stopping on a signal.
 */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t stop_requested;

static const char *progname = "kit";

/* Keeps the last path component of argv[0] for message prefixes. */
void util_set_progname(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	progname = slash ? slash + 1 : argv0;
}

/*
 * Formats one message into a single buffer and writes it with one call, so
 * that lines from several threads never interleave. errno is read first,
 * before anything can change it.
 */
static void report(const char *stamp, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024];
	size_t n = strlen(fmt);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, "%s%s: %s %s\n", stamp, progname, msg,
			strerror(saved));
	else
		fprintf(stderr, "%s%s: %s\n", stamp, progname, msg);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	exit(1);
}

void warn(const char *fmt, ...)
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

/* The handler only records the request; the code it interrupts does the rest. */
static void on_stop_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

int util_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
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
