/*
 * command_parse.c - fuzz target for the chat protocol's parser
 * (solution/command.c).
 *
 * Input: one line from a client, as the line reader hands it over (no LF;
 * any other byte, NUL included). Checked, beyond crashes:
 *   - every span command_parse() fills lies inside the line;
 *   - a command's name and a /nick or /msg word hold no space;
 *   - the result is the one a plain reading of the protocol gives: an empty
 *     line is nothing, a line without a leading '/' (or with "//") is chat,
 *     else the word after '/' names the command, ignoring case, and the
 *     rest, leading spaces skipped, is its argument.
 */
#include "command.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stops the run: libFuzzer saves the input that got here. */
static void fail(const char *what)
{
	fprintf(stderr, "command_parse: %s\n", what);
	abort();
}

/* Checks that S is empty or lies within the LEN bytes at LINE. */
static void inside(struct command_span s, const char *line, size_t len)
{
	if (s.len > 0 && (s.p < line || s.p + s.len > line + len))
		fail("a span outside the line");
}

/* Returns 1 if S is the LEN bytes at P. */
static int is(struct command_span s, const char *p, size_t len)
{
	return s.len == len && (len == 0 || s.p == p);
}

/* The command named by the N bytes at P, as the protocol lists them. */
static enum command_verb verb_of(const char *p, size_t n)
{
	static const struct {
		const char *name;
		enum command_verb verb;
	} names[] = {
		{ "nick", COMMAND_NICK }, { "list", COMMAND_LIST },
		{ "who", COMMAND_LIST }, { "msg", COMMAND_MSG },
		{ "me", COMMAND_ME }, { "quit", COMMAND_QUIT },
		{ "help", COMMAND_HELP },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t k = 0;

		if (strlen(names[i].name) != n)
			continue;
		while (k < n && (p[k] | 0x20) == names[i].name[k])
			k++;
		if (k == n)
			return names[i].verb;
	}
	return COMMAND_UNKNOWN;
}

/* Length of the word at P (up to END): the bytes before the first space. */
static size_t word_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != ' ')
		q++;
	return (size_t)(q - p);
}

/* Skips the spaces at P, up to END. */
static const char *skip(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* Compares CMD with the protocol's reading of LINE. */
static void check(const struct command *cmd, const char *line, size_t len)
{
	const char *end = line + len, *name, *args;
	size_t n;

	if (len == 0) {
		if (cmd->verb != COMMAND_NONE)
			fail("an empty line is not nothing");
		return;
	}
	if (line[0] != '/' || (len > 1 && line[1] == '/')) {
		size_t off = line[0] == '/';

		if (cmd->verb != COMMAND_CHAT || !is(cmd->text, line + off, len - off))
			fail("chat was not read as chat");
		return;
	}
	name = line + 1;
	n = word_len(name, end);
	args = skip(name + n, end);
	if (cmd->verb != verb_of(name, n) || !is(cmd->name, name, n))
		fail("the wrong command");
	if (cmd->verb == COMMAND_NICK || cmd->verb == COMMAND_MSG) {
		size_t w = word_len(args, end);
		const char *rest = skip(args + w, end);

		if (!is(cmd->word, args, w) ||
		    !is(cmd->text, rest, (size_t)(end - rest)))
			fail("the wrong word or text after /nick or /msg");
	} else if (!is(cmd->text, args, (size_t)(end - args))) {
		fail("the wrong argument");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of just the line's size, so that ASan sees any overread. */
	char *line = malloc(size ? size : 1);
	struct command cmd;

	if (line == NULL)
		fail("out of memory");
	memcpy(line, data, size);
	command_parse(line, size, &cmd);
	inside(cmd.name, line, size);
	inside(cmd.word, line, size);
	inside(cmd.text, line, size);
	if (memchr(cmd.name.p ? cmd.name.p : line, ' ', cmd.name.len) ||
	    memchr(cmd.word.p ? cmd.word.p : line, ' ', cmd.word.len))
		fail("a command name or word with a space");
	check(&cmd, line, size);
	free(line);
	return 0;
}
