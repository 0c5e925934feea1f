#!/usr/bin/env python3
"""PyONE's full path on a saved response body, for `cargo xtask bench-decode`.

Usage:
    python pyone_decode.py BODY_FILE

Does exactly what PyONE 7.x does with a `one.vmpool.info` answer: `xmlrpc.client`'s
parser on the HTTP body (what `RequestsTransport.parse_response` runs), then
`pyone.bindings.parseString` on the document (what `OneServerXRPC.__response` runs), and
prints one line in the format of `decode_probe`: `probe variant=pyone ns=.. cpu_ns=.. items=..
input_bytes=.. base_kb=.. hwm_kb=.. rss_kb=..` (VmHWM from /proc/self/status after the
peak was reset just before the body was read).
"""
import sys
import time
import xmlrpc.client

import pyone.bindings


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def main(argv):
    path = argv[1]
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = status_kb("VmRSS:")
    with open(path, "rb") as f:
        body = f.read()
    t = time.perf_counter_ns()
    c = time.thread_time_ns()
    p, u = xmlrpc.client.getparser()
    p.feed(body)
    p.close()
    ret = u.close()[0]
    pool = pyone.bindings.parseString(ret[1].encode("utf-8"))
    ns = time.perf_counter_ns() - t
    cpu = time.thread_time_ns() - c
    print(
        "probe variant=pyone ns=%d cpu_ns=%d items=%d input_bytes=%d base_kb=%d hwm_kb=%d "
        "rss_kb=%d" % (ns, cpu, len(pool.VM), len(body), base, status_kb("VmHWM:"), status_kb("VmRSS:")),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
