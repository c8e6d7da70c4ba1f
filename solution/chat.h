/*
 * chat.h - what a line from a client means: chat, or a command.
 */
#ifndef CHAT_H
#define CHAT_H

#include "room.h"

#include <stddef.h>

/*
 * Per-client scratch space, so that handling a line never allocates, and
 * the batch of chat lines not yet handed to the room.
 */
struct chat {
	char *clean;		/* text after text_clean() */
	char *line;		/* the line sent on: a prefix and the clean text */
	size_t size;		/* bytes in each */
	struct buffer batch;	/* chat lines for the others, each with its LF */
	size_t batch_max;	/* flush the batch before it grows past this */
	char reason[128];	/* what /quit said, if anything */
	int log_lines;		/* 1: log each line relayed (server -v) */
};

/*
 * Sizes the buffers for the room's configuration CFG.
 * Returns 0, or -1 (ENOMEM).
 */
int chat_init(struct chat *ch, const struct room_config *cfg);

/* Frees the buffers. */
void chat_free(struct chat *ch);

/*
 * Acts on LINE (LEN bytes, no LF) from client C: adds chat to the batch,
 * or runs a command. Returns 1 to go on reading, 0 when C asked to quit
 * (the reason, maybe empty, is in ch->reason).
 */
int chat_handle(struct chat *ch, struct client *c, char *line, size_t len);

/*
 * Hands the batch of chat lines from C to the room. The reader calls it
 * before it waits for more input, so that a burst of lines costs the room
 * one lock and one wake-up per listener, not one per line.
 */
void chat_flush(struct chat *ch, struct client *c);

#endif
