/*
 * cli.h - the command-line contract shared by every program of the kit.
 *
 * A program describes its options in a table; cli_parse() reads argv with
 * getopt() and fills the variables the table points at. -h is always there.
 * Servers list CLI_SERVER_OPTIONS (-a ADDRESS, -p PORT); clients take HOST
 * and PORT operands.
 */
#ifndef CLI_H
#define CLI_H

#include "config.h"

#include <stddef.h>

struct cli_option {
	char letter;		/* 'p' for -p */
	const char *arg;	/* its argument's name in the help ("PORT"), NULL if none */
	const char *help;	/* one line for -h */
	int (*set)(const char *arg, void *dst);	/* stores ARG; -1 if invalid */
	void *dst;		/* where set() stores it */
};

struct cli {
	const char *about;	/* one sentence: what the program does */
	const struct cli_option *options;	/* ends with an entry whose letter is 0 */
	const char *operands;	/* names of the operands for the usage, "" if none */
	int noperands;		/* how many operands are required */
	char **operand;		/* filled by cli_parse(): the first operand */
	char error[160];	/* filled by cli_parse() on bad usage */
};

/* A tunable's value as a string, for help texts: CLI_STR(MAX_LINE) is "1024". */
#define CLI_STR(x) CLI_STR_(x)
#define CLI_STR_(x) #x

/* -a and -p of every server, storing strings into ADDR and PORT. */
#define CLI_SERVER_OPTIONS(addr, port) \
	{ 'a', "ADDRESS", "address to listen on (default: every address)", \
	  cli_set_string, &(addr) }, \
	{ 'p', "PORT", "port to listen on, 0 for any free one (default: " \
	  DEFAULT_PORT ")", cli_set_port, &(port) }

enum { CLI_BAD = -1, CLI_RUN = 0, CLI_HELP = 1 };

/*
 * Parses ARGC/ARGV against CLI. Returns CLI_RUN when the program should go
 * on, CLI_HELP for -h, or CLI_BAD with a message in cli->error.
 */
int cli_parse(struct cli *cli, int argc, char **argv);

/*
 * For main() after cli_parse() said CLI_HELP or CLI_BAD: prints the usage
 * on stdout and exits 0, or prints the error and the usage on stderr and
 * exits 2, as the contract says.
 */
_Noreturn void cli_exit(const struct cli *cli, int status);

/*
 * Every number an option takes has a range, and a number out of it is bad
 * usage (exit 2), never a value the program goes on with. cli_set_size()
 * takes 1 to CLI_SIZE_MAX: small enough that a program may multiply it by
 * a few without overflow. An option with a narrower range has a setter of
 * its own that calls cli_parse_size() with it (step 02's client, -w).
 */
#define CLI_SIZE_MAX 1000000000

/* Setters for cli_option.set. Each returns 0, or -1 if ARG is not valid. */
int cli_set_string(const char *arg, void *dst);	/* const char * */
int cli_set_port(const char *arg, void *dst);	/* const char *, 0..65535 */
int cli_set_size(const char *arg, void *dst);	/* size_t, 1..CLI_SIZE_MAX */
int cli_set_flag(const char *arg, void *dst);	/* int, set to 1 */

/*
 * Stores the decimal number ARG into *DST if it is from MIN to MAX, both
 * included. Returns 0, or -1 if ARG is not such a number.
 */
int cli_parse_size(const char *arg, size_t *dst, size_t min, size_t max);

/* Returns 1 if S is a port number (0..65535), 0 otherwise. */
int cli_is_port(const char *s);

#endif
