/* SPDX-License-Identifier: MIT */
/* Must not compile: the transfer engine sees no layer above it. */
#include "wharf/sandbox.h"
