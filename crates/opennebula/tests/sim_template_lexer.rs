//! The client's template text writer and parser follow oned's lexer, checked against the
//! simulator's parser (which follows oned's): inside double quotes `\"` is a quote, any
//! other backslash pair is kept as it is, and `]]>` is refused. Property tests with
//! backslashes (also at the end), quotes, `]]>` and newlines: what the client sends means
//! to oned what the user wrote, or the client refuses the text form.

use nebulair_opennebula::Template;
use nebulair_sim::one::OneSimulator;
use proptest::prelude::*;

/// The value of `A` after the simulator parsed `text` (a VM template's TEMPLATE), or its
/// error message.
fn sim_value(sim: &nebulair_sim::one::OneSimHandle, text: &str) -> Result<String, String> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let text = match text.strip_prefix("<TEMPLATE>") {
        Some(rest) => format!("<TEMPLATE><NAME>t{n}</NAME>{rest}"),
        None => format!("NAME = \"t{n}\"\n{text}"),
    };
    let mut esc = String::new();
    for c in text.chars() {
        match c {
            '<' => esc.push_str("&lt;"),
            '&' => esc.push_str("&amp;"),
            '>' => esc.push_str("&gt;"),
            c => esc.push(c),
        }
    }
    let body = format!(
        "<methodCall><methodName>one.template.allocate</methodName><params>\
         <param><value><string>oneadmin:opennebula</string></value></param>\
         <param><value><string>{esc}</string></value></param></params></methodCall>"
    );
    let r = sim.call_raw(body.as_bytes());
    if !r.contains("<boolean>1</boolean>") {
        return Err(r);
    }
    let id: String = r
        .split("<i4>")
        .nth(1)
        .and_then(|x| x.split("</i4>").next())
        .unwrap_or("0")
        .to_owned();
    let info = sim.call_raw(
        format!(
            "<methodCall><methodName>one.template.info</methodName><params>\
             <param><value><string>oneadmin:opennebula</string></value></param>\
             <param><value><int>{id}</int></value></param></params></methodCall>"
        )
        .as_bytes(),
    );
    let doc = info
        .split("<string>")
        .nth(1)
        .and_then(|x| x.split("</string>").next())
        .unwrap_or("")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    // the element's CDATA sections, joined (oned splits a value holding `]]>`)
    let start = doc.find("<A>").map(|i| i + "<A>".len());
    let inner = start
        .and_then(|s| doc[s..].find("</A>").map(|e| doc[s..s + e].to_owned()))
        .unwrap_or_default();
    let joined = inner.replace("]]><![CDATA[", "");
    let v = joined
        .strip_prefix("<![CDATA[")
        .and_then(|x| x.strip_suffix("]]>"))
        .unwrap_or(&joined)
        .to_owned();
    Ok(v)
}

/// One simulator for every case (its calls are in-process, `call_raw`).
fn sim() -> &'static nebulair_sim::one::OneSimHandle {
    static SIM: std::sync::OnceLock<(tokio::runtime::Runtime, nebulair_sim::one::OneSimHandle)> =
        std::sync::OnceLock::new();
    &SIM.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(OneSimulator::builder().seed_data(false).start())
            .expect("simulator");
        (rt, sim)
    })
    .1
}

#[test]
fn recorded_lexer_cases() {
    let sim = sim();
    // `"a\\"` is the value `a\\` (oned keeps the pair), not an error
    assert_eq!(sim_value(sim, "A = \"a\\\\\""), Ok("a\\\\".into()));
    let t = Template::parse_text("A = \"a\\\\\"").expect("client parse");
    assert_eq!(t.get_str("A"), Some("a\\\\"));
    // a value ending in one backslash cannot be sent as text; the client says so
    assert!(Template::new().with("A", "a\\").to_text().is_err());
    assert!(Template::new().with("A", "a\\\"b").to_text().is_err());
    // `]]>` anywhere: a bare parse error
    let err = sim_value(sim, "A = \"x ]]> y\"").expect_err("refused");
    assert!(err.contains("Parse error."), "{err}");
    assert!(Template::new().with("A", "x ]]> y").to_text().is_err());
    // but the XML form carries all of them
    for v in ["a\\", "x ]]> y", "q\\\"z"] {
        let t = Template::new().with("A", v);
        let xml = t.render().expect("render");
        assert!(xml.starts_with("<TEMPLATE>"), "{xml}");
        assert_eq!(sim_value(sim, &xml), Ok(v.to_owned()), "{xml}");
    }
}

fn value_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\\".to_owned()),
            Just("\"".to_owned()),
            Just("\n".to_owned()),
            Just("]]>".to_owned()),
            Just(" ".to_owned()),
            Just("é".to_owned()),
            "[a-z0-9=,#\\[\\]]{1,3}",
        ],
        1..10,
    )
    .prop_map(|parts| parts.concat())
    .prop_filter("oned trims quoted values", |v| v.trim() == v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn text_round_trips_as_oned_reads_it(v in value_strategy()) {
        let sim = sim();
        let t = Template::new().with("A", v.as_str());
        match t.to_text() {
            Ok(text) => {
                let back = Template::parse_text(&text).expect("client parses its own text");
                prop_assert_eq!(back.get_str("A"), Some(v.as_str()), "client: {}", text);
                prop_assert_eq!(sim_value(sim, &text), Ok(v.clone()), "oned: {}", text);
            }
            Err(_) => {
                // refused only when oned could not read it back: the XML form works
                let xml = t.render().expect("render picks XML");
                prop_assert_eq!(sim_value(sim, &xml), Ok(v.clone()), "xml: {}", xml);
            }
        }
    }
}
