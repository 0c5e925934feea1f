"""pyvcloud 23.0.4 against the simulator: vApp networks through VApp.create_vapp_network,
get_vapp_network_list, connect_org_vdc_network, disconnect_org_vdc_network and
delete_vapp_network, read back from the vApp's NetworkConfigSection."""
import json
import os
import sys

import urllib3
from pyvcloud.vcd.client import BasicLoginCredentials, Client
from pyvcloud.vcd.exceptions import BadRequestException
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vapp import VApp
from pyvcloud.vcd.vdc import VDC

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
c = Client(SIM, api_version="36.0", verify_ssl_certs=False,
           log_file=os.path.join(os.environ.get("SIM_TMP", "/tmp"), "pyvcloud.log"))
c.set_credentials(BasicLoginCredentials("admin", "nebulair", "nebulair"))
wait = c.get_task_monitor().wait_for_success
org = Org(c, resource=c.get_org())
vdc = VDC(c, resource=org.get_vdc("VDC-Prod"))
vapp = VApp(c, resource=vdc.get_vapp("db-tier"))
out = {}


def section():
    vapp.reload()
    nets = {}
    for nc in vapp.resource.NetworkConfigSection.NetworkConfig:
        conf = nc.Configuration
        entry = {"fence": str(conf.FenceMode)}
        if hasattr(conf, "ParentNetwork"):
            entry["parent"] = conf.ParentNetwork.get("name")
        if hasattr(conf, "IpScopes"):
            scope = conf.IpScopes.IpScope
            entry["gateway"] = str(scope.Gateway)
            entry["netmask"] = str(scope.Netmask)
            if hasattr(scope, "IpRanges"):
                entry["ranges"] = ["%s-%s" % (r.StartAddress, r.EndAddress)
                                   for r in scope.IpRanges.IpRange]
        if hasattr(nc, "Description"):
            entry["description"] = str(nc.Description)
        nets[nc.get("networkName")] = entry
    return nets


wait(vapp.create_vapp_network("py-iso", "172.40.0.1/24", description="from pyvcloud",
                              ip_ranges=["172.40.0.10-172.40.0.20"]), poll_frequency=0.05)
out["after_create"] = section()
out["list"] = sorted(n["name"] for n in vapp.get_vapp_network_list())

# An org vDC network, then the vApp connected to it.
created = vdc.create_isolated_vdc_network("py-org", "10.80.0.1/24")
wait(created.Tasks.Task[0], poll_frequency=0.05)
vdc.reload()
wait(vapp.connect_org_vdc_network("py-org"), poll_frequency=0.05)
out["after_connect"] = section()

# A bad range is refused by the server.
try:
    vapp.create_vapp_network("py-bad", "172.41.0.1/24", ip_ranges=["172.42.0.1-172.42.0.9"])
    out["bad_range"] = "accepted"
except BadRequestException as e:
    out["bad_range"] = "not a range of host addresses" in str(e)

vapp.reload()
wait(vapp.disconnect_org_vdc_network("py-org"), poll_frequency=0.05)
vapp.reload()
wait(vapp.delete_vapp_network("py-iso"), poll_frequency=0.05)
out["at_end"] = section()
c.logout()
sys.stdout.write("RESULT " + json.dumps(out, sort_keys=True) + "\n")
