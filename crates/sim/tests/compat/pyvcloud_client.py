"""pyvcloud 23.0.4 against the simulator: version negotiation, login on both sides of
API 33, org and vDC listing, typed queries (paging, filter, sort), a task, logout."""
import os
import sys

import requests
import urllib3
from pyvcloud.vcd.client import (BasicLoginCredentials, Client, QueryResultFormat,
                                 ResourceType, TaskStatus)
from pyvcloud.vcd.exceptions import (VcdTaskException, AccessForbiddenException,
                                     BadRequestException)
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vdc import VDC
from pyvcloud.vcd.vapp import VApp

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
USER = os.environ.get("SIM_USER", "admin")
PASSWORD = os.environ.get("SIM_PASSWORD", "nebulair")
ORG = os.environ.get("SIM_ORG", "nebulair")
out = {}


def emit():
    import json
    sys.stdout.write("RESULT " + json.dumps(out, sort_keys=True, default=str) + "\n")


def session(api_version=None, org=ORG):
    client = Client(SIM, api_version=api_version, verify_ssl_certs=False,
                    log_file=os.path.join(os.environ.get("SIM_TMP", "/tmp"), "pyvcloud.log"))
    client.set_credentials(BasicLoginCredentials(USER, org, PASSWORD))
    return client


# 1. Version negotiation: no version given -> highest common (36.0, cloudapi login).
c = session()
out["negotiated"] = c.get_api_version()
out["orgs"] = [o.get("name") for o in c.get_org_list()]
org = Org(c, resource=c.get_org())
out["vdcs_v36"] = sorted(v["name"] for v in org.list_vdcs())
vdc = VDC(c, resource=org.get_vdc("VDC-Prod"))
out["edges_v36"] = [e["name"] for e in vdc.list_edge_gateways()]

# 2. Typed queries with paging (pageSize 2), filter and sort, all pages followed.
q = c.get_typed_query(ResourceType.VM.value,
                      query_result_format=QueryResultFormat.RECORDS,
                      page_size=2, qfilter="name==web*", sort_asc="name")
out["vm_filter_sorted"] = [r.get("name") for r in q.execute()]
q = c.get_typed_query(ResourceType.VAPP.value,
                      query_result_format=QueryResultFormat.RECORDS,
                      sort_desc="name", page_size=2)
out["vapps_desc"] = [r.get("name") for r in q.execute()]
q = c.get_typed_query(ResourceType.VAPP.value,
                      query_result_format=QueryResultFormat.RECORDS,
                      page=2, page_size=2, sort_asc="name")
page2 = q.execute()
out["vapps_page2"] = {"total": page2["resultTotal"],
                      "names": [r.get("name") for r in page2["values"]],
                      "has_next": page2["nextPageUri"] is not None}
q = c.get_typed_query(ResourceType.VAPP_TEMPLATE.value,
                      query_result_format=QueryResultFormat.REFERENCES)
out["template_refs"] = sorted(r.get("name") for r in q.execute())
q = c.get_typed_query(ResourceType.VM.value,
                      query_result_format=QueryResultFormat.ID_RECORDS,
                      equality_filter=("name", "db-01"))
out["db01_ids"] = [r.get("id") for r in q.execute()]
try:
    list(c.get_typed_query(ResourceType.VM.value, query_result_format=QueryResultFormat.RECORDS,
                           qfilter="bogusAttr==1").execute())
    out["bad_filter"] = "accepted"
except BadRequestException as e:
    out["bad_filter"] = "BadRequestException"

# 3. A task: power on the powered-off vApp "Web-Tier" and wait; then one that fails.
# The filter's string equality ignores case, so pick the exact name client-side.
matches = [r for r in c.get_typed_query(ResourceType.VAPP.value,
                                        query_result_format=QueryResultFormat.RECORDS,
                                        equality_filter=("name", "Web-Tier")).execute()]
out["webtier_matches"] = sorted(r.get("name") for r in matches)
vapp = VApp(c, resource=c.get_resource(
    [r for r in matches if r.get("name") == "Web-Tier"][0].get("href")))
task = vapp.power_on()
out["task_initial"] = task.get("status")
done = c.get_task_monitor().wait_for_success(task, poll_frequency=0.1)
out["task_final"] = done.get("status")
vapp.reload()
out["vapp_status_after"] = vapp.resource.get("status")
fail_count = int(os.environ.get("SIM_EXPECT_FAIL", "0"))
if fail_count:
    t2 = vapp.power_off()
    try:
        c.get_task_monitor().wait_for_success(t2, poll_frequency=0.1)
        out["failed_task"] = "succeeded"
    except VcdTaskException as e:
        out["failed_task"] = "VcdTaskException"
        out["failed_task_message"] = str(e)

# 4. Logout.
c.logout()
out["logout"] = True

# 5. Legacy login below API 33 (x-vcloud-authorization), vDCs from org links.
c32 = session("32.0")
out["v32_version"] = c32.get_api_version()
org32 = Org(c32, resource=c32.get_org())
out["vdcs_v32"] = sorted(v["name"] for v in org32.list_vdcs())
q = c32.get_typed_query(ResourceType.VM.value, query_result_format=QueryResultFormat.RECORDS,
                        qfilter="name==jenkins*;numberOfCpus=ge=2", page_size=1)
out["v32_filter_encoded"] = sorted(r.get("name") for r in q.execute())
c32.logout()

# 6. Provider login (System org) at API 33 uses /cloudapi/1.0.0/sessions/provider.
cs = session("33.0", org="System")
out["system_is_sysadmin"] = cs.is_sysadmin()
out["system_orgs"] = sorted(o.get("name") for o in cs.get_org_list())
cs.logout()

# 7. A version the server does not support -> the 406 is reported.
try:
    bad = session("5.1")
    out["v51"] = "logged in"
except Exception as e:  # pyvcloud raises its NotAcceptable/VcdException family
    out["v51"] = type(e).__name__
emit()
