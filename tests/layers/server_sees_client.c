/* SPDX-License-Identifier: MIT */
/* Must not compile: the server never sees a client header. */
#include "wharf/client.h"
