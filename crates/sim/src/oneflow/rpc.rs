//! OneFlow's side of XML-RPC: calls to the oned simulator, in-process.

use crate::one::OneState;

/// An XML-RPC argument.
#[derive(Debug, Clone, Copy)]
pub(crate) enum A<'a> {
    S(&'a str),
    I(i64),
    B(bool),
}

/// A failed oned call: its message (with the `[method]` prefix) and error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OneError {
    pub(crate) msg: String,
    pub(crate) code: i64,
}

impl OneError {
    /// The HTTP status OneFlow's `one_error_to_http` gives this error (oned's
    /// AUTHORIZATION 0x200 is 401 and AUTHENTICATION 0x100 is 403, as the server maps them).
    pub(crate) fn http(&self) -> u16 {
        match self.code {
            0x0200 => 401,
            0x0100 => 403,
            0x0400 => 404,
            _ => 500,
        }
    }
}

/// The oned simulator, reached in-process.
#[derive(Debug, Clone)]
pub(crate) struct Rpc {
    pub(crate) state: OneState,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Rpc {
    /// Calls `method` with `session` and `args`; the answer's value as text (string or
    /// integer).
    pub(crate) fn call(
        &self,
        session: &str,
        method: &str,
        args: &[A<'_>],
    ) -> Result<String, OneError> {
        let mut body =
            format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>");
        for a in std::iter::once(A::S(session)).chain(args.iter().copied()) {
            body.push_str("<param><value>");
            match a {
                A::S(s) => {
                    body.push_str("<string>");
                    body.push_str(&escape(s));
                    body.push_str("</string>");
                }
                A::I(n) => body.push_str(&format!("<i4>{n}</i4>")),
                A::B(b) => body.push_str(&format!("<boolean>{}</boolean>", u8::from(b))),
            }
            body.push_str("</value></param>");
        }
        body.push_str("</params></methodCall>");
        parse(&self.state.call_raw(body.as_bytes()))
    }

    /// `call` returning an integer (ids).
    pub(crate) fn call_int(
        &self,
        session: &str,
        method: &str,
        args: &[A<'_>],
    ) -> Result<i64, OneError> {
        let v = self.call(session, method, args)?;
        v.trim().parse().map_err(|_| OneError {
            msg: format!("[{method}] unexpected answer {v:?}"),
            code: 0x2000,
        })
    }
}

/// The values of an answer: `[ok, value, code, ...]`.
fn parse(answer: &str) -> Result<String, OneError> {
    let mut values = Vec::new();
    let mut rest = answer;
    for tag in ["boolean", "any", "any"] {
        let found = if tag == "boolean" {
            take(rest, "boolean")
        } else {
            ["string", "i4", "int", "i8"]
                .iter()
                .filter_map(|t| take(rest, t).map(|(v, r)| (rest.len() - r.len(), v, r)))
                .min_by_key(|(pos, _, _)| *pos)
                .map(|(_, v, r)| (v, r))
        };
        match found {
            Some((v, r)) => {
                values.push(v);
                rest = r;
            }
            None => break,
        }
    }
    let text = |i: usize| values.get(i).cloned().unwrap_or_default();
    match values.first().map(String::as_str) {
        Some("1") => Ok(text(1)),
        Some(_) => Err(OneError {
            msg: text(1),
            code: text(2).trim().parse().unwrap_or(0x1111),
        }),
        None => Err(OneError {
            msg: format!(
                "unexpected XML-RPC answer: {}",
                answer.chars().take(200).collect::<String>()
            ),
            code: 0x1111,
        }),
    }
}

/// The unescaped text of the first `<tag>...</tag>` and what follows it.
fn take<'a>(s: &'a str, tag: &str) -> Option<(String, &'a str)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = s.find(&open)? + open.len();
    let end = s[start..].find(&close)? + start;
    let raw = &s[start..end];
    let text = quick_xml::escape::unescape(raw)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| raw.to_owned());
    Some((text, &s[end + close.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse() {
        let ok = "<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value><string>&lt;A&gt;x&amp;y&lt;/A&gt;</string></value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>";
        assert_eq!(parse(ok), Ok("<A>x&y</A>".to_owned()));
        let id = "<value><boolean>1</boolean></value><value><i4>42</i4></value><value><i4>0</i4></value>";
        assert_eq!(parse(id), Ok("42".to_owned()));
        let bad = "<value><boolean>0</boolean></value><value><string>[one.document.info] Error getting document [9].</string></value><value><i4>1024</i4></value><value><i4>9</i4></value>";
        let e = parse(bad).expect_err("failure");
        assert_eq!(e.code, 1024);
        assert_eq!(e.http(), 404);
        assert!(parse("garbage").is_err());
    }
}
