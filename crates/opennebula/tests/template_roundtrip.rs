//! Property tests: templates survive render → parse in both syntaxes, and garbage input
//! never panics.

use nebulair_opennebula::template::{Template, TemplateValue, Vector};
use proptest::prelude::*;

fn value_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ]{1,6}",
        1 => Just("\"".to_owned()),
        1 => Just("\\".to_owned()),
        1 => Just("\\\"".to_owned()),
        1 => Just("\n".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => Just("\t".to_owned()),
        1 => Just("]]>".to_owned()),
        1 => Just("<![CDATA[".to_owned()),
        1 => Just("&amp;<>'#=,[]".to_owned()),
        1 => Just("é€😀ü".to_owned()),
        1 => any::<char>()
            .prop_filter("XML 1.0 character", |c| {
                !matches!(*c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
            })
            .prop_map(String::from),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop::collection::vec(value_piece(), 0..6).prop_map(|v| v.concat())
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,10}"
}

fn attr_value() -> impl Strategy<Value = TemplateValue> {
    prop_oneof![
        value().prop_map(TemplateValue::Single),
        prop::collection::vec((name(), value()), 0..5)
            .prop_map(|pairs| TemplateValue::Vector(pairs.into_iter().collect::<Vector>())),
    ]
}

fn template() -> impl Strategy<Value = Template> {
    prop::collection::vec((name(), attr_value()), 0..8)
        .prop_map(|attrs| attrs.into_iter().collect::<Template>())
}

fn text_safe_template() -> impl Strategy<Value = Template> {
    template().prop_map(|t| {
        t.into_iter()
            .filter(|(_, v)| match v {
                TemplateValue::Single(s) => safe(s),
                TemplateValue::Vector(vec) => vec.iter().all(|(_, s)| safe(s)),
            })
            .collect()
    })
}

/// Whether oned's lexer reads `s` back from the text form: it reads backslashes in pairs
/// (`\\"` is a quote), so an odd run of backslashes before a quote or at the end cannot be
/// carried.
fn odd_backslash_run(s: &str) -> bool {
    let mut run = 0usize;
    for c in s.chars() {
        match c {
            '\\' => run += 1,
            '"' if run % 2 == 1 => return true,
            _ => run = 0,
        }
    }
    run % 2 == 1
}

fn safe(s: &str) -> bool {
    !odd_backslash_run(s)
        && !s.contains("]]>")
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn render_then_parse_is_identity(t in template()) {
        let rendered = t.render().expect("renderable");
        let back = Template::parse(&rendered).expect("parsable");
        prop_assert_eq!(back, t);
    }

    #[test]
    fn xml_round_trip(t in template()) {
        let xml = t.to_xml().expect("renderable");
        prop_assert_eq!(Template::from_xml(&xml).expect("parsable"), t);
    }

    #[test]
    fn text_round_trip(t in text_safe_template()) {
        let text = t.to_text().expect("text-safe");
        prop_assert_eq!(Template::parse_text(&text).expect("parsable"), t);
    }

    #[test]
    fn text_rejects_what_it_cannot_carry(t in template()) {
        let all_safe = t.iter().all(|(_, v)| match v {
            TemplateValue::Single(s) => safe(s),
            TemplateValue::Vector(vec) => vec.iter().all(|(_, s)| safe(s)),
        });
        prop_assert_eq!(t.to_text().is_ok(), all_safe);
    }

    #[test]
    fn json_round_trip(t in template()) {
        let json = serde_json::to_string(&t).expect("serialisable");
        let back: Template = serde_json::from_str(&json).expect("deserialisable");
        // JSON groups repeated names together, so compare per name.
        for (name, _) in t.iter() {
            let a: Vec<_> = t.get_all(name).collect();
            let b: Vec<_> = back.get_all(name).collect();
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(back.len(), t.len());
    }

    #[test]
    fn garbage_never_panics(s in "\\PC{0,80}") {
        let _ = Template::parse(&s);
        let _ = Template::parse_text(&s);
        let _ = Template::from_xml(&s);
    }

    #[test]
    fn template_like_garbage_never_panics(s in "[A-Z_=\\[\\]\",#<>/ \n\\\\]{0,60}") {
        let _ = Template::parse_text(&s);
        let _ = Template::from_xml(&s);
    }

    #[test]
    fn bad_names_never_render(n in "[A-Za-z0-9_]{0,4}[^A-Za-z0-9_][A-Za-z0-9_ =\"]{0,4}", v in value()) {
        let t = Template::new().with(n, v);
        prop_assert!(t.to_text().is_err());
        prop_assert!(t.to_xml().is_err());
    }
}

#[test]
fn special_values_route_to_xml() {
    let t = Template::new()
        .with("A", "C:\\dir\\")
        .with("B", "x]]>y")
        .with("C", "line\nnext \"q\" é");
    let s = t.render().expect("renderable");
    assert!(s.starts_with("<TEMPLATE>"));
    assert_eq!(Template::parse(&s).expect("parsable"), t);
}
