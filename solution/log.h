/*
 * log.h - a server log that never blocks the server.
 *
 * log_say() formats a timestamped line and hands it to a logger thread that
 * writes it to stderr. If stderr stalls (a full pipe that nobody reads),
 * lines pile up in a bounded queue and then are dropped and counted; the
 * threads that serve clients never wait on it.
 */
#ifndef LOG_H
#define LOG_H

#include "util.h"

/* Starts the logger thread. Returns 0 or an error code (pthread style). */
int log_start(void);

/* Queues "HH:MM:SS server: message" for stderr; drops it if the queue is full. */
void log_say(const char *fmt, ...) KIT_PRINTF(1, 2);

/*
 * Writes what is queued (waiting at most about a second for a stalled
 * stderr), stops the logger thread and frees the queue.
 */
void log_stop(void);

#endif
