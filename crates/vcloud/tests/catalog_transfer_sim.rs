//! Uploads and downloads against the vCD simulator: media in chunks, an OVA built by the
//! test (tar of an OVF descriptor, a manifest and a disk file) imported and then
//! instantiated, an OVF directory, a connection cut mid-file and resumed, failing chunks
//! retried, a whole upload abandoned and continued by a second run, a bad digest and a
//! file that is not a tar refused; downloads compared byte for byte.

mod workload_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use nebulair_core::ErrorKind;
use nebulair_vcloud::model::vcd::Section;
use nebulair_vcloud::workload::transfer::{manifest_line, write_tar};
use nebulair_vcloud::workload::{
    InstantiateParams, TransferError, TransferOptions, TransferProgress,
};
use workload_common::env;

const KIB: usize = 1024;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(seed)) as u8
        })
        .collect()
}

fn descriptor(disk_bytes: usize, vm: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="tiny-disk1.vmdk" ovf:id="file1" ovf:size="{disk_bytes}"/></References>
  <DiskSection><Info>Virtual disks</Info><Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection>
  <NetworkSection><Info>Networks</Info><Network ovf:name="VM Network"><Description>The VM network</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="{vm}"><Info>A tiny VM</Info><Name>{vm}</Name>
    <OperatingSystemSection ovf:id="107"><Info>OS</Info><Description>CentOS 7 (64-bit)</Description></OperatingSystemSection>
    <VirtualHardwareSection><Info>Hardware</Info>
      <Item><rasd:ElementName>2 CPUs</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>768 MB</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>768</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>NIC 0</rasd:ElementName><rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#
    )
}

/// An OVA (descriptor, manifest, disk) written by the test; `bad_digest` spoils the
/// disk's manifest line.
fn ova(dir: &Path, name: &str, disk: &[u8], bad_digest: bool) -> PathBuf {
    let ovf = descriptor(disk.len(), "tiny-01");
    let mut mf = manifest_line("SHA256", "tiny.ovf", ovf.as_bytes()).expect("line");
    let mut disk_line = manifest_line("SHA256", "tiny-disk1.vmdk", disk).expect("line");
    if bad_digest {
        disk_line = manifest_line("SHA256", "tiny-disk1.vmdk", b"something else").expect("line");
    }
    mf.push_str(&disk_line);
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    write_tar(
        &mut f,
        &[
            ("tiny.ovf", ovf.as_bytes()),
            ("tiny.mf", mf.as_bytes()),
            ("tiny-disk1.vmdk", disk),
        ],
    )
    .expect("tar");
    path
}

fn opts() -> TransferOptions {
    TransferOptions::default()
        .chunk_size(64 * KIB as u64)
        .retry_backoff(std::time::Duration::from_millis(10))
        .poll_interval(std::time::Duration::from_millis(10))
}

fn vm_hardware(
    t: &nebulair_vcloud::model::vcd::VAppTemplate,
) -> (Option<i64>, Option<i64>, Vec<Option<i64>>) {
    let vm = &t.vm_templates()[0];
    let hw = vm
        .sections
        .iter()
        .find_map(|s| match s {
            Section::VirtualHardwareSection(h) => Some(h),
            _ => None,
        })
        .expect("hardware section");
    (
        hw.cpu_count(),
        hw.memory_mb(),
        hw.disks().iter().map(|d| d.size_mb).collect(),
    )
}

/// Reads a tar written by anyone into (name, data) pairs (ustar, small files).
fn untar(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 512 <= data.len() && data[pos..pos + 512].iter().any(|b| *b != 0) {
        let h = &data[pos..pos + 512];
        let name = String::from_utf8_lossy(&h[..100])
            .trim_end_matches('\0')
            .to_owned();
        let size_txt = String::from_utf8_lossy(&h[124..136])
            .trim_matches(['\0', ' '])
            .to_owned();
        let size = usize::from_str_radix(&size_txt, 8).expect("octal size");
        pos += 512;
        out.push((name, data[pos..pos + size].to_vec()));
        pos += size.div_ceil(512) * 512;
    }
    out
}

#[tokio::test]
async fn media_upload_in_chunks_and_download() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let iso = dir.path().join("installer.iso");
    let content = pattern(300 * KIB + 17, 3);
    std::fs::write(&iso, &content).expect("write");
    let seen: Arc<Mutex<Vec<TransferProgress>>> = Arc::default();
    let s2 = seen.clone();
    let catalog = e.ws.catalog("Public");
    let report = catalog
        .upload_media(
            &iso,
            &opts().description("boot me").on_progress(move |p| {
                s2.lock().expect("lock").push(p.clone());
            }),
        )
        .await
        .expect("upload");
    assert_eq!(report.bytes, content.len() as u64);
    assert_eq!(report.chunks, 5);
    assert_eq!(report.retries, 0);
    let progress = seen.lock().expect("lock").clone();
    assert!(progress.len() >= 5, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0].bytes <= w[1].bytes));
    let last = progress.last().expect("last");
    assert_eq!(
        (last.bytes, last.total_bytes, last.files_done),
        (content.len() as u64, content.len() as u64, 1)
    );
    assert_eq!(e.sim.open_upload_files(), 0);

    // read back: ready, sized, typed, described; then downloaded byte for byte
    let media = catalog.media("installer.iso");
    let doc = media.get().await.expect("get");
    assert_eq!(doc.status, Some(1));
    assert_eq!(doc.size, Some(content.len() as i64));
    assert_eq!(doc.image_type.as_deref(), Some("iso"));
    assert_eq!(doc.description.as_deref(), Some("boot me"));
    assert!(doc.files.is_none(), "no Files before a download is enabled");
    let back = dir.path().join("back.iso");
    let n = media.download(&back, &opts()).await.expect("download");
    assert_eq!(n, content.len() as u64);
    assert_eq!(std::fs::read(&back).expect("read"), content);

    // a floppy image; an unknown extension is refused before anything is sent
    let flp = dir.path().join("drivers.flp");
    std::fs::write(&flp, pattern(1440 * KIB, 5)).expect("write");
    catalog.upload_media(&flp, &opts()).await.expect("floppy");
    let floppy = catalog.media("drivers.flp").get().await.expect("get");
    assert_eq!(floppy.image_type.as_deref(), Some("floppy"));
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, b"x").expect("write");
    let before = e.sim.request_count();
    let err = catalog.upload_media(&txt, &opts()).await.expect_err("txt");
    assert!(matches!(
        TransferError::of(&err),
        Some(TransferError::InvalidValue { .. })
    ));
    assert_eq!(e.sim.request_count(), before);

    // the same name again: the finished item is a duplicate for vCD
    let err = catalog.upload_media(&iso, &opts()).await.expect_err("dup");
    assert_eq!(
        err.service().and_then(|s| s.code_name()),
        Some("DUPLICATE_NAME")
    );
}

#[tokio::test]
async fn ova_built_by_the_test_is_imported_and_instantiated() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let disk = pattern(700 * KIB + 5, 1);
    let path = ova(dir.path(), "tiny.ova", &disk, false);
    let catalog = e.ws.catalog("DevOps");
    let report = catalog
        .upload_ova(&path, &opts().description("from the test"))
        .await
        .expect("upload");
    assert_eq!(report.files, 2);
    assert_eq!(report.chunks, 1 + 11);
    let task = report.task.clone().expect("import task");
    assert_eq!(task.operation_name.as_deref(), Some("vdcUploadOvfContents"));
    assert_eq!(e.sim.open_upload_files(), 0);

    // the descriptor became the template's children: VM, hardware, disk, network
    let tpl = catalog.template("tiny");
    let doc = tpl.get().await.expect("template");
    assert_eq!(doc.status, Some(8));
    assert_eq!(doc.ovf_descriptor_uploaded, Some(true));
    assert_eq!(doc.description.as_deref(), Some("from the test"));
    assert_eq!(doc.vm_templates().len(), 1);
    assert_eq!(doc.vm_templates()[0].name.as_deref(), Some("tiny-01"));
    assert_eq!(vm_hardware(&doc), (Some(2), Some(768), vec![Some(4096)]));
    let networks: Vec<String> = doc
        .sections
        .iter()
        .filter_map(|s| match s {
            Section::NetworkSection(n) => Some(
                n.networks
                    .iter()
                    .filter_map(|x| x.name.clone())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(networks, ["VM Network"]);

    // instantiated through the workload API
    let vdc = e.ws.vdc("VDC-Prod");
    let vapp = vdc
        .instantiate(&tpl, InstantiateParams::new("from-ova").power_on(false))
        .wait()
        .await
        .expect("instantiate");
    let app = vapp.get().await.expect("vapp");
    let vms = app.vms();
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0].name.as_deref(), Some("tiny-01"));
    assert_eq!(vms[0].cpu_count(), Some(2));
    assert_eq!(vms[0].memory_mb(), Some(768));
    assert_eq!(vms[0].disks()[0].size_mb, Some(4096));

    // downloaded again as an OVA: the same descriptor and disk bytes
    let back = dir.path().join("back.ova");
    tpl.download_ova(&back, &opts()).await.expect("download");
    let entries = untar(&std::fs::read(&back).expect("read"));
    assert_eq!(
        entries.len(),
        2,
        "{:?}",
        entries.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    assert!(entries[0].0.ends_with(".ovf"));
    assert_eq!(entries[0].1, descriptor(disk.len(), "tiny-01").into_bytes());
    assert_eq!(entries[1], ("tiny-disk1.vmdk".to_owned(), disk.clone()));
}

#[tokio::test]
async fn a_tar_made_by_gnu_tar_and_an_ovf_directory() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let disk = pattern(200 * KIB, 9);
    let ovf = descriptor(disk.len(), "gnu-01");
    std::fs::write(dir.path().join("tiny.ovf"), &ovf).expect("write");
    std::fs::write(dir.path().join("tiny-disk1.vmdk"), &disk).expect("write");
    let mut mf = manifest_line("SHA1", "tiny.ovf", ovf.as_bytes()).expect("mf");
    mf.push_str(&manifest_line("SHA1", "tiny-disk1.vmdk", &disk).expect("mf"));
    std::fs::write(dir.path().join("tiny.mf"), &mf).expect("write");
    let catalog = e.ws.catalog("Public");

    // the directory form: descriptor, manifest (SHA1) and disk next to each other
    let report = catalog
        .upload_ovf(&dir.path().join("tiny.ovf"), &opts().item_name("from-dir"))
        .await
        .expect("ovf dir");
    assert_eq!(report.bytes, (ovf.len() + disk.len()) as u64);
    let doc = catalog.template("from-dir").get().await.expect("template");
    assert_eq!(doc.vm_templates()[0].name.as_deref(), Some("gnu-01"));

    // GNU tar, when the machine has it
    let ova = dir.path().join("gnu.ova");
    let made = Command::new("tar")
        .arg("-cf")
        .arg(&ova)
        .arg("-C")
        .arg(dir.path())
        .args(["tiny.ovf", "tiny.mf", "tiny-disk1.vmdk"])
        .status();
    match made {
        Ok(s) if s.success() => {
            catalog.upload_ova(&ova, &opts()).await.expect("gnu ova");
            let doc = catalog.template("gnu").get().await.expect("template");
            assert_eq!(vm_hardware(&doc).0, Some(2));
        }
        _ => println!("skipped the GNU tar part: no tar command"),
    }
}

#[tokio::test]
async fn a_cut_connection_and_failing_chunks_are_resumed() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let disk = pattern(640 * KIB, 7);
    let path = ova(dir.path(), "cut.ova", &disk, false);
    let catalog = e.ws.catalog("Public");
    // The disk's first chunk is answered 500 twice, then cut after 40 KiB (the
    // descriptor, a PUT without Content-Range and shorter than 40 KiB, is not hit).
    e.sim.fail_upload_chunks(2);
    e.sim.drop_upload_after(40 * KIB as u64);
    let report = catalog
        .upload_ova(&path, &opts())
        .await
        .expect("upload survives the faults");
    assert_eq!(report.retries, 3, "{report:?}");
    assert_eq!(report.chunks, 1 + 10);
    // only the missing part of the cut chunk was sent again
    assert_eq!(
        report.bytes,
        (descriptor(disk.len(), "tiny-01").len() + disk.len()) as u64
    );
    let back = dir.path().join("cut-back.ova");
    catalog
        .template("cut")
        .download_ova(&back, &opts())
        .await
        .expect("download");
    let entries = untar(&std::fs::read(&back).expect("read"));
    assert_eq!(entries[1].1, disk);
}

#[tokio::test]
async fn an_abandoned_upload_is_continued_by_the_next_run() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let disk = pattern(512 * KIB, 2);
    let path = ova(dir.path(), "again.ova", &disk, false);
    let catalog = e.ws.catalog("Public");
    // No retries: the cut ends the first run (as a killed client would), the item stays.
    e.sim.drop_upload_after(100 * KIB as u64 + 3);
    let first = catalog
        .upload_ova(&path, &opts().chunk_size(256 * KIB as u64).chunk_retries(0))
        .await
        .expect_err("cut");
    assert_eq!(first.kind(), ErrorKind::Transport, "{first}");
    assert_eq!(e.sim.open_upload_files(), 2);
    let tpl = catalog
        .template("again")
        .get()
        .await
        .expect("unfinished template");
    assert_eq!(tpl.status, Some(0));
    let files = tpl.files.as_ref().expect("files");
    let vmdk = files
        .files
        .iter()
        .find(|f| f.name.as_deref() == Some("tiny-disk1.vmdk"))
        .expect("disk file");
    assert_eq!(vmdk.bytes_transferred, Some(100 * 1024 + 3));

    // The second run finds the unfinished item and sends only the rest.
    let second = catalog
        .upload_ova(&path, &opts().chunk_size(256 * KIB as u64))
        .await
        .expect("resumed");
    assert_eq!(
        second.resumed_bytes,
        (descriptor(disk.len(), "tiny-01").len() + 100 * 1024 + 3) as u64
    );
    assert_eq!(second.bytes, (disk.len() - (100 * 1024 + 3)) as u64);
    assert_eq!(e.sim.open_upload_files(), 0);
    let done = catalog.template("again").get().await.expect("template");
    assert_eq!(done.status, Some(8));
    assert_eq!(
        catalog
            .items()
            .await
            .expect("items")
            .iter()
            .filter(|i| i.name().as_deref() == Some("again"))
            .count(),
        1
    );
}

#[tokio::test]
async fn bad_digests_and_non_tar_files_are_refused() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let disk = pattern(300 * KIB, 4);
    let path = ova(dir.path(), "spoiled.ova", &disk, true);
    let catalog = e.ws.catalog("Public");
    let err = catalog
        .upload_ova(&path, &opts())
        .await
        .expect_err("bad digest");
    match TransferError::of(&err) {
        Some(TransferError::DigestMismatch {
            file, algorithm, ..
        }) => {
            assert_eq!(
                (file.as_str(), algorithm.as_str()),
                ("tiny-disk1.vmdk", "SHA256")
            );
        }
        other => panic!("{other:?}: {err}"),
    }
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // the last chunk was never sent, and the unfinished item was deleted
    assert_eq!(e.sim.open_upload_files(), 0);
    let err = catalog
        .template("spoiled")
        .get()
        .await
        .expect_err("deleted");
    assert!(err.is_not_found(), "{err}");

    // a spoiled descriptor digest: refused before anything is created
    let ovf = descriptor(disk.len(), "x");
    let mf = manifest_line("SHA256", "tiny.ovf", b"not the descriptor").expect("mf");
    let p2 = dir.path().join("spoiled2.ova");
    write_tar(
        &mut std::fs::File::create(&p2).expect("f"),
        &[
            ("tiny.ovf", ovf.as_bytes()),
            ("tiny.mf", mf.as_bytes()),
            ("tiny-disk1.vmdk", &disk),
        ],
    )
    .expect("tar");
    let before = e.sim.upload_put_count();
    let err = catalog
        .upload_ova(&p2, &opts())
        .await
        .expect_err("descriptor digest");
    assert!(matches!(
        TransferError::of(&err),
        Some(TransferError::DigestMismatch { .. })
    ));
    assert_eq!(e.sim.upload_put_count(), before);

    // not a tar at all
    let junk = dir.path().join("junk.ova");
    std::fs::write(&junk, pattern(5000, 8)).expect("write");
    let err = catalog.upload_ova(&junk, &opts()).await.expect_err("junk");
    assert!(
        matches!(TransferError::of(&err), Some(TransferError::NotATar { .. })),
        "{err}"
    );
    let short = dir.path().join("short.ova");
    std::fs::write(&short, b"tiny").expect("write");
    assert!(matches!(
        TransferError::of(
            &catalog
                .upload_ova(&short, &opts())
                .await
                .expect_err("short")
        ),
        Some(TransferError::NotATar { .. })
    ));
    // a tar whose first file is not a descriptor
    let wrong = dir.path().join("wrong.ova");
    write_tar(
        &mut std::fs::File::create(&wrong).expect("f"),
        &[("disk.vmdk", b"data")],
    )
    .expect("tar");
    let err = catalog
        .upload_ova(&wrong, &opts())
        .await
        .expect_err("no ovf");
    assert!(matches!(
        TransferError::of(&err),
        Some(TransferError::NoDescriptor(_))
    ));
    // a descriptor that is not OVF: refused by the client before creating anything
    let notovf = dir.path().join("notovf.ova");
    write_tar(
        &mut std::fs::File::create(&notovf).expect("f"),
        &[("a.ovf", b"<VApp/>")],
    )
    .expect("tar");
    let err = catalog
        .upload_ova(&notovf, &opts())
        .await
        .expect_err("not ovf");
    assert!(matches!(
        TransferError::of(&err),
        Some(TransferError::InvalidDescriptor(_))
    ));
    // a file the descriptor references but the archive lacks: the item is removed
    let missing = dir.path().join("missing.ova");
    write_tar(
        &mut std::fs::File::create(&missing).expect("f"),
        &[("tiny.ovf", ovf.as_bytes())],
    )
    .expect("tar");
    let err = catalog
        .upload_ova(&missing, &opts())
        .await
        .expect_err("missing");
    assert!(
        matches!(TransferError::of(&err), Some(TransferError::MissingFile(_))),
        "{err}"
    );
    assert!(catalog.template("missing").get().await.is_err());
    let names: Vec<String> = catalog
        .items()
        .await
        .expect("items")
        .iter()
        .filter_map(|i| i.name())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[tokio::test]
async fn split_files_late_manifests_and_streams() {
    let e = env().await;
    let dir = tempfile::tempdir().expect("tmp");
    let catalog = e.ws.catalog("Public");
    let disk = pattern(250 * KIB + 9, 6);

    // an OVA whose disk is split with ovf:chunkSize into three parts
    let part = 100 * KIB;
    let ovf = descriptor(disk.len(), "split-01").replace(
        &format!("ovf:size=\"{}\"", disk.len()),
        &format!("ovf:size=\"{}\" ovf:chunkSize=\"{part}\"", disk.len()),
    );
    let mut entries: Vec<(String, Vec<u8>)> = vec![("split.ovf".into(), ovf.clone().into_bytes())];
    for (i, c) in disk.chunks(part).enumerate() {
        entries.push((format!("tiny-disk1.vmdk.{i:09}"), c.to_vec()));
    }
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let split = dir.path().join("split.ova");
    write_tar(&mut std::fs::File::create(&split).expect("f"), &refs).expect("tar");
    let report = catalog
        .upload_ova(&split, &opts())
        .await
        .expect("split upload");
    assert_eq!(report.bytes, (ovf.len() + disk.len()) as u64);
    let back = dir.path().join("split-back.ova");
    catalog
        .template("split")
        .download_ova(&back, &opts())
        .await
        .expect("download");
    assert_eq!(
        untar(&std::fs::read(&back).expect("read"))[1].1,
        disk,
        "the parts joined"
    );

    // a manifest after the files (against the OVF spec): checked when it arrives
    let late = |name: &str, digest_of: &[u8]| {
        let ovf = descriptor(disk.len(), "late-01");
        let mf = manifest_line("SHA256", "tiny-disk1.vmdk", digest_of).expect("mf");
        let p = dir.path().join(name);
        write_tar(
            &mut std::fs::File::create(&p).expect("f"),
            &[
                ("late.ovf", ovf.as_bytes()),
                ("tiny-disk1.vmdk", &disk),
                ("late.mf", mf.as_bytes()),
            ],
        )
        .expect("tar");
        p
    };
    let good = late("late-good.ova", &disk);
    catalog
        .upload_ova(&good, &opts().item_name("late-good"))
        .await
        .expect("late manifest, right digest");
    let bad = late("late-bad.ova", b"other bytes");
    let err = catalog
        .upload_ova(&bad, &opts().item_name("late-bad"))
        .await
        .expect_err("late manifest, wrong digest");
    assert!(
        matches!(
            TransferError::of(&err),
            Some(TransferError::DigestMismatch { .. })
        ),
        "{err}"
    );
    assert!(
        catalog.template("late-bad").get().await.is_err(),
        "the item was deleted"
    );

    // from a reader (a pipe or stdin): the same OVA, streamed
    let bytes = std::fs::read(&good).expect("read");
    let report = catalog
        .upload_ova_from(Box::new(std::io::Cursor::new(bytes)), "piped", &opts())
        .await
        .expect("from a reader");
    assert_eq!(report.files, 2);
    let doc = catalog.template("piped").get().await.expect("template");
    assert_eq!(doc.vm_templates()[0].name.as_deref(), Some("late-01"));
}
