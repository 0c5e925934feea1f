//! `src/model/vcd/generated.rs` is exactly what `cargo xtask vcd` writes from `xsd/`.

#[allow(dead_code, unreachable_pub)]
#[path = "../../../xtask/src/xsd.rs"]
mod xsd;

#[allow(dead_code, unreachable_pub)]
#[path = "../../../xtask/src/vcd.rs"]
mod vcd;

#[test]
fn generated_vcd_model_is_up_to_date() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = vcd::generate(&crate_dir.join("xsd")).expect("the generator runs");
    let checked_in = std::fs::read_to_string(crate_dir.join("src/model/vcd/generated.rs"))
        .expect("generated.rs exists");
    assert!(
        fresh == checked_in,
        "src/model/vcd/generated.rs is stale: run `cargo xtask vcd` and commit the result"
    );
}

#[test]
fn the_generator_covers_the_documents_of_the_issue() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = vcd::generate(&crate_dir.join("xsd")).expect("the generator runs");
    for name in [
        "Session",
        "Org",
        "OrgList",
        "Vdc",
        "VApp",
        "Vm",
        "VirtualHardwareSection",
        "GuestCustomizationSection",
        "NetworkConnectionSection",
        "OperatingSystemSection",
        "SnapshotSection",
        "VAppTemplate",
        "Catalog",
        "CatalogItem",
        "Media",
        "Task",
        "Error",
        "Metadata",
        "Link",
        "Reference",
        "ResourceEntity",
        "Owner",
        "Envelope",
        "InstantiateVAppTemplateParams",
        "ComposeVAppParams",
        "RecomposeVAppParams",
        "DeployVAppParams",
        "UndeployVAppParams",
        "CreateSnapshotParams",
        "MediaInsertOrEjectParams",
    ] {
        assert!(
            code.contains(&format!("\npub struct {name} {{")),
            "no struct {name}"
        );
    }
    assert!(code.contains("\npub enum Section {"));
}
