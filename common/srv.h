/*
 * srv.h - what every TCP server of the kit does around its lesson.
 *
 * Starting (the stop signals, SIGPIPE, the open files limit, the listening
 * socket, the ready line) and taking a newcomer (an accept() that survives
 * running out of descriptors, a nickname, a log line) are the same in
 * steps 03, 04 and 05: they live here, so that each step's own file
 * shows its idea and diff between two steps shows little else.
 *
 * srv_start() and srv_accept() are helpers for main() and step code, like
 * die() and note(): they may log, and srv_start() dies when the server
 * cannot start.
 */
#ifndef SRV_H
#define SRV_H

#include <stddef.h>

/*
 * Starts a TCP server on ADDR and PORT: stdout line-buffered, SIGINT and
 * SIGTERM caught (util_catch_stop_signals()), SIGPIPE ignored, the open
 * files limit raised (srv_raise_fd_limit()), a socket listening, and the
 * ready line "listening on ADDRESS:PORT" printed. Returns the listening
 * descriptor; on any failure, says why and exits with status 1.
 */
int srv_start(const char *addr, const char *port);

/*
 * Raises the limit on open descriptors to the hard limit: each client is
 * one, and the usual soft limit (1024) would cap the room before memory
 * does. Returns 0, or -1 with errno set (the limit stays as it was).
 */
int srv_raise_fd_limit(void);

/*
 * Takes the next connection waiting on LFD, names it "guestN" in NICK (of
 * SIZE bytes; N counts the arrivals from 1), logs "guestN connected from
 * ADDRESS". A blocking send() on it wakes every second to look for a stop
 * signal (net_set_send_timeout()). Nagle's algorithm stays on: step 05
 * turns it off, and step 04's latency shows what it costs. Returns its descriptor, or -1 with
 * errno set: no connection taken. Failures are logged once for a run of
 * the same error. Out of descriptors or memory (srv_starved()), it pauses
 * ACCEPT_PAUSE_MS before it returns if LFD is blocking, so that the
 * caller's loop does not spin; an event loop (LFD non-blocking) must stop
 * watching LFD until a descriptor is freed instead. A stop signal cuts the
 * wait short. Call it from one thread only.
 */
int srv_accept(int lfd, char *nick, size_t size);

/*
 * Says whether accept() failing with ERR means the server is out of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the connection
 * stays in the backlog, and trying again at once only spins.
 */
int srv_starved(int err);

#endif
