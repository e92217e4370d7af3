"""CPython's pickletools as the oracle for test/tools and test/cli: dis text (with the error and
the offset of the opcode it happened at), optimize bytes, and print() of loaded values.

Each function takes one blob of bytes holding many cases and a list of (offset, length, ...)
tuples, and returns a JSON string, so that a whole corpus costs one round trip to the oracle.
"""
import io
import json
import math
import pickle
import pickletools
import reprlib
import sys

from tagged import from_tagged, strict_equal, to_tagged


class _Tracked(io.BytesIO):
    """A file that remembers where pickletools' genops last read an opcode byte."""

    def __init__(self, data):
        super().__init__(data)
        self.op_pos = None

    def read(self, n=-1):
        if n == 1 and sys._getframe(1).f_code.co_name == "_genops":
            self.op_pos = self.tell()
        return super().read(n)


def _dis(data, start, annotate, indentlevel, memo):
    f = _Tracked(data)
    f.seek(start)
    out = io.StringIO()
    try:
        pickletools.dis(f, out=out, memo=memo, indentlevel=indentlevel, annotate=annotate)
        return {"text": out.getvalue(), "end": f.tell()}
    except Exception as e:  # noqa: BLE001 - every error dis raises is the expected result
        return {"text": out.getvalue(), "error": str(e), "type": type(e).__name__,
                "at": f.op_pos}


def dis_many(blob, cases):
    """cases: [offset, length, annotate, indentlevel]; each a separate pickle."""
    results = []
    for offset, length, annotate, indentlevel in cases:
        data = blob[offset:offset + length]
        results.append(_dis(data, 0, annotate, indentlevel, None))
    return json.dumps(results)


def dis_stream(data, annotate, shared_memo):
    """Every pickle in data, one dis call each (one memo for all if shared_memo)."""
    memo = {} if shared_memo else None
    results = []
    start = 0
    while True:
        r = _dis(data, start, annotate, 4, memo if shared_memo else None)
        results.append(r)
        if "error" in r or r["end"] >= len(data):
            break
        start = r["end"]
    return json.dumps(results)


def optimize_many(blob, cases, check=True):
    """cases: [offset, length]; the optimized bytes (hex) and (if check) whether they load
    equal, types and sharing included."""
    results = []
    for offset, length in cases:
        data = blob[offset:offset + length]
        try:
            opt = pickletools.optimize(data)
        except Exception as e:  # noqa: BLE001
            results.append({"error": "%s: %s" % (type(e).__name__, e)})
            continue
        diff = None
        if check:
            try:
                diff = strict_equal(pickle.loads(opt), pickle.loads(data))
            except Exception as e:  # noqa: BLE001
                diff = "load failed: %s: %s" % (type(e).__name__, e)
        results.append({"hex": opt.hex(), "diff": diff})
    return json.dumps(results)


def print_many(blob, cases, encoding="ASCII"):
    """cases: [offset, length]; what print(pickle.loads(data)) writes, or the error."""
    results = []
    for offset, length in cases:
        data = blob[offset:offset + length]
        out = io.StringIO()
        try:
            print(pickle.loads(data, encoding=encoding), file=out)
            results.append({"text": out.getvalue()})
        except Exception as e:  # noqa: BLE001
            results.append({"error": "%s: %s" % (type(e).__name__, e)})
    return json.dumps(results)


def reprlib_many(blob, cases):
    """cases: [offset, length, maxlevel, maxitems]; reprlib with every container limit set."""
    results = []
    for offset, length, maxlevel, maxitems in cases:
        r = reprlib.Repr()
        r.maxlevel = maxlevel
        r.maxlist = r.maxtuple = r.maxdict = maxitems
        r.maxstring = r.maxlong = r.maxother = 10 ** 9
        results.append(r.repr(pickle.loads(blob[offset:offset + length])))
    return json.dumps(results)


def is_plain_json(value):
    """Whether a value is plain JSON without loss: None, bool, int, finite float, str, list and
    str-keyed dicts, no container reached twice."""
    seen = set()
    todo = [value]
    while todo:
        v = todo.pop()
        t = type(v)
        if v is None or t in (bool, int, str):
            continue
        if t is float:
            if not math.isfinite(v):
                return False
            continue
        if t not in (list, dict) or id(v) in seen:
            return False
        seen.add(id(v))
        if t is list:
            todo.extend(v)
        else:
            if not all(type(k) is str for k in v):
                return False
            todo.extend(v.values())
    return True


def json_check_many(blob, cases):
    """cases: [offset, length, json_text]; json.loads(text) must equal pickle.loads(data), types
    included (None when the value is not plain JSON and the text is None)."""
    results = []
    for offset, length, text in cases:
        value = pickle.loads(blob[offset:offset + length])
        plain = is_plain_json(value)
        if text is None:
            results.append(None if not plain else "value is plain JSON, but no JSON was written")
            continue
        if not plain:
            results.append("value is not plain JSON, but JSON was written")
            continue
        results.append(strict_equal(json.loads(text), value))
    return json.dumps(results)


def json_dumps_many(blob, cases):
    """cases: [offset, length]; Python's json.dumps of each plain-JSON value (else None)."""
    results = []
    for offset, length in cases:
        value = pickle.loads(blob[offset:offset + length])
        results.append(json.dumps(value) if is_plain_json(value) else None)
    return json.dumps(results)


def tagged_of(data):
    return to_tagged(pickle.loads(data))


__all__ = ["dis_many", "dis_stream", "optimize_many", "print_many", "reprlib_many",
           "json_check_many", "json_dumps_many", "from_tagged"]


def _decode(kind, b):
    if kind == "utf8":
        return [ord(c) for c in str(b, "utf-8", "surrogatepass")]
    if kind == "rawunicode":
        return [ord(c) for c in str(b, "raw-unicode-escape")]
    if kind == "int":
        return str(int(b))
    if kind == "float":
        return repr(float(b))
    raise ValueError(kind)


def text_many(kind, cases):
    """cases: hex strings; each decoded as `kind`, or the error message."""
    results = []
    for h in cases:
        try:
            results.append({"value": _decode(kind, bytes.fromhex(h))})
        except ValueError as e:
            results.append({"error": str(e)})
    return json.dumps(results)


def same_value_many(blob, cases):
    """cases: [offset, length, text]; whether eval(text) == pickle.loads(data) (for repr text
    that differs from Python's only in the order of set members, which depends on the hash
    seed of the process)."""
    ns = {"__builtins__": {}, "nan": float("nan"), "inf": float("inf"), "set": set,
          "frozenset": frozenset, "bytearray": bytearray}
    results = []
    for offset, length, text in cases:
        try:
            results.append(eval(text, ns) == pickle.loads(blob[offset:offset + length]))
        except Exception:  # noqa: BLE001
            results.append(False)
    return json.dumps(results)
