/* SPDX-License-Identifier: MIT */
/* Must not compile: the wire layer sees no layer above it. */
#include "wharf/channel.h"
