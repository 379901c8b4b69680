#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails unless docs/protocol.md appendix A holds tests/vectors/v1.txt
exactly: the document and the vectors the tests check are one text. And
unless tests/vectors/messages.txt (appendix A.1) has one encoding for
every body of Envelope in proto/wharf.proto, and no other."""

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
if "tests/vectors/messages.txt" not in doc[head:]:
    sys.exit("protocol.md appendix A does not name tests/vectors/messages.txt")

import re
proto = open(os.path.join(top, "proto", "wharf.proto")).read()
body = proto[proto.index("oneof body {"):]
body = body[:body.index("}")]
bodies = set(re.findall(r"^\s*(\w+) \w+ = \d+;", body, re.M))
msgs = open(os.path.join(top, "tests", "vectors", "messages.txt")).read()
sec = msgs[msgs.index("[messages]"):]
sec = sec[:sec.find("\n[", 1)] if "\n[" in sec[1:] else sec
names = set(re.findall(r"^(\w+) = [0-9a-f]+$", sec, re.M))
if names != bodies:
    sys.exit("tests/vectors/messages.txt: missing %s, extra %s" %
             (sorted(bodies - names), sorted(names - bodies)))
print("appendix A matches tests/vectors/v1.txt; messages.txt covers "
      "the %d message types" % len(bodies))
