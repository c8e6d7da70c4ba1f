/*
 * chat.h - what a line from a client means: chat, or a command.
 */
#ifndef CHAT_H
#define CHAT_H

#include "room.h"

#include <stddef.h>

/* Per-client scratch space, so that handling a line never allocates. */
struct chat {
	char *clean;		/* text after text_clean() */
	char *line;		/* the line sent on: a prefix and the clean text */
	size_t size;		/* bytes in each */
	char reason[128];	/* what /quit said, if anything */
};

/* Sizes the buffers for lines of MAX_LINE bytes. Returns 0, or -1 (ENOMEM). */
int chat_init(struct chat *ch, size_t max_line);

/* Frees the buffers. */
void chat_free(struct chat *ch);

/*
 * Acts on LINE (LEN bytes, no LF) from client C: relays chat, or runs a
 * command. Returns 1 to go on reading, 0 when C asked to quit (the reason,
 * maybe empty, is in ch->reason).
 */
int chat_handle(struct chat *ch, struct client *c, char *line, size_t len);

#endif
