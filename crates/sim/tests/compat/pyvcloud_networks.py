"""pyvcloud 23.0.4 against the simulator: org vDC networks through
VDC.create_isolated_vdc_network, list_orgvdc_network_records, list_orgvdc_network_resources,
get_isolated_orgvdc_network and delete_isolated_orgvdc_network, at API 32 and 36."""
import json
import os
import sys
import time

import urllib3
from pyvcloud.vcd.client import BasicLoginCredentials, Client
from pyvcloud.vcd.exceptions import EntityNotFoundException
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vdc import VDC

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
out = {}

for version in ("32.0", "36.0"):
    c = Client(SIM, api_version=version, verify_ssl_certs=False,
               log_file=os.path.join(os.environ.get("SIM_TMP", "/tmp"), "pyvcloud-net.log"))
    c.set_credentials(BasicLoginCredentials("admin", "nebulair", "nebulair"))
    org = Org(c, resource=c.get_org())
    vdc = VDC(c, resource=org.get_vdc("VDC-Dev"))
    name = "py-iso-" + version
    created = vdc.create_isolated_vdc_network(
        name, "10.77.0.1/24", description="from pyvcloud", primary_dns_ip="10.77.0.53",
        dns_suffix="py.example", ip_range_start="10.77.0.100", ip_range_end="10.77.0.150",
        is_shared=False)
    c.get_task_monitor().wait_for_success(created.Tasks.Task[0], poll_frequency=0.05)
    records = vdc.list_orgvdc_network_records()
    net = vdc.get_isolated_orgvdc_network(name)
    scope = net.Configuration.IpScopes.IpScope
    out[version] = {
        "records": sorted(r["name"] for r in records),
        "linkType": [r["linkType"] for r in records if r["name"] == name],
        "fence": str(net.Configuration.FenceMode),
        "gateway": str(scope.Gateway),
        "netmask": str(scope.Netmask),
        "dns1": str(scope.Dns1),
        "pool": [str(scope.IpRanges.IpRange.StartAddress), str(scope.IpRanges.IpRange.EndAddress)],
        "isolated": [n.get("name") for n in vdc.list_orgvdc_network_resources(type="isolated")],
    }
    # a pool outside the subnet is refused with vCD's 400
    try:
        vdc.create_isolated_vdc_network("py-bad-" + version, "10.78.0.1/24",
                                        ip_range_start="10.79.0.1", ip_range_end="10.79.0.9")
        out[version]["bad_pool"] = "accepted"
    except Exception as e:  # BadRequestException
        out[version]["bad_pool"] = type(e).__name__
    task = vdc.delete_isolated_orgvdc_network(name)
    c.get_task_monitor().wait_for_success(task, poll_frequency=0.05)
    try:
        vdc.get_isolated_orgvdc_network(name)
        out[version]["gone"] = False
    except EntityNotFoundException:
        out[version]["gone"] = True
    c.logout()

sys.stdout.write("RESULT " + json.dumps(out, sort_keys=True) + "\n")
