/*
 * log.c - a server log that never blocks the server: see log.h.
 */
#include "log.h"
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Lines the queue holds before it drops new ones. */
#define LOG_SLOTS 1024

/* The queue of lines waiting for stderr, shared by every thread. */
static struct {
	pthread_mutex_t lock;	/* protects every field below */
	pthread_cond_t wake;	/* signalled when a line arrives or on stop */
	pthread_cond_t drained;	/* signalled when the queue becomes empty */
	char *line[LOG_SLOTS];	/* a ring: count lines from first on */
	size_t first, count;
	unsigned long dropped;	/* lines lost since the last one written */
	int stopping;
	int started;
	pthread_t thread;
} logq = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.drained = PTHREAD_COND_INITIALIZER,
};

/* Writes LINE to stderr, after a note of any lines dropped before it. */
static void write_line(const char *line, unsigned long dropped)
{
	char note[64];

	if (dropped > 0) {
		int n = snprintf(note, sizeof(note),
				 "(%lu log lines dropped: stderr was full)\n",
				 dropped);
		util_write_all(STDERR_FILENO, note, (size_t)n);
	}
	util_write_all(STDERR_FILENO, line, strlen(line));
}

/* The logger thread: takes lines off the queue and writes them, one by one. */
static void *logger(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&logq.lock);
	for (;;) {
		char *line;
		unsigned long dropped;

		while (logq.count == 0 && !logq.stopping)
			pthread_cond_wait(&logq.wake, &logq.lock);
		if (logq.count == 0)
			break;
		line = logq.line[logq.first];
		logq.first = (logq.first + 1) % LOG_SLOTS;
		logq.count--;
		dropped = logq.dropped;
		logq.dropped = 0;
		pthread_mutex_unlock(&logq.lock);
		/* This may block, and may be cancelled there: see log_stop(). */
		pthread_cleanup_push(free, line);
		write_line(line, dropped);
		pthread_cleanup_pop(1);
		pthread_mutex_lock(&logq.lock);
		if (logq.count == 0)
			pthread_cond_broadcast(&logq.drained);
	}
	pthread_mutex_unlock(&logq.lock);
	return NULL;
}

int log_start(void)
{
	int rc = pthread_create(&logq.thread, NULL, logger, NULL);

	logq.started = rc == 0;
	return rc;
}

void log_say(const char *fmt, ...)
{
	char stamp[16] = "", msg[512], *line;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	if (localtime_r(&now, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = malloc(strlen(stamp) + strlen(msg) + 16);
	if (line == NULL)
		return;
	sprintf(line, "%s server: %s\n", stamp, msg);
	pthread_mutex_lock(&logq.lock);
	if (!logq.started || logq.count == LOG_SLOTS) {
		logq.dropped++;
		free(line);
	} else {
		logq.line[(logq.first + logq.count++) % LOG_SLOTS] = line;
		pthread_cond_signal(&logq.wake);
	}
	pthread_mutex_unlock(&logq.lock);
}

void log_stop(void)
{
	struct timespec deadline;
	int stuck;

	if (!logq.started)
		return;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	pthread_mutex_lock(&logq.lock);
	while (logq.count > 0 &&
	       pthread_cond_timedwait(&logq.drained, &logq.lock, &deadline) == 0)
		;
	logq.stopping = 1;
	stuck = logq.count > 0;
	pthread_cond_signal(&logq.wake);
	pthread_mutex_unlock(&logq.lock);
	/* A logger still stuck in write() is cancelled there: stderr is dead. */
	if (stuck)
		pthread_cancel(logq.thread);
	pthread_join(logq.thread, NULL);
	logq.started = 0;
	while (logq.count > 0) {
		free(logq.line[logq.first]);
		logq.first = (logq.first + 1) % LOG_SLOTS;
		logq.count--;
	}
}
