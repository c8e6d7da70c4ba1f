/*
 * chatbench.c - a load generator for the kit's chat servers.
 *
 * usage: chatbench [options] HOST PORT
 *
 * N clients (-n) connect to the chat server at HOST PORT and wait for their
 * welcome and for everyone's "joined" line; then each sends M lines (-m) of
 * S bytes (-s), as fast as the server takes them or at a fixed rate (-r).
 * Every client checks each line it receives from the others. The run
 * reports deliveries, losses, throughput, latency and, given the server's
 * pid (-P), its memory and threads. -C instead finds out how many clients
 * the server can hold. README.md says more.
 *
 * This file holds the options and the phases of a run; loop.c does the
 * networking, report.c the printing.
 */
#include "chatbench.h"
#include "cli.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The run's whole state, with the defaults of the options. */
struct bench bench = {
	.nclients = 10,
	.nlines = 100,
	.size = 64,
	.window = 64,
	.seconds = 60,
};

/* ---- options --------------------------------------------------------------- */

/* -r: a rate in lines per second, above 0 (fractions allowed). */
static int set_rate(const char *arg, void *dst)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(v > 0) || v > 1e9)
		return -1;
	*(double *)dst = v;
	return 0;
}

/* -P: a process id. */
static int set_pid(const char *arg, void *dst)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end != '\0' || v <= 0)
		return -1;
	*(long *)dst = v;
	return 0;
}

static const struct cli_option options[] = {
	{ 'n', "CLIENTS", "clients in the room (default: 10)",
	  cli_set_size, &bench.nclients },
	{ 'm', "LINES", "lines each client sends (default: 100)",
	  cli_set_size, &bench.nlines },
	{ 's', "SIZE", "bytes per line, 56 to 1024 (default: 64)",
	  cli_set_size, &bench.size },
	{ 'r', "RATE", "lines per second per client (default: as fast as "
	  "the server takes them)", set_rate, &bench.rate },
	{ 't', "SECONDS", "give up after this long (default: 60)",
	  cli_set_size, &bench.seconds },
	{ 'b', "WINDOW", "connections in progress at once (default: 64)",
	  cli_set_size, &bench.window },
	{ 'C', "CAP", "instead: hold up to CAP clients, then time one broadcast",
	  cli_set_size, &bench.cap },
	{ 'P', "PID", "the server's pid: report its memory and threads",
	  set_pid, &bench.pid },
	{ 'j', NULL, "print one JSON line instead of the table (--json)",
	  cli_set_flag, &bench.json },
	{ 0 }
};

static struct cli cli = {
	.about = "Loads a chat server with many clients and checks every line "
		 "they receive.",
	.options = options,
	.operands = "HOST PORT",
	.noperands = 2,
};

/* getopt() knows short options only: --json and --help are spelled -j, -h. */
static void spell_long_options(int argc, char **argv)
{
	static char j[] = "-j", h[] = "-h";

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			argv[i] = j;
		else if (strcmp(argv[i], "--help") == 0)
			argv[i] = h;
	}
}

/* Reports bad usage the way cli_exit() does (exit status 2). */
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli.error, sizeof(cli.error), fmt, ap);
	va_end(ap);
	cli_exit(&cli, CLI_BAD);
}

/* Checks what cli_parse() cannot: ranges, and that the -P process exists. */
static void check_options(void)
{
	struct server_sample s;

	if (bench.size < MIN_SIZE || bench.size > MAX_SIZE)
		bad_usage("invalid SIZE for -s: '%zu' (%d to %d)", bench.size,
			  MIN_SIZE, MAX_SIZE);
	if (bench.cap == 0 && bench.nclients < 2)
		bad_usage("-n needs 2 clients or more: one alone hears nobody");
	if (bench.cap == 1)
		bad_usage("-C needs 2 clients or more, to broadcast to one");
	if (bench.nlines > UINT32_MAX)
		bad_usage("invalid LINES for -m: '%zu'", bench.nlines);
	if (bench.pid != 0 && server_read(bench.pid, &s) < 0)
		bad_usage("cannot read /proc/%ld/status (-P): %s", bench.pid,
			  strerror(errno));
}

/* ---- setting up ------------------------------------------------------------ */

/*
 * Raises the limit on open descriptors to the most allowed, so that
 * thousands of clients fit. Returns the limit now in force.
 */
static size_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit:");
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
		else
			complain("setrlimit RLIMIT_NOFILE:");
	}
	return rl.rlim_cur == RLIM_INFINITY ? (size_t)-1 : (size_t)rl.rlim_cur;
}

/*
 * Sizes the run to the descriptors it may open (a few stay for stdio and
 * epoll), allocates the clients and starts the clock.
 */
static void setup(size_t nofile)
{
	size_t room = nofile > 16 ? nofile - 16 : 0;
	size_t n = bench.cap > 0 ? bench.cap : bench.nclients;

	if (bench.cap == 0 && n > room)
		die("%zu clients need more descriptors than the limit allows (%zu)",
		    n, nofile);
	if (n > room)
		n = room;	/* -C: the limit is where holding stops */
	bench.target = n;
	bench.cl = calloc(n, sizeof(*bench.cl));
	if (bench.cl == NULL)
		die("calloc %zu clients:", n);
	if (bench.cap == 0) {
		/* For each receiver, the next line number due from each sender. */
		bench.next_seq = calloc(n * n, sizeof(*bench.next_seq));
		if (bench.next_seq == NULL)
			die("calloc %zu sequence numbers:", n * n);
	}
	bench.t_start = now_ns();
	bench.deadline = bench.t_start + (int64_t)bench.seconds * NS_PER_S;
	bench.next_sample = bench.t_start;
}

/* ---- a chat run (the default) ---------------------------------------------- */

/* The lines every client sends, all together. */
static uint64_t total_lines(void)
{
	return (uint64_t)bench.nclients * bench.nlines;
}

/* Deliveries expected: each line reaches every client but its sender. */
static uint64_t expected(void)
{
	return total_lines() * (bench.nclients - 1);
}

/* Connect phase done: everyone welcomed, or someone lost. */
static int all_welcomed(void)
{
	return bench.welcomed == bench.target || bench.failed > 0 ||
	       bench.dropped > 0;
}

/* Settle phase done: every client heard of those who came after it. */
static int all_joined(void)
{
	uint64_t n = bench.nclients;

	return bench.joins_seen >= n * (n - 1) / 2 || bench.dropped > 0;
}

/*
 * Chat phase done: every delivery arrived, or no more can. When a loss is
 * already certain, a second of silence ends it; when every line is sent
 * and nothing moves for STALL_NS, the server has stopped.
 */
static int chat_done(void)
{
	int64_t last = bench.t_last_rx > bench.t_last_tx ? bench.t_last_rx :
		       bench.t_last_tx;
	int64_t silent = now_ns() - last;
	int doomed = bench.dropped > 0 || bench.corrupt > 0 ||
		     bench.out_of_order > 0;

	if (bench.received >= expected() || bench.open == 0)
		return 1;
	if (doomed && silent > QUIET_NS)
		return 1;
	return bench.lines_made == total_lines() && silent > STALL_NS;
}

/*
 * The three phases of a chat run: connect everyone, let the "joined" lines
 * settle, then send. Returns 0 if all three ran to the end, -1 otherwise.
 */
static int chat_phases(void)
{
	loop_init();
	if (loop_until(all_welcomed) < 0 || bench.failed > 0 ||
	    bench.dropped > 0)
		return -1;
	bench.t_connected = now_ns();
	if (loop_until(all_joined) < 0 || bench.dropped > 0)
		return -1;
	bench.t_last_rx = bench.t_last_tx = now_ns();
	if (bench.rate > 0) {
		bench.pace_start = now_ns();
	} else {
		for (size_t i = 0; i < bench.nclients; i++)
			loop_owe(&bench.cl[i], (uint32_t)bench.nlines);
	}
	return loop_until(chat_done);
}

/* Runs a chat run and reports it. Returns the exit status: 0 if it passed. */
static int run_chat(void)
{
	int ok = chat_phases() == 0;

	ok = ok && bench.received == expected() && bench.corrupt == 0 &&
	     bench.out_of_order == 0 && bench.dropped == 0;
	server_sample();
	report_chat(ok);
	return ok ? 0 : 1;
}

/* ---- a -C run: how many clients the server holds ---------------------------- */

/* Clients held once connecting is over; the settle and broadcast use it. */
static size_t cap_held;

/* Connecting done: nobody still waiting, and the target met or a failure. */
static int cap_connected(void)
{
	return bench.pending == 0 &&
	       (bench.ncl == bench.target || bench.failed > 0);
}

/* Settled: all the "joined" lines arrived, or nothing came for a second. */
static int cap_settled(void)
{
	uint64_t n = cap_held;

	return bench.joins_seen >= n * (n - 1) / 2 ||
	       now_ns() - bench.t_last_rx > QUIET_NS;
}

/* Broadcast done: every other client has the line, or its time is up. */
static int cap_heard(void)
{
	return bench.received + 1 >= cap_held ||
	       now_ns() - bench.t_first_send > CAP_BROADCAST_NS;
}

/* Connects clients until one fails or the target is met; returns why it stopped. */
static const char *cap_connect(void)
{
	static char why[64];

	loop_init();
	if (loop_until(cap_connected) < 0)
		return bench.timed_out ? "the deadline passed" : "interrupted";
	bench.t_connected = now_ns();
	if (bench.failed > 0)
		return bench.fail_why;
	if (bench.target < bench.cap)
		snprintf(why, sizeof(why), "our descriptor limit (%zu)",
			 bench.target);
	else
		snprintf(why, sizeof(why), "reached the cap of %zu", bench.cap);
	return why;
}

/* The first client still in the room, which sends the broadcast line. */
static struct client *first_ready(void)
{
	for (size_t i = 0; i < bench.ncl; i++)
		if (bench.cl[i].state == CL_READY)
			return &bench.cl[i];
	return NULL;
}

/* Why the -C run R failed; NULL if it passed. */
static const char *cap_error(const struct cap_result *r)
{
	static char text[128];

	if (r->held < 2)
		snprintf(text, sizeof(text), "only %zu clients held (%s)",
			 r->held, r->stop);
	else if (r->reached + 1 < r->held)
		snprintf(text, sizeof(text),
			 "the broadcast reached %zu of %zu clients in 1 s",
			 r->reached, r->held - 1);
	else if (bench.timed_out)
		snprintf(text, sizeof(text), "the deadline of %zu s passed",
			 bench.seconds);
	else
		return NULL;
	return text;
}

/* Runs a -C run and reports it. Returns the exit status: 0 if it passed. */
static int run_cap(void)
{
	struct cap_result r;

	/* A server_read() that fails leaves zeros, which the report calls unknown. */
	memset(&r, 0, sizeof(r));
	if (bench.pid != 0)
		server_read(bench.pid, &r.base);
	r.stop = cap_connect();
	cap_held = loop_ready();
	if (cap_held >= 2 && !bench.timed_out &&
	    loop_until(cap_settled) == 0) {
		if (bench.pid != 0)
			server_read(bench.pid, &r.full);
		cap_held = loop_ready();	/* the server may have dropped some */
		if (cap_held >= 2) {
			loop_owe(first_ready(), 1);
			loop_until(cap_heard);
		}
	}
	server_sample();
	r.held = cap_held;
	r.reached = bench.received;
	r.error = cap_error(&r);
	report_cap(r.error == NULL, &r);
	return r.error == NULL ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc;

	spell_long_options(argc, argv);
	rc = cli_parse(&cli, argc, argv);
	if (rc != CLI_RUN)
		cli_exit(&cli, rc);
	bench.host = cli.operand[0];
	bench.port = cli.operand[1];
	check_options();
	if (util_catch_stop_signals() < 0 || util_ignore_sigpipe() < 0)
		die("sigaction:");
	setup(raise_nofile());
	return bench.cap > 0 ? run_cap() : run_chat();
}
