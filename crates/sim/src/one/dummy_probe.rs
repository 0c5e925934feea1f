//! What oned's dummy information driver reports for a host once it is monitored (the
//! `dummy-probes.d` system and monitor probes of oned 7.5, as a real oned rendered them in
//! `recorded-sweep/064_one.host.info`): the host's PCI devices, its NUMA topology (2
//! nodes of 8 cores with 4 threads, two huge page sizes), the monitored TEMPLATE keys,
//! the datastore location's use, and the NUMA part of each monitoring record.

use super::state::{Host, Kind, State};
use super::tmpl::{Tmpl, cdata_elem};

/// NUMA nodes of the dummy host.
const NODES: usize = 2;
/// Cores per node.
const CORES: usize = 8;
/// Threads per core.
const THREADS: usize = 4;
/// Huge page sizes (KB), 1024 pages of each per node.
const HUGEPAGES: [i64; 2] = [2048, 1_048_576];
/// TOTALMEMORY (KB) of the dummy host.
pub(crate) const TOTAL_MEMORY: i64 = 16_777_216;
/// DS_LOCATION_USED_MB: the host's USED_DISK.
pub(crate) const DS_USED_MB: i64 = 9720;

/// The PCI devices (attributes in oned's order, VMID aside).
pub(crate) const PCI_DEVICES: &[&[(&str, &str)]] = &[
    &[
        ("ADDRESS", "0000:02:00:0"),
        ("BUS", "02"),
        ("CLASS", "0302"),
        ("CLASS_NAME", "3D controller"),
        ("DEVICE", "0863"),
        ("DEVICE_NAME", "C79 [GeForce 9400M]"),
        ("DOMAIN", "0000"),
        ("FUNCTION", "0"),
        ("IFNAME", "-"),
        ("NUMA_NODE", "1"),
        (
            "PROFILES",
            "1145 (NVIDIA L40S-1B),1146 (NVIDIA L40S-2B),1147 (NVIDIA L40S-1Q),1148 (NVIDIA L40S-2Q),1149 (NVIDIA L40S-3Q),1150 (NVIDIA L40S-4Q),1151 (NVIDIA L40S-6Q),1152 (NVIDIA L40S-8Q),1153 (NVIDIA L40S-12Q),1154 (NVIDIA L40S-16Q),1155 (NVIDIA L40S-24Q),1156 (NVIDIA L40S-48Q),1157 (NVIDIA L40S-1A),1158 (NVIDIA L40S-2A),1159 (NVIDIA L40S-3A),1160 (NVIDIA L40S-4A),1161 (NVIDIA L40S-6A),1162 (NVIDIA L40S-8A),1163 (NVIDIA L40S-12A),1164 (NVIDIA L40S-16A),1165 (NVIDIA L40S-24A),1166 (NVIDIA L40S-48A)",
        ),
        ("SHORT_ADDRESS", "02:00.0"),
        ("SLOT", "00"),
        ("SRIOV", "no"),
        ("TYPE", "10de:0863:0302"),
        ("VENDOR", "10de"),
        ("VENDOR_NAME", "NVIDIA Corporation"),
    ],
    &[
        ("ADDRESS", "0000:00:06:0"),
        ("BUS", "00"),
        ("CLASS", "0c03"),
        ("CLASS_NAME", "USB controller"),
        ("DEVICE", "0aa7"),
        ("DEVICE_NAME", "MCP79 OHCI USB 1.1 Controller"),
        ("DOMAIN", "0000"),
        ("FUNCTION", "0"),
        ("IFNAME", "-"),
        ("NUMA_NODE", "1"),
        ("SHORT_ADDRESS", "00:06.0"),
        ("SLOT", "06"),
        ("SRIOV", "no"),
        ("TYPE", "1b21:0aa7:0c03"),
        ("VENDOR", "1b21"),
        ("VENDOR_NAME", "ASMedia Technology Inc."),
    ],
    &[
        ("ADDRESS", "0000:00:06:1"),
        ("BUS", "00"),
        ("CLASS", "0c03"),
        ("CLASS_NAME", "USB controller"),
        ("DEVICE", "0aa9"),
        ("DEVICE_NAME", "MCP79 EHCI USB 2.0 Controller"),
        ("DOMAIN", "0000"),
        ("FUNCTION", "1"),
        ("IFNAME", "-"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "00:06.1"),
        ("SLOT", "06"),
        ("SRIOV", "no"),
        ("TYPE", "1022:0aa9:0c03"),
        ("VENDOR", "1022"),
        ("VENDOR_NAME", "Advanced Micro Devices, Inc."),
    ],
    &[
        ("ADDRESS", "0000:04:00:1"),
        ("BUS", "04"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "165f"),
        ("DEVICE_NAME", "NetXtreme BCM5720 Gigabit Ethernet PCIe"),
        ("DOMAIN", "0000"),
        ("FUNCTION", "1"),
        ("IFNAME", "eno8403"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "04:00.1"),
        ("SLOT", "00"),
        ("SRIOV", "no"),
        ("TYPE", "14e4:165f:0200"),
        ("VENDOR", "14e4"),
        ("VENDOR_NAME", "Broadcom Inc. and subsidiaries"),
    ],
    &[
        ("ADDRESS", "0000:81:00:0"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1015"),
        ("DEVICE_NAME", "MT27710 Family [ConnectX-4 Lx]"),
        ("DOMAIN", "0000"),
        ("FUNCTION", "0"),
        ("IFNAME", "pf0"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.0"),
        ("SLOT", "00"),
        ("SRIOV", "pf"),
        ("SRIOV_NUM", "8"),
        ("TYPE", "15b3:1015:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:1"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1015"),
        ("DEVICE_NAME", "MT27710 Family [ConnectX-4 Lx]"),
        ("DOMAIN", "0000"),
        ("FUNCTION", "1"),
        ("IFNAME", "pf1"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.1"),
        ("SLOT", "00"),
        ("SRIOV", "pf"),
        ("SRIOV_NUM", "8"),
        ("TYPE", "15b3:1015:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:2"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "2"),
        ("IFNAME", "vf002"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.2"),
        ("SLOT", "00"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:3"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "3"),
        ("IFNAME", "vf003"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.3"),
        ("SLOT", "00"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:4"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "4"),
        ("IFNAME", "vf004"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.4"),
        ("SLOT", "00"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:5"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "5"),
        ("IFNAME", "vf005"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.5"),
        ("SLOT", "00"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:6"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "6"),
        ("IFNAME", "vf006"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.6"),
        ("SLOT", "00"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:00:7"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "7"),
        ("IFNAME", "vf007"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:00.7"),
        ("SLOT", "00"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:0"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "0"),
        ("IFNAME", "vf010"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.0"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:1"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "1"),
        ("IFNAME", "vf011"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.1"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:2"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "2"),
        ("IFNAME", "vf012"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.2"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:3"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "3"),
        ("IFNAME", "vf013"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.3"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:4"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "4"),
        ("IFNAME", "vf014"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.4"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:5"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "5"),
        ("IFNAME", "vf015"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.5"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:6"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "6"),
        ("IFNAME", "vf016"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.6"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:01:7"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "7"),
        ("IFNAME", "vf017"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:01.7"),
        ("SLOT", "01"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:02:0"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "0"),
        ("IFNAME", "vf020"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:02.0"),
        ("SLOT", "02"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
    &[
        ("ADDRESS", "0000:81:02:1"),
        ("BUS", "81"),
        ("CLASS", "0200"),
        ("CLASS_NAME", "Ethernet controller"),
        ("DEVICE", "1016"),
        (
            "DEVICE_NAME",
            "MT27710 Family [ConnectX-4 Lx Virtual Function]",
        ),
        ("DOMAIN", "0000"),
        ("FUNCTION", "1"),
        ("IFNAME", "vf021"),
        ("NUMA_NODE", "0"),
        ("SHORT_ADDRESS", "81:02.1"),
        ("SLOT", "02"),
        ("SRIOV", "vf"),
        ("TYPE", "15b3:1016:0200"),
        ("VENDOR", "15b3"),
        ("VENDOR_NAME", "Mellanox Technologies"),
    ],
];

/// A value of a PCI device.
pub(crate) fn pci_value<'a>(dev: &'a [(&str, &str)], key: &str) -> &'a str {
    dev.iter().find(|(k, _)| *k == key).map_or("", |(_, v)| *v)
}

/// The VM each PCI device of host `hid` is assigned to (-1: free), by ADDRESS: a VM that is
/// not DONE, last placed on the host, with a PCI vector carrying the device's ADDRESS.
pub(crate) fn pci_owners(s: &State, hid: i32) -> Vec<i32> {
    let mut owners = vec![-1; PCI_DEVICES.len()];
    for o in s.pool(Kind::Vm).objs.values() {
        let Some(v) = o.vm() else { continue };
        if v.state == super::state::st::DONE || v.history.last().map(|h| h.hid) != Some(hid) {
            continue;
        }
        for pci in o.template.vectors("PCI") {
            let Some(addr) = pci.iter().find(|(k, _)| k == "ADDRESS").map(|(_, a)| a) else {
                continue;
            };
            if let Some(i) = PCI_DEVICES
                .iter()
                .position(|d| pci_value(d, "ADDRESS") == addr)
            {
                owners[i] = o.meta.id;
            }
        }
    }
    owners
}

/// `<PCI_DEVICES>` of a monitored host.
pub(crate) fn render_pci_devices(out: &mut String, s: &State, hid: i32) {
    let owners = pci_owners(s, hid);
    out.push_str("<PCI_DEVICES>");
    for (dev, owner) in PCI_DEVICES.iter().zip(owners) {
        out.push_str("<PCI>");
        for (k, v) in *dev {
            cdata_elem(out, k, v);
        }
        cdata_elem(out, "VMID", &owner.to_string());
        out.push_str("</PCI>");
    }
    out.push_str("</PCI_DEVICES>");
}

/// `<NUMA_NODES>` of a monitored host (HOST_SHARE): cores with their CPUs (`cpu:-1`, free),
/// huge pages and memory, nothing pinned.
pub(crate) fn render_numa_nodes(out: &mut String) {
    out.push_str("<NUMA_NODES>");
    for node in 0..NODES {
        out.push_str("<NODE>");
        for c in 0..CORES {
            let core = c + node * CORES;
            let cpus: Vec<String> = (0..THREADS)
                .map(|t| format!("{}:-1", core + t * CORES * NODES))
                .collect();
            out.push_str("<CORE>");
            cdata_elem(out, "CPUS", &cpus.join(","));
            cdata_elem(out, "DEDICATED", "NO");
            cdata_elem(out, "FREE", &THREADS.to_string());
            cdata_elem(out, "ID", &core.to_string());
            out.push_str("</CORE>");
        }
        for size in HUGEPAGES {
            out.push_str("<HUGEPAGE>");
            cdata_elem(out, "PAGES", "1024");
            cdata_elem(out, "SIZE", &size.to_string());
            cdata_elem(out, "USAGE", "0");
            out.push_str("</HUGEPAGE>");
        }
        let others: Vec<String> = (0..NODES)
            .filter(|o| *o != node)
            .map(|o| o.to_string())
            .collect();
        out.push_str("<MEMORY>");
        cdata_elem(out, "DISTANCE", &format!("{node} {}", others.join(" ")));
        cdata_elem(out, "TOTAL", &(TOTAL_MEMORY / NODES as i64).to_string());
        cdata_elem(out, "USAGE", "0");
        out.push_str("</MEMORY>");
        cdata_elem(out, "NODE_ID", &node.to_string());
        out.push_str("</NODE>");
    }
    out.push_str("</NUMA_NODES>");
}

/// The NUMA_NODE parts of a monitoring record: free huge pages and the node's memory use
/// (the probe's numbers are random; here they follow the host's memory use).
pub(crate) fn render_monitoring_numa(out: &mut String, used_mem: i64) {
    let per_node = TOTAL_MEMORY / NODES as i64;
    for node in 0..NODES {
        let used = (used_mem / NODES as i64).min(per_node);
        out.push_str("<NUMA_NODE>");
        for size in HUGEPAGES {
            out.push_str("<HUGEPAGE>");
            cdata_elem(out, "FREE", "1024");
            cdata_elem(out, "SIZE", &size.to_string());
            out.push_str("</HUGEPAGE>");
        }
        out.push_str("<MEMORY>");
        cdata_elem(out, "FREE", &(per_node - used).to_string());
        cdata_elem(out, "USED", &used.to_string());
        out.push_str("</MEMORY>");
        cdata_elem(out, "NODE_ID", &node.to_string());
        out.push_str("</NUMA_NODE>");
    }
}

/// The host's TEMPLATE once monitored: its own attributes with the probe's keys set.
pub(crate) fn monitored_template(h: &Host) -> Tmpl {
    let mut t = h.template.clone();
    for (k, v) in [
        ("ARCH", "x86_64"),
        ("CPUSPEED", "3200"),
        ("HYPERVISOR", "dummy"),
        ("KVM_CPU_FEATURES", KVM_CPU_FEATURES),
        ("KVM_CPU_MODELS", KVM_CPU_MODELS),
        ("MEMORY_ENCRYPTION", "SEV"),
        ("MODELNAME", "Dummy(R) Core @ 3.2GHz"),
    ] {
        t.set(k, v);
    }
    t.set("HOSTNAME", h.name.as_str());
    t.set("TOTALCPU", h.total_cpu.to_string());
    t.set("TOTALMEMORY", h.total_mem.to_string());
    t
}

/// KVM_CPU_MODELS as the probe reports it.
const KVM_CPU_MODELS: &str = "486 pentium pentium2 pentium3 pentiumpro coreduo n270 core2duo qemu32 kvm32 cpu64-rhel5 cpu64-rhel6 kvm64 Conroe Penryn Nehalem Nehalem-IBRS Westmere Westmere-IBRS SandyBridge SandyBridge-IBRS IvyBridge IvyBridge-IBRS SapphireRapids SapphireRapids-noTSX Opteron_G1";

/// KVM_CPU_FEATURES as the probe reports it.
const KVM_CPU_FEATURES: &str = "vme,ds,acpi,ss,ht,tm,pbe,dtes64,monitor,ds_cpl,vmx,smx,est,tm2,xtpr,pdcm,osxsave,f16c,rdrand,arat,tsc_adjust,clflushopt,clwb,intel-pt,sha-ni,umip,pku,ospke,waitpkg,gfni,vaes,vpclmulqdq,rdpid,movdiri,movdir64b,pks,fsrm,md-clear,serialize,arch-lbr,stibp,arch-capabilities,core-capability,ssbd,avx-vnni,xsaveopt,xsavec,xgetbv1,xsaves,pdpe1gb,abm,invtsc,rdctl-no,ibrs-all,skip-l1dfl-vmentry,mds-no,pschange-mc-no";
