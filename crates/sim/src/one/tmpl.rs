//! Templates as oned stores them: attributes sorted by name (repeats keep their order),
//! vector attributes holding sorted scalar pairs, values rendered in CDATA.
//!
//! Parses both syntaxes oned accepts (the text syntax and `<TEMPLATE>` XML) with oned's
//! rules: only `\"` is an escape inside quotes, names are upper-cased, any `]]>` is a
//! parse error, an unterminated quote degrades to an unquoted token.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::{Deserialize, Serialize};

/// The value of one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum AttrValue {
    /// A scalar.
    Single(String),
    /// A vector of scalar pairs, sorted by key.
    Vector(Vec<(String, String)>),
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Attr {
    /// Upper-case name.
    pub(crate) name: String,
    /// Value.
    pub(crate) value: AttrValue,
}

/// A template: attributes kept sorted by name like oned's multimap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tmpl {
    attrs: Vec<Attr>,
}

impl Tmpl {
    /// An empty template.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Parse either syntax (XML when the text starts with `<`). The error is oned's
    /// message (`Parse error...`).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let is_xml = text.trim_start().starts_with('<');
        if !is_xml && text.contains("]]>") {
            return Err("Parse error.".into());
        }
        // The SDK's parser first; our own lexer reproduces oned's error messages and its
        // fallback for unterminated quotes when the SDK's (stricter) parser refuses.
        match nebulair_opennebula::template::Template::parse(text) {
            Ok(t) => Ok(Self::from_sdk(&t, !is_xml)),
            Err(_) if is_xml => parse_xml(text),
            Err(_) => parse_text(text),
        }
    }

    /// Convert the SDK's template (names upper-cased for the text syntax, values trimmed).
    pub(crate) fn from_sdk(t: &nebulair_opennebula::template::Template, upper: bool) -> Self {
        use nebulair_opennebula::template::TemplateValue;
        let name = |n: &str| {
            if upper {
                n.to_ascii_uppercase()
            } else {
                n.to_owned()
            }
        };
        let mut out = Tmpl::new();
        for (n, v) in t.iter() {
            let value = match v {
                TemplateValue::Single(s) => AttrValue::Single(s.trim().to_owned()),
                TemplateValue::Vector(v) if v.is_empty() && !upper => {
                    AttrValue::Single(String::new())
                }
                TemplateValue::Vector(v) => AttrValue::Vector(
                    v.iter()
                        .map(|(k, x)| (name(k), x.trim().to_owned()))
                        .collect(),
                ),
            };
            out.push(&name(n), value);
        }
        out
    }

    /// All attributes in order.
    pub(crate) fn attrs(&self) -> &[Attr] {
        &self.attrs
    }

    /// Insert keeping the order (after existing attributes of the same name).
    pub(crate) fn push(&mut self, name: &str, value: AttrValue) {
        let pos = self.attrs.partition_point(|a| a.name.as_str() <= name);
        let value = match value {
            AttrValue::Vector(mut v) => {
                v.sort_by(|a, b| a.0.cmp(&b.0));
                AttrValue::Vector(v)
            }
            s => s,
        };
        self.attrs.insert(
            pos,
            Attr {
                name: name.to_owned(),
                value,
            },
        );
    }

    /// Replace every attribute called `name` with one scalar.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.push(name, AttrValue::Single(value.into()));
    }

    /// Remove every attribute called `name`.
    pub(crate) fn remove(&mut self, name: &str) {
        self.attrs.retain(|a| a.name != name);
    }

    /// The first scalar called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find_map(|a| match &a.value {
            AttrValue::Single(s) if a.name == name => Some(s.as_str()),
            _ => None,
        })
    }

    /// Every vector called `name`.
    pub(crate) fn vectors(&self, name: &str) -> Vec<&[(String, String)]> {
        self.attrs
            .iter()
            .filter_map(|a| match &a.value {
                AttrValue::Vector(v) if a.name == name => Some(v.as_slice()),
                _ => None,
            })
            .collect()
    }

    /// Every vector called `name`, mutable.
    pub(crate) fn vectors_mut(&mut self, name: &str) -> Vec<&mut Vec<(String, String)>> {
        self.attrs
            .iter_mut()
            .filter_map(|a| match &mut a.value {
                AttrValue::Vector(v) if a.name == name => Some(v),
                _ => None,
            })
            .collect()
    }

    /// Take every attribute out whose name satisfies `pred`.
    pub(crate) fn extract(&mut self, pred: impl Fn(&str) -> bool) -> Tmpl {
        let (taken, kept): (Vec<Attr>, Vec<Attr>) = std::mem::take(&mut self.attrs)
            .into_iter()
            .partition(|a| pred(&a.name));
        self.attrs = kept;
        Tmpl { attrs: taken }
    }

    /// oned's merge (`append = 1`): attributes of `other` replace those of the same name.
    pub(crate) fn merge(&mut self, other: &Tmpl) {
        for a in &other.attrs {
            self.remove(&a.name);
        }
        for a in &other.attrs {
            self.push(&a.name, a.value.clone());
        }
    }

    /// Render as `<root>...</root>`, values in CDATA.
    pub(crate) fn render(&self, out: &mut String, root: &str) {
        out.push('<');
        out.push_str(root);
        out.push('>');
        self.render_children(out);
        out.push_str("</");
        out.push_str(root);
        out.push('>');
    }

    /// Render the attributes only.
    pub(crate) fn render_children(&self, out: &mut String) {
        for a in &self.attrs {
            match &a.value {
                AttrValue::Single(v) => cdata_elem(out, &a.name, v),
                AttrValue::Vector(items) => {
                    out.push('<');
                    out.push_str(&a.name);
                    out.push('>');
                    for (k, v) in items {
                        cdata_elem(out, k, v);
                    }
                    out.push_str("</");
                    out.push_str(&a.name);
                    out.push('>');
                }
            }
        }
    }

    /// Render in the text syntax (quotes escaped as `\"`).
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        for a in &self.attrs {
            match &a.value {
                AttrValue::Single(v) => {
                    out.push_str(&format!("{} = \"{}\"\n", a.name, v.replace('"', "\\\"")));
                }
                AttrValue::Vector(items) => {
                    let inner: Vec<String> = items
                        .iter()
                        .map(|(k, v)| format!("{k} = \"{}\"", v.replace('"', "\\\"")))
                        .collect();
                    out.push_str(&format!("{} = [ {} ]\n", a.name, inner.join(", ")));
                }
            }
        }
        out
    }
}

/// Write `<name><![CDATA[value]]></name>`, splitting any `]]>`.
pub(crate) fn cdata_elem(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str("><![CDATA[");
    out.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]></");
    out.push_str(name);
    out.push('>');
}

struct Lexer<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }
    fn skip_space_and_newlines(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'#') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }
    /// Where oned's lexer says an error is (recorded 166 and 174): the column counts from
    /// the start of the text, not of the line, and the line grows only for the newlines
    /// inside quoted values.
    fn line_col(&self, at: usize) -> (usize, usize) {
        let before = &self.s[..at.min(self.s.len())];
        let mut line = 1;
        let mut quoted = false;
        let mut i = 0;
        while i < before.len() {
            match before[i] {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b'\n' if quoted => line += 1,
                _ => {}
            }
            i += 1;
        }
        (line, before.len())
    }
    /// Whether a quote at `at` has no closing quote (backslash pairs skipped).
    fn unterminated_quote(&self, at: usize) -> bool {
        let mut i = at + 1;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' => i += 2,
                b'"' => return false,
                _ => i += 1,
            }
        }
        true
    }
    fn error(&self, expecting: &str) -> String {
        // an unterminated quote takes the rest of the text: the parser then sees the end
        let at = match self.peek() {
            Some(b'"') if self.unterminated_quote(self.pos) => self.s.len(),
            _ => self.pos,
        };
        let (line, col) = self.line_col(at);
        let unexpected = match self.s.get(at) {
            None => "$end".to_owned(),
            Some(c) => format!("'{}'", *c as char),
        };
        format!(
            "Parse error: syntax error, unexpected {unexpected}, expecting {expecting} at line {line}, columns {col}:{}",
            col + 1
        )
    }
    fn name(&mut self) -> Option<String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.text[start..self.pos].to_ascii_uppercase())
    }
    fn unquoted(&mut self) -> String {
        let start = self.pos;
        while !matches!(
            self.peek(),
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'=' | b'#')
        ) {
            self.pos += 1;
        }
        self.text[start..self.pos].to_owned()
    }
    /// A value after `=`: quoted, unquoted or empty.
    fn value(&mut self) -> String {
        if self.peek() == Some(b'"') {
            let start = self.pos;
            let mut i = self.pos + 1;
            let mut out = String::new();
            let mut seg = i;
            while i < self.s.len() {
                match self.s[i] {
                    // oned's lexer reads backslash pairs: `\"` is a quote, any other pair is
                    // kept as it is (so `"a\\"` is `a\\`)
                    b'\\' if self.s.get(i + 1) == Some(&b'"') => {
                        out.push_str(&self.text[seg..i]);
                        out.push('"');
                        i += 2;
                        seg = i;
                    }
                    b'\\' if i + 1 < self.s.len() => {
                        // keep the pair; step over a whole (possibly multi-byte) character
                        let next = self.text[i + 1..].chars().next().map_or(1, char::len_utf8);
                        i += 1 + next;
                    }
                    b'"' => {
                        out.push_str(&self.text[seg..i]);
                        self.pos = i + 1;
                        return out.trim().to_owned();
                    }
                    _ => i += 1,
                }
            }
            // Unterminated: oned's lexer falls back to an unquoted token.
            self.pos = start + 1;
            let rest = self.unquoted();
            return format!("\"{rest}").trim().to_owned();
        }
        self.unquoted().trim().to_owned()
    }
}

fn parse_text(text: &str) -> Result<Tmpl, String> {
    if text.contains("]]>") {
        return Err("Parse error.".into());
    }
    let mut lx = Lexer {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    let mut t = Tmpl::new();
    loop {
        lx.skip_space_and_newlines();
        if lx.peek().is_none() {
            return Ok(t);
        }
        let Some(name) = lx.name() else {
            return Err(lx.error("VARIABLE"));
        };
        lx.skip_blanks();
        if lx.peek() != Some(b'=') {
            return Err(lx.error("EQUAL or EQUAL_EMPTY"));
        }
        lx.pos += 1;
        lx.skip_blanks();
        if lx.peek() == Some(b'[') {
            lx.pos += 1;
            let mut items = Vec::new();
            loop {
                lx.skip_space_and_newlines();
                if lx.peek() == Some(b']') {
                    lx.pos += 1;
                    break;
                }
                let Some(k) = lx.name() else {
                    return Err(lx.error("VARIABLE or CBRACKET"));
                };
                lx.skip_space_and_newlines();
                if lx.peek() != Some(b'=') {
                    return Err(lx.error("EQUAL"));
                }
                lx.pos += 1;
                lx.skip_blanks();
                let v = lx.value();
                items.push((k, v));
                lx.skip_space_and_newlines();
                match lx.peek() {
                    Some(b',') => lx.pos += 1,
                    Some(b']') => {
                        lx.pos += 1;
                        break;
                    }
                    _ => return Err(lx.error("COMMA or CBRACKET")),
                }
            }
            t.push(&name, AttrValue::Vector(items));
        } else {
            let v = lx.value();
            t.push(&name, AttrValue::Single(v));
        }
        lx.skip_blanks();
    }
}

fn parse_xml(text: &str) -> Result<Tmpl, String> {
    let mut r = Reader::from_str(text);
    let err = |m: &str| format!("Parse error: {m}");
    let mut t = Tmpl::new();
    // Stack: depth 1 = root, 2 = attribute, 3 = vector member.
    let mut depth = 0usize;
    let mut attr_name = String::new();
    let mut attr_text = String::new();
    let mut vec_items: Option<Vec<(String, String)>> = None;
    let mut member_name = String::new();
    let mut member_text = String::new();
    loop {
        let ev = r.read_event().map_err(|e| err(&e.to_string()))?;
        match ev {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name().as_ref().to_owned();
                match depth {
                    1 => {}
                    2 => {
                        attr_name = name;
                        attr_text.clear();
                        vec_items = None;
                    }
                    3 => {
                        member_name = name;
                        member_text.clear();
                        vec_items.get_or_insert_with(Vec::new);
                    }
                    _ => return Err(err("vector attributes cannot be nested")),
                }
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                match depth {
                    0 => return Ok(t),
                    1 => t.push(&name, AttrValue::Single(String::new())),
                    2 => vec_items
                        .get_or_insert_with(Vec::new)
                        .push((name, String::new())),
                    _ => return Err(err("vector attributes cannot be nested")),
                }
            }
            Event::Text(x) => {
                let s = x.xml10_content();
                match depth {
                    2 => attr_text.push_str(&s),
                    3 => member_text.push_str(&s),
                    _ => {}
                }
            }
            Event::CData(x) => {
                let s = x.xml10_content();
                match depth {
                    2 => attr_text.push_str(&s),
                    3 => member_text.push_str(&s),
                    _ => {}
                }
            }
            Event::GeneralRef(g) => {
                let mut s = String::new();
                if g.is_char_ref() {
                    if let Ok(Some(c)) = g.resolve_char_ref() {
                        s.push(c);
                    }
                } else {
                    let n: &str = &g;
                    s.push_str(
                        quick_xml::escape::resolve_predefined_entity(n)
                            .ok_or_else(|| err("unknown entity"))?,
                    );
                }
                match depth {
                    2 => attr_text.push_str(&s),
                    3 => member_text.push_str(&s),
                    _ => {}
                }
            }
            Event::End(_) => {
                match depth {
                    3 => {
                        if let Some(v) = vec_items.as_mut() {
                            v.push((member_name.clone(), member_text.trim().to_owned()));
                        }
                    }
                    2 => {
                        let value = match vec_items.take() {
                            Some(v) => AttrValue::Vector(v),
                            None => AttrValue::Single(attr_text.trim().to_owned()),
                        };
                        t.push(&attr_name, value);
                    }
                    1 => return Ok(t),
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => {
                return if depth == 0 {
                    Ok(t)
                } else {
                    Err(err("unexpected end of the XML template"))
                };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslashes_pair_up_like_oned() {
        let t =
            Tmpl::parse("A = \"a\\\\\"\nB = \"C:\\dir\\é\"\nC = \"say \\\"x\\\"\"").expect("parse");
        assert_eq!(t.get("A"), Some("a\\\\"));
        assert_eq!(t.get("B"), Some("C:\\dir\\é"));
        assert_eq!(t.get("C"), Some("say \"x\""));
        assert_eq!(
            Tmpl::parse("A = \"x ]]> y\"").err().as_deref(),
            Some("Parse error.")
        );
    }

    #[test]
    fn text_syntax_like_oned() {
        let t = Tmpl::parse(
            "name = \"x\"\nCPU = 0.5\nD = \"a \\\"q\\\" C:\\dir \\\\ end\"\n# comment\nDISK = [ type = \"fs\", SIZE = 1 ]\nDISK=[SIZE=2]\nE =\n",
        )
        .expect("parse");
        assert_eq!(t.get("NAME"), Some("x"));
        assert_eq!(t.get("CPU"), Some("0.5"));
        assert_eq!(t.get("D"), Some("a \"q\" C:\\dir \\\\ end"));
        assert_eq!(t.get("E"), Some(""));
        let disks = t.vectors("DISK");
        assert_eq!(disks.len(), 2);
        assert_eq!(
            disks[0],
            &[("SIZE".into(), "1".into()), ("TYPE".into(), "fs".into())]
        );
        let mut out = String::new();
        t.render(&mut out, "TEMPLATE");
        assert!(out.starts_with("<TEMPLATE><CPU><![CDATA[0.5]]></CPU><D>"));
    }

    #[test]
    fn errors_like_oned() {
        assert_eq!(
            Tmpl::parse("D = \"a ]]> b\"").err().as_deref(),
            Some("Parse error.")
        );
        let e = Tmpl::parse("NAME = x\nDISK = [ SIZE = 1 ").expect_err("unclosed");
        assert!(e.contains("expecting COMMA or CBRACKET"), "{e}");
        let t = Tmpl::parse("NAME = \"broken\nCPU = 1").expect("fallback");
        assert_eq!(t.get("NAME"), Some("\"broken"));
    }

    #[test]
    fn xml_syntax() {
        let t = Tmpl::parse(
            "<TEMPLATE><NAME>n</NAME><D><![CDATA[<b> & \"q\"]]></D><DISK><SIZE>10</SIZE></DISK><E/></TEMPLATE>",
        )
        .expect("xml");
        assert_eq!(t.get("D"), Some("<b> & \"q\""));
        assert_eq!(t.vectors("DISK").len(), 1);
        assert_eq!(t.get("E"), Some(""));
        assert!(Tmpl::parse("<TEMPLATE><A>").is_err());
    }

    #[test]
    fn merge_replaces() {
        let mut a = Tmpl::parse("A = 1\nB = 2").expect("a");
        a.merge(&Tmpl::parse("B = 3\nC = 4").expect("b"));
        assert_eq!(a.to_text(), "A = \"1\"\nB = \"3\"\nC = \"4\"\n");
    }
}
