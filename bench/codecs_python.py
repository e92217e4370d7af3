"""Python's side of bench/codecs.mjs: makes the 50 MB protocol-5 pickle (deterministic, cached in
bench/data/codecs.p5.pkl), and times Python's gzip, bz2, lzma and zstandard modules on it, each
compress and decompress, median of REPS runs. Writes each compressed result next to the data for
pickle-ts to decompress the same bytes. Prints JSON: {codec: {compress_s, decompress_s, size}}.

Usage: python3 codecs_python.py DATA_DIR REPS [zstd-only|no-zstd]
"""
import bz2
import gzip
import json
import lzma
import os
import pickle
import random
import statistics
import sys
import time

TARGET = 50_000_000


def make(path):
    rng = random.Random(5)
    words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(3, 10)))
             for _ in range(5000)]
    records, i = [], 0
    while True:
        for _ in range(10_000):
            records.append({
                'id': i, 'name': rng.choice(words).title() + ' ' + rng.choice(words).title(),
                'email': rng.choice(words) + '@' + rng.choice(words) + '.com',
                'score': round(rng.random() * 100, 2), 'visits': rng.randint(0, 10_000),
                'tags': [rng.choice(words) for _ in range(rng.randint(0, 4))],
                'active': i % 3 == 0, 'token': rng.randbytes(12),
            })
            i += 1
        if len(records) * 125 > TARGET and len(pickle.dumps(records, 5)) >= TARGET:
            break
    data = pickle.dumps(records, 5)
    with open(path, 'wb') as f:
        f.write(data)


def codecs(which):
    out = {}
    if which != 'zstd-only':
        out['gzip'] = (lambda d: gzip.compress(d, 9), gzip.decompress)
        out['bz2'] = (lambda d: bz2.compress(d, 9), bz2.decompress)
        out['xz'] = (lambda d: lzma.compress(d, preset=6), lzma.decompress)
    if which != 'no-zstd':
        import zstandard
        out['zstd'] = (zstandard.ZstdCompressor(level=3).compress,
                       zstandard.ZstdDecompressor().decompress)
    return out


def main():
    data_dir, reps = sys.argv[1], int(sys.argv[2])
    which = sys.argv[3] if len(sys.argv) > 3 else ''
    path = os.path.join(data_dir, 'codecs.p5.pkl')
    if not os.path.exists(path):
        make(path)
    with open(path, 'rb') as f:
        data = f.read()
    result = {'size': len(data)}
    for name, (compress, decompress) in codecs(which).items():
        ct, dt = [], []
        for _ in range(reps):
            t = time.perf_counter()
            packed = compress(data)
            ct.append(time.perf_counter() - t)
            t = time.perf_counter()
            back = decompress(packed)
            dt.append(time.perf_counter() - t)
            assert back == data
        with open(os.path.join(data_dir, 'codecs.p5.pkl.python.' + name), 'wb') as f:
            f.write(packed)
        result[name] = {'compress_s': statistics.median(ct), 'decompress_s': statistics.median(dt),
                        'size': len(packed)}
    print(json.dumps(result))


main()
