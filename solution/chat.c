/*
 * chat.c - what a line from a client means: see chat.h and the protocol in
 * README.md. command.c reads the line; this file acts on it.
 */
#include "chat.h"
#include "command.h"
#include "log.h"
#include "text.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest batch of chat lines handed to the room at once. */
#define BATCH_MAX (16 * 1024)

/* Bytes of a name or a command echoed back in an error line, at most. */
#define ECHO_MAX 32

/* Queues a formatted line for C alone. */
static void tell(struct chat *ch, struct client *c, const char *fmt, ...)
	KIT_PRINTF(3, 4);

static void tell(struct chat *ch, struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ch->line, ch->size, fmt, ap);
	va_end(ap);
	room_tell(c, ch->line);
}

/*
 * Cleans the text of span S into ch->clean, cut to MAX bytes on a
 * character boundary. Returns its length: 0 when nothing printable is left.
 */
static size_t clean(struct chat *ch, struct command_span s, size_t max)
{
	return text_cut(ch->clean, text_clean(s.p, s.len, ch->clean), max);
}

/*
 * Adds the text of span S, cleaned, to the batch for everyone but C, after
 * PREFIX ("<NICK> " or "* NICK "). Empty text is dropped. Returns 0, or -1
 * if C is no longer in the room.
 * With -v, the line is logged too (private messages never are).
 */
static int relay(struct chat *ch, struct client *c, int action,
		 struct command_span s)
{
	int n;

	if (clean(ch, s, ch->size) == 0)
		return 0;
	if (action)
		n = snprintf(ch->line, ch->size, "* %s %s", c->nick, ch->clean);
	else
		n = snprintf(ch->line, ch->size, "<%s> %s", c->nick, ch->clean);
	if (n >= (int)ch->size - 1)	/* never: ch->size has room for it */
		n = (int)ch->size - 2;
	if (ch->log_lines)
		log_say("%s", ch->line);
	if (ch->batch.len + (size_t)n + 1 > ch->batch_max && chat_flush(ch, c) < 0)
		return -1;
	if (buffer_add(&ch->batch, ch->line, (size_t)n, 1) == 0)
		return 0;
	ch->line[n] = '\n';	/* out of memory: this line alone, unbatched */
	return room_broadcast_lines(c, ch->line, (size_t)n + 1) == ROOM_OK ? 0 : -1;
}

/* ---------------------------------------------------------- the commands */

/* /nick NAME: a new name, if valid and free. */
static int cmd_nick(struct chat *ch, struct client *c, const struct command *cmd)
{
	char name[MAX_NICK + 1];
	int rc;

	if (cmd->text.len > 0) {
		tell(ch, c, "*** error: a nickname has no spaces");
		return 1;
	}
	if (!text_valid_nick(cmd->word.p, cmd->word.len)) {
		clean(ch, cmd->word, ECHO_MAX);
		tell(ch, c, "*** error: invalid nickname '%s' (1 to %d of "
		     "A-Z a-z 0-9 _ -)", ch->clean, MAX_NICK);
		return 1;
	}
	memcpy(name, cmd->word.p, cmd->word.len);
	name[cmd->word.len] = '\0';
	if (strcmp(name, c->nick) == 0)
		tell(ch, c, "*** error: you are already %s", name);
	else if ((rc = room_rename(c, name)) == ROOM_REFUSED)
		tell(ch, c, "*** error: nickname %s is taken", name);
	else if (rc == ROOM_GONE)
		return 0;
	return 1;
}

/* /list and /who: who is online. */
static int cmd_list(struct chat *ch, struct client *c, const struct command *cmd)
{
	(void)ch;
	(void)cmd;
	room_list(c);
	return 1;
}

/* /msg NAME text: a private message. */
static int cmd_msg(struct chat *ch, struct client *c, const struct command *cmd)
{
	char to[MAX_NICK + 1];
	int rc;

	if (cmd->word.len == 0 || clean(ch, cmd->text, ch->size) == 0) {
		tell(ch, c, "*** error: usage: /msg NAME text");
		return 1;
	}
	/* A name longer than any nickname is nobody's. */
	snprintf(to, sizeof(to), "%.*s", (int)(cmd->word.len > MAX_NICK ? 0 :
					       cmd->word.len), cmd->word.p);
	rc = to[0] != '\0' ? room_whisper(c, to, ch->clean) : ROOM_REFUSED;
	if (rc == ROOM_REFUSED) {
		clean(ch, cmd->word, ECHO_MAX);
		tell(ch, c, "*** error: no such nickname: %s", ch->clean);
	} else if (rc == ROOM_NOMEM) {
		tell(ch, c, "*** error: out of memory, message not sent");
	}
	return rc != ROOM_GONE;
}

/* /me text: an action, "* NICK text". */
static int cmd_me(struct chat *ch, struct client *c, const struct command *cmd)
{
	return relay(ch, c, 1, cmd->text) == 0;
}

/* /quit [reason]: leave the room, the reason cut to fit ch->reason. */
static int cmd_quit(struct chat *ch, struct client *c, const struct command *cmd)
{
	(void)c;
	clean(ch, cmd->text, sizeof(ch->reason) - 1);
	memcpy(ch->reason, ch->clean, strlen(ch->clean) + 1);
	return 0;
}

static int cmd_help(struct chat *ch, struct client *c, const struct command *cmd);

/* What each verb of command.h runs, and its line in /help. */
static const struct {
	enum command_verb verb;
	int (*run)(struct chat *ch, struct client *c, const struct command *cmd);
	const char *help;
} commands[] = {
	{ COMMAND_NICK, cmd_nick, "/nick NAME       change your nickname" },
	{ COMMAND_LIST, cmd_list, "/list or /who    who is online" },
	{ COMMAND_MSG, cmd_msg, "/msg NAME text   a private message" },
	{ COMMAND_ME, cmd_me, "/me text         an action: * NICK text" },
	{ COMMAND_QUIT, cmd_quit, "/quit [reason]   leave the room" },
	{ COMMAND_HELP, cmd_help, "/help            this list" },
};

/* /help: the commands, one per line. */
static int cmd_help(struct chat *ch, struct client *c, const struct command *cmd)
{
	(void)cmd;
	tell(ch, c, "*** commands:");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		tell(ch, c, "***   %s", commands[i].help);
	tell(ch, c, "***   //text           a chat line that starts with /");
	return 1;
}

/*
 * Runs command CMD, once the chat before it is on its way. Returns what
 * the command does: 1 to go on, 0 to stop.
 */
static int command(struct chat *ch, struct client *c, const struct command *cmd)
{
	/* [commands] */
	if (chat_flush(ch, c) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].verb == cmd->verb)
			return commands[i].run(ch, c, cmd);
	clean(ch, cmd->name, ECHO_MAX);
	tell(ch, c, "*** error: unknown command /%s (try /help)", ch->clean);
	return 1;
	/* [/commands] */
}

/* ------------------------------------------------------------ public API */

void chat_init(struct chat *ch, const struct room_config *cfg)
{
	memset(ch, 0, sizeof(*ch));
	ch->size = CHAT_LINE_SIZE(cfg->max_line);
	/* A batch must fit in half a listener's queue (see room.c). */
	ch->batch_max = cfg->max_queue / 4 < BATCH_MAX ? cfg->max_queue / 4
						       : BATCH_MAX;
}

/*
 * Allocates the scratch buffers on the first line: a client that never
 * says anything costs none of it. Returns 0, or -1 if out of memory.
 */
static int chat_ready(struct chat *ch)
{
	if (ch->clean == NULL)
		ch->clean = malloc(ch->size);
	if (ch->line == NULL)
		ch->line = malloc(ch->size);
	return ch->clean != NULL && ch->line != NULL ? 0 : -1;
}

void chat_free(struct chat *ch)
{
	free(ch->clean);
	free(ch->line);
	free(ch->batch.data);
	ch->clean = ch->line = ch->batch.data = NULL;
}

int chat_flush(struct chat *ch, struct client *c)
{
	int rc;

	if (ch->batch.len == 0)
		return 0;
	rc = room_broadcast_lines(c, ch->batch.data, ch->batch.len);
	ch->batch.len = 0;
	return rc == ROOM_OK ? 0 : -1;
}

int chat_handle(struct chat *ch, struct client *c, const char *line, size_t len)
{
	struct command cmd;

	command_parse(line, len, &cmd);
	if (cmd.verb == COMMAND_NONE)
		return 1;
	if (chat_ready(ch) < 0) {
		room_tell(c, "*** error: out of memory, line dropped");
		return 1;
	}
	if (cmd.verb == COMMAND_CHAT)
		return relay(ch, c, 0, cmd.text) == 0;
	return command(ch, c, &cmd);
}
