# Python 2.7 (and 3) compatible: reads JSON [[base64 pickle, python expression], ...] from stdin;
# for each, loads the pickle and compares it with the expression's value by type and repr.
# Prints a JSON list of null (same) or a difference.
import base64
import collections
import datetime
import decimal
import fractions
import json
import pickle
import sys
import uuid

NS = {
    "collections": collections,
    "datetime": datetime,
    "decimal": decimal,
    "fractions": fractions,
    "uuid": uuid,
}


def check(data, expr):
    try:
        got = pickle.loads(data)
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, e)
    want = eval(expr, NS)
    if type(got) is not type(want):
        return "type %s != %s" % (type(got).__name__, type(want).__name__)
    if repr(got) != repr(want):
        return "%r != %r" % (got, want)
    return None


cases = json.loads(sys.stdin.read())
print(json.dumps([check(base64.b64decode(b), e) for b, e in cases]))
