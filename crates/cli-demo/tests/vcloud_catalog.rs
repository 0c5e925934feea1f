//! `nebulair vcloud catalog|media|template` against the vCloud simulator: catalogs
//! listed, created, shown and deleted; an ISO and an OVA uploaded in chunks and
//! downloaded again byte for byte; refusals with their reasons on stderr.

mod support;

use std::time::Duration;

use assert_cmd::Command;
use nebulair_sim::vcloud::{
    DEFAULT_ORG, DEFAULT_PASSWORD, DEFAULT_USER, VcloudSimulator, VcloudSimulatorHandle,
};
use nebulair_vcloud::workload::transfer::{manifest_line, write_tar};
use serde_json::Value;
use support::*;

struct Env {
    rt: tokio::runtime::Runtime,
    sim: Option<VcloudSimulatorHandle>,
    home: tempfile::TempDir,
}

impl Env {
    fn start() -> Env {
        let rt = rt();
        let sim = rt
            .block_on(
                VcloudSimulator::builder()
                    .task_duration(Duration::from_millis(20))
                    .start(),
            )
            .expect("vCloud simulator");
        Env {
            rt,
            sim: Some(sim),
            home: tempfile::tempdir().expect("home"),
        }
    }

    fn sim(&self) -> &VcloudSimulatorHandle {
        self.sim.as_ref().expect("sim")
    }

    fn vcd(&self) -> Command {
        let mut c = nebulair(self.home.path());
        c.args([
            "vcloud",
            "--url",
            self.sim().base_url().as_str(),
            "--user",
            DEFAULT_USER,
            "--org",
            DEFAULT_ORG,
        ])
        .env("VCD_PASSWORD", DEFAULT_PASSWORD);
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self
            .vcd()
            .args(args)
            .args(["-o", "json"])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}\n{}",
            stdout_of(&out),
            stderr_of(&out)
        );
        serde_json::from_str(&stdout_of(&out)).expect("json output")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

fn ova(path: &std::path::Path, disk: &[u8]) {
    let ovf = format!(
        r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><References><File ovf:href="cli-disk.vmdk" ovf:id="f1" ovf:size="{}"/></References><DiskSection><Info>d</Info><Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection><VirtualSystem ovf:id="cli-vm"><Info>vm</Info><Name>cli-vm</Name><VirtualHardwareSection><Info>hw</Info><Item><rasd:ElementName>1 CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item><Item><rasd:ElementName>disk</rasd:ElementName><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item></VirtualHardwareSection></VirtualSystem></Envelope>"#,
        disk.len()
    );
    let mf = manifest_line("SHA256", "cli-disk.vmdk", disk).expect("mf");
    write_tar(
        &mut std::fs::File::create(path).expect("create"),
        &[
            ("cli.ovf", ovf.as_bytes()),
            ("cli.mf", mf.as_bytes()),
            ("cli-disk.vmdk", disk),
        ],
    )
    .expect("tar");
}

#[test]
fn catalogs_media_and_templates_from_the_command_line() {
    let env = Env::start();
    let dir = tempfile::tempdir().expect("tmp");

    let list = env.json(&["catalog", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["Public", "DevOps"]);

    let created = env.json(&[
        "catalog",
        "create",
        "cli-isos",
        "--description",
        "from the CLI",
    ]);
    assert_eq!(created["name"], "cli-isos");
    assert_eq!(created["description"], "from the CLI");
    assert_eq!(created["items"].as_array().map(Vec::len), Some(0));

    // an ISO of 2.5 MiB in 1 MiB chunks, then downloaded
    let iso = dir.path().join("boot.iso");
    let content: Vec<u8> = (0..(5 << 19)).map(|i: u32| (i % 247) as u8).collect();
    std::fs::write(&iso, &content).expect("write");
    let up = env.json(&[
        "media",
        "upload",
        iso.to_str().expect("utf8"),
        "--catalog",
        "cli-isos",
        "--chunk-mb",
        "1",
        "--description",
        "boot image",
    ]);
    assert_eq!(up["item"], "boot.iso");
    assert_eq!(up["bytes"].as_u64(), Some(content.len() as u64));
    assert_eq!(up["chunks"].as_u64(), Some(3));
    assert_eq!(up["task"], "success");
    let back = dir.path().join("back.iso");
    let down = env.json(&[
        "media",
        "download",
        "boot.iso",
        "--catalog",
        "cli-isos",
        "--to",
        back.to_str().expect("utf8"),
    ]);
    assert_eq!(down["bytes"].as_u64(), Some(content.len() as u64));
    assert_eq!(std::fs::read(&back).expect("read"), content);

    // an OVA, shown in the catalog, then downloaded as an OVA
    let disk: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let path = dir.path().join("cli.ova");
    ova(&path, &disk);
    let up = env.json(&[
        "template",
        "upload",
        path.to_str().expect("utf8"),
        "--catalog",
        "cli-isos",
        "--no-progress",
    ]);
    assert_eq!(up["item"], "cli");
    assert_eq!(up["files"].as_u64(), Some(2));
    let shown = env.json(&["catalog", "show", "cli-isos"]);
    let mut kinds: Vec<(String, String)> = shown["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_owned(),
                i["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("boot.iso".to_owned(), "media".to_owned()),
            ("cli".to_owned(), "template".to_owned())
        ]
    );
    let back_ova = dir.path().join("back.ova");
    let down = env.json(&[
        "template",
        "download",
        "cli",
        "--catalog",
        "cli-isos",
        "--to",
        back_ova.to_str().expect("utf8"),
    ]);
    let data = std::fs::read(&back_ova).expect("read");
    assert!(data.len() > disk.len());
    assert!(down["bytes"].as_u64().expect("bytes") > disk.len() as u64);
    assert!(
        data.windows(disk.len().min(4096))
            .any(|w| w == &disk[..4096]),
        "the disk bytes are in the OVA"
    );

    // refusals: not a tar, a catalog that is not empty
    let junk = dir.path().join("junk.ova");
    std::fs::write(&junk, vec![1u8; 3000]).expect("write");
    let out = env
        .vcd()
        .args([
            "template",
            "upload",
            junk.to_str().expect("utf8"),
            "--catalog",
            "cli-isos",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("not an OVA"),
        "{}",
        stderr_of(&out)
    );
    assert!(!stderr_of(&out).contains(DEFAULT_PASSWORD));
    let out = env
        .vcd()
        .args(["catalog", "delete", "cli-isos"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("not empty") && err.contains("--recursive"),
        "{err}"
    );
    let deleted = env.json(&["catalog", "delete", "cli-isos", "--recursive"]);
    assert_eq!(deleted["deleted"], "cli-isos");
    assert_eq!(
        env.json(&["catalog", "list"]).as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(env.sim().open_upload_files(), 0);
}
