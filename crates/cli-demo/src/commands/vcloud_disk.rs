//! `nebulair vcloud disk ...`: independent disks of a vDC (list, show, create, attach,
//! detach, resize, delete).

use clap::Subcommand;
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::workload::{DiskBus, DiskHandle, IndependentDisk, Locator, NewDisk};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{io_failure, print_deleted};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

const MIB: u64 = 1024 * 1024;

/// The disk commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DiskSub {
    /// The independent disks of a vDC.
    List {
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
    },
    /// One disk (by name in the vDC, or by id).
    Show {
        /// The disk.
        disk: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
    },
    /// Create a disk and wait for it.
    Create {
        /// Its name.
        name: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
        /// Its size in MiB.
        #[arg(long)]
        size_mb: u64,
        /// The bus: ide, lsilogic, lsilogicsas, buslogic, paravirtual, sata, nvme.
        #[arg(long)]
        bus: Option<String>,
        /// The storage profile's href.
        #[arg(long)]
        storage_profile: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Attach a disk to a VM (`--vapp` and `--vm` names).
    Attach {
        /// The disk.
        disk: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
        /// The vApp of the VM.
        #[arg(long)]
        vapp: String,
        /// The VM.
        #[arg(long)]
        vm: String,
    },
    /// Detach a disk from a VM.
    Detach {
        /// The disk.
        disk: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
        /// The vApp of the VM.
        #[arg(long)]
        vapp: String,
        /// The VM.
        #[arg(long)]
        vm: String,
    },
    /// Grow a disk to a new size.
    Resize {
        /// The disk.
        disk: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
        /// The new size in MiB.
        #[arg(long)]
        size_mb: u64,
    },
    /// Delete a disk (refused by vCD while it is attached).
    Delete {
        /// The disk.
        disk: String,
        /// The vDC (name or id).
        #[arg(long = "in", id = "in_vdc", value_name = "VDC")]
        vdc: String,
    },
}

/// A disk as printed.
#[derive(Debug, Serialize)]
struct DiskView {
    name: String,
    id: Option<String>,
    size_mb: u64,
    bus_type: Option<String>,
    bus_sub_type: Option<String>,
    storage_profile: Option<String>,
    description: Option<String>,
    attached_vms: Vec<String>,
}

fn bus(name: &str) -> Result<DiskBus, Failure> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "ide" => DiskBus::Ide,
        "lsilogic" => DiskBus::LsiLogic,
        "lsilogicsas" => DiskBus::LsiLogicSas,
        "buslogic" => DiskBus::BusLogic,
        "paravirtual" | "virtualscsi" => DiskBus::ParaVirtual,
        "sata" => DiskBus::Sata,
        "nvme" => DiskBus::Nvme,
        other => {
            return Err(Failure::new(
                "reading --bus",
                nebulair_core::Error::new(
                    nebulair_core::ErrorKind::InvalidInput,
                    format!(
                        "unknown bus {other:?} (ide, lsilogic, lsilogicsas, buslogic, paravirtual, sata, nvme)"
                    ),
                ),
            ));
        }
    })
}

async fn view(h: &DiskHandle) -> Result<DiskView, Failure> {
    let d: IndependentDisk = h.get().await.during("reading the disk")?;
    let vms = h.attached_vms().await.during("reading the disk's VMs")?;
    Ok(DiskView {
        name: d.name,
        id: d.id,
        size_mb: d.size_bytes.div_ceil(MIB),
        bus_type: d.bus_type,
        bus_sub_type: d.bus_sub_type,
        storage_profile: d.storage_profile,
        description: d.description,
        attached_vms: vms.into_iter().map(|(n, _)| n).collect(),
    })
}

fn show_text(v: &DiskView) -> String {
    key_values(&[
        ("name", v.name.clone()),
        ("id", v.id.clone().unwrap_or_default()),
        ("size", format!("{} MiB", v.size_mb)),
        (
            "bus",
            format!(
                "{}/{}",
                v.bus_type.clone().unwrap_or_default(),
                v.bus_sub_type.clone().unwrap_or_default()
            ),
        ),
        (
            "storage profile",
            v.storage_profile.clone().unwrap_or_default(),
        ),
        ("description", v.description.clone().unwrap_or_default()),
        ("attached to", v.attached_vms.join(", ")),
    ])
}

/// Runs a disk command.
pub(crate) async fn disk(sub: DiskSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    let ws = client.workloads();
    let handle = |vdc: &str, disk: &str| ws.vdc(vdc).disk(Locator::parse(disk));
    let show = |h: DiskHandle| async move {
        let v = view(&h).await?;
        p.print(&v, || show_text(&v)).map_err(io_failure)
    };
    match sub {
        DiskSub::List { vdc } => {
            let disks = ws
                .vdc(vdc.as_str())
                .disks()
                .await
                .during("listing the disks")?;
            let rows: Vec<serde_json::Value> = disks
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "name": d.name, "href": d.href, "size_mb": d.size_bytes.div_ceil(MIB),
                        "attached": d.attached, "storage_profile": d.storage_profile,
                    })
                })
                .collect();
            p.print(&rows, || {
                let mut t = Table::new(["NAME", "SIZE (MiB)", "ATTACHED", "STORAGE PROFILE"]);
                for d in &disks {
                    t.row([
                        d.name.clone(),
                        d.size_bytes.div_ceil(MIB).to_string(),
                        if d.attached { "yes" } else { "no" }.to_owned(),
                        d.storage_profile.clone().unwrap_or_default(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        DiskSub::Show { disk, vdc } => show(handle(&vdc, &disk)).await,
        DiskSub::Create {
            name,
            vdc,
            size_mb,
            bus: b,
            storage_profile,
            description,
        } => {
            let mut nd = NewDisk::new(name, size_mb.saturating_mul(MIB));
            if let Some(b) = b {
                nd = nd.bus(bus(&b)?);
            }
            if let Some(s) = storage_profile {
                nd = nd.storage_profile(s);
            }
            if let Some(d) = description {
                nd = nd.description(d);
            }
            let (h, task) = ws
                .vdc(vdc.as_str())
                .create_disk(&nd)
                .await
                .during("creating the disk")?;
            ws.waiter().wait(&task).await.during("creating the disk")?;
            show(h).await
        }
        DiskSub::Attach {
            disk,
            vdc,
            vapp,
            vm,
        } => {
            let h = handle(&vdc, &disk);
            let vmh = ws.vdc(vdc.as_str()).vapp(vapp.as_str()).vm(vm.as_str());
            h.attach_to(&vmh)
                .wait()
                .await
                .during("attaching the disk")?;
            show(h).await
        }
        DiskSub::Detach {
            disk,
            vdc,
            vapp,
            vm,
        } => {
            let h = handle(&vdc, &disk);
            let vmh = ws.vdc(vdc.as_str()).vapp(vapp.as_str()).vm(vm.as_str());
            h.detach_from(&vmh)
                .wait()
                .await
                .during("detaching the disk")?;
            show(h).await
        }
        DiskSub::Resize { disk, vdc, size_mb } => {
            let h = handle(&vdc, &disk);
            h.resize(size_mb.saturating_mul(MIB))
                .wait()
                .await
                .during("resizing the disk")?;
            show(h).await
        }
        DiskSub::Delete { disk, vdc } => {
            let h = handle(&vdc, &disk);
            let name = h.get().await.during("reading the disk")?.name;
            h.delete().wait().await.during("deleting the disk")?;
            print_deleted(&p, "disk", &name)
        }
    }
}
