//! The user guide's code, compiled as doctests so that it cannot drift from the API.
//!
//! Each page of `docs/src/` that has Rust snippets is the documentation of one module
//! below; `cargo test --doc -p nebulair-guide-tests` compiles every snippet and runs those
//! not marked `no_run` (the ones that need a real server). This package is not published:
//! it lives next to the guide so that no published crate reaches outside its folder.

macro_rules! guide_pages {
    ($($name:ident => $file:literal),+ $(,)?) => {
        $(
            #[doc = include_str!(concat!("../../src/", $file))]
            pub mod $name {}
        )+
        /// The pages compiled here, as file names in `docs/src/`.
        pub const PAGES: &[&str] = &[$($file),+];
    };
}

guide_pages! {
    getting_started => "getting-started.md",
    configuration => "configuration.md",
    opennebula => "opennebula.md",
    templates => "templates.md",
    onegate => "onegate.md",
    oneflow => "oneflow.md",
    vcloud_sessions => "vcloud-sessions.md",
    vcloud_vapps => "vcloud-vapps.md",
    query => "query.md",
    ans => "ans.md",
    dr => "dr.md",
    metrics => "metrics.md",
    multi_cloud => "multi-cloud.md",
    vcloud_catalogs => "vcloud-catalogs.md",
    simulator => "simulator.md",
    errors_and_retries => "errors-and-retries.md",
    reliability => "reliability.md",
    migrating_from_pyone => "migrating-from-pyone.md",
    migrating_from_vcloudair => "migrating-from-vcloudair.md",
    migrating_from_pyvcloud => "migrating-from-pyvcloud.md",
}

#[cfg(test)]
mod tests {
    use super::PAGES;

    /// A new page with Rust code must be added to `guide_pages!`, or its code would go
    /// unchecked.
    #[test]
    fn every_page_with_rust_code_is_compiled() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("docs/src") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("md") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("page");
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 name")
                .to_owned();
            if text.contains("```rust") && !PAGES.contains(&name.as_str()) {
                missing.push(name);
            }
        }
        assert!(
            missing.is_empty(),
            "pages with Rust code missing from guide_pages!: {missing:?}"
        );
    }
}
