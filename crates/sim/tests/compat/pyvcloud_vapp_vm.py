"""pyvcloud 23.0.4 vApp/VM calls against the simulator: instantiate, deploy/undeploy,
power actions, VMs of a vApp, CPU/memory/NIC changes, a snapshot, metadata, delete."""
import json
import os
import sys
import traceback

import urllib3
from pyvcloud.vcd.client import (BasicLoginCredentials, Client, MetadataDomain,
                                 MetadataValueType, MetadataVisibility)
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vapp import VApp
from pyvcloud.vcd.vdc import VDC
from pyvcloud.vcd.vm import VM

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
out = {}


def emit():
    sys.stdout.write("RESULT " + json.dumps(out, sort_keys=True, default=str) + "\n")


def step(name, fn):
    """Runs one step; records its error instead of stopping, so every step is reported."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the test asserts on the recorded name
        out[name + "_error"] = "%s: %s" % (type(e).__name__, e)
        traceback.print_exc()
        return None


# API 32: the catalogs of the org come from its links (from 33 pyvcloud wants a catalog
# query link on the Org, which the simulator does not offer yet).
c = Client(SIM, api_version="32.0", verify_ssl_certs=False,
           log_file=os.path.join(os.environ.get("SIM_TMP", "/tmp"), "pyvcloud.log"))
c.set_credentials(BasicLoginCredentials("admin", "nebulair", "nebulair"))
monitor = c.get_task_monitor()


def wait(task, reload=None):
    """Waits for a task; `reload` is an object whose cached document is then stale
    (pyvcloud checks a vApp's links in its cached document before each power action)."""
    status = monitor.wait_for_success(task=task, poll_frequency=0.1).get("status")
    if reload is not None:
        reload.reload()
    return status


org = Org(c, resource=c.get_org())
vdc = VDC(c, resource=org.get_vdc("VDC-Dev"))


def instantiate():
    created = vdc.instantiate_vapp("py-app", "DevOps", "lamp-stack",
                                   description="from pyvcloud",
                                   network="default-routed", deploy=True,
                                   power_on=False, accept_all_eulas=True)
    out["instantiate"] = wait(created.Tasks.Task[0])


step("instantiate", instantiate)
vdc.reload()
vapp = VApp(c, resource=vdc.get_vapp("py-app"))


def power_cycle():
    out["deploy"] = wait(vapp.deploy(power_on=True), vapp)
    vapp.reload()
    out["status_after_deploy"] = vapp.get_power_state()
    out["reboot"] = wait(vapp.reboot(), vapp)
    out["shutdown"] = wait(vapp.shutdown(), vapp)
    vapp.reload()
    out["status_after_shutdown"] = vapp.get_power_state()
    out["power_on"] = wait(vapp.power_on(), vapp)
    out["power_off"] = wait(vapp.power_off(), vapp)
    vapp.reload()
    out["status_after_power_off"] = vapp.get_power_state()
    out["undeploy"] = wait(vapp.undeploy(action="powerOff"), vapp)
    vapp.reload()
    out["deployed_after_undeploy"] = vapp.resource.get("deployed")


step("power", power_cycle)


def vms():
    vapp.reload()
    all_vms = vapp.get_all_vms()
    out["vms"] = sorted(v.get("name") for v in all_vms)
    vm = VM(c, resource=all_vms[0])
    out["cpu"] = wait(vm.modify_cpu(4, 2))
    out["memory"] = wait(vm.modify_memory(2048))
    vm.reload()
    # VM.get_cpus/get_memory read the VmSpecSection, which the simulator does not send;
    # read the virtual hardware section's RASD items instead.
    rasd = "{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData}"
    vmw = "{http://www.vmware.com/schema/ovf}"
    hw = vm.resource["{http://schemas.dmtf.org/ovf/envelope/1}VirtualHardwareSection"]
    for item in hw["{http://schemas.dmtf.org/ovf/envelope/1}Item"]:
        kind = item[rasd + "ResourceType"].text
        if kind == "3":
            out["cpu_after"] = {"num_cpus": int(item[rasd + "VirtualQuantity"].text),
                                "num_cores_per_socket": int(item[vmw + "CoresPerSocket"].text)}
        elif kind == "4":
            out["memory_after"] = int(item[rasd + "VirtualQuantity"].text)
    out["add_nic"] = wait(vm.add_nic("VMXNET3", False, True, "default-routed",
                                     "MANUAL", "192.168.109.61"))
    vm.reload()
    out["nics"] = [{k: n.get(k) for k in ("index", "network", "ip_address",
                                          "ip_address_mode", "primary")}
                   for n in vm.list_nics()]
    out["snapshot"] = wait(vm.snapshot_create(memory=False, quiesce=False, name="py"))
    vm.reload()
    out["has_snapshot"] = hasattr(vm.resource, "SnapshotSection") and \
        hasattr(vm.resource.SnapshotSection, "Snapshot")


step("vm", vms)


def metadata():
    out["set_metadata"] = wait(vapp.set_metadata(
        MetadataDomain.GENERAL.value, MetadataVisibility.READ_WRITE.value,
        "tier", "web", MetadataValueType.STRING.value))
    out["set_metadata_n"] = wait(vapp.set_metadata(
        MetadataDomain.GENERAL.value, MetadataVisibility.READ_WRITE.value,
        "replicas", 3, MetadataValueType.NUMBER.value))
    md = vapp.get_metadata()
    out["metadata"] = sorted(
        (e.Key.text, e.TypedValue.get("{http://www.w3.org/2001/XMLSchema-instance}type"),
         e.TypedValue.Value.text) for e in md.MetadataEntry)


step("metadata", metadata)


def delete():
    out["delete"] = wait(vdc.delete_vapp("py-app"))
    vdc.reload()
    try:
        vdc.get_vapp("py-app")
        out["gone"] = False
    except Exception as e:  # noqa: BLE001
        out["gone"] = type(e).__name__


step("delete", delete)
emit()
