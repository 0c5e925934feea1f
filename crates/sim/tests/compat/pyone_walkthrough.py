"""PyONE against the nebulair OpenNebula simulator: the seed walkthrough plus error cases.

Usage: pyone_walkthrough.py URL  (oneadmin's password is "opennebula").
Prints OK and exits 0 when every assertion holds.
"""
import sys
import time

import pyone

url = sys.argv[1]
one = pyone.OneServer(url, session="oneadmin:opennebula")

# system
assert one.system.version() == "7.5.80"

# allocate a host, list hosts
hid = one.host.allocate("pyone-host", "kvm", "kvm", -1)
assert isinstance(hid, int) and hid >= 2, hid
hosts = one.hostpool.info()
names = [h.NAME for h in hosts.HOST]
assert "pyone-host" in names and "host01" in names and "host02" in names, names
host = one.host.info(hid)
assert host.ID == hid and host.IM_MAD == "kvm" and host.CLUSTER == "default"

# read a VM template's TEMPLATE as a dict
tmpl = one.template.info(0)
assert tmpl.NAME == "ttylinux", tmpl.NAME
t = tmpl.TEMPLATE
assert t["CPU"] == "0.1" and t["MEMORY"] == "128", t
assert t["NIC"]["NETWORK"] == "public", t["NIC"]
assert t["DISK"]["SIZE"] == "1024", t["DISK"]
assert list(t.keys()) == sorted(t.keys()), list(t.keys())

# instantiate it
vmid = one.template.instantiate(0, "pyone-vm", False, "", False)
assert isinstance(vmid, int)

# read the VM pool (newest first)
pool = one.vmpool.info(-2, -1, -1, -1)
assert pool.VM[0].ID == vmid, [vm.ID for vm in pool.VM]
assert pool.VM[0].NAME == "pyone-vm"

deadline = time.time() + 10
while True:
    vm = one.vm.info(vmid)
    if vm.STATE == 3 and vm.LCM_STATE == 3:
        break
    assert time.time() < deadline, (vm.STATE, vm.LCM_STATE)
    time.sleep(0.02)
assert vm.TEMPLATE["NIC"]["IP"].startswith("192.168.150."), vm.TEMPLATE["NIC"]
assert vm.TEMPLATE["TEMPLATE_ID"] == "0"
# the TEMPLATE as oned completes it
t = vm.TEMPLATE
assert t["AUTOMATIC_REQUIREMENTS"] == "(CLUSTER_ID = 0) & !(PIN_POLICY = PINNED)", t
assert t["AUTOMATIC_NIC_REQUIREMENTS"] == '("CLUSTERS/ID" @> 0)', t
rules = t["SECURITY_GROUP_RULE"]
assert [r["RULE_TYPE"] for r in rules] == ["OUTBOUND", "INBOUND"], rules
assert all(r["SECURITY_GROUP_NAME"] == "default" for r in rules), rules
assert t["GRAPHICS"]["PORT"] == str(5900 + vmid), t["GRAPHICS"]
assert t["DISK"]["DRIVER"] == "raw" and t["DISK"]["TARGET"] == "sda", t["DISK"]
ctx = t["CONTEXT"]
assert ctx["ETH0_IP"] == t["NIC"]["IP"] and ctx["ETH0_MAC"] == t["NIC"]["MAC"], ctx
assert ctx["SSH_PUBLIC_KEY"] is None and "ETH0_VROUTER_MANAGEMENT" in ctx, ctx  # empty CDATA
assert vm.HISTORY_RECORDS.HISTORY[0].HOSTNAME in ("host01", "host02", "pyone-host")

# update the user template with a dict, read it back
one.vm.update(vmid, {"NOTE": "from pyone", "LABELS": "a,b"}, 1)
vm = one.vm.info(vmid)
assert vm.USER_TEMPLATE["NOTE"] == "from pyone", vm.USER_TEMPLATE
assert vm.USER_TEMPLATE["LABELS"] == "a,b"

# wrong state
try:
    one.vm.action("resume", vmid)
    raise AssertionError("resume on a running VM must fail")
except pyone.OneActionException as e:
    assert "This action is not available for state RUNNING" in str(e), str(e)

# terminate the VM
one.vm.action("terminate", vmid)
deadline = time.time() + 10
while one.vm.info(vmid).STATE != 6:
    assert time.time() < deadline
    time.sleep(0.02)
assert all(v.ID != vmid for v in (one.vmpool.info(-2, -1, -1, -1).VM or []))

# error cases
bad = pyone.OneServer(url, session="oneadmin:wrong-password")
try:
    bad.vm.info(0)
    raise AssertionError("a bad password must fail")
except pyone.OneAuthenticationException as e:
    assert "User couldn't be authenticated" in str(e), str(e)
try:
    one.vm.info(99999)
    raise AssertionError("a missing VM must fail")
except pyone.OneNoExistsException as e:
    assert "Error getting virtual machine [99999]" in str(e), str(e)

# the families served since the simulator has every oned method
hook = one.hook.allocate('NAME = "py-hook"\nTYPE = "api"\nCALL = "one.zone.info"\nCOMMAND = "/bin/true"')
one.zone.info(0)
h = one.hook.info(hook)
assert h.NAME == "py-hook", h.NAME
assert len(h.HOOKLOG.HOOK_EXECUTION_RECORD) == 1, h.HOOKLOG
one.hooklog.info(0, 0, hook, 0)
markets = one.marketpool.info()
assert sorted(m.NAME for m in markets.MARKETPLACE) == ["Linux Containers", "OpenNebula Public"]
job = one.backupjob.allocate('NAME = "py-bj"')
one.backupjob.priority(job, 10)
assert one.backupjob.info(job).PRIORITY == 10
raft = one.zone.raftstatus()
assert raft.SERVER_ID == -1 and raft.STATE == 0, raft
assert one.vmpool.calculateshowback(1, 2020, 12, 2100) == " "
assert one.vmpool.showback(-2, 1, 2020, 12, 2100) is not None

# a monitored host as the dummy drivers report it (host01 is seeded monitored)
h0 = one.host.info(0)
assert len(h0.HOST_SHARE.PCI_DEVICES.PCI) == 22, h0.HOST_SHARE.PCI_DEVICES
assert len(h0.HOST_SHARE.NUMA_NODES.NODE) == 2
assert h0.TEMPLATE["HYPERVISOR"] == "dummy", h0.TEMPLATE
# oned keeps no quota usage for oneadmin
admin = one.user.info(0)
assert not admin.VM_QUOTA.VM, admin.VM_QUOTA
# oneadmin cannot mint a full token for a user of other groups, as oned
uid = one.user.allocate("py-tok", "pw", "", [])
try:
    one.user.login("py-tok", "", 60, -1)
    raise AssertionError("full token for another user's groups")
except pyone.OneException as e:
    assert "Cannot create a full token with a specific group token" in str(e), str(e)
# the default VDC: every cluster, nothing else
vdc = one.vdc.info(0)
assert vdc.CLUSTERS.CLUSTER[0].CLUSTER_ID == -10
assert not vdc.HOSTS.HOST and not vdc.VNETS.VNET

# scheduled actions as oned parses them: relative TIME from the VM's start, REPEAT kept
held = one.vm.allocate('NAME = "py-sched"\nCPU = "1"\nMEMORY = "64"', True)
sa = one.vm.schedadd(held, 'SCHED_ACTION = [ ACTION = "release", TIME = "+3600", REPEAT = "3", DAYS = "2", END_TYPE = "1", END_VALUE = "3" ]')
hv = one.vm.info(held)
s0 = hv.TEMPLATE["SCHED_ACTION"]
assert int(s0["TIME"]) == hv.STIME + 3600 and s0["REPEAT"] == "3" and s0["END_VALUE"] == "3", s0
try:
    one.vm.schedadd(held, 'SCHED_ACTION = [ ACTION = "hold", TIME = "1", REPEAT = "0", DAYS = "9" ]')
    raise AssertionError("DAYS out of range")
except pyone.OneActionException as e:
    assert "Days in a week have to be in [0,6] range" in str(e), str(e)
one.vm.scheddelete(held, sa)

# a persistent image keeps its disk's snapshots
img = one.image.allocate('NAME = "py-data"\nTYPE = "DATABLOCK"\nSIZE = "16"\nPERSISTENT = "YES"', 1)
pv = one.vm.allocate('NAME = "py-snap"\nCPU = "1"\nMEMORY = "64"\nDISK = [ IMAGE_ID = "%d" ]' % img)
deadline = time.time() + 10
while not (one.vm.info(pv).STATE == 3 and one.vm.info(pv).LCM_STATE == 3):
    assert time.time() < deadline
    time.sleep(0.02)
one.vm.disksnapshotcreate(pv, 0, "py-s0")
while one.vm.info(pv).LCM_STATE != 3:
    assert time.time() < deadline
    time.sleep(0.02)
one.vm.action("terminate-hard", pv)
while one.vm.info(pv).STATE != 6:
    assert time.time() < deadline
    time.sleep(0.02)
isnap = one.image.info(img).SNAPSHOTS
assert [x.NAME for x in isnap.SNAPSHOT] == ["py-s0"], isnap.SNAPSHOT
try:
    one.image.snapshotdelete(img, 0)
    raise AssertionError("the active snapshot")
except pyone.OneActionException as e:
    assert "Cannot delete the active snapshot" in str(e), str(e)
one.image.snapshotflatten(img, 0)
assert not one.image.info(img).SNAPSHOTS.SNAPSHOT

print("OK")
