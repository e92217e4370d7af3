#!/usr/bin/env python3
"""Make the benchmark data sets in bench/data/ (gitignored), deterministically.

For each data set NAME this writes NAME.p2.pkl, NAME.p4.pkl, NAME.p5.pkl (pickle.dumps at
protocols 2, 4 and 5) and NAME.json (the same value as JSON: tuples become lists), plus
manifest.json, which records the item counts, the Python that pickled them and a hash of this
script. Nothing is rewritten when the manifest matches this script and every file is present,
so `npm run bench` can call this on every run.

Usage: python3 bench/make_data.py [--force]
"""

import hashlib
import json
import pickle
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PROTOCOLS = (2, 4, 5)


def small_ints():
    """1,000,000 ints in range(-500000, 500000): BININT1, BININT2 and BININT."""
    return list(range(-500_000, 500_000))


def floats():
    """1,000,000 random floats of mixed magnitude, none integral.

    None integral because JS has one number type: pickle-ts's default mode writes an integral
    number (1.0, or 1e22) as an int, so such floats would not round-trip byte for byte.
    """
    rng = random.Random(2)
    draws = (
        lambda: rng.random(),
        lambda: rng.gauss(0.0, 1e6),
        lambda: rng.uniform(-1.0, 1.0) * 10.0 ** rng.randint(-30, 12),
        lambda: rng.expovariate(0.01),
    )
    out = []
    for i in range(1_000_000):
        x = draws[i % 4]()
        while x == int(x):
            x = draws[i % 4]()
        out.append(x)
    return out


ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-."
# Latin-1, Cyrillic, CJK and astral characters (the last are surrogate pairs in JS).
NON_ASCII = "éüßñøçåЖждлЯ中文字日本語한국😀🐍🎉"


def short_strings():
    """200,000 distinct strings of 1-16 characters; one in ten holds non-ASCII characters.

    Distinct, so CPython writes each one (equal but separate str objects are not memoized, while
    pickle-ts memoizes strings by value) and the byte-for-byte comparison is meaningful.
    """
    rng = random.Random(3)
    seen = set()
    out = []
    while len(out) < 200_000:
        n = rng.randint(1, 16)
        chars = [rng.choice(ASCII) for _ in range(n)]
        if len(out) % 10 == 9:
            for _ in range(rng.randint(1, max(1, n // 2))):
                chars[rng.randrange(n)] = rng.choice(NON_ASCII)
        s = "".join(chars)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def dicts():
    """100,000 small dicts: {'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': [...]}."""
    return [
        {"id": i, "name": "user%d" % i, "score": i * 0.5, "tags": ["a", "b"]}
        for i in range(100_000)
    ]


COUNTRIES = ["BR", "US", "DE", "FR", "JP", "IN", "CN", "NG"]
LOCALES = ["pt_BR", "en_US", "de_DE", "fr_FR", "ja_JP", "hi_IN", "zh_CN", "yo_NG"]
GENDERS = ["m", "f", "x"]
TOPICS = ["python", "pickle", "music", "travel", "chess", "rust", "food", "film", "go", "art"]
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def records():
    """30,000 user records in the spirit of pyperformance's bm_pickle.

    Each holds ints, 48-bit ints, floats, strings (short shared ones and unique ones), short
    tuples, bools, None and a list of 20 ints.
    """
    rng = random.Random(5)
    out = []
    for i in range(30_000):
        created = rng.randrange(1_200_000_000, 1_700_000_000)
        out.append(
            {
                "id": rng.randrange(100_000_000, 1_000_000_000),
                "flags": rng.randrange(2**40, 2**48),
                "age": rng.randrange(13, 90),
                "country": rng.choice(COUNTRIES),
                "locale_preference": rng.choice(LOCALES),
                "gender": rng.choice(GENDERS),
                "username": "user_%d" % i,
                "encrypted_id": "".join(rng.choice(B64) for _ in range(11)),
                "first_name": "",
                "score": rng.random() * 100.0 + 1e-9,
                "rating": None if rng.random() < 0.3 else rng.random() * 5.0 + 1e-9,
                "location": (rng.uniform(-90, 90) + 1e-9, rng.uniform(-180, 180) + 1e-9),
                "version": (1, rng.randrange(10)),
                "is_member": rng.random() < 0.5,
                "has_profile_pic": rng.random() < 0.8,
                "deleted_at": None,
                "time_created": created,
                "time_updated": created + rng.randrange(0, 10_000_000),
                "unread_message_count": rng.randrange(0, 300),
                "interests": [rng.choice(TOPICS) for _ in range(rng.randrange(0, 5))],
                "friend_ids": [rng.randrange(40_000_000, 270_000_000) for _ in range(20)],
            }
        )
    return out


SETS = {
    "ints": small_ints,
    "floats": floats,
    "strings": short_strings,
    "dicts": dicts,
    "records": records,
}


def script_hash():
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def up_to_date():
    manifest = DATA / "manifest.json"
    if not manifest.exists():
        return False
    try:
        m = json.loads(manifest.read_text())
    except ValueError:
        return False
    if m.get("script") != script_hash():
        return False
    for name in SETS:
        files = [f"{name}.p{p}.pkl" for p in PROTOCOLS] + [f"{name}.json"]
        if not all((DATA / f).exists() for f in files):
            return False
    return True


def main():
    force = "--force" in sys.argv[1:]
    if not force and up_to_date():
        return
    if sys.version_info[:2] != (3, 11):
        print(
            f"make_data: note: the reference pickles are meant to come from CPython 3.11; "
            f"this is {sys.version.split()[0]}",
            file=sys.stderr,
        )
    DATA.mkdir(parents=True, exist_ok=True)
    manifest = {"script": script_hash(), "python": sys.version.split()[0], "sets": {}}
    for name, make in SETS.items():
        print(f"make_data: {name}", file=sys.stderr)
        value = make()
        assert isinstance(value, list)
        for p in PROTOCOLS:
            (DATA / f"{name}.p{p}.pkl").write_bytes(pickle.dumps(value, protocol=p))
        # allow_nan=False: every float here must be one JSON can express.
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        (DATA / f"{name}.json").write_text(text, encoding="utf-8")
        manifest["sets"][name] = {"count": len(value), "doc": (make.__doc__ or "").split("\n")[0]}
    (DATA / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
