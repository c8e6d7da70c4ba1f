/*
 * chatbench.h - what the files of chatbench share.
 *
 * chatbench is one thread and one epoll loop driving many chat clients at
 * once. Its whole state is one global struct, `bench`, as in smallchat:
 *
 *   chatbench.c  options, the phases of a run, main()
 *   loop.c       the event loop: connecting, reading lines, sending lines
 *   message.c    the text of a test line: writing it and checking it
 *   stats.c      clocks, the latency histogram, the server's /proc figures
 *   report.c     the table and the JSON line at the end
 */
#ifndef CHATBENCH_H
#define CHATBENCH_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- tunables --------------------------------------------------------- */

/* One recv() takes up to this much: big reads keep the syscall count low. */
#define READ_CHUNK (256 * 1024)

/* Longest server line kept across reads: a chat line, "<nick> " and slack. */
#define CARRY_MAX (MAX_LINE + 64)

/* Bytes of lines a client has written but the socket has not taken yet. */
#define OUT_CAP (8 * 1024)

/* Shortest and longest test line (-s), LF excluded; see message.c. */
#define MIN_SIZE 56
#define MAX_SIZE MAX_LINE

/* Longest nickname kept from a welcome line. */
#define NICK_MAX 32

/* Nanoseconds between two looks at the server's /proc/PID/status. */
#define SAMPLE_NS 100000000LL

/* -C: how long a new connection may take to be welcomed, and how long the
 * final broadcast has to reach everyone. */
#define CAP_WELCOME_NS 2000000000LL
#define CAP_BROADCAST_NS 1000000000LL

/* Once a loss is certain, a chat run ends after this long without traffic;
 * with every line sent, after STALL_NS (the server has stopped). */
#define QUIET_NS 1000000000LL
#define STALL_NS 5000000000LL

#define NS_PER_S 1000000000LL

/* ---- one simulated client ---------------------------------------------- */

enum client_state {
	CL_CONNECTING,	/* connect() in progress */
	CL_WAITING,	/* connected, no welcome line yet */
	CL_READY,	/* welcomed: it has a nickname */
	CL_CLOSED	/* failed, or closed by the server */
};

struct client {
	int fd;
	enum client_state state;
	char nick[NICK_MAX + 1];	/* from "*** welcome NICK" */
	int64_t started;	/* when connect() was called (ns) */

	/* Input: the unfinished end of the last read, put back before the next. */
	char carry[CARRY_MAX];
	size_t ncarry;
	int skipping;		/* dropping the rest of an overlong line */

	/* Output: lines written into out[start, end) that send() has not taken. */
	char *out;		/* OUT_CAP bytes, allocated on first use */
	size_t out_start, out_end;
	int want_out;		/* EPOLLOUT is registered */
	uint32_t due;		/* lines that should have been written by now */
	uint32_t made;		/* lines written into out so far */
};

/* ---- the latency histogram (stats.c) ----------------------------------- */

/* 16 exact buckets, then 16 per power of two: a value is known to 1/16. */
#define HIST_SUB 16
#define HIST_BUCKETS (2 * HIST_SUB + 60 * HIST_SUB)

struct histogram {
	uint64_t count[HIST_BUCKETS];
	uint64_t total;
	int64_t max;
};

/* ---- the figures read from /proc/PID/status (stats.c) ----------------- */

struct server_sample {
	long rss_kb;		/* VmRSS now */
	long hwm_kb;		/* VmHWM: the peak RSS so far */
	long threads;		/* Threads */
};

/* ---- the whole run ----------------------------------------------------- */

struct bench {
	/* Options (see chatbench.c for their meaning and defaults). */
	size_t nclients, nlines, size, window, cap, seconds;
	double rate;		/* lines per second per client; 0 = burst */
	long pid;		/* the server's pid, 0 if not given */
	int json;
	const char *host, *port;

	/* The address every client connects to, found by the first one. */
	struct sockaddr_storage addr;
	socklen_t addrlen;

	int epfd;
	char *rbuf;		/* CARRY_MAX + READ_CHUNK bytes, shared by every read */
	struct client *cl;	/* room for every client the run may open */
	size_t ncl;		/* clients created so far */
	size_t target;		/* clients the connect phase wants */
	size_t scan_from;	/* -C: first client that may still be waiting */

	/* Counts kept by loop.c. */
	size_t open;		/* sockets open */
	size_t pending;		/* connecting, or connected and not welcomed yet */
	size_t welcomed;	/* clients that got their welcome line */
	size_t failed;		/* clients closed before their welcome */
	size_t dropped;		/* clients closed after it */
	const char *fail_why;	/* what happened to the first of those */
	uint64_t joins_seen;	/* "*** NICK joined" lines, all clients together */
	uint64_t received;	/* intact test lines delivered */
	uint64_t corrupt;	/* chat lines that did not check out */
	uint64_t out_of_order;	/* intact lines whose number was not the next */
	uint64_t lines_made;	/* test lines written, all clients together */
	uint32_t *next_seq;	/* [receiver * nclients + sender]; NULL with -C */

	/* Pacing (-r): the next send of the round robin over every client. */
	uint64_t pace_next;
	int64_t pace_start;	/* 0 until a paced chat phase begins */

	/* Times (CLOCK_MONOTONIC ns); 0 means "not yet". */
	int64_t t_start, t_connected, t_first_send, t_last_delivery;
	int64_t t_last_rx, t_last_tx;	/* last line received, last send */
	int64_t deadline, next_sample;
	int timed_out;		/* the deadline passed (not a signal) */

	struct histogram lat;
	struct server_sample peak;	/* highest figures seen */
	int sampled;		/* peak holds at least one sample */
};

extern struct bench bench;

/* ---- loop.c ------------------------------------------------------------ */

/* Finds the server's address and opens client 0 with a blocking connect. */
void loop_init(void);

/*
 * Runs the event loop until DONE() is true: returns 0. Returns -1 when the
 * deadline passes (setting bench.timed_out) or a stop signal arrives.
 */
int loop_until(int (*done)(void));

/* Makes C owe LINES more test lines, and writes what fits now. */
void loop_owe(struct client *c, uint32_t lines);

/* The number of clients that are welcomed and still open. */
size_t loop_ready(void);

/* ---- message.c --------------------------------------------------------- */

struct message {
	uint32_t sender;	/* index of the sending client */
	uint32_t seq;		/* its line number, from 0 */
	int64_t stamp;		/* CLOCK_MONOTONIC ns when it was written */
};

/* Writes the SIZE-byte test line for M into BUF (SIZE + 1 bytes, NUL added). */
void message_format(char *buf, size_t size, const struct message *m);

/* Parses and verifies the test line TEXT of LEN bytes into M: 0, or -1. */
int message_parse(const char *text, size_t len, struct message *m);

/* ---- stats.c ----------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t now_ns(void);

/* Seconds of CPU this process has used (user + system). */
double cpu_seconds(void);

/* Adds one latency of NS nanoseconds to H. */
void hist_add(struct histogram *h, int64_t ns);

/* The latency (ns) below which a fraction P of H's values lie; 0 if empty. */
int64_t hist_percentile(const struct histogram *h, double p);

/* Reads /proc/PID/status into S. Returns 0, or -1 with errno set. */
int server_read(long pid, struct server_sample *s);

/* Samples the server (when -P was given) and keeps the peaks in bench.peak. */
void server_sample(void);

/* ---- report.c ---------------------------------------------------------- */

/* What a -C run found, for report_cap(). */
struct cap_result {
	size_t held;		/* clients welcomed and still open at the end */
	size_t reached;		/* how many of the others got the one line */
	const char *stop;	/* why connecting stopped */
	const char *error;	/* why the run failed; NULL if it passed */
	struct server_sample base;	/* the server before the first client */
	struct server_sample full;	/* and with every client held (0s: unknown) */
};

/* Prints the result of a chat run (a table, or JSON with -j). */
void report_chat(int ok);

/* Prints the result of a -C run (a table, or JSON with -j). */
void report_cap(int ok, const struct cap_result *r);

#endif
