/* SPDX-License-Identifier: MIT */
/*
 * The PROXY header parser (wire/proxy.c), fed as the server's reader
 * feeds it: the first PROXY_PROBE_LEN bytes, then exactly as many as it
 * asks for. Checked: it only ever asks for more and never past
 * PROXY_HEADER_MAX (so the reader's buffer and the preface behind the
 * header are safe); a v1 header never grows past PROXY_V1_MAX; the
 * results are the documented codes; an accepted address is IPv4 or IPv6
 * and prints.
 */
#include <string.h>

#include "fuzz.h"
#include "wharf/netaddr.h"
#include "wharf/proxy.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_addr pa;
	char shown[NETADDR_STR_MAX];
	size_t have = size < PROXY_PROBE_LEN ? size : PROXY_PROBE_LEN, need;
	int r;

	for (;;) {
		need = 0;
		r = proxy_parse(data, have, &pa, &need);
		if (r != WH_ERR_TRUNCATED)
			break;
		FUZZ_CHECK(need > have && need <= PROXY_HEADER_MAX);
		if (need > size)
			return 0; /* the peer would still owe bytes */
		have = need;
	}
	FUZZ_CHECK(r == 0 || r == WH_ERR_FORMAT || r == WH_ERR_TOO_LARGE ||
	    r == WH_ERR_UNSUPPORTED);
	if (have > 0 && data[0] == 'P')
		FUZZ_CHECK(have <= PROXY_V1_MAX);
	if (r != 0 || pa.keep)
		return 0;
	FUZZ_CHECK(pa.src.ss_family == AF_INET || pa.src.ss_family == AF_INET6);
	netaddr_format_sockaddr(
	    (const struct sockaddr *)&pa.src, shown, sizeof(shown));
	FUZZ_CHECK(shown[0] != '\0');
	return 0;
}
