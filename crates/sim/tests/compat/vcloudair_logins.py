"""vcloudair 0.5: VPC (vchs) login, direct vCD login, On-Demand login, queries, metrics."""
import vcloudair_redirect as r  # noqa: F401  (installs the redirect first)
from vcloudair.session import VCASession, VCAODSession
from vcloudair.query import (VMQuery, VAppQuery, VAppTemplateQuery,
                             EdgeGatewayQuery, OrgVdcQuery)
from vcloudair.metrics import Metrics

out = {}

# VPC / Dedicated: vchs login, service list, compute, login to a vDC.
vca = VCASession(username=r.USER, password=r.PASSWORD)
prod = vca.login(orgname="VDC-Prod")
out["vpc_vdc_names"] = sorted(vca.vdc_names) if not callable(vca.vdc_names) else sorted(vca.vdc_names())
out["vpc_org_info"] = prod
dev = vca.login_to_vdc("vdc-dev")
out["vpc_dev_org_uuid"] = dev["org_uuid"]
out["vpc_lookup_same"] = vca["VDC-PROD"]["token"] == prod["token"]

# Direct vCD login (added in 0.5).
direct = VCASession(version="5.6").login(username=r.USER, password=r.PASSWORD,
                                         orgname="nebulair", vcd_url=r.SIM)
out["direct_org_info"] = direct

# On-Demand: IAM login, instances, plans, login to the first instance.
od = VCAODSession(username=r.USER, password=r.PASSWORD)
od.login()
out["od_instances"] = [
    {"id": i["id"], "friendlyName": i.get("friendlyName"), "planType": i.get("planType"),
     "orgName": i["instanceAttributes"]["orgName"]}
    for i in od.instances
]
od_info = od.login_to_instance(0)
out["od_org_info"] = od_info

# Queries through the VPC vDC session: vm has more than one page of 100 records.
vmq = VMQuery(org_info=prod)
vmq.set_fields("status", "containerName")
vms = vmq.execute()
out["vm_count"] = len(vms)
out["vm_web01"] = [v for v in vms.values() if v["name"] == "web-01"]
out["vm_find_web01"] = sorted(vmq.find_by_name("WEB-01"))
vapps = VAppQuery(org_info=od_info)
vapps.execute()
out["vapp_find_webtier"] = sorted(vapps.find_by_name("web-tier"))
out["vapp_names"] = sorted(v["name"] for v in vapps.results.values() if not v["name"].startswith("bulk-"))
tq = VAppTemplateQuery(org_info=direct)
out["templates"] = sorted(v["name"] for v in tq.execute().values())
eq = EdgeGatewayQuery(org_info=prod)
eq.set_fields("gatewayStatus")
out["edges"] = eq.execute()
oq = OrgVdcQuery(org_info=prod)
out["vdcs"] = sorted(v["name"] for v in oq.execute().values())

# Metrics for a whole vDC (VDC-Prod) over the last hour, with filters; two pages.
m = Metrics(org_info=prod)
m.set_relative_interval("hour", 1)
m.set_metric_filters("cpu.usage.average")
m.add_metric_filters("cpu.idle.summation")
m.collect()
out["metrics_vms"] = sorted(m.metric_data)
out["metrics_samples"] = {vm: len(ts) for vm, ts in m.metric_data.items()}
first_vm = sorted(m.metric_data)[0]
first_ts = sorted(m.metric_data[first_vm])[0]
out["metrics_first"] = m.metric_data[first_vm][first_ts]

# Metrics per VM (ids with the vm- prefix added by the client), the 2nd VM lacks idle.
vm_ids = sorted(k for k, v in vms.items() if v["name"] in ("WEB-01", "jenkins01"))
mv = Metrics(org_info=dev, vm_uuids=vm_ids)
mv.set_relative_interval("minute", 10, 5)
mv.set_metric_filters("cpu.idle.summation", "cpu.ready.summation")
mv.collect()
out["metrics_vm_samples"] = {vm: len(ts) for vm, ts in mv.metric_data.items()}
out["metrics_vm_values"] = {
    vm: sorted({str(x["cpu.idle.summation"]) == "Invalid Metric Name" for x in ts.values()})
    for vm, ts in mv.metric_data.items()
}
out["requests"] = len(r.REQUESTS)
r.emit(out)
