/*
 * cli.c - the command-line contract: see cli.h.
 */
#include "cli.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Builds the getopt() option string ("a:p:h") for CLI into BUF. */
static void optstring(const struct cli *cli, char *buf, size_t size)
{
	size_t n = 0;

	buf[n++] = ':';		/* report a missing argument as ':' */
	for (const struct cli_option *o = cli->options; o->letter; o++) {
		if (n + 3 >= size)
			break;
		buf[n++] = o->letter;
		if (o->arg)
			buf[n++] = ':';
	}
	buf[n++] = 'h';
	buf[n] = '\0';
}

/* Returns the table entry for option letter C, or NULL. */
static const struct cli_option *find(const struct cli *cli, int c)
{
	for (const struct cli_option *o = cli->options; o->letter; o++)
		if (o->letter == c)
			return o;
	return NULL;
}

/*
 * Checks that every operand named PORT in the usage is a port number.
 * Returns CLI_RUN, or CLI_BAD with the message in cli->error.
 */
static int check_ports(struct cli *cli)
{
	const char *name = cli->operands;

	for (int i = 0; i < cli->noperands; i++) {
		size_t len = strcspn(name, " ");

		if (len == 4 && strncmp(name, "PORT", 4) == 0 &&
		    !cli_is_port(cli->operand[i])) {
			snprintf(cli->error, sizeof(cli->error),
				 "invalid PORT: '%s'", cli->operand[i]);
			return CLI_BAD;
		}
		name += len + (name[len] == ' ');
	}
	return CLI_RUN;
}

int cli_parse(struct cli *cli, int argc, char **argv)
{
	char opts[64];
	const struct cli_option *o;
	int c;

	util_set_progname(argv[0]);
	optstring(cli, opts, sizeof(opts));
	opterr = 0;
	while ((c = getopt(argc, argv, opts)) != -1) {
		if (c == 'h')
			return CLI_HELP;
		if (c == ':') {
			snprintf(cli->error, sizeof(cli->error),
				 "option -%c needs an argument", optopt);
			return CLI_BAD;
		}
		o = find(cli, c);
		if (o == NULL) {
			snprintf(cli->error, sizeof(cli->error),
				 "unknown option -%c", optopt);
			return CLI_BAD;
		}
		if (o->set(optarg, o->dst) < 0) {
			snprintf(cli->error, sizeof(cli->error),
				 "invalid %s for -%c: '%s'", o->arg, c, optarg);
			return CLI_BAD;
		}
	}
	if (argc - optind != cli->noperands) {
		snprintf(cli->error, sizeof(cli->error), "expected %s%s",
			 cli->noperands ? "" : "no operands",
			 cli->noperands ? cli->operands : "");
		return CLI_BAD;
	}
	cli->operand = argv + optind;
	return check_ports(cli);
}

/* Prints the synopsis, and with FULL the summary and one line per option. */
static void usage(const struct cli *cli, FILE *out, int full)
{
	const struct cli_option *o;

	fprintf(out, "usage: %s [-h]", util_progname());
	for (o = cli->options; o->letter; o++)
		fprintf(out, o->arg ? " [-%c %s]" : " [-%c]", o->letter,
			o->arg ? o->arg : "");
	fprintf(out, "%s%s\n", *cli->operands ? " " : "", cli->operands);
	if (!full)
		return;
	fprintf(out, "%s\n\noptions:\n", cli->about);
	for (o = cli->options; o->letter; o++)
		fprintf(out, "  -%c %-9s %s\n", o->letter, o->arg ? o->arg : "",
			o->help);
	fprintf(out, "  -h %-9s %s\n", "", "show this help and exit");
}

void cli_exit(const struct cli *cli, int status)
{
	if (status == CLI_HELP) {
		usage(cli, stdout, 1);
		exit(0);
	}
	fprintf(stderr, "%s: %s\n", util_progname(), cli->error);
	usage(cli, stderr, 0);
	fprintf(stderr, "Try '%s -h' for more information.\n",
		util_progname());
	exit(2);
}

int cli_is_port(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno == 0 && *end == '\0' && v >= 0 && v <= 65535;
}

int cli_set_string(const char *arg, void *dst)
{
	*(const char **)dst = arg;
	return 0;
}

int cli_set_port(const char *arg, void *dst)
{
	if (!cli_is_port(arg))
		return -1;
	*(const char **)dst = arg;
	return 0;
}

int cli_parse_size(const char *arg, size_t *dst, size_t min, size_t max)
{
	char *end;
	unsigned long long v;

	if (*arg < '0' || *arg > '9')
		return -1;	/* strtoull() would take "-1" and " 1" */
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*dst = (size_t)v;
	return 0;
}

int cli_set_size(const char *arg, void *dst)
{
	return cli_parse_size(arg, dst, 1, CLI_SIZE_MAX);
}

int cli_set_flag(const char *arg, void *dst)
{
	(void)arg;
	*(int *)dst = 1;
	return 0;
}
