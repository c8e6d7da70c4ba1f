/*
 * util.h - reporting errors, logging, and stopping on a signal.
 *
 * These, and cli_exit(), are the only helpers in common/ that print or
 * exit: they exist for main() and step code, which decide when a program
 * must stop.
 */
#ifndef UTIL_H
#define UTIL_H

#include <signal.h>

/* Set by the SIGINT/SIGTERM handler that util_catch_stop_signals() installs. */
extern volatile sig_atomic_t stop_requested;

/*
 * Name printed in front of every message; main() sets it from argv[0].
 */
void util_set_progname(const char *argv0);

/*
 * Prints "prog: message" on stderr and exits with status 1. When the format
 * ends in ':', the text of the current errno is appended.
 */
void die(const char *fmt, ...);

/*
 * Prints "prog: message" on stderr, with the same trailing ':' rule as die(),
 * and returns.
 */
void warn(const char *fmt, ...);

/*
 * Prints "HH:MM:SS prog: message" on stderr: a server's log line. Same
 * trailing ':' rule as die().
 */
void note(const char *fmt, ...);

/*
 * Makes SIGINT and SIGTERM set stop_requested and interrupt blocking calls
 * with EINTR (no SA_RESTART), and ignores SIGPIPE so that writing to a
 * vanished peer returns EPIPE instead of killing the process.
 * Returns 0, or -1 with errno set.
 */
int util_catch_stop_signals(void);

/*
 * Blocks SIGINT and SIGTERM in the calling thread (block != 0) or unblocks
 * them. A thread created while they are blocked inherits that, so servers use
 * it to keep the signals for the main thread. Returns 0 or an error code.
 */
int util_block_stop_signals(int block);

#endif
