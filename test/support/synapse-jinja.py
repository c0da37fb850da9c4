#!/usr/bin/env python3
"""Renders Synapse's SSO mapping templates the way Synapse 1.157 does (synapse/handlers/oidc.py):
jinja2.Environment(finalize=None -> "") with the `localpart_from_email` filter, output stripped, and
for localparts Synapse's map_username_to_mxid_localpart (synapse/types/__init__.py), written here
from its documented algorithm. Reads [{"template", "claims", "localpart"}] as JSON on stdin and
writes the rendered strings (or {"error": ...}) as JSON on stdout. The test compares them with
Causeway's Liquid translation."""
import json
import re
import sys

from jinja2 import Environment

env = Environment(finalize=lambda thing: thing if thing is not None else "")
env.filters["localpart_from_email"] = lambda address: address.rsplit("@", 1)[0]

# Bytes a localpart keeps as they are: lower-case ASCII letters, digits and _-./+ (not "=").
KEPT = set(b"abcdefghijklmnopqrstuvwxyz0123456789_-./+")


def mxid_localpart(username: str) -> str:
    out = []
    for byte in username.encode("utf-8").lower():
        out.append(chr(byte) if byte in KEPT else "=%02x" % byte)
    return re.sub("^_", "=5f", "".join(out))


results = []
for case in json.load(sys.stdin):
    try:
        text = env.from_string(case["template"]).render(user=case["claims"]).strip()
        results.append(mxid_localpart(text) if case.get("localpart") else text)
    except Exception as e:  # noqa: BLE001 - reported to the test as is
        results.append({"error": str(e)})
json.dump(results, sys.stdout)
