# -*- coding: utf-8 -*-
"""Python 2.7 side of test/fixtures/make_fixtures.py: pickles values with Python 2's own
`pickle` and `cPickle` at protocols 0, 1 and 2, and prints them as one JSON object on stdout:

    {"python": "2.7.18", "cases": [{"name", "pickler", "protocol", "hex"}, ...]}

Run by make_fixtures.py with the Python 2 interpreter; not importable by Python 3.
"""
import json
import os
import pickle
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cPickle  # noqa: E402
import py2_classes as C  # noqa: E402


def shared():
    a = [1, 2]
    return {"x": a, "y": a, "t": (a, a)}


def recursive_list():
    a = [1]
    a.append(a)
    return a


def recursive_dict():
    d = {"name": "loop"}
    d["self"] = d
    return d


def my_list():
    v = C.MyList([1, "two", 3.0])
    v.label = "mine"
    return v


def my_dict():
    v = C.MyDict()
    v["k"] = "v"
    v[2] = None
    return v


def shared_instances():
    o = C.NewStyle("shared", [])
    return [o, o, C.OldStyle(o, o)]


def kitchen_sink():
    s = "shared str"
    return {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, 2 ** 31 - 1, -2 ** 31],
        "longs": [0L, 1L, 2 ** 64, -(2 ** 70)],
        "floats": [0.0, 1.5, -2.25, 1e300],
        "strs": [s, s, "", "caf\xc3\xa9"],
        "unicode": [u"caf\xe9", u"\u20ac"],
        "tuple": (None, True, False),
        "nested": [[[]], {}, ()],
    }


# (name, value). Python 2 dict and set order is deterministic for these keys (no hash
# randomisation in 2.7 by default), so the pickles are the same on every run.
CASES = [
    ("none", None),
    ("bools", [True, False]),
    ("str_ascii", "hello"),
    ("str_empty", ""),
    ("str_nonascii", "caf\xc3\xa9 \x00\xff\x80"),
    ("str_quotes_escapes", "it's \"q\"\n\t\\ end"),
    ("str_long", "x" * 300 + "\xe9"),
    ("str_long_ascii", "0123456789" * 40),
    ("unicode_ascii", u"hello"),
    ("unicode_nonascii", u"h\xe9llo \u20ac \U0001F600"),
    ("unicode_escapes", u"back\\slash\nnewline \\u0041 end"),
    ("int_small", [0, 1, -1, 255, 256, 65535, 65536]),
    ("int_edges", [2 ** 31 - 1, -2 ** 31, 2 ** 31, sys.maxint, -sys.maxint - 1]),
    ("long_small", [0L, 1L, -1L, 255L]),
    ("long_big", [2 ** 64, -(2 ** 100), sys.maxint + 1]),
    ("long_huge", 7 ** 1000),
    ("long_huge_negative", -(3 ** 2000)),
    ("float", [0.0, -0.0, 1.5, 0.1, 1e300, -1e-300, 5e-324]),
    ("float_special", [float("inf"), float("-inf"), float("nan")]),
    ("tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]),
    ("list", [1, "a", u"b", None, True, 2.5]),
    ("dict_str_keys", {"a": 1, "b": [1, 2]}),
    ("dict_unicode_keys", {u"a": 1, u"\xe9": 2}),
    ("dict_int_keys", {1: "one", 2: "two"}),
    ("dict_mixed_keys", {1: "int", "s": "str", (1, 2): "tuple", None: "none"}),
    ("set_ints", set([1, 2, 3])),
    ("frozenset_ints", frozenset([4, 5])),
    ("shared", shared()),
    ("recursive_list", recursive_list()),
    ("recursive_dict", recursive_dict()),
    ("old_style", C.OldStyle()),
    ("old_style_state", C.OldStyle([1, 2], {"k": "v"})),
    ("old_with_args", C.OldWithArgs(7, "seven")),
    ("new_style", C.NewStyle("rex", ["good", "dog"])),
    ("new_with_args", C.NewWithArgs(3, u"three")),
    ("new_with_state", C.NewWithState(1, "b")),
    ("my_list", my_list()),
    ("my_dict", my_dict()),
    ("shared_instances", shared_instances()),
    ("kitchen_sink", kitchen_sink()),
]

PICKLERS = [("pickle", pickle), ("cPickle", cPickle)]


def main():
    out = []
    for name, value in CASES:
        for pickler_name, module in PICKLERS:
            for protocol in (0, 1, 2):
                data = module.dumps(value, protocol)
                out.append({
                    "name": name,
                    "pickler": pickler_name,
                    "protocol": protocol,
                    "hex": data.encode("hex"),
                })
    version = "%d.%d.%d" % sys.version_info[:3]
    sys.stdout.write(json.dumps({"python": version, "cases": out}))


if __name__ == "__main__":
    main()
