"""vcloudair 0.5: ANS firewall/NAT/IPsec add + save, and the DR class."""
import os

import vcloudair_redirect as r
import vcloudair.dr
from vcloudair.session import VCASession, VCAODSession
from vcloudair.ans import ANSFirewall, ANSNat, ANSIPSec
from vcloudair.dr import DisasterRecovery

# The client sleeps 10 s between task polls; keep the logic, shorten the wait.
vcloudair.dr.sleep = lambda _s: __import__("time").sleep(0.05)

out = {}
edge = os.environ["SIM_EDGE"]
vca = VCASession(username=r.USER, password=r.PASSWORD)
prod = vca.login(orgname="vdc-prod")

fw = ANSFirewall(edge, org_info=prod)
fw.get_config()
out["fw_before"] = len(fw)
fw.add_rule("web-in", "203.0.113.0/24", "external", protocol="TCP", dest_port=443)
fw.add_rule("out", "internal", "external", action="ACCEPT", protocol="any")
fw.save_config()
fw2 = ANSFirewall(edge, org_info=prod)
fw2.get_config()
out["fw_after"] = len(fw2)
out["fw_last"] = fw2[len(fw2) - 1]
out["fw_names"] = [x["name"] for x in fw2]
del fw2[0]
fw2.save_config()
fw3 = ANSFirewall(edge, org_info=prod)
fw3.get_config()
out["fw_after_delete"] = len(fw3)

nat = ANSNat(edge, org_info=prod)
nat.get_config()
out["nat_before"] = len(nat)
nat.add_rule("DNAT", "23.92.225.51", "192.168.109.30", original_port=8080,
             translated_port=80)
nat.add_rule("snat", "192.168.110.0/24", "23.92.225.52", protocol="icmp")
nat.save_config()
nat2 = ANSNat(edge, org_info=prod)
nat2.get_config()
out["nat_after"] = len(nat2)
out["nat_new"] = [x for x in nat2][-2:]

ips = ANSIPSec(edge, org_info=prod)
ips.get_config()
out["ipsec_before"] = len(ips)
ips.add_psk_tunnel("to-dc2", "23.92.225.51", "23.92.225.51", "198.51.100.9",
                   "198.51.100.9", ["192.168.109.0/24"], "10.9.0.0/16, 10.8.0.0/16",
                   "s3cr3t-psk")
ips.save_config()
ips2 = ANSIPSec(edge, org_info=prod)
ips2.get_config()
out["ipsec_after"] = len(ips2)
out["ipsec_new"] = ips2[len(ips2) - 1]

# DR through the On-Demand DR instance (index 1).
od = VCAODSession(username=r.USER, password=r.PASSWORD)
od.login()
dr_info = od.login_to_instance(1)
dr = DisasterRecovery(org_info=dr_info)
dr.retrieve_replications()
out["dr_listed"] = len(dr.replications)
ids = sorted(dr.replications)
out["dr_first"] = {"id": ids[0], "name": dr.replications[ids[0]]["name"]}
csv = os.path.join(os.environ["SIM_TMP"], "details.csv")
dr.dump_replication_details(csv)
with open(csv, encoding="utf-8") as f:
    out["dr_csv_lines"] = len(f.read().splitlines())
dr.do_test_failover(ids[0], ids[1], ids[0], "00000000-0000-0000-0000-00000000dead",
                    power_on=False)
out["dr_test_errors"] = list(dr.action_errors)
dr.do_test_cleanup(ids[0], ids[1])
out["dr_cleanup_errors"] = list(dr.action_errors)
dr.do_failover(ids[2])
out["dr_failover_errors"] = list(dr.action_errors)
out["dr_targets"] = ids[:3]
r.emit(out)
