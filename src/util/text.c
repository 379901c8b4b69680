/* SPDX-License-Identifier: MIT */
/*
 * Text for the terminal (text.h): one rule for every name and message the
 * client or server shows a person, so that no copy forgets DEL or C1.
 */
#include <string.h>

#include "wharf/text.h"

/* UTF-8 lead byte of U+0080..U+00BF; C1 controls follow it as 0x80..0x9f. */
#define TEXT_C1_LEAD 0xc2
#define TEXT_C1_FIRST 0x80
#define TEXT_C1_LAST 0x9f

const char *
text_clean(char *dst, size_t dstlen, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t o = 0;

	if (dstlen == 0)
		return dst;
	while (*p != '\0' && o + 1 < dstlen) {
		if (*p < 0x20 || *p == 0x7f) {
			dst[o++] = '?';
			p++;
		} else if (p[0] == TEXT_C1_LEAD && p[1] >= TEXT_C1_FIRST &&
		    p[1] <= TEXT_C1_LAST) {
			dst[o++] = '?';
			p += 2;
		} else
			dst[o++] = (char)*p++;
	}
	dst[o] = '\0';
	return dst;
}
