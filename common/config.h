/*
 * config.h - the kit's tunables, defined once.
 *
 * Every program of every step takes its defaults from here; the reference
 * solution lets each one be overridden by a command-line option.
 */
#ifndef CONFIG_H
#define CONFIG_H

/* Port every server listens on unless given -p (a string: getaddrinfo wants one). */
#define DEFAULT_PORT "4242"

/* Longest line a chat server accepts, in bytes, not counting the final LF. */
#define MAX_LINE 1024

/* Longest line a step's server sends (LF excluded): a chat line and its "<nick> ". */
#define MAX_LINE_OUT (MAX_LINE + 64)

/* Most clients a chatroom holds at once; one more is told the room is full. */
#define MAX_CLIENTS 1024

/* Bytes a client may have waiting to be sent to it before it counts as too slow. */
#define MAX_QUEUE 1048576	/* 1 MiB */

/* Seconds a leaving client's pending output may take to drain before it is cut. */
#define FLUSH_SECONDS 2

/* Longest nickname, in characters. */
#define MAX_NICK 16

/* Connections the kernel keeps waiting for accept() (the listen() backlog). */
#define LISTEN_BACKLOG 128

/* Milliseconds a blocking server waits before accept() again when out of descriptors. */
#define ACCEPT_PAUSE_MS 100

/* Largest UDP payload step 02 handles: 65507 over IPv4, 65527 over IPv6. */
#define MAX_DATAGRAM 65527

/* Milliseconds the UDP client waits for an echo before it calls the reply lost. */
#define UDP_TIMEOUT_MS 2000

#endif
