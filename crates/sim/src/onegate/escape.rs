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
