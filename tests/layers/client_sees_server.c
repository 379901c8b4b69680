/* SPDX-License-Identifier: MIT */
/* Must not compile: the client never sees a server header. */
#include "wharf/session.h"
