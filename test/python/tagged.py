"""Tagged JSON: a lossless, identity-preserving JSON form of Python values, shared with the
TypeScript tests (test/helpers/tagged.ts). Every object that has identity in a pickle (containers,
bytes, complex) gets an "id" on first sight; later sightings are {"t": "ref", "id": n}.
"""
import math
import pickle

try:
    from pickle import PickleBuffer
except ImportError:  # Python < 3.8
    PickleBuffer = None


def float_text(x):
    if math.isnan(x):
        return "nan"
    return repr(x)


def to_tagged(value):
    ids = {}
    keep = []

    def enc(v):
        t = type(v)
        if v is None:
            return {"t": "None"}
        if t is bool:
            return {"t": "bool", "v": v}
        if t is int:
            return {"t": "int", "v": str(v)}
        if t is float:
            return {"t": "float", "v": float_text(v)}
        if t is str:
            return {"t": "str", "v": v}
        if t is tuple and not v:
            # CPython's () is one cached object, but pickle never memoizes it: each () in a
            # pickle loads as its own tuple, so its sharing means nothing.
            return {"t": "tuple", "id": 0, "v": []}
        if id(v) in ids:
            return {"t": "ref", "id": ids[id(v)]}
        n = len(ids) + 1
        ids[id(v)] = n
        keep.append(v)
        if t is bytes:
            return {"t": "bytes", "id": n, "v": v.hex()}
        if t is bytearray:
            return {"t": "bytearray", "id": n, "v": v.hex()}
        if t is complex:
            return {"t": "complex", "id": n, "re": float_text(v.real), "im": float_text(v.imag)}
        if t is tuple:
            return {"t": "tuple", "id": n, "v": [enc(x) for x in v]}
        if t is list:
            return {"t": "list", "id": n, "v": [enc(x) for x in v]}
        if t is dict:
            return {"t": "dict", "id": n, "v": [[enc(k), enc(x)] for k, x in v.items()]}
        if t is set:
            return {"t": "set", "id": n, "v": [enc(x) for x in v]}
        if t is frozenset:
            return {"t": "frozenset", "id": n, "v": [enc(x) for x in v]}
        if PickleBuffer is not None and t is PickleBuffer:
            m = memoryview(v)
            return {"t": "buffer", "id": n, "v": m.tobytes().hex(), "readonly": m.readonly}
        if t is memoryview:
            return {"t": "buffer", "id": n, "v": v.tobytes().hex(), "readonly": v.readonly}
        if isinstance(v, type) or callable(v) and hasattr(v, "__qualname__"):
            return {"t": "global", "id": n, "module": v.__module__, "name": v.__qualname__}
        raise TypeError("no tagged form for %r" % (t,))

    return enc(value)


class _Pending:
    def __init__(self, n):
        self.n = n


def from_tagged(tagged, strings=None):
    """Builds the Python value; equal strings become one object (as pickle-ts memoizes them).

    A reference to a tuple that is still being built (a tuple reached again through a list or
    dict inside it) is patched in once the tuple exists.
    """
    objs = {}
    strings = {} if strings is None else strings
    pending = {}  # id -> [(container, index_or_key)]

    def fl(s):
        return float(s)

    def item(container, where, t):
        v = dec(t)
        if isinstance(v, _Pending):
            pending.setdefault(v.n, []).append((container, where))
            return None
        return v

    def dec(t):
        k = t["t"]
        if k == "None":
            return None
        if k == "bool":
            return t["v"]
        if k == "int":
            return int(t["v"])
        if k == "float":
            return fl(t["v"])
        if k == "str":
            return strings.setdefault(t["v"], t["v"])
        if k == "ref":
            return objs[t["id"]] if t["id"] in objs else _Pending(t["id"])
        n = t.get("id")
        if k == "bytes":
            v = bytes.fromhex(t["v"])
        elif k == "bytearray":
            v = bytearray.fromhex(t["v"])
        elif k == "complex":
            v = complex(fl(t["re"]), fl(t["im"]))
        elif k == "list":
            v = []
            objs[n] = v
            for i, x in enumerate(t["v"]):
                v.append(item(v, i, x))
        elif k == "dict":
            v = {}
            objs[n] = v
            for kk, vv in t["v"]:
                key = dec(kk)
                v[key] = item(v, key, vv)
        elif k == "set":
            v = set()
            objs[n] = v
            v.update(dec(x) for x in t["v"])
        elif k == "frozenset":
            v = frozenset(dec(x) for x in t["v"])
        elif k == "tuple":
            v = tuple(dec(x) for x in t["v"])
        elif k == "buffer":
            data = bytes.fromhex(t["v"]) if t["readonly"] else bytearray.fromhex(t["v"])
            v = PickleBuffer(data)
        elif k == "global":
            import importlib
            obj = importlib.import_module(t["module"])
            for part in t["name"].split("."):
                obj = getattr(obj, part)
            v = obj
        else:
            raise ValueError("unknown tag %r" % k)
        if n is not None:
            objs[n] = v
            for container, where in pending.pop(n, ()):
                container[where] = v
        return v

    return dec(tagged)


def strict_equal(a, b, path="value"):
    """Equal values of the same types with the same sharing; returns a difference or None."""
    pairs = {}

    def eq(a, b, path):
        ta, tb = type(a), type(b)
        if ta is not tb:
            return "%s: type %s != %s" % (path, ta.__name__, tb.__name__)
        if ta is float:
            if math.isnan(a) and math.isnan(b):
                return None
            if a != b or math.copysign(1, a) != math.copysign(1, b):
                return "%s: %r != %r" % (path, a, b)
            return None
        if ta is complex:
            return eq(a.real, b.real, path + ".real") or eq(a.imag, b.imag, path + ".imag")
        if a is None or ta in (bool, int, str):
            return None if a == b else "%s: %r != %r" % (path, a, b)
        # objects with identity: the pairing must be a bijection
        if id(a) in pairs:
            return None if pairs[id(a)] is b else "%s: sharing differs" % path
        pairs[id(a)] = b
        if ta in (bytes, bytearray):
            return None if a == b else "%s: %r != %r" % (path, a[:40], b[:40])
        if ta in (list, tuple):
            if len(a) != len(b):
                return "%s: length %d != %d" % (path, len(a), len(b))
            for i, (x, y) in enumerate(zip(a, b)):
                d = eq(x, y, "%s[%d]" % (path, i))
                if d:
                    return d
            return None
        if ta is dict:
            if len(a) != len(b):
                return "%s: size %d != %d" % (path, len(a), len(b))
            for (ka, va), (kb, vb) in zip(a.items(), b.items()):
                d = eq(ka, kb, "%s.<key>" % path) or eq(va, vb, "%s[%r]" % (path, ka))
                if d:
                    return d
            return None
        if ta in (set, frozenset):
            if len(a) != len(b):
                return "%s: size %d != %d" % (path, len(a), len(b))
            # members are hashable: compare as sets of (type, value) after a type-aware key
            ka = sorted(map(member_key, a))
            kb = sorted(map(member_key, b))
            return None if ka == kb else "%s: members differ" % path
        if PickleBuffer is not None and ta is PickleBuffer:
            ma, mb = memoryview(a), memoryview(b)
            return None if ma.tobytes() == mb.tobytes() and ma.readonly == mb.readonly else "%s: buffers differ" % path
        return None if a == b else "%s: %r != %r" % (path, a, b)

    return eq(a, b, path)


def member_key(v):
    if type(v) is float and math.isnan(v):
        return ("float", "nan")
    if type(v) in (tuple, frozenset):
        return (type(v).__name__, repr(sorted(map(member_key, v)) if type(v) is frozenset else tuple(map(member_key, v))))
    return (type(v).__name__, repr(v))
