"""The differential corpus: built-in values and their edges, by name.

Each entry is (name, value). Values may share and contain themselves; the tests check that
sharing survives in both directions. Python's pickles of these values are the reference.
"""
import sys


def _recursive_list():
    a = [1]
    a.append(a)
    return a


def _recursive_dict():
    d = {"name": "loop"}
    d["self"] = d
    return d


def _tuple_through_list():
    inner = []
    t = (inner, 1)
    inner.append(t)
    return t


def _long_tuple_through_list():
    inner = []
    t = (inner, 1, 2, 3)
    inner.append(t)
    return t


def _dict_promoted_after_shared():
    # A string-keyed dict is shared before it gets an int key: pickle-ts must turn it into a Map
    # everywhere it is referenced.
    d = {"a": 1}
    d["me"] = [d]
    d[1] = "one"
    return [d, d]


def _shared():
    x = [1, 2]
    b = b"shared"
    t = (3, 4)
    s = "s" * 10
    return {"x": x, "y": x, "b1": b, "b2": b, "t1": t, "t2": t, "s1": s, "s2": s}


def _deep(n):
    v = []
    root = v
    for _ in range(n):
        nxt = []
        v.append(nxt)
        v = nxt
    return root


ints = [0, 1, -1, 255, 256, -256, 65535, 65536, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32,
        2**53 - 1, 2**53, 2**53 + 1, -(2**53), 2**63 - 1, 2**63, -(2**63), 2**64, -(2**64) - 1,
        10**30, -(10**30), 10**1000, -(10**1000), 127, 128, -128, -129, 32767, 32768]

floats = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 1e16, 1e15, 0.0001, 0.00001, 1e-7, 123456789.125,
          float("inf"), float("-inf"), float("nan"), 5e-324, 1.7976931348623157e308,
          2.2250738585072014e-308, 3.141592653589793, 1e22, 1e21, 1e300, -1e-300, 0.1, 1 / 3]

strings = ["", "a", "abc", "é", "naïve café", "日本語", "\U0001f600", "a\U0001f600b",
           "\ud800", "x\udfffy", "\ud800\U0001f600", "\ufeffbom", "\\", "back\\slash",
           "line\nbreak", "cr\rlf", "nul\x00byte", "ctrl-z\x1a", "tab\t", "'quote\"",
           "\x7f\x80\xff", "\u0100\u07ff\u0800\uffff", "a" * 255, "é" * 128, "a" * 256,
           "x" * 300, "y" * 70000, "z" * 65535, "w" * 65536, "0", "10", "__proto__",
           "constructor"]

byte_values = [b"", b"\x00", b"abc", bytes(range(256)), b"x" * 255, b"x" * 256, b"y" * 70000,
               b"z" * 65536]


CASES = []


def case(name, value):
    CASES.append((name, value))


for i in ints:
    case("int %d" % i if abs(i) < 10**40 else "int %s10**%d" % ("-" if i < 0 else "", len(str(abs(i))) - 1), i)
for f in floats:
    case("float %r" % f, f)
for s in strings:
    case("str %s" % ascii(s[:20]) + ("...(%d)" % len(s) if len(s) > 20 else ""), s)
for b in byte_values:
    case("bytes %r" % b[:8] + ("...(%d)" % len(b) if len(b) > 8 else ""), b)

case("None", None)
case("True", True)
case("False", False)
case("bytearray empty", bytearray())
case("bytearray", bytearray(b"hello"))
case("bytearray 300", bytearray(range(256)) + bytearray(44))
case("bytearray 70000", bytearray(b"q" * 70000))
case("complex", 1 + 2j)
case("complex neg zero", complex(-0.0, -1.5))
case("complex inf nan", complex(float("inf"), float("nan")))
case("complex pure imaginary", 3j)
for n in range(5):
    case("tuple %d" % n, tuple(range(n)))
case("tuple 300", tuple(range(300)))
case("tuple nested", ((1, 2), (3, (4, (5,)))))
case("tuple of lists", ([1], [2], [3]))
for n in (0, 1, 2, 3, 999, 1000, 1001, 2000, 2001):
    case("list %d" % n, list(range(n)))
case("list mixed", [None, True, False, 0, 1.5, "s", b"b", (1,), [2], {3: 4}, {5}, frozenset([6])])
case("dict empty", {})
case("dict one", {"a": 1})
case("dict str keys", {"name": "Rex", "age": 3, "tags": ["good", "dog"]})
case("dict int keys", {1: "a", 2: "b", -3: "c", 2**70: "big"})
case("dict float keys", {1.5: "a", -0.5: "b", float("inf"): "c"})
case("dict tuple keys", {(1, 2): "a", (): "b", ("x", (1,)): "c"})
case("dict None key", {None: "none"})
case("dict bool keys", {True: "t", False: "f"})
case("dict mixed keys", {"s": 1, 2: "two", None: 3, (4,): 4, 5.5: 5, False: 6, b"b": 7, frozenset([1]): 8})
case("dict index-like keys", {"10": "ten", "2": "two", "a": "a", "0": "zero"})
case("dict __proto__ key", {"__proto__": {"polluted": True}, "constructor": "c", "toString": 1})
case("dict str then int key", {"a": 1, "b": 2, 3: "three", "d": 4})
for n in (999, 1000, 1001, 2000):
    case("dict %d" % n, {"k%d" % i: i for i in range(n)})
case("dict 1000 int keys", {i: -i for i in range(1000)})
case("set empty", set())
case("set one", {1})
case("set mixed", {1, "a", (2, 3), None, 4.5, b"x", frozenset([7])})
for n in (999, 1000, 1001):
    case("set %d" % n, set(range(n)))
case("frozenset empty", frozenset())
case("frozenset", frozenset([1, 2, "three"]))
case("frozenset 1001", frozenset(range(1001)))
case("frozenset nested", frozenset([frozenset([1]), (2, frozenset())]))
case("nested", {"a": [1, {"b": (2, [3, {"c": {4, 5}}])}], "d": {"e": {"f": {"g": None}}}})
case("shared", _shared())
case("recursive list", _recursive_list())
case("recursive dict", _recursive_dict())
case("recursive tuple via list", _tuple_through_list())
case("recursive long tuple via list", _long_tuple_through_list())
case("dict promoted after shared", _dict_promoted_after_shared())
case("deep 200", _deep(200))
case("many frames", list(range(100000)))
case("many strings", ["s%d" % i for i in range(20000)])
case("big and small bytes", [b"a", b"b" * 70000, b"c", "d" * 70000, bytearray(b"e" * 70000)])
case("repeated strings", ["rep", "rep", "rep"])
_many = ["m%d" % i for i in range(300)]
case("memo past 256 (LONG_BINPUT, LONG_BINGET)", _many + _many)
case("strings with shared keys", [{"id": i, "name": "user%d" % i, "score": i * 0.5, "tags": ["a", "b"]} for i in range(50)])


if __name__ == "__main__":
    print(len(CASES), "cases")
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate names"
