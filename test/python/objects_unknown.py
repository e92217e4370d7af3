"""Pickles that name classes pickle-ts does not model, and a structural equality to check
that pickle-ts writes them back to the same values (test/objects/unknown.test.ts)."""
import argparse
import array
import collections
import fractions
import ipaddress
import operator
import pathlib
import pickle
import re
import types

import numpy as np

import objects_helpers
import sample_classes as s


class OrderedSub(collections.OrderedDict):
    pass


class DefaultSub(collections.defaultdict):
    pass


class BytesSub(bytes):
    pass


class IntSub(int):
    pass


def corpus():
    shared = [1, 2]
    ns = types.SimpleNamespace(a=1, b=shared)
    values = {
        "array.array": array.array("d", [1.5, -2.0]),
        "UserDict": collections.UserDict({"a": 1}),
        "UserList": collections.UserList([1, "x"]),
        "ChainMap": collections.ChainMap({"a": 1}, {"b": 2}),
        "PurePosixPath": pathlib.PurePosixPath("/etc/hosts"),
        "IPv4Network": ipaddress.ip_network("10.0.0.0/8"),
        "SimpleNamespace": ns,
        "argparse.Namespace": argparse.Namespace(verbose=True, n=3),
        "ValueError": ValueError("bad", 1),
        "KeyError": KeyError("k"),
        "re.Pattern": re.compile(r"a+b", re.I),
        "itemgetter": operator.itemgetter(1, 2),
        "numpy arange": np.arange(6, dtype=np.int32).reshape(2, 3),
        "numpy float array": np.array([1.5, np.nan, -0.0]),
        "numpy fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "numpy object array": np.array([1, "a", None], dtype=object),
        "numpy scalar": np.float32(1.25),
        "numpy dtype": np.dtype([("x", "<i4"), ("y", "<f8")]),
        "enum member": objects_helpers.Color.GREEN,
        "namedtuple": objects_helpers.P(1, [2]),
        "OrderedDict subclass": OrderedSub(a=1),
        "defaultdict subclass": DefaultSub(list, {"k": [1]}),
        "bytes subclass": BytesSub(b"xyz"),
        "int subclass": IntSub(7),
        "Fraction subclass-free in a list": [fractions.Fraction(1, 3), ns, ns],
        "sample classes": [s.Plain(1, "a"), s.Reduce4("n", [1], "t"), s.Reduce5({"k": 1}), s.MyList([1], label="L"),
                           s.MyDict({"a": 1}, label="D"), s.WithSetState(5), s.Reduce6("six"), s.Outer.Inner(1)],
        "shared and nested": {"x": [ns, ns], "y": (s.Plain(shared, shared),)},
    }
    return values


def protocols(name):
    # Slots and __getnewargs_ex__ need protocol 2+; everything here pickles at 0-5.
    return list(range(6))


def dumps(name, protocol):
    return pickle.dumps(corpus()[name], protocol)


def _reduced(v):
    rv = v.__reduce_ex__(4)
    if isinstance(rv, str):
        return rv
    parts = list(rv)
    for i in (3, 4):
        if i < len(parts) and parts[i] is not None:
            parts[i] = list(parts[i])
    return tuple(parts)


def deep_equal(a, b, seen=None):
    """Same types and values; objects without __eq__ compare by what they reduce to."""
    seen = {} if seen is None else seen
    if type(a) is not type(b):
        return False
    if id(a) in seen:
        return seen[id(a)] is b
    seen[id(a)] = b
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.flags.f_contiguous == b.flags.f_contiguous and (
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype != object else list(a.ravel()) == list(b.ravel()))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(deep_equal(x, y, seen) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(deep_equal(a[k], b[k], seen) for k in a) and (
            getattr(a, "__dict__", {}) == getattr(b, "__dict__", {}))
    if type(a).__eq__ is not object.__eq__ and not isinstance(a, BaseException):
        return a == b
    if a is b:
        return True
    return deep_equal(_reduced(a), _reduced(b), seen)


def same(name, protocol, data):
    want = pickle.loads(pickle.dumps(corpus()[name], protocol))
    got = pickle.loads(data)
    return bool(deep_equal(got, want))
