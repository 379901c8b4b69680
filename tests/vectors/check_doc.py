#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails unless docs/protocol.md appendix A holds tests/vectors/v1.txt
exactly: the document and the vectors the tests check are one text."""

import os
import sys

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
doc = open(os.path.join(top, "docs", "protocol.md")).read()
vec = open(os.path.join(top, "tests", "vectors", "v1.txt")).read()
head = doc.find("## Appendix A. Test vectors")
start = doc.find("```\n", head)
end = doc.find("\n```", start + 4)
if head < 0 or start < 0 or end < 0:
    sys.exit("protocol.md: no appendix A code block")
if doc[start + 4:end].rstrip("\n") != vec.rstrip("\n"):
    sys.exit("protocol.md appendix A differs from tests/vectors/v1.txt")
print("appendix A matches tests/vectors/v1.txt")
