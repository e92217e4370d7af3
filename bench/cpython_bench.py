#!/usr/bin/env python3
"""CPython's side of `npm run bench`: time the C `pickle.loads`/`pickle.dumps` on the data sets
that bench/make_data.py wrote, and print the timings as one JSON object on stdout.

Times are in milliseconds, one per repetition, after `warmup` untimed runs. The garbage collector
stays enabled (as in a real program); the value from the previous repetition is dropped outside
the timed region, so its deallocation is not counted.

Usage:
  python3 bench/cpython_bench.py --sets ints,dicts --protocols 4,2,5 --reps 7 --warmup 2
  python3 bench/cpython_bench.py --memory dicts   # peak RSS growth of one loads, fresh process
"""

import argparse
import gc
import json
import pickle
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        value = fn()
        t1 = time.perf_counter_ns()
        del value
        out.append((t1 - t0) / 1e6)
    return out


def bench(sets, protocols, reps, warmup):
    results = {}
    for name in sets:
        per_set = {}
        for p in protocols:
            data = (DATA / f"{name}.p{p}.pkl").read_bytes()
            loads_ms = timed(lambda: pickle.loads(data), reps, warmup)
            value = pickle.loads(data)
            dumps_ms = timed(lambda: pickle.dumps(value, protocol=p), reps, warmup)
            per_set[f"p{p}"] = {
                "loads": loads_ms,
                "dumps": dumps_ms,
                "length": len(value),
                # The file came from pickle.dumps of the original value; dumping the loaded
                # copy should give the same bytes, which is what pickle-ts is compared against.
                "roundtrip": pickle.dumps(value, protocol=p) == data,
            }
            del value
        results[name] = per_set
    return results


def proc_status(field):
    """A field of /proc/self/status in bytes (Linux), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Reset VmHWM, the peak RSS, to the current RSS (Linux 4.0+); False where unsupported.

    getrusage's ru_maxrss can't be used instead: it keeps the peak of the parent process that
    spawned this one, which is larger than anything a loads here would reach.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return proc_status("VmHWM") is not None
    except OSError:
        return False


def memory(name):
    data = (DATA / f"{name}.p4.pkl").read_bytes()
    gc.collect()
    if not reset_peak_rss():
        return {"peakRssDelta": None, "length": -1}
    before = proc_status("VmRSS")
    value = pickle.loads(data)
    peak = proc_status("VmHWM")
    return {"peakRssDelta": peak - before, "length": len(value)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="ints,floats,strings,dicts,records")
    ap.add_argument("--protocols", default="4,2,5")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--memory")
    args = ap.parse_args()
    if args.memory:
        print(json.dumps(memory(args.memory)))
        return
    sets = [s for s in args.sets.split(",") if s]
    protocols = [int(p) for p in args.protocols.split(",") if p]
    out = {
        "python": sys.version.split()[0],
        "accelerated": pickle.Pickler.__module__ == "_pickle",
        "gcEnabled": gc.isenabled(),
        "results": bench(sets, protocols, args.reps, args.warmup),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
