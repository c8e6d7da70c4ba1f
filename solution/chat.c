/*
 * chat.c - what a line from a client means: see chat.h and the protocol in
 * README.md.
 */
#include "chat.h"
#include "log.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Room for "*** error: " and the like in front of the clean text. */
#define PREFIX_ROOM (MAX_NICK + 64)

/* Largest batch of chat lines handed to the room at once. */
#define BATCH_MAX (16 * 1024)

/* Queues a formatted line for C alone. */
static void tell(struct chat *ch, struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ch->line, ch->size, fmt, ap);
	va_end(ap);
	room_tell(c, ch->line);
}

/*
 * Cleans LEN bytes of TEXT into ch->clean. Returns its length: 0 when
 * nothing printable is left.
 */
static size_t clean(struct chat *ch, const char *text, size_t len)
{
	return text_clean(text, len, ch->clean);
}

/*
 * Adds LEN bytes of TEXT, cleaned, to the batch for everyone but C, as FMT
 * says ("<%s> %s": the nickname, then the text). Empty text is dropped.
 * With -v, the line is logged too (private messages never are).
 */
static void relay(struct chat *ch, struct client *c, const char *fmt,
		  const char *text, size_t len)
{
	int n;

	if (clean(ch, text, len) == 0)
		return;
	n = snprintf(ch->line, ch->size, fmt, c->nick, ch->clean);
	if (n >= (int)ch->size)
		n = (int)ch->size - 1;
	if (ch->log_lines)
		log_say("%s", ch->line);
	if (ch->batch.len + (size_t)n + 1 > ch->batch_max)
		chat_flush(ch, c);
	if (buffer_add(&ch->batch, ch->line, (size_t)n, 1) < 0)
		room_broadcast(c, ch->line);	/* out of memory: no batch */
}

/* Splits ARGS at its first run of spaces: returns the rest, "" if none. */
static char *split(char *args)
{
	char *rest = args + strcspn(args, " ");

	if (*rest != '\0')
		*rest++ = '\0';
	return rest + strspn(rest, " ");
}

/* ---------------------------------------------------------- the commands */

/* /nick NAME: a new name, if valid and free. */
static int cmd_nick(struct chat *ch, struct client *c, char *args)
{
	char *name = args;

	split(args);
	clean(ch, name, strlen(name));
	if (!text_valid_nick(name))
		tell(ch, c, "*** error: invalid nickname '%.32s' (1 to %d of "
		     "A-Z a-z 0-9 _ -)", ch->clean, MAX_NICK);
	else if (strcmp(name, c->nick) == 0)
		tell(ch, c, "*** error: you are already %s", name);
	else if (room_rename(c, name) < 0)
		tell(ch, c, "*** error: nickname %s is taken", name);
	return 1;
}

/* /list and /who: who is online. */
static int cmd_list(struct chat *ch, struct client *c, char *args)
{
	(void)ch;
	(void)args;
	room_list(c);
	return 1;
}

/* /msg NAME text: a private message. */
static int cmd_msg(struct chat *ch, struct client *c, char *args)
{
	char *text = split(args);

	if (*args == '\0' || clean(ch, text, strlen(text)) == 0) {
		tell(ch, c, "*** error: usage: /msg NAME text");
		return 1;
	}
	if (room_whisper(c, args, ch->clean) < 0) {
		clean(ch, args, strlen(args));
		tell(ch, c, "*** error: no such nickname: %.32s", ch->clean);
	}
	return 1;
}

/* /me text: an action, "* NICK text". */
static int cmd_me(struct chat *ch, struct client *c, char *args)
{
	relay(ch, c, "* %s %s", args, strlen(args));
	return 1;
}

/* /quit [reason]: leave the room. */
static int cmd_quit(struct chat *ch, struct client *c, char *args)
{
	(void)c;
	clean(ch, args, strlen(args));
	snprintf(ch->reason, sizeof(ch->reason), "%s", ch->clean);
	return 0;
}

static int cmd_help(struct chat *ch, struct client *c, char *args);

static const struct command {
	const char *name;
	int (*run)(struct chat *ch, struct client *c, char *args);
	const char *help;	/* NULL for an alias */
} commands[] = {
	{ "nick", cmd_nick, "/nick NAME       change your nickname" },
	{ "list", cmd_list, "/list or /who    who is online" },
	{ "who", cmd_list, NULL },
	{ "msg", cmd_msg, "/msg NAME text   a private message" },
	{ "me", cmd_me, "/me text         an action: * NICK text" },
	{ "quit", cmd_quit, "/quit [reason]   leave the room" },
	{ "help", cmd_help, "/help            this list" },
};

/* /help: the commands, one per line. */
static int cmd_help(struct chat *ch, struct client *c, char *args)
{
	(void)args;
	tell(ch, c, "*** commands:");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].help != NULL)
			tell(ch, c, "***   %s", commands[i].help);
	tell(ch, c, "***   //text           a chat line that starts with /");
	return 1;
}

/*
 * Runs the command in LINE (after its '/'), once the chat before it is on
 * its way. Returns what the command does.
 */
static int command(struct chat *ch, struct client *c, char *line)
{
	/* [commands] */
	char *args = split(line);

	chat_flush(ch, c);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcasecmp(line, commands[i].name) == 0)
			return commands[i].run(ch, c, args);
	clean(ch, line, strlen(line));
	tell(ch, c, "*** error: unknown command /%.32s (try /help)", ch->clean);
	return 1;
	/* [/commands] */
}

/* ------------------------------------------------------------ public API */

int chat_init(struct chat *ch, const struct room_config *cfg)
{
	memset(ch, 0, sizeof(*ch));
	ch->size = TEXT_CLEAN_SIZE(cfg->max_line) + PREFIX_ROOM;
	ch->clean = malloc(ch->size);
	ch->line = malloc(ch->size);
	/* A batch must fit in a listener's queue with room to spare. */
	ch->batch_max = cfg->max_queue / 2 < BATCH_MAX ? cfg->max_queue / 2
						       : BATCH_MAX;
	if (ch->clean == NULL || ch->line == NULL) {
		chat_free(ch);
		return -1;
	}
	return 0;
}

void chat_free(struct chat *ch)
{
	free(ch->clean);
	free(ch->line);
	free(ch->batch.data);
	ch->clean = ch->line = ch->batch.data = NULL;
}

void chat_flush(struct chat *ch, struct client *c)
{
	if (ch->batch.len == 0)
		return;
	room_broadcast_lines(c, ch->batch.data, ch->batch.len);
	ch->batch.len = 0;
}

int chat_handle(struct chat *ch, struct client *c, char *line, size_t len)
{
	if (len == 0)
		return 1;
	if (line[0] == '/' && line[1] != '/')
		return command(ch, c, line + 1);
	if (line[0] == '/') {
		line++;		/* "//text" is the chat line "/text" */
		len--;
	}
	relay(ch, c, "<%s> %s", line, len);
	return 1;
}
