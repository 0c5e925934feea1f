"""Shared helper of the vcloudair compatibility scripts.

vcloudair 0.5 hard-codes https://vchs.vmware.com and https://vca.vmware.com (the /api/sc
URLs are plain strings inside methods), so the scripts redirect those hosts to the
simulator at the lowest HTTP layer every request goes through (HTTPAdapter.send, used by
requests.get/post/put and by Session().send alike). Nothing else is changed.
"""
import json
import os
import sys

import requests
import requests.adapters

SIM = os.environ["SIM_BASE"].rstrip("/")
HOSTS = ("https://vchs.vmware.com", "https://vca.vmware.com")
REQUESTS = []

_orig_send = requests.adapters.HTTPAdapter.send


def _send(self, request, *args, **kwargs):
    for host in HOSTS:
        if request.url.startswith(host):
            request.url = SIM + request.url[len(host):]
    REQUESTS.append((request.method, request.url))
    return _orig_send(self, request, *args, **kwargs)


requests.adapters.HTTPAdapter.send = _send

USER = os.environ.get("SIM_USER", "admin")
PASSWORD = os.environ.get("SIM_PASSWORD", "nebulair")


def emit(result):
    """Prints the result as the last line of output (read by the Rust test)."""
    sys.stdout.write("RESULT " + json.dumps(result, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
