"""Helpers for test/objects: evaluate expressions for standard-library values and compare what
pickle-ts writes with them by type and repr (repr shows every part: fold, tzinfo, maxlen, ...)."""
import collections
import datetime
import decimal
import enum
import fractions
import functools
import pickle
import uuid
import zoneinfo

import sample_classes

P = collections.namedtuple("P", "x y")


class Color(enum.Enum):
    RED = 1
    GREEN = "g"


NS = {
    "datetime": datetime,
    "zoneinfo": zoneinfo,
    "decimal": decimal,
    "fractions": fractions,
    "collections": collections,
    "uuid": uuid,
    "functools": functools,
    "s": sample_classes,
    "P": P,
    "Color": Color,
    "objects_helpers": __import__(__name__),
}


def value(expr):
    return eval(expr, NS)


def dumps(expr, protocol):
    return pickle.dumps(value(expr), protocol)


def describe(v):
    """Type and repr, recursively enough for containers of these values."""
    return "%s.%s %r" % (type(v).__module__, type(v).__qualname__, v)


def reprs(expr):
    """repr of the value as Python's own pickle brings it back, at protocols 0-5 (older
    protocols lose `fold`, as CPython's own pickles do)."""
    return [repr(pickle.loads(pickle.dumps(value(expr), p))) for p in range(6)]


def same(expr, data, protocol=5):
    """Whether `data` unpickles to a value of the same type and repr as `expr` after Python's own
    pickle round trip at `protocol` (or ==, for sample classes); returns a difference or None."""
    want = pickle.loads(pickle.dumps(value(expr), protocol))
    try:
        got = pickle.loads(data)
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, e)
    if type(got) is not type(want):
        return "type %s != %s" % (type(got).__qualname__, type(want).__qualname__)
    if isinstance(want, (sample_classes.Eq, sample_classes.MyList, sample_classes.MyDict, sample_classes.Slots)):
        return None if got == want else "%r != %r" % (got, want)
    if repr(got) != repr(want):
        return "%r != %r" % (got, want)
    if isinstance(want, datetime.datetime) and want.fold != got.fold:
        return "fold %d != %d" % (got.fold, want.fold)
    return None
