/*
 * util.h - reporting errors, logging, writing everything, and stopping on
 * a signal.
 *
 * die(), complain() and note(), like cli_exit(), are the only helpers in
 * common/ that print or exit: they exist for main() and step code, which
 * decide when a program must stop.
 */
#ifndef UTIL_H
#define UTIL_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

/*
 * KIT_PRINTF(F, A) marks a function whose argument F is a printf format
 * and whose arguments from A on are its values (0 for a va_list): the
 * compiler then checks every call as it checks printf's.
 */
#if defined(__GNUC__)
#define KIT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KIT_PRINTF(f, a)
#endif

/*
 * Set to 1 by the SIGINT/SIGTERM handler that util_catch_stop_signals()
 * installs. Once it is set, common/ stops retrying interrupted calls.
 * An atomic int rather than a volatile sig_atomic_t: threads read it while
 * the handler runs in another one, and C11 makes a lock-free atomic safe
 * both between threads and in a signal handler.
 */
extern atomic_int stop_requested;

/* Stores the program's name, argv[0] without its folder, for messages. */
void util_set_progname(const char *argv0);

/* The name util_set_progname() stored: "prog" in "prog: message". */
const char *util_progname(void);

/*
 * Prints "prog: message" on stderr and exits with status 1. When the format
 * ends in ':', the text of the current errno is appended.
 */
_Noreturn void die(const char *fmt, ...) KIT_PRINTF(1, 2);

/*
 * Prints "prog: message" on stderr, with the same trailing ':' rule as die(),
 * and returns. (Not BSD's warn(3), which always appends errno's text.)
 */
void complain(const char *fmt, ...) KIT_PRINTF(1, 2);

/*
 * Prints "HH:MM:SS prog: message" on stderr: a server's log line. Same
 * trailing ':' rule as die().
 */
void note(const char *fmt, ...) KIT_PRINTF(1, 2);

/*
 * The three above never wait: a message that stderr cannot take at once (a
 * pipe nobody reads is full) is dropped, and the next one that goes out
 * says how many were. A log must never stop a server.
 */

/*
 * Makes SIGINT and SIGTERM set stop_requested (and make util_stop_fd()
 * readable), and interrupt a blocking call with EINTR: no SA_RESTART.
 * Returns 0, or -1 with errno set.
 */
int util_catch_stop_signals(void);

/*
 * A descriptor that becomes readable once a stop signal has come, and stays
 * so: an event loop puts it in its poll() set, and a signal that arrives
 * just before poll() still wakes it. Call it from main(), after
 * util_catch_stop_signals(); it makes the pipe behind it on the first call.
 * Returns the descriptor, or -1 with errno set.
 */
int util_stop_fd(void);

/*
 * Ignores SIGPIPE: writing to a peer that is gone then fails with EPIPE
 * instead of killing the process. Every server calls it. Returns 0 or -1.
 */
int util_ignore_sigpipe(void);

/*
 * Blocks SIGINT and SIGTERM in the calling thread (block != 0) or unblocks
 * them. A thread created while they are blocked inherits that, so servers use
 * it to keep the signals for the main thread. Returns 0 or an error code.
 */
int util_block_stop_signals(int block);

/*
 * After a call failed: says whether to try it again, which is when a
 * signal interrupted it (EINTR) and it was not a stop signal. Every loop of
 * common/ follows this rule, so that Ctrl-C is never kept waiting.
 */
int util_retry(void);

/*
 * Writes all LEN bytes of BUF to FD (a file, a pipe, a terminal): write()
 * may take fewer, so it loops, following util_retry(). Returns 0, or -1.
 */
int util_write_all(int fd, const void *buf, size_t len);

#endif
