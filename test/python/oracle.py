#!/usr/bin/env python3
"""The oracle: a python3 process the TypeScript tests talk to, one JSON object per line.

Requests (each answered by one line, in order):
  {"op": "corpus"}                          -> {"cases": [{"name", "tagged", "pickles": [hex x 6]}]}
  {"op": "check", "data": b64, "expect": tagged, "kwargs": {...}}
        pickle.loads(data, **kwargs) must equal from_tagged(expect), types and sharing included
                                            -> {"ok": true} | {"ok": false, "diff" | "error"}
  {"op": "load", "data": b64, "kwargs": {...}} -> {"tagged": ...} | {"error": {"type", "message"}}
  {"op": "dumps", "tagged": t, "protocol": p} -> {"data": b64}
  {"op": "eval", "code": str, "data": b64?}  -> runs code with `data` bound (bytes) and returns
        the tagged form of the variable `result` ({"tagged"}), or {"error": {...}}.
"""
import base64
import json
import os
import pickle
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tagged import from_tagged, strict_equal, to_tagged  # noqa: E402

sys.setrecursionlimit(20000)


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def unb64(text):
    return base64.b64decode(text)


def err(e):
    return {"error": {"type": type(e).__name__, "message": str(e)}}


# Corpus values by their tagged form (see the corpus op).
CANONICAL = {}


def handle(req):
    op = req["op"]
    if op == "corpus":
        import corpus
        cases = []
        for name, value in corpus.CASES:
            # Rebuilding a set from its iteration order can change that order (hash(None) is
            # id-based before 3.12, so collisions vary per run). Rebuild until the order is a
            # fixed point (it may not settle), and keep the value: the "dumps" op of the same
            # tagged form pickles this very object, so everything shares one order.
            tagged = to_tagged(value)
            for _ in range(20):
                canonical = from_tagged(tagged)
                again = to_tagged(canonical)
                if again == tagged:
                    break
                tagged = again
            CANONICAL[json.dumps(tagged, sort_keys=True)] = canonical
            cases.append({
                "name": name,
                "tagged": tagged,
                "pickles": [pickle.dumps(canonical, p).hex() for p in range(6)],
            })
        return {"cases": cases}
    if op == "check":
        try:
            value = pickle.loads(unb64(req["data"]), **req.get("kwargs", {}))
        except Exception as e:  # noqa: BLE001
            return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        diff = strict_equal(value, from_tagged(req["expect"]))
        return {"ok": diff is None, "diff": diff}
    if op == "load":
        try:
            value = pickle.loads(unb64(req["data"]), **req.get("kwargs", {}))
            return {"tagged": to_tagged(value)}
        except Exception as e:  # noqa: BLE001
            return err(e)
    if op == "dumps":
        value = CANONICAL.get(json.dumps(req["tagged"], sort_keys=True))
        if value is None:
            value = from_tagged(req["tagged"])
        return {"data": b64(pickle.dumps(value, req["protocol"]))}
    if op == "eval":
        ns = {"pickle": pickle, "from_tagged": from_tagged, "to_tagged": to_tagged}
        if "data" in req:
            ns["data"] = unb64(req["data"])
        try:
            exec(req["code"], ns)
            return {"tagged": to_tagged(ns.get("result"))}
        except Exception as e:  # noqa: BLE001
            return err(e)
    raise ValueError("unknown op %r" % op)


def main():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            resp = handle(json.loads(line))
        except Exception as e:  # noqa: BLE001
            resp = {"fatal": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}
        out.write(json.dumps(resp) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
