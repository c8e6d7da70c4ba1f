/*
 * command.h - what a line from a client says: chat, or which command with
 * which arguments.
 *
 * command_parse() is a pure function: it only reads the line and fills the
 * struct, so it can be tested (and fuzzed) on its own. chat.c acts on what
 * it returns.
 */
#ifndef COMMAND_H
#define COMMAND_H

#include <stddef.h>

enum command_verb {
	COMMAND_NONE,		/* an empty line: nothing to do */
	COMMAND_CHAT,		/* chat; "//text" is the chat line "/text" */
	COMMAND_NICK,		/* /nick NAME */
	COMMAND_LIST,		/* /list or /who */
	COMMAND_MSG,		/* /msg NAME text */
	COMMAND_ME,		/* /me text */
	COMMAND_QUIT,		/* /quit [reason] */
	COMMAND_HELP,		/* /help */
	COMMAND_UNKNOWN		/* '/' and a word that is no command */
};

/* LEN bytes of the line from P: not NUL-terminated, maybe empty. */
struct command_span {
	const char *p;
	size_t len;
};

struct command {
	enum command_verb verb;
	struct command_span name;	/* the command word, without its '/' */
	struct command_span word;	/* /nick, /msg: the first word after it */
	struct command_span text;	/* chat, /me, /quit: the text; /msg: after
					   NAME; /nick: what follows NAME (must
					   be empty: a nickname has no spaces) */
};

/*
 * Reads LEN bytes of LINE (no LF) into *CMD. Words are separated by runs
 * of spaces; command names are matched ignoring case. Every span points
 * into LINE.
 */
void command_parse(const char *line, size_t len, struct command *cmd);

#endif
