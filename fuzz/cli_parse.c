/*
 * cli_parse.c - fuzz target for the command-line parser (common/cli.c).
 *
 * Input: byte 0 picks a program (a server with -a -p -m -l -q -v, or a
 * client with -n and the operands HOST PORT); the rest, cut at each NUL,
 * is its argv after the program name. Checked, beyond crashes:
 *   - cli_parse() says run, help or bad usage, and bad usage comes with a
 *     message;
 *   - when it says run, every value it stored is in range: a port is 0 to
 *     65535 written in digits, a size 1 to CLI_SIZE_MAX, and a PORT operand
 *     is a port;
 *   - cli_is_port(), cli_set_size() and cli_parse_size() agree, on every
 *     argument, with the rules spelled out here.
 */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Most arguments tried, the program name included. */
#define MAX_ARGS 64

/* The largest size cli_set_size() takes: cli.h says, where it says. */
#ifdef CLI_SIZE_MAX
#define SIZE_LIMIT ((uintmax_t)CLI_SIZE_MAX)
#else
#define SIZE_LIMIT ((uintmax_t)SIZE_MAX / 2)
#endif

/* Stops the run: libFuzzer saves the input that got here. */
static void fail(const char *what)
{
	fprintf(stderr, "cli_parse: %s\n", what);
	abort();
}

/* Parses the decimal digits of S into *V; 0 if S is not only digits or overflows. */
static int decimal(const char *s, uintmax_t *v)
{
	*v = 0;
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || *v > (UINTMAX_MAX - 9) / 10)
			return 0;
		*v = *v * 10 + (uintmax_t)(*s - '0');
	}
	return 1;
}

/* The port rule: digits only, 0 to 65535. */
static int port_rule(const char *s)
{
	uintmax_t v;

	return decimal(s, &v) && v <= 65535;
}

/* The size rule: digits only, MIN to MAX. */
static int size_rule(const char *s, size_t *out, uintmax_t min, uintmax_t max)
{
	uintmax_t v;

	if (!decimal(s, &v) || v < min || v > max)
		return 0;
	*out = (size_t)v;
	return 1;
}

/* Compares the setters with the rules on one argument. */
static void check_setters(const char *arg)
{
	size_t got = 0, want = 0;
	int ok = cli_set_size(arg, &got) == 0;

	if (ok != size_rule(arg, &want, 1, SIZE_LIMIT) || (ok && got != want))
		fail("cli_set_size disagrees with the size rule");
	if (cli_is_port(arg) != port_rule(arg))
		fail("cli_is_port disagrees with the port rule");
#ifdef CLI_SIZE_MAX
	/* The bounds of a narrower option, taken from the argument's length. */
	{
		size_t min = strlen(arg) % 3, max = min + strlen(arg) * 1000;

		ok = cli_parse_size(arg, &got, min, max) == 0;
		if (ok != size_rule(arg, &want, min, max) || (ok && got != want))
			fail("cli_parse_size disagrees with the size rule");
	}
#endif
}

/* The options of the two programs tried, and where they store values. */
static const char *addr, *port, *nick;
static size_t clients, line, queue;
static int verbose;

static const struct cli_option server_options[] = {
	CLI_SERVER_OPTIONS(addr, port),
	{ 'm', "CLIENTS", "most clients", cli_set_size, &clients },
	{ 'l', "BYTES", "longest line", cli_set_size, &line },
	{ 'q', "BYTES", "longest queue", cli_set_size, &queue },
	{ 'v', NULL, "say more", cli_set_flag, &verbose },
	{ 0 }
};

static const struct cli_option client_options[] = {
	{ 'n', "NICK", "nickname", cli_set_string, &nick },
	{ 0 }
};

/* Checks what a run of cli_parse() that said CLI_RUN left behind. */
static void check_run(const struct cli *cli, int client)
{
	size_t sizes[] = { clients, line, queue };

	if (!port_rule(port))
		fail("an invalid -p was accepted");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] == 0 || sizes[i] > SIZE_LIMIT)
			fail("a size out of range was accepted");
	if (client && !port_rule(cli->operand[1]))
		fail("an invalid PORT operand was accepted");
	if (cli->operand == NULL)
		fail("no operands pointer on success");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *argv[MAX_ARGS + 1];
	struct cli cli = { .about = "fuzzed" };
	int argc = 0, client, rc;

	if (size < 1)
		return 0;
	client = data[0] & 1;
	cli.options = client ? client_options : server_options;
	cli.operands = client ? "HOST PORT" : "";
	cli.noperands = client ? 2 : 0;
	/* "prog", its NUL, the arguments, and a NUL after the last one. */
	copy = malloc(size + 5);
	if (copy == NULL)
		fail("out of memory");
	memcpy(copy, "prog", 5);
	memcpy(copy + 5, data + 1, size - 1);
	copy[size + 4] = '\0';
	for (char *p = copy; p < copy + size + 4 && argc < MAX_ARGS;
	     p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	for (int i = 1; i < argc; i++)
		check_setters(argv[i]);

	addr = nick = NULL;
	port = "0";
	clients = line = queue = 1;
	verbose = 0;
	optind = 0;		/* glibc: start getopt() afresh */
	rc = cli_parse(&cli, argc, argv);
	if (rc == CLI_BAD && (cli.error[0] == '\0' ||
			      memchr(cli.error, '\0', sizeof(cli.error)) == NULL))
		fail("bad usage without a message");
	else if (rc == CLI_RUN)
		check_run(&cli, client);
	else if (rc != CLI_BAD && rc != CLI_HELP)
		fail("cli_parse returned something else");
	free(copy);
	return 0;
}
