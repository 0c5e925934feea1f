#!/usr/bin/env python3
"""Measure PyONE's one.vm.info calls per second against an OpenNebula endpoint.

Used with the nebulair simulator (the `one_pyone` bench starts one and runs this script;
`nebulair simulate` works too), so the figures compare with `cargo bench -p nebulair-sim
--bench one_vm_info`, which measures the same calls from Rust.

Usage: bench-pyone.py URL [--session oneadmin:opennebula] [--vm ID] [--seconds 5]
Prints one line per concurrency level: `pyone one.vm.info concurrency=N calls=... calls_per_s=...`.
"""
import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--session", default="oneadmin:opennebula")
    ap.add_argument("--vm", type=int, default=None, help="VM id (default: instantiate template 0)")
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()

    one = pyone.OneServer(args.url, session=args.session)
    vm = args.vm
    if vm is None:
        vm = one.template.instantiate(0, "pyone-bench", False, "", False)
    assert one.vm.info(vm).ID == vm

    for concurrency in (1, 32):
        stop = time.monotonic() + args.seconds
        counts = [0] * concurrency
        local = threading.local()

        def worker(i):
            if not hasattr(local, "server"):
                local.server = pyone.OneServer(args.url, session=args.session)
            n = 0
            while time.monotonic() < stop:
                local.server.vm.info(vm)
                n += 1
            counts[i] = n

        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(worker, range(concurrency)))
        elapsed = time.monotonic() - start
        total = sum(counts)
        print(
            f"pyone one.vm.info concurrency={concurrency} calls={total} "
            f"seconds={elapsed:.2f} calls_per_s={total / elapsed:.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
