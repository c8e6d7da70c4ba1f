/*
 * net.h - the kit's small socket layer.
 *
 * Every step after 01 calls these instead of repeating the socket
 * boilerplate. Like the rest of common/, nothing here prints or exits:
 * a function that fails returns -1 and leaves errno set. Name lookups can
 * fail without an errno; net_strerror() describes either kind of failure.
 */
#ifndef NET_H
#define NET_H

#include "config.h"
#include "util.h"

#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Room for "[ipv6-address]:port" and its NUL. */
#define NET_NAME_LEN 64

/* Room for a line net_format_line() makes: MAX_LINE_OUT bytes, then its LF. */
#define NET_LINE_SIZE (MAX_LINE_OUT + 1)

/*
 * Opens a TCP socket listening on ADDR and PORT (a number; "0" lets the
 * kernel pick a free port). A NULL or empty ADDR listens on every address:
 * IPv6 and IPv4 together where the machine has IPv6, IPv4 alone otherwise.
 * SO_REUSEADDR is set so that a restarted server can bind at once.
 * Returns the listening descriptor, or -1.
 */
int net_listen(const char *addr, const char *port, int backlog);

/*
 * Opens a UDP socket bound to ADDR and PORT, with the same rules for ADDR
 * and PORT as net_listen(). Returns the descriptor, or -1.
 */
int net_udp_bind(const char *addr, const char *port);

/*
 * Opens a TCP connection to HOST (a name or an address) and PORT, trying
 * each address the name resolves to in turn. Returns the connected
 * descriptor, or -1.
 */
int net_connect(const char *host, const char *port);

/*
 * Opens a UDP socket for talking to HOST and PORT and stores the resolved
 * address in PEER (of size *PEERLEN on entry, the address length on
 * return), for use with sendto(). Returns the descriptor, or -1.
 */
int net_udp_open(const char *host, const char *port,
		 struct sockaddr_storage *peer, socklen_t *peerlen);

/*
 * Writes "ADDRESS:PORT" (IPv6 as "[ADDRESS]:PORT") for the socket address
 * SA into BUF of SIZE bytes. Returns 0, or -1.
 */
int net_addr_name(const struct sockaddr *sa, socklen_t len,
		  char *buf, size_t size);

/* Same as net_addr_name() for the local address of socket FD (getsockname). */
int net_local_name(int fd, char *buf, size_t size);

/* Same as net_addr_name() for the remote address of socket FD (getpeername). */
int net_peer_name(int fd, char *buf, size_t size);

/*
 * Sends all LEN bytes of BUF on FD: send() may take fewer bytes than asked,
 * and a signal may interrupt it, so it loops until everything is gone, or
 * a stop signal came (util_retry()); on a blocking socket, it sends again
 * after each net_set_send_timeout() wake-up. Never raises SIGPIPE. Returns 0, or -1
 * (EPIPE or ECONNRESET mean the peer left; EAGAIN means a non-blocking
 * socket is full; EINTR, a stop signal).
 */
int net_send_all(int fd, const void *buf, size_t len);

/*
 * Formats one line like vprintf into LINE, which has room for
 * NET_LINE_SIZE bytes, and ends it with an LF instead of a NUL (send()
 * takes a length, not a string). Returns its length, LF included, or -1
 * (EMSGSIZE) if it would be longer than MAX_LINE_OUT bytes before its LF.
 */
int net_format_line(char *line, const char *fmt, va_list ap) KIT_PRINTF(2, 0);

/*
 * Formats one line like printf, adds its LF, and sends it whole with
 * net_send_all(). The line may be up to MAX_LINE_OUT bytes (config.h)
 * before its LF; a longer one is not sent (EMSGSIZE). Returns 0, or -1.
 */
int net_send_line(int fd, const char *fmt, ...) KIT_PRINTF(2, 3);

/*
 * Puts FD in non-blocking mode (on != 0) or back in blocking mode.
 * Returns 0, or -1.
 */
int net_set_nonblocking(int fd, int on);

/*
 * Turns off Nagle's algorithm on TCP socket FD, so that a short line is
 * sent at once instead of waiting to be merged with the next one.
 * Returns 0, or -1.
 */
int net_set_nodelay(int fd);

/*
 * Makes a blocking send() on FD give up waiting after SECONDS (SO_SNDTIMEO).
 * net_send_all() then sends again, unless a stop signal came: a signal that
 * lands just before send() starts to wait is seen within SECONDS, where it
 * would otherwise be seen only once the peer reads. Returns 0, or -1.
 */
int net_set_send_timeout(int fd, int seconds);

/*
 * Describes the last failure of a net_ function in this thread: the
 * resolver's message if a name lookup failed, strerror(errno) otherwise.
 */
const char *net_strerror(void);

#endif
