"""pyvcloud 23.0.4 against the simulator: independent disks through VDC.create_disk,
get_disk, get_disks, list_idisk, VApp.attach_disk_to_vm / detach_disk_from_vm, delete_disk
(API 32 sends size in bytes, API 36 sizeMb)."""
import json
import os
import sys

import urllib3
from pyvcloud.vcd.client import BasicLoginCredentials, Client
from pyvcloud.vcd.exceptions import EntityNotFoundException
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vapp import VApp
from pyvcloud.vcd.vdc import VDC

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
out = {}

for version in ("32.0", "36.0"):
    c = Client(SIM, api_version=version, verify_ssl_certs=False,
               log_file=os.path.join(os.environ.get("SIM_TMP", "/tmp"), "pyvcloud.log"))
    c.set_credentials(BasicLoginCredentials("admin", "nebulair", "nebulair"))
    org = Org(c, resource=c.get_org())
    vdc = VDC(c, resource=org.get_vdc("VDC-Prod"))
    name = "py-disk-" + version
    created = vdc.create_disk(name, 64 * 1024 * 1024, bus_type="6",
                              bus_sub_type="VirtualSCSI", description="from pyvcloud",
                              storage_profile_name="*")
    c.get_task_monitor().wait_for_success(created.Tasks.Task[0], poll_frequency=0.05)
    vdc.reload()
    disk = vdc.get_disk(name=name)
    out[version] = {
        "name": disk.get("name"),
        "size": disk.get("size"),
        "busSubType": disk.get("busSubType"),
        "description": str(disk.Description),
        "attached": [v.get("name") for v in getattr(disk["attached_vms"], "VmReference", [])],
        "by_id": vdc.get_disk(disk_id=disk.get("id").split(":")[-1]).get("name"),
        "listed": sorted(d["name"] for d in vdc.list_idisk()),
    }
    # VApp.attach_disk_to_vm / detach_disk_from_vm through the VM's disk:attach links.
    vapp = VApp(c, resource=vdc.get_vapp("db-tier"))
    task = vapp.attach_disk_to_vm(disk.get("href"), "db-01")
    c.get_task_monitor().wait_for_success(task, poll_frequency=0.05)
    attached = vdc.get_disk(name=name)
    out[version]["attached_after"] = [
        v.get("name") for v in getattr(attached["attached_vms"], "VmReference", [])]
    task = vapp.detach_disk_from_vm(disk.get("href"), "db-01")
    c.get_task_monitor().wait_for_success(task, poll_frequency=0.05)
    detached = vdc.get_disk(name=name)
    out[version]["detached_after"] = [
        v.get("name") for v in getattr(detached["attached_vms"], "VmReference", [])]
    task = vdc.delete_disk(name=name)
    c.get_task_monitor().wait_for_success(task, poll_frequency=0.05)
    vdc.reload()
    try:
        vdc.get_disk(name=name)
        out[version]["gone"] = False
    except EntityNotFoundException:
        out[version]["gone"] = True
    c.logout()

sys.stdout.write("RESULT " + json.dumps(out, sort_keys=True) + "\n")
