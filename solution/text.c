/*
 * text.c - cleaning relayed text and checking nicknames: see text.h.
 */
#include "text.h"
#include "config.h"

#include <string.h>

/*
 * Decodes the UTF-8 sequence at S (N bytes available) into *CP.
 * Returns its length, or 0 if it is not valid UTF-8: a stray continuation
 * byte, a truncated sequence, an overlong form, a surrogate, or a code
 * point past U+10FFFF.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char lo = 0x80, hi = 0xBF;	/* range of the second byte */
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;	/* overlong */
	else if (s[0] == 0xED)
		hi = 0x9F;	/* surrogates */
	else if (s[0] == 0xF0)
		lo = 0x90;	/* overlong */
	else if (s[0] == 0xF4)
		hi = 0x8F;	/* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	*cp = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return len;
}

/* Returns 1 for the control characters that text_clean() drops. */
static int is_control(unsigned long cp)
{
	return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
}

size_t text_clean(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned long cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);	/* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		if (!is_control(cp)) {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t text_cut(char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;		/* s[len] continues a character: back off */
	s[len] = '\0';
	return len;
}

int text_valid_nick(const char *nick, size_t len)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz0123456789_-";

	if (len == 0 || len > MAX_NICK)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (nick[i] == '\0' || strchr(allowed, nick[i]) == NULL)
			return 0;
	return 1;
}
