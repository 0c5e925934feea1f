//! Fuzz-style properties of the model decoders: truncated, reordered and garbage input is an
//! `ErrorKind::Protocol` error and never a panic; shuffled sibling elements decode the same.

use std::path::Path;
use std::str::FromStr;

use nebulair_opennebula::ErrorKind;
use nebulair_opennebula::model::{Host, Image, User, Vm, VmPool, VmPoolExtended};
use proptest::prelude::*;

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/model/samples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Documents with their decoder, as closures returning only the error kind.
type Decoder = fn(&str) -> Result<(), ErrorKind>;

fn kind<T: FromStr<Err = nebulair_opennebula::Error>>(xml: &str) -> Result<(), ErrorKind> {
    xml.parse::<T>().map(|_| ()).map_err(|e| e.kind())
}

fn corpus() -> Vec<(String, Decoder)> {
    vec![
        (sample("gen74_vm.xml"), kind::<Vm> as Decoder),
        (sample("gen74_vm_pool.xml"), kind::<VmPool>),
        (sample("gen74_vm_pool_extended.xml"), kind::<VmPoolExtended>),
        (sample("gen74_host.xml"), kind::<Host>),
        (sample("gen74_image.xml"), kind::<Image>),
        (sample("oneruby_user.xml"), kind::<User>),
        (sample("pyoca_vm.xml"), kind::<Vm>),
    ]
}

/// Splits a document into tags and the text between them.
fn tokens(xml: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while !rest.is_empty() {
        let cut = if let Some(r) = rest.strip_prefix("<![CDATA[") {
            r.find("]]>").map(|i| i + 9 + 3).unwrap_or(rest.len())
        } else if rest.starts_with('<') {
            rest.find('>').map(|i| i + 1).unwrap_or(rest.len())
        } else {
            rest.find('<').unwrap_or(rest.len())
        };
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// Whether the tags of a token list nest properly.
fn balanced(toks: &[&str]) -> bool {
    let name = |t: &str| -> String {
        t.trim_start_matches("</")
            .trim_start_matches('<')
            .split(['>', '/', ' '])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let mut stack = Vec::new();
    for t in toks {
        if t.starts_with("<!") || t.starts_with("<?") || !t.starts_with('<') || t.ends_with("/>") {
            continue;
        }
        if t.starts_with("</") {
            if stack.pop() != Some(name(t)) {
                return false;
            }
        } else {
            stack.push(name(t));
        }
    }
    stack.is_empty()
}

#[test]
fn the_corpus_decodes_untouched() {
    for (xml, decode) in corpus() {
        assert_eq!(decode(&xml), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Cutting a document anywhere before its end is always a protocol error.
    #[test]
    fn truncated_documents_are_protocol_errors(which in 0usize..7, frac in 0.0f64..1.0) {
        let docs = corpus();
        let (xml, decode) = &docs[which];
        let body = xml.trim_end();
        let mut cut = ((body.len() as f64) * frac) as usize;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        prop_assert_eq!(decode(&body[..cut]), Err(ErrorKind::Protocol));
    }

    /// Rotating the token sequence (so the document no longer starts with its root start
    /// tag) is always a protocol error.
    #[test]
    fn reordered_tokens_are_protocol_errors(which in 0usize..7, shift in 1usize..10_000) {
        let docs = corpus();
        let (xml, decode) = &docs[which];
        let toks = tokens(xml.trim());
        let k = 1 + shift % (toks.len() - 1);
        let rotated: String = toks[k..].iter().chain(&toks[..k]).copied().collect();
        prop_assert_eq!(decode(&rotated), Err(ErrorKind::Protocol));
    }

    /// Swapping an end tag with a later start tag breaks nesting: a protocol error.
    #[test]
    fn swapped_tags_are_protocol_errors(which in 0usize..7, a in 0usize..10_000, b in 0usize..10_000) {
        let docs = corpus();
        let (xml, decode) = &docs[which];
        let mut toks = tokens(xml.trim());
        let ends: Vec<usize> = (0..toks.len()).filter(|&i| toks[i].starts_with("</")).collect();
        let i = ends[a % ends.len()];
        let starts: Vec<usize> = (i + 1..toks.len())
            .filter(|&j| toks[j].starts_with('<') && !toks[j].starts_with("</")
                && !toks[j].starts_with("<!") && !toks[j].ends_with("/>"))
            .collect();
        prop_assume!(!starts.is_empty());
        let j = starts[b % starts.len()];
        toks.swap(i, j);
        // Some swaps still nest (`<B><A></A></B><B>` -> `<B><A><B></B></A>`); only the
        // broken ones are the point here.
        prop_assume!(!balanced(&toks));
        let swapped: String = toks.concat();
        prop_assert_eq!(decode(&swapped), Err(ErrorKind::Protocol));
    }

    /// Random bytes never panic; whatever is not a document of the type is a protocol error.
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        for (_, decode) in corpus() {
            prop_assert_eq!(decode(&text), Err(ErrorKind::Protocol));
        }
    }

    /// XML-looking garbage (tags, entities, CDATA, numbers) never panics.
    #[test]
    fn xml_like_garbage_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("<VM>"), Just("</VM>"), Just("<ID>"), Just("</ID>"), Just("<TEMPLATE>"),
            Just("</TEMPLATE>"), Just("<DISK>"), Just("</DISK>"), Just("<STATE>"),
            Just("</STATE>"), Just("<X/>"), Just("&amp;"), Just("&bogus;"), Just("&#0;"),
            Just("<![CDATA["), Just("]]>"), Just("12"), Just("-"), Just("é"), Just("<?x?>"),
            Just("<!--"), Just("-->"), Just("<a:VM>"), Just("</a:VM>"), Just(" "),
        ],
        0..40,
    )) {
        let text: String = parts.concat();
        for (_, decode) in corpus() {
            let _ = decode(&text);
        }
    }

    /// Sibling order does not matter: shuffling the kinds of children of the root decodes
    /// equal.
    #[test]
    fn shuffled_children_decode_the_same(seed in any::<u64>()) {
        let xml = sample("gen74_vm.xml");
        let original: Vm = xml.parse().expect("sample decodes");
        // Split the root's children at depth 1.
        let toks = tokens(xml.trim());
        let mut children: Vec<String> = Vec::new();
        let mut depth = 0i32;
        for t in &toks[1..toks.len() - 1] {
            if depth == 0 {
                children.push(String::new());
            }
            if let Some(c) = children.last_mut() {
                c.push_str(t);
            }
            if t.starts_with("</") {
                depth -= 1;
            } else if t.starts_with('<') && !t.starts_with("<!") && !t.ends_with("/>") {
                depth += 1;
            }
        }
        // A deterministic shuffle from the seed that moves element kinds around but keeps
        // repeated elements (two SNAPSHOTS) in their relative order, as a Vec must.
        let rank = |child: &str| -> u64 {
            let name = child[1..].split(['>', '/', ' ']).next().unwrap_or_default();
            let mut h = seed ^ 0x9e37_79b9_7f4a_7c15;
            for b in name.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            h
        };
        children.sort_by_key(|c| rank(c));
        let shuffled = format!("{}{}{}", toks[0], children.concat(), toks[toks.len() - 1]);
        let again: Vm = shuffled.parse().expect("shuffled document decodes");
        prop_assert_eq!(again, original);
    }
}

#[test]
fn bad_numbers_and_missing_ids_are_protocol_errors() {
    let e = "<VM><ID>x</ID></VM>".parse::<Vm>().expect_err("bad id");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let e = "<VM><ID>1</ID><STATE>three</STATE></VM>"
        .parse::<Vm>()
        .expect_err("bad state");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.to_string().contains("STATE"), "{e}");
    let e = "<VM><NAME>n</NAME></VM>".parse::<Vm>().expect_err("no id");
    assert!(e.to_string().contains("ID"), "{e}");
    let e = "<HOST><ID>1</ID></HOST>"
        .parse::<Vm>()
        .expect_err("wrong root");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let e = "<VM><ID>1</ID></VM><VM/>"
        .parse::<Vm>()
        .expect_err("two roots");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let e = "".parse::<Vm>().expect_err("empty");
    assert_eq!(e.kind(), ErrorKind::Protocol);
}

#[test]
fn empty_numbers_namespaces_and_unknown_elements_are_tolerated() {
    let vm: Vm = "<?xml version=\"1.0\"?><one:VM xmlns:one=\"http://opennebula.org/XMLSchema\">\
                  <one:ID> 5 </one:ID><one:STATE></one:STATE><one:LCM_STATE/>\
                  <one:FUTURE><DEEP>1</DEEP></one:FUTURE><one:NAME>a&amp;b</one:NAME></one:VM>"
        .parse()
        .expect("decodes");
    assert_eq!(vm.id.get(), 5);
    assert_eq!(vm.state, None);
    assert_eq!(vm.lcm_state, None);
    assert_eq!(vm.name.as_deref(), Some("a&b"));
    assert!(vm.template.is_empty());
    assert!(!vm.is_running());
}
