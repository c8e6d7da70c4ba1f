/*
 * command.c - the chat protocol's parser: see command.h.
 */
#include "command.h"

#include <string.h>
#include <strings.h>

/* The command words, and their verbs. */
static const struct {
	const char *name;
	enum command_verb verb;
} verbs[] = {
	{ "nick", COMMAND_NICK }, { "list", COMMAND_LIST },
	{ "who", COMMAND_LIST },  { "msg", COMMAND_MSG },
	{ "me", COMMAND_ME },     { "quit", COMMAND_QUIT },
	{ "help", COMMAND_HELP },
};

/* Returns S with the spaces at its start skipped. */
static struct command_span skip_spaces(struct command_span s)
{
	while (s.len > 0 && *s.p == ' ') {
		s.p++;
		s.len--;
	}
	return s;
}

/*
 * Splits S at its first space: returns the word before it, and leaves in
 * *REST what follows, spaces skipped.
 */
static struct command_span first_word(struct command_span s,
				      struct command_span *rest)
{
	const char *space = memchr(s.p, ' ', s.len);
	struct command_span word = { s.p, space ? (size_t)(space - s.p) : s.len };

	rest->p = s.p + word.len;
	rest->len = s.len - word.len;
	*rest = skip_spaces(*rest);
	return word;
}

/* Returns the verb named by the LEN bytes of NAME, ignoring case. */
static enum command_verb find_verb(struct command_span name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == name.len &&
		    strncasecmp(verbs[i].name, name.p, name.len) == 0)
			return verbs[i].verb;
	return COMMAND_UNKNOWN;
}

void command_parse(const char *line, size_t len, struct command *cmd)
{
	struct command_span all = { line, len }, args;

	memset(cmd, 0, sizeof(*cmd));
	cmd->text = all;
	if (len == 0) {
		cmd->verb = COMMAND_NONE;
		return;
	}
	if (line[0] != '/' || (len > 1 && line[1] == '/')) {
		cmd->verb = COMMAND_CHAT;
		if (line[0] == '/') {	/* "//text": one '/' less */
			cmd->text.p++;
			cmd->text.len--;
		}
		return;
	}
	all.p++;
	all.len--;
	cmd->name = first_word(all, &args);
	cmd->verb = find_verb(cmd->name);
	cmd->text = args;
	if (cmd->verb == COMMAND_NICK || cmd->verb == COMMAND_MSG)
		cmd->word = first_word(args, &cmd->text);
}
