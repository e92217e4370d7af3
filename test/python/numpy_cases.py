"""numpy arrays for the pickle-ts/numpy tests: every dtype the issue names, in every shape the
tests need, with numpy's pickles of them and a canonical JSON form of their values.

Canonical values (what the TypeScript side rebuilds from its NDArray, dtype by dtype):
  bool -> true/false; ints, datetime64/timedelta64 (their int64 count) -> {"i": "123"};
  floats -> {"$f": repr}; complex -> {"$c": [repr, repr]}; 'U' -> str; 'S', 'V' -> {"b": hex};
  records -> {field: value}; sub-arrays -> nested lists; objects -> their own canonical form.
"""
import json
import pickle
import subprocess
import sys

import numpy as np

SHAPES = {
    "0d": ((), "C"),
    "empty": ((0,), "C"),
    "empty2d": ((0, 3), "C"),
    "1d": ((5,), "C"),
    "2d": ((3, 4), "C"),
    "2dF": ((3, 4), "F"),
    "3d": ((2, 3, 4), "C"),
    "3dF": ((2, 3, 4), "F"),
    "row F": ((1, 4), "F"),
}

RECORD = np.dtype([("a", "<i4"), ("b", ">f8"), ("c", "U3"), ("d", "S2")])
NESTED = np.dtype([("p", [("x", "<f4"), ("y", ">i2")]), ("m", "<f8", (2, 2)), ("flag", "?")])
ALIGNED = np.dtype([("x", "u1"), ("y", "<f4"), ("z", "<i8")], align=True)
TITLED = np.dtype({"names": ["a", "b"], "formats": ["<i2", "<u4"], "titles": ["Alpha", None]})
GAPPED = np.dtype({"names": ["a", "b"], "formats": ["u1", "<i2"], "offsets": [0, 4], "itemsize": 8})
WITH_OBJECT = np.dtype([("o", "O"), ("n", "<i4")])

# dtype name -> (dtype, numeric: numpy's pickle of it must be reproduced byte for byte)
DTYPES = {
    "bool": np.dtype("?"),
    "int8": np.dtype("i1"),
    "int16": np.dtype("<i2"),
    "int32": np.dtype("<i4"),
    "int64": np.dtype("<i8"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
    "uint32": np.dtype("<u4"),
    "uint64": np.dtype("<u8"),
    "float16": np.dtype("<f2"),
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "complex64": np.dtype("<c8"),
    "complex128": np.dtype("<c16"),
    ">i2": np.dtype(">i2"),
    ">i4": np.dtype(">i4"),
    ">i8": np.dtype(">i8"),
    ">u4": np.dtype(">u4"),
    ">f2": np.dtype(">f2"),
    ">f4": np.dtype(">f4"),
    ">f8": np.dtype(">f8"),
    ">c8": np.dtype(">c8"),
    ">c16": np.dtype(">c16"),
    "M8[ns]": np.dtype("<M8[ns]"),
    "M8[D]": np.dtype("<M8[D]"),
    "M8[10ms]": np.dtype("<M8[10ms]"),
    "M8 generic": np.dtype("<M8"),
    ">M8[s]": np.dtype(">M8[s]"),
    "m8[us]": np.dtype("<m8[us]"),
    "m8[h]": np.dtype("<m8[h]"),
    "U5": np.dtype("<U5"),
    ">U3": np.dtype(">U3"),
    "S4": np.dtype("S4"),
    "V3": np.dtype("V3"),
    "record": RECORD,
    "nested record": NESTED,
    "aligned record": ALIGNED,
    "titled record": TITLED,
    "gapped record": GAPPED,
    "object": np.dtype("O"),
    "record with object": WITH_OBJECT,
}

NUMERIC = {k for k, d in DTYPES.items() if d.kind in "biufc" and d.fields is None}


def _values(dt, n):
    """n deterministic values of dtype dt, with each kind's edge cases first."""
    rng = np.random.default_rng(n * 7919 + len(dt.str))
    k = dt.kind
    if dt.fields is not None and not dt.hasobject:
        out = np.zeros(n, dtype=dt)
        for name in dt.names:
            sub = dt.fields[name][0]
            if sub.subdtype is not None:
                base, shape = sub.subdtype
                out[name] = _values(base, n * int(np.prod(shape))).reshape((n,) + shape)
            else:
                out[name] = _values(sub, n)
        return out
    if dt.fields is not None:
        return np.array([("s%d" % i if i % 2 else (i, None), i) for i in range(n)], dtype=dt)
    if k == "b":
        return (np.arange(n) % 3 == 0).astype(dt)
    if k in "iu":
        info = np.iinfo(dt)
        edges = [info.min, info.max, 0, 1, info.max // 3]
        rest = rng.integers(info.min, info.max, size=n, dtype=dt.newbyteorder("="), endpoint=True)
        return np.array((edges + list(rest))[:n], dtype=dt)
    if k == "f":
        edges = [np.nan, np.inf, -np.inf, -0.0, 1.5, 65504.0, 6e-8]
        rest = rng.standard_normal(n) * 1000
        return np.array((edges + list(rest))[:n], dtype=dt)
    if k == "c":
        edges = [complex(np.nan, 1), complex(1.5, -0.0), complex(np.inf, -2.25)]
        rest = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        return np.array((edges + list(rest))[:n], dtype=dt)
    if k in "Mm":
        ints = [np.iinfo("i8").min, 0, -1, 1700000000] + list(rng.integers(-(10**9), 10**9, size=n))
        if np.datetime_data(dt)[0] == "generic":
            ints = [np.iinfo("i8").min] * n  # NaT is the only generic-unit value
        return np.array(ints[:n], dtype="i8").view(dt.newbyteorder("=")).astype(dt)
    if k == "U":
        words = ["", "a", "été", "€uro", "😀😀", "ab\x00c", "xyz"]
        return np.array([words[i % len(words)] for i in range(n)], dtype=dt)
    if k == "S":
        words = [b"", b"a", b"\xff\x00x", b"abcd", b"\x00\x01"]
        return np.array([words[i % len(words)] for i in range(n)], dtype=dt)
    if k == "V":
        return np.array([bytes([i, i + 1, 255 - i]) for i in range(n)], dtype=dt)
    if k == "O":
        pool = [None, 1, "two", 2.5, b"\x03", [1, "x"], (4, 5), {"k": 6}, True, 10**30]
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = pool[i % len(pool)]
        return out
    raise ValueError(dt)


def make(dt, shape, order):
    n = int(np.prod(shape))
    flat = _values(dt, n)
    a = flat.reshape(shape)
    return np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)


def cases():
    for dname, dt in DTYPES.items():
        for sname, (shape, order) in SHAPES.items():
            yield "%s %s" % (dname, sname), dname, make(dt, shape, order)


# --- canonical values ----------------------------------------------------------------------


def canon_obj(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"$i": str(v)}
    if isinstance(v, float):
        return {"$f": repr(v)}
    if isinstance(v, bytes):
        return {"$b": v.hex()}
    if isinstance(v, (list, tuple)):
        return [canon_obj(x) for x in v]
    if isinstance(v, dict):
        return {"$dict": [[canon_obj(k), canon_obj(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def canon(a):
    """Nested lists of canonical values of the array a (any shape, C order)."""
    dt = a.dtype
    if dt.fields is not None and not dt.hasobject:
        cols = {name: canon(a[name]) for name in dt.names}

        def zip_(path):
            node = {name: cols[name] for name in dt.names}
            for i in path:
                node = {name: node[name][i] for name in dt.names}
            return node

        def build(shape, path):
            if not shape:
                return zip_(path)
            return [build(shape[1:], path + [i]) for i in range(shape[0])]

        return build(list(a.shape), [])
    k = dt.kind
    if k in "Mm":
        return canon(a.view(dt.str[0] + "i8"))
    flat = a.ravel(order="C")
    if dt.hasobject:
        items = [canon_obj(x.item() if isinstance(x, np.void) else x) for x in flat]
    elif k == "b":
        items = [bool(x) for x in flat]
    elif k in "iu":
        items = [{"$i": str(int(x))} for x in flat]
    elif k in "fc" and dt.itemsize > (8 if k == "f" else 16):
        # Long doubles stay raw (their format is the writer's platform's): x87 extended here,
        # 10 bytes of value and 6 of uninitialized padding.
        items = [{"$b": _x87(x.tobytes())} for x in flat]
    elif k == "f":
        items = [{"$f": repr(float(x))} for x in flat]
    elif k == "c":
        items = [{"$c": [repr(float(x.real)), repr(float(x.imag))]} for x in flat]
    elif k == "U":
        items = [str(x) for x in flat]
    elif k in "SV":
        items = [{"$b": bytes(x).hex()} for x in flat]
    else:
        raise TypeError(dt)
    it = iter(items)

    def build(shape):
        if not shape:
            return next(it)
        return [build(shape[1:]) for _ in range(shape[0])]

    return build(list(a.shape))


def _x87(raw):
    """The value bytes of x87 long doubles (float128, or both halves of a complex256)."""
    return (raw[:10] + raw[16:26]).hex()


def order_of(a):
    return "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"


def decode_cases(protocols):
    """numpy's pickles of every case at each protocol, with what pickle-ts must decode: what
    numpy's own pickle.loads gives (at protocols 0-4 numpy turns a non-native byte order native)."""
    out = []
    for name, dname, a in cases():
        pickles = {}
        for p in protocols:
            data = pickle.dumps(a, p)
            loaded = pickle.loads(data)
            pickles[str(p)] = {
                "hex": data.hex(),
                "dtype": loaded.dtype.str,
                "order": order_of(loaded),
            }
        out.append({
            "name": name,
            "dtypeName": dname,
            "shape": list(a.shape),
            "values": canon(a),
            "numeric": dname in NUMERIC,
            "pickles": pickles,
        })
    return json.dumps(out)


def same_array(a, x):
    """None if x is a (plain ndarray) copy of a: dtype, shape, memory order and values; else why."""
    if type(x) is not np.ndarray:
        return "loaded a %s" % type(x).__name__
    if x.dtype != a.dtype or x.dtype.str != a.dtype.str or x.dtype.descr != a.dtype.descr:
        return "dtype %r != %r" % (x.dtype, a.dtype)
    if x.shape != a.shape:
        return "shape %r != %r" % (x.shape, a.shape)
    if order_of(x) != order_of(a):
        return "order %s != %s" % (order_of(x), order_of(a))
    if a.dtype.hasobject:
        return None if canon(x) == canon(a) else "values differ"
    if a.dtype.fields is not None:
        # Field by field: numpy leaves the padding of aligned records uninitialized.
        for name in a.dtype.names:
            if x[name].tobytes("A") != a[name].tobytes("A"):
                return "field %r differs" % name
    elif x.tobytes("A") != a.tobytes("A"):
        return "bytes differ"
    if a.dtype.fields is None and not np.array_equal(x, a, equal_nan=a.dtype.kind in "fcMm"):
        return "array_equal is False"
    return None


def check_written(payload):
    """payload: JSON {name: {protocol: hex}} of pickle-ts's pickles of each case, loaded from
    numpy's. Each must load to what numpy loads from its own pickle, and should be the bytes numpy
    writes for that loaded array. Returns the problems and which pickles are byte-identical."""
    written = json.loads(payload)
    problems, identical, different = [], [], []
    for name, _dname, a in cases():
        for p, hexdata in written.get(name, {}).items():
            data = bytes.fromhex(hexdata)
            ref = pickle.loads(pickle.dumps(a, int(p)))
            try:
                x = pickle.loads(data)
            except Exception as e:  # noqa: BLE001
                problems.append("%s p%s: %s: %s" % (name, p, type(e).__name__, e))
                continue
            why = same_array(ref, x)
            if why:
                problems.append("%s p%s: %s" % (name, p, why))
            same = pickle.dumps(ref, int(p)) == data
            (identical if same else different).append("%s p%s" % (name, p))
    return json.dumps({"problems": problems, "identical": identical, "different": different})


def objects(*items):
    """A 1-d object array of exactly these items (np.array would nest the lists)."""
    out = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        out[i] = v
    return out


def _same_value(ref, x):
    if isinstance(ref, list):
        if not isinstance(x, list) or len(x) != len(ref):
            return "loaded %r, expected a list of %d" % (type(x).__name__, len(ref))
        for r, y in zip(ref, x):
            why = _same_value(r, y)
            if why:
                return why
        return None
    if not isinstance(ref, np.ndarray):
        return None if type(x) is type(ref) and x == ref else "loaded %r, expected %r" % (x, ref)
    return same_array(ref, x)


def check_built(payload):
    """payload: JSON [{name, expr, protocol, hex}] of arrays built in JS and pickled by pickle-ts;
    expr builds the same array in numpy. Each pickle must load to what numpy loads from its own
    pickle of expr, and should be byte-identical to it."""
    problems, identical, different = [], [], []
    for case in json.loads(payload):
        where = "%s p%d" % (case["name"], case["protocol"])
        expected = eval(case["expr"], {"np": np, "objects": objects})  # noqa: S307
        data = bytes.fromhex(case["hex"])
        ref = pickle.loads(pickle.dumps(expected, case["protocol"]))
        try:
            x = pickle.loads(data)
        except Exception as e:  # noqa: BLE001
            problems.append("%s: %s: %s" % (where, type(e).__name__, e))
            continue
        why = _same_value(ref, x)
        if why:
            problems.append("%s: %s" % (where, why))
        same = pickle.dumps(expected, case["protocol"]) == data
        (identical if same else different).append(where)
    return json.dumps({"problems": problems, "identical": identical, "different": different})


SCALARS = {
    "float64": "np.float64(1.5)",
    "float64 nan": "np.float64('nan')",
    "float32": "np.float32(0.1)",
    "float16": "np.float16(-2.5)",
    "int8": "np.int8(-5)",
    "int64 small": "np.int64(7)",
    "int64 big": "np.int64(2**62 + 1)",
    "uint64 max": "np.uint64(2**64 - 1)",
    "uint16": "np.uint16(65535)",
    "bool": "np.bool_(True)",
    "complex64": "np.complex64(1 + 2j)",
    "complex128": "np.complex128(-0.5 + 0j)",
    "str": "np.str_('hé😀')",
    "bytes": "np.bytes_(b'a\\x00b')",
    "datetime64": "np.datetime64('2020-01-01', 'D')",
    "datetime64 NaT": "np.datetime64('NaT', 'ns')",
    "timedelta64": "np.timedelta64(-5, 's')",
    "longdouble": "np.longdouble(1.5)",
    "void": "np.void(b'\\x01\\x02')",
    "record": "np.array([(1, 2.5)], dtype=[('a', '<i4'), ('b', '<f8')])[0]",
    "made in JS datetime64": "np.datetime64(18262, 'D')",
    "made in JS float32": "np.float32(0.1)",
    "made in JS complex128": "np.complex128(-0.5 + 0j)",
    "made in JS record": "np.array([(1, 2.5)], dtype=[('a', '<i4'), ('b', '<f8')])[0]",
}


def scalar_cases():
    out = []
    for name, expr in SCALARS.items():
        if name.startswith("made in JS"):
            continue
        s = eval(expr, {"np": np})  # noqa: S307
        out.append({
            "name": name,
            "dtype": s.dtype.str,
            "values": canon(np.array(s)),
            "pickles": {str(p): pickle.dumps(s, p).hex() for p in range(6)},
        })
    return json.dumps(out)


def check_scalars(payload):
    """payload: {name: {protocol: {"ours": hex, "theirs": hex?}}}: pickle-ts's pickle of each
    scalar must load to a scalar of the same type and bytes as numpy's pickle (theirs, or numpy's
    pickle of the expression) and be the same bytes."""
    problems = []
    for name, by_protocol in json.loads(payload).items():
        for p, both in by_protocol.items():
            ours = bytes.fromhex(both["ours"])
            if "theirs" in both:
                theirs = bytes.fromhex(both["theirs"])
            else:
                theirs = pickle.dumps(eval(SCALARS[name], {"np": np}), int(p))  # noqa: S307
            x, s = pickle.loads(ours), pickle.loads(theirs)
            if type(x) is not type(s) or np.array(x).tobytes() != np.array(s).tobytes():
                problems.append("%s p%s: loaded %r" % (name, p, x))
            if ours != theirs:
                problems.append("%s p%s: not numpy's bytes" % (name, p))
    return json.dumps(problems)


def dtype_cases():
    dtypes = dict(DTYPES)
    dtypes["with metadata"] = np.dtype("<f8", metadata={"unit": "m"})
    dtypes["sub-array"] = np.dtype(("<i2", (2, 3)))
    dtypes["longdouble"] = np.dtype("<f16")
    out = []
    for name, dt in dtypes.items():
        out.append({
            "name": name,
            "str": dt.str,
            "itemsize": dt.itemsize,
            "names": list(dt.names) if dt.names else None,
            "pickles": {str(p): pickle.dumps(dt, p).hex() for p in range(6)},
        })
    return json.dumps(out)


def check_dtypes(payload):
    """payload: [{name, protocol, hex, pickle}] pickle-ts's pickles of dtypes it loaded from
    numpy's: each must load equal and be numpy's bytes."""
    problems = []
    for case in json.loads(payload):
        theirs = bytes.fromhex(case["theirs"])
        ours = bytes.fromhex(case["hex"])
        dt, x = pickle.loads(theirs), pickle.loads(ours)
        if x != dt or x.str != dt.str or x.descr != dt.descr or x.metadata != dt.metadata:
            problems.append("%s p%d: loaded %r" % (case["name"], case["protocol"], x))
        if ours != theirs:
            problems.append("%s p%d: not numpy's bytes" % (case["name"], case["protocol"]))
    return json.dumps(problems)


class _Reduce:
    """Pickles as func(*args) with an optional BUILD state: hostile numpy pickles, made without
    running numpy's constructors."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


_VERDICTS = """
import json, pickle, sys
import numpy
for line in sys.stdin:
    try:
        pickle.loads(bytes.fromhex(line.strip()))
        verdict = None
    except Exception as e:
        verdict = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(verdict), flush=True)
"""


def bad_cases():
    """Malformed numpy pickles: name -> (pickle at protocols 2 and 5, numpy's own error)."""
    from numpy._core.multiarray import _reconstruct, scalar
    from numpy._core.numeric import _frombuffer

    f8 = np.dtype("<f8")

    def arr(state):
        return _Reduce(_reconstruct, (np.ndarray, (0,), b"b"), state)

    def dtype(state, typestr="f8"):
        return _Reduce(np.dtype, (typestr, False, True), state)

    cases = {
        "data too short": arr((1, (3,), f8, False, b"\0" * 16)),
        "data too long": arr((1, (1,), f8, False, b"\0" * 16)),
        "negative dimension": arr((1, (-1,), f8, False, b"")),
        "huge shape": arr((1, (2**40, 2**40), f8, False, b"")),
        "shape not a tuple": arr((1, [3], f8, False, b"\0" * 24)),
        "dtype not a dtype": arr((1, (3,), "f8", False, b"\0" * 24)),
        "state of 3 items": arr((1, (3,), f8)),
        "state version 2": arr((2, (3,), f8, False, b"\0" * 24)),
        "object data not a list": arr((1, (2,), np.dtype("O"), False, b"\0" * 16)),
        "object list too short": arr((1, (2,), np.dtype("O"), False, [1])),
        "frombuffer size mismatch": _Reduce(_frombuffer, (b"\0" * 12, f8, (2,), "C")),
        "frombuffer bad order": _Reduce(_frombuffer, (b"\0" * 8, f8, (1,), "X")),
        "frombuffer object dtype": _Reduce(_frombuffer, (b"\0" * 8, np.dtype("O"), (1,), "C")),
        "dtype not understood": dtype((3, "<", None, None, None, -1, -1, 0), "q9"),
        "dtype bad endian": dtype((3, "x", None, None, None, -1, -1, 0)),
        "dtype state of 4 items": dtype((3, "<", None, None)),
        "dtype state version 9": dtype((9, "<", None, None, None, -1, -1, 0)),
        "dtype fields without names": dtype((3, "|", None, None, {"a": (f8, 0)}, 8, 1, 16), "V8"),
        "scalar too short": _Reduce(scalar, (f8, b"\0" * 4)),
        "unicode size not a multiple of 4": dtype((3, "<", None, None, None, 13, 4, 8), "U3"),
        "field outside the record": dtype((3, "|", None, ("a",), {"a": (f8, 4)}, 8, 1, 16), "V8"),
        "typestr of 400 digits": dtype((3, "|", None, None, None, -1, -1, 0), "V" + "9" * 400),
    }
    out = {
        name: {"pickles": {p: pickle.dumps(obj, p).hex() for p in (2, 5)}}
        for name, obj in cases.items()
    }
    # numpy's verdicts, in a separate process: some of these pickles corrupt numpy's memory, so a
    # crash ends that process and the rest run in a new one.
    todo = list(out)
    while todo:
        pickles = "\n".join(out[n]["pickles"][5] for n in todo)
        r = subprocess.run(
            [sys.executable, "-c", _VERDICTS],
            input=pickles, capture_output=True, text=True, check=False,
        )
        verdicts = [json.loads(line) for line in r.stdout.splitlines()]
        for name, verdict in zip(todo, verdicts):
            out[name]["numpyError"] = verdict
        done = len(verdicts)
        if done < len(todo):
            out[todo[done]]["numpyError"] = "crashed"
            done += 1
        todo = todo[done:]
    return json.dumps(out)


class _Python2Pickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote for numpy arrays: byte strings and ASCII text as
    Python 2 `str` (SHORT_BINSTRING/BINSTRING), numpy's functions under numpy.core."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_str2(self, data):
        n = len(data)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + data)
        else:
            self.write(pickle.BINSTRING + n.to_bytes(4, "little") + data)

    def save_bytes(self, obj):
        self._save_str2(obj)
        self.memoize(obj)

    def save_str(self, obj):
        if obj.isascii():
            self._save_str2(obj.encode("ascii"))
            self.memoize(obj)
        else:
            pickle._Pickler.save_str(self, obj)

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")
        name = name or obj.__qualname__
        self.write(pickle.GLOBAL + ("%s\n%s\n" % (module, name)).encode("ascii"))
        self.memoize(obj)

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str
    dispatch[type] = save_global


def python2_cases():
    """Python 2-style pickles of some cases, with numpy's own load of them (encoding latin1)."""
    import io

    out = []
    for dname in ["float64", ">i4", "U5", "S4", "record", "M8[ns]", "bool", "complex64"]:
        a = make(DTYPES[dname], (2, 3), "F")
        f = io.BytesIO()
        _Python2Pickler(f, protocol=2, fix_imports=False).dump(a)
        data = f.getvalue()
        loaded = pickle.loads(data, encoding="latin1")
        assert same_array(pickle.loads(pickle.dumps(a, 2)), loaded) is None, dname
        out.append({
            "name": dname,
            "pickle": data.hex(),
            "dtype": loaded.dtype.str,
            "order": order_of(loaded),
            "values": canon(a),
        })
    return json.dumps(out)
