//! What OneGate does to `PUT /vm` data before oned sees it: its quoting pass and the
//! restricted-attribute check.

/// OneGate's quoting pass over `KEY=value` lines (reproduced character by character,
/// quirks included): an unquoted value after `=` is wrapped in quotes up to the next
/// `,`, `]`, `\` or line break; values already quoted and vector attributes pass
/// through; a literal `\n` becomes a line break.
pub(crate) fn escape_attr(attr: &str) -> String {
    let chars: Vec<char> = attr.chars().collect();
    let mut ret = String::with_capacity(attr.len() + 8);
    let mut escape = false;
    for (idx, &s) in chars.iter().enumerate() {
        let prev = if idx == 0 {
            None
        } else {
            chars.get(idx - 1).copied()
        };
        let next = chars.get(idx + 1).copied();
        if s == '=' && escape {
            ret.push(s);
            continue;
        }
        if s == '=' && next != Some('[') && next != Some('"') {
            ret.push_str("=\"");
            escape = true;
        } else if s == ',' && prev != Some('"') {
            ret.push_str("\",");
        } else if s == '[' && prev != Some('=') && prev != Some('"') {
            ret.push_str("\"[");
        } else if s == ']' && prev != Some('=') && prev != Some('"') {
            ret.push_str("\"]");
            escape = false;
        } else if s == '\\' && prev != Some('"') {
            ret.push_str("\"\\");
            escape = false;
        } else if s == '\n' && prev != Some('"') {
            ret.push_str("\"\n");
            escape = false;
        } else {
            ret.push(s);
        }
    }
    let mut ret = ret.replace("\\n", "\n");
    if escape && !ret.ends_with(']') && !ret.ends_with('"') {
        ret.push('"');
    }
    ret
}

/// The first line whose key (text before `=`, upper-cased) is restricted: the key as
/// sent.
pub(crate) fn restricted_key<'a>(data: &'a str, restricted: &[String]) -> Option<&'a str> {
    data.split('\n').find_map(|line| {
        let key = line.split('=').next().filter(|k| !k.is_empty())?;
        let upper = key.to_uppercase();
        restricted.contains(&upper).then_some(key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_onegate() {
        assert_eq!(escape_attr("A=1"), "A=\"1\"");
        assert_eq!(escape_attr("A=1\nB=two words"), "A=\"1\"\nB=\"two words\"");
        assert_eq!(escape_attr("B=\"quoted two\""), "B=\"quoted two\"");
        assert_eq!(escape_attr("V=[X=\"1\",Y=\"2\"]"), "V=[X=\"1\",Y=\"2\"]");
        assert_eq!(escape_attr("KEY"), "KEY");
        assert_eq!(escape_attr("A=x=y"), "A=\"x=y\"");
        // The quirks: commas break values, an empty value leaves a lone quote.
        assert_eq!(escape_attr("A=a,b"), "A=\"a\",b\"");
        assert_eq!(escape_attr("A="), "A=\"");
        assert_eq!(escape_attr("A=\"\""), "A=\"\"");
    }

    #[test]
    fn finds_restricted_keys_case_insensitively() {
        let r = vec!["SERVICE_ID".to_owned(), "ROLE_NAME".to_owned()];
        assert_eq!(
            restricted_key("A=\"1\"\nservice_id=\"2\"", &r),
            Some("service_id")
        );
        assert_eq!(restricted_key("ROLE_NAME", &r), Some("ROLE_NAME"));
        assert_eq!(restricted_key("A=1\n=x\n", &r), None);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use nebulair_opennebula::onegate::VmAttributes;
    use nebulair_opennebula::template::Template;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn garbage_never_panics(s in "\\PC*") {
            let _ = escape_attr(&s);
            let _ = restricted_key(&s, &["SERVICE_ID".to_owned()]);
        }

        /// What the client sends, once through OneGate's quoting, is a template holding
        /// exactly the values given.
        #[test]
        fn client_encoding_survives_onegate_quoting(
            entries in proptest::collection::btree_map(
                "[A-Z_][A-Z0-9_]{0,10}",
                "[^\",\\[\\]\\\\\n\r]{0,20}",
                1..6,
            ),
            vector in proptest::collection::btree_map("[A-Z][A-Z0-9_]{0,6}", "[a-z0-9 .:-]{0,10}", 1..4),
        ) {
            let mut attrs = VmAttributes::new();
            for (k, v) in &entries {
                attrs = attrs.set(k.clone(), v);
            }
            attrs = attrs.set_vector("VEC_ATTR", vector.clone());
            let text = attrs.encode().expect("valid attributes");
            let stored = Template::parse_text(&escape_attr(&text)).expect("oned parses it");
            for (k, v) in &entries {
                if k == "VEC_ATTR" {
                    continue;
                }
                prop_assert_eq!(stored.get_str(k), Some(v.as_str()), "{}", k);
            }
            let vec = stored.get_vector("VEC_ATTR").expect("vector");
            for (k, v) in &vector {
                prop_assert_eq!(vec.get(k), Some(v.as_str()));
            }
        }
    }
}
