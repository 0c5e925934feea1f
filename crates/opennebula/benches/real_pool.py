#!/usr/bin/env python3
"""Build a large pool response from VMs recorded on a real oned 7.5.80.

Usage:
    python3 real_pool.py N RECORDED_RESPONSE OUTFILE

RECORDED_RESPONSE is one of the recorded `one.vmpool.info*` response bodies in
`benches/data/` (copied from the recorded exchanges of a real oned 7.5.80). The VMs of its
document are repeated in order, renumbered N-1 down to 0 (oned lists the newest VM
first), and written back into the very same envelope, escaped as oned escapes (`<`, `>`
and `&`; quotes left alone). Everything else (element order, CDATA, empty elements, the
envelope's line ends) is byte for byte what the real server sent, so the result is a
real-shaped N-VM response: the recorded server notes give 1,273,092 bytes for
`one.vmpool.info` over 2,003 VMs. Output is deterministic.
"""
import re
import sys
from xml.sax.saxutils import escape, unescape


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    n = int(argv[1])
    body = open(argv[2], "r", encoding="utf-8").read()
    start = body.index("<string>") + len("<string>")
    end = body.index("</string>", start)
    doc = unescape(body[start:end])
    root_open = doc.index(">") + 1
    root_close = doc.rindex("</")
    inner = doc[root_open:root_close]
    # Top-level VMs all start with `<VM><ID>`; nothing inside a VM does.
    starts = [m.start() for m in re.finditer(r"<VM><ID>\d+</ID>", inner)]
    if not starts:
        sys.stderr.write("no <VM> in the recorded document\n")
        return 1
    vms = [inner[a:b] for a, b in zip(starts, starts[1:] + [len(inner)])]
    out = []
    for i in range(n):
        vm = vms[i % len(vms)]
        out.append(re.sub(r"^<VM><ID>\d+</ID>", "<VM><ID>%d</ID>" % (n - 1 - i), vm))
    new_doc = doc[:root_open] + "".join(out) + doc[root_close:]
    with open(argv[3], "w", encoding="utf-8", newline="") as f:
        f.write(body[:start])
        f.write(escape(new_doc))
        f.write(body[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
