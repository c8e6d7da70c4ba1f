/*
 * chat.h - what a line from a client means: chat, or a command.
 */
#ifndef CHAT_H
#define CHAT_H

#include "room.h"
#include "text.h"

#include <stddef.h>

/* Room for "*** error: " and the like in front of the clean text. */
#define CHAT_PREFIX_ROOM (MAX_NICK + 64)

/* Bytes of a line the server sends, for lines of MAX bytes from clients. */
#define CHAT_LINE_SIZE(max) (TEXT_CLEAN_SIZE(max) + CHAT_PREFIX_ROOM)

/*
 * Per-client scratch space, so that handling a line never allocates, and
 * the batch of chat lines not yet handed to the room.
 */
struct chat {
	char *clean;		/* text after text_clean(); NULL until needed */
	char *line;		/* the line sent on: a prefix and the clean text */
	size_t size;		/* bytes in each */
	struct buffer batch;	/* chat lines for the others, each with its LF */
	size_t batch_max;	/* flush the batch before it grows past this */
	char reason[128];	/* what /quit said, if anything */
	int log_lines;		/* 1: log each line relayed (server -v) */
};

/*
 * Sizes the buffers for the room's configuration CFG; they are allocated
 * on the client's first line, so an idle client costs none of them.
 */
void chat_init(struct chat *ch, const struct room_config *cfg);

/* Frees the buffers. */
void chat_free(struct chat *ch);

/*
 * Acts on LINE (LEN bytes, no LF) from client C: adds chat to the batch,
 * or runs a command. Returns 1 to go on reading, 0 when C asked to quit
 * (the reason, maybe empty, is in ch->reason) or is no longer in the room
 * (dropped as too slow: nothing more from it may reach the others).
 */
int chat_handle(struct chat *ch, struct client *c, const char *line,
		size_t len);

/*
 * Hands the batch of chat lines from C to the room. The reader calls it
 * before it waits for more input, so that a burst of lines costs the room
 * one lock and one wake-up per listener, not one per line. Returns 0, or
 * -1 if C is no longer in the room.
 */
int chat_flush(struct chat *ch, struct client *c);

#endif
