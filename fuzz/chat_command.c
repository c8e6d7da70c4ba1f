/*
 * chat_command.c - fuzz target for the chat command parser (solution/chat.c).
 *
 * Input: what one client sends, cut at each LF into the lines the line
 * reader would hand to chat_handle() (at most MAX_LINE bytes each). The
 * room is replaced by a fake one, below, that checks everything chat.c
 * hands it; the parsing itself is command_parse() (command_parse.c
 * fuzzes it alone). Checked, beyond crashes:
 *   - every line sent to anyone (told, broadcast, a batch of chat, a
 *     private message) and the /quit reason is valid UTF-8 without control
 *     characters, holds no LF, and is no longer than a line may be;
 *   - a rename is always to a valid nickname.
 */
#include "chat.h"
#include "config.h"
#include "log.h"
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest line the server may send: a clean MAX_LINE line and a prefix. */
#define MAX_OUT (CHAT_LINE_SIZE(MAX_LINE) - 1)

/* Stops the run: libFuzzer saves the input that got here. */
static void fail(const char *what)
{
	fprintf(stderr, "chat_command: %s\n", what);
	abort();
}

/* ---- what a line the server sends must be ----------------------------- */

/* Returns 1 if the LEN bytes at S are valid UTF-8 without control characters. */
static int is_clean(const char *s, size_t len)
{
	char *again = malloc(TEXT_CLEAN_SIZE(len));
	int same;

	if (again == NULL)
		fail("out of memory");
	/* fuzz/text_clean.c checks that text_clean() changes only what is not. */
	same = text_clean(s, len, again) == len && memcmp(s, again, len) == 0;
	free(again);
	return same;
}

/* Prints what WHO sent, every byte outside printable ASCII as \xNN. */
static void show(const char *who, const char *line, size_t len)
{
	fprintf(stderr, "chat_command: %s sent \"", who);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)line[i];

		if (b >= 0x20 && b < 0x7F)
			fputc(b, stderr);
		else
			fprintf(stderr, "\\x%02x", b);
	}
	fprintf(stderr, "\"\n");
}

/* Checks one outgoing line of LEN bytes (no LF), sent by WHO. */
static void check_line(const char *who, const char *line, size_t len)
{
	if (len > MAX_OUT) {
		show(who, line, len);
		fail("a line longer than the server may send");
	}
	if (memchr(line, '\n', len) != NULL || !is_clean(line, len)) {
		show(who, line, len);
		fail("a line that is not clean UTF-8");
	}
}

/* ---- the fake room -------------------------------------------------------- */

int buffer_add(struct buffer *b, const char *data, size_t len, int lf)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = 2 * (b->len + len + 1);
		char *p = realloc(b->data, cap);

		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	if (lf)
		b->data[b->len++] = '\n';
	return 0;
}

/* The server's log (chat.c logs relayed lines with -v): nothing to keep. */
void log_say(const char *fmt, ...)
{
	(void)fmt;
}

void room_tell(struct client *c, const char *line)
{
	(void)c;
	check_line("room_tell", line, strlen(line));
}

int room_broadcast_lines(struct client *from, const char *lines, size_t len)
{
	(void)from;
	if (len == 0 || lines[len - 1] != '\n')
		fail("a batch that does not end with an LF");
	for (const char *p = lines, *end = lines + len; p < end;) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		check_line("room_broadcast_lines", p, (size_t)(lf - p));
		p = lf + 1;
	}
	return ROOM_OK;
}

int room_rename(struct client *c, const char *nick)
{
	if (!text_valid_nick(nick, strlen(nick)))
		fail("a rename to an invalid nickname");
	if (strcmp(nick, "taken") == 0)
		return ROOM_REFUSED;
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	return ROOM_OK;
}

int room_whisper(struct client *c, const char *to, const char *text)
{
	(void)c;
	check_line("room_whisper", text, strlen(text));
	return strcmp(to, "guest2") == 0 ? ROOM_OK : ROOM_REFUSED;
}

void room_list(struct client *c)
{
	(void)c;
}

/* ---- the target ---------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct room_config cfg = {
		.max_clients = MAX_CLIENTS,
		.max_line = MAX_LINE,
		.max_queue = MAX_QUEUE,
	};
	struct client c;
	struct chat ch;
	char *line = malloc(MAX_LINE + 1);
	int going = 1;

	if (line == NULL)
		fail("out of memory");
	chat_init(&ch, &cfg);
	memset(&c, 0, sizeof(c));
	snprintf(c.nick, sizeof(c.nick), "guest1");
	for (const uint8_t *p = data, *end = data + size; p < end && going;) {
		const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf ? lf : end) - p);

		const uint8_t *start = p;

		p += len + (lf != NULL);
		if (lf != NULL && len > 0 && start[len - 1] == '\r')
			len--;		/* the line reader drops a CR before the LF */
		if (len > MAX_LINE)
			continue;	/* the line reader refuses it */
		memcpy(line, start, len);
		line[len] = '\0';
		going = chat_handle(&ch, &c, line, len);
		chat_flush(&ch, &c);
	}
	if (!going)
		check_line("the /quit reason", ch.reason, strlen(ch.reason));
	chat_free(&ch);
	free(line);
	return 0;
}
