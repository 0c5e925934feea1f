//! The checked-in bindings are what `cargo xtask methods` produces from the TSV, and every
//! TSV method has a binding.

#[allow(dead_code, unreachable_pub)]
#[path = "../../../xtask/src/methods.rs"]
mod generator;

const TSV: &str = include_str!("../data/api-methods.tsv");
const GENERATED: &str = include_str!("../src/api/generated.rs");

#[test]
fn generated_bindings_are_up_to_date() {
    let fresh = generator::generate(TSV).expect("generator runs");
    assert!(
        fresh == GENERATED,
        "crates/opennebula/src/api/generated.rs is stale: run `cargo xtask methods`"
    );
}

#[test]
fn every_tsv_method_has_a_binding() {
    let methods: Vec<&str> = TSV
        .lines()
        .filter(|l| l.starts_with("one."))
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(methods.len(), 307);
    let mut missing = Vec::new();
    for m in &methods {
        if !GENERATED.contains(&format!("self.client.call_full({m:?}, &p)")) {
            missing.push(*m);
        }
    }
    assert!(missing.is_empty(), "methods without a binding: {missing:?}");
    assert_eq!(nebulair_opennebula::api::METHODS.len(), methods.len());
    for m in nebulair_opennebula::api::METHODS {
        assert!(methods.contains(m), "{m} is not in the TSV");
    }
}
