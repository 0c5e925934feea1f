"""pyvcloud 23.0.4 against the simulator: org vDC networks through
VDC.create_isolated_vdc_network, list_orgvdc_network_records, list_orgvdc_network_resources,
list_orgvdc_isolated_networks / routed, get_isolated_orgvdc_network and
delete_isolated_orgvdc_network."""
import json
import os
import sys

import urllib3
from pyvcloud.vcd.client import BasicLoginCredentials, Client
from pyvcloud.vcd.exceptions import BadRequestException, EntityNotFoundException
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vdc import VDC

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
c = Client(SIM, api_version="36.0", verify_ssl_certs=False,
           log_file=os.path.join(os.environ.get("SIM_TMP", "/tmp"), "pyvcloud.log"))
c.set_credentials(BasicLoginCredentials("admin", "nebulair", "nebulair"))
org = Org(c, resource=c.get_org())
vdc = VDC(c, resource=org.get_vdc("VDC-Prod"))
out = {}

created = vdc.create_isolated_vdc_network(
    "py-isolated", "10.50.0.1/24", description="from pyvcloud",
    primary_dns_ip="10.50.0.2", dns_suffix="py.example",
    ip_range_start="10.50.0.10", ip_range_end="10.50.0.20", is_shared=False)
c.get_task_monitor().wait_for_success(created.Tasks.Task[0], poll_frequency=0.05)
vdc.reload()
out["records"] = sorted(r["name"] for r in vdc.list_orgvdc_network_records())
net = vdc.get_isolated_orgvdc_network("py-isolated")
scope = net.Configuration.IpScopes.IpScope
out["network"] = {
    "name": net.get("name"),
    "description": str(net.Description),
    "fence": str(net.Configuration.FenceMode),
    "gateway": str(scope.Gateway),
    "netmask": str(scope.Netmask),
    "dns1": str(scope.Dns1),
    "suffix": str(scope.DnsSuffix),
    "range": [str(scope.IpRanges.IpRange.StartAddress), str(scope.IpRanges.IpRange.EndAddress)],
    "shared": str(net.IsShared),
}
out["isolated"] = sorted(n.get("name") for n in vdc.list_orgvdc_isolated_networks())
out["routed"] = sorted(n.get("name") for n in vdc.list_orgvdc_routed_networks())
out["by_name"] = [n.get("name") for n in vdc.list_orgvdc_network_resources(name="py-isolated")]

# The same name again: refused by the server.
try:
    vdc.create_isolated_vdc_network("py-isolated", "10.51.0.1/24")
    out["duplicate"] = "accepted"
except BadRequestException as e:
    out["duplicate"] = "DUPLICATE_NAME" in str(e) or "already exists" in str(e)

task = vdc.delete_isolated_orgvdc_network("py-isolated")
c.get_task_monitor().wait_for_success(task, poll_frequency=0.05)
vdc.reload()
try:
    vdc.get_isolated_orgvdc_network("py-isolated")
    out["gone"] = False
except EntityNotFoundException:
    out["gone"] = True
c.logout()
sys.stdout.write("RESULT " + json.dumps(out, sort_keys=True) + "\n")
