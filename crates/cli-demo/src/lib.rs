//! The user guide's code, compiled as doctests so that it cannot drift from the API.
//!
//! The `nebulair` binary is `src/main.rs`; this library target only holds the pages of
//! `docs/src/` whose Rust snippets `cargo test --doc -p nebulair-cli` compiles (and runs,
//! unless they are marked `no_run` because they need a server).

macro_rules! guide_pages {
    ($($name:ident => $file:literal),+ $(,)?) => {$(
        #[doc = include_str!(concat!("../../../docs/src/", $file))]
        pub mod $name {}
    )+};
}

guide_pages! {
    getting_started => "getting-started.md",
    configuration => "configuration.md",
    opennebula => "opennebula.md",
    templates => "templates.md",
    vcloud_sessions => "vcloud-sessions.md",
    query => "query.md",
    ans => "ans.md",
    dr => "dr.md",
    metrics => "metrics.md",
    simulator => "simulator.md",
    errors_and_retries => "errors-and-retries.md",
    migrating_from_pyone => "migrating-from-pyone.md",
    migrating_from_vcloudair => "migrating-from-vcloudair.md",
}
