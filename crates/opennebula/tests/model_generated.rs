//! `src/model/generated.rs` is exactly what `cargo xtask xsd` writes from `xsd/*.xsd`.

#[allow(dead_code, unreachable_pub)]
#[path = "../../../xtask/src/xsd.rs"]
mod xsd;

#[test]
fn generated_model_is_up_to_date() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = xsd::generate(&crate_dir.join("xsd")).expect("the generator runs");
    let checked_in = std::fs::read_to_string(crate_dir.join("src/model/generated.rs"))
        .expect("generated.rs exists");
    assert!(
        fresh == checked_in,
        "src/model/generated.rs is stale: run `cargo xtask xsd` and commit the result"
    );
}

#[test]
fn the_generator_covers_every_schema_root() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = xsd::generate(&crate_dir.join("xsd")).expect("the generator runs");
    for name in [
        "Vm",
        "VmPool",
        "VmPoolExtended",
        "MonitoringData",
        "AccountingRecords",
        "ShowbackRecords",
        "Host",
        "HostPool",
        "Image",
        "ImagePool",
        "VmTemplate",
        "VmTemplatePool",
        "Vnet",
        "VnetPool",
        "VnetPoolExtended",
        "VnTemplate",
        "VnTemplatePool",
        "User",
        "UserPool",
        "Group",
        "GroupPool",
        "Datastore",
        "DatastorePool",
        "Cluster",
        "ClusterPool",
        "Zone",
        "ZonePool",
        "RaftStatus",
        "AclPool",
        "Document",
        "DocumentPool",
        "Marketplace",
        "MarketplacePool",
        "MarketplaceApp",
        "MarketplaceAppPool",
        "SecurityGroup",
        "SecurityGroupPool",
        "VmGroup",
        "VmGroupPool",
        "VirtualRouter",
        "VirtualRouterPool",
        "Vdc",
        "VdcPool",
        "Hook",
        "HookPool",
        "Hooklog",
        "BackupJob",
        "BackupJobPool",
        "Plan",
        "SystemConfig",
    ] {
        assert!(
            code.contains(&format!("pub struct {name} {{")),
            "no struct {name} generated"
        );
    }
}
