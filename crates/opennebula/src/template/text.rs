//! The text syntax: `NAME = "value"`, `NAME = [ K = "v", ... ]`, `# comments`.

use std::fmt::Write as _;

use nebulair_core::{Error, Result};

use super::{Template, TemplateValue, Vector, check_name};

/// Whether a run of backslashes of odd length ends at a quote or at the end of `value`.
///
/// oned's lexer reads a quoted value as pairs: `\"` is a quote, any other backslash pair is
/// kept as it is, and the first lone `"` ends the value. The writer escapes every quote, so
/// `n` backslashes before a quote become `n + 1` on the wire: with `n` odd they pair up and
/// the quote ends the value; `n` odd backslashes at the end swallow the closing quote.
fn odd_backslashes_before_quote_or_end(value: &str) -> bool {
    let mut run = 0usize;
    for c in value.chars() {
        match c {
            '\\' => run += 1,
            '"' if run % 2 == 1 => return true,
            _ => run = 0,
        }
    }
    run % 2 == 1
}

/// Whether the text syntax can carry `value` unchanged inside double quotes.
pub(super) fn text_safe(value: &str) -> bool {
    !odd_backslashes_before_quote_or_end(value)
        && !value.contains("]]>")
        && !value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn check_value(name: &str, value: &str) -> Result<()> {
    if odd_backslashes_before_quote_or_end(value) {
        return Err(Error::invalid_input(format!(
            "template attribute {name}: an odd number of backslashes before a quote or at the \
             end cannot be written in the text syntax (oned reads backslashes in pairs); use \
             the XML form (Template::to_xml or render)"
        )));
    }
    if value.contains("]]>") {
        return Err(Error::invalid_input(format!(
            "template attribute {name}: a value containing \"]]>\" is refused by oned's text \
             parser; use the XML form (Template::to_xml or render)"
        )));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(Error::invalid_input(format!(
            "template attribute {name}: control character {c:?} cannot be written in the text \
             syntax; use the XML form (Template::to_xml or render)"
        )));
    }
    Ok(())
}

fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' {
            out.push_str("\\\"");
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

pub(super) fn render(tpl: &Template) -> Result<String> {
    let mut out = String::new();
    for (name, value) in tpl.iter() {
        check_name(name)?;
        match value {
            TemplateValue::Single(s) => {
                check_value(name, s)?;
                out.push_str(name);
                out.push_str(" = ");
                push_quoted(&mut out, s);
                out.push('\n');
            }
            TemplateValue::Vector(v) => {
                out.push_str(name);
                if v.is_empty() {
                    out.push_str(" = [ ]\n");
                    continue;
                }
                out.push_str(" = [");
                for (i, (k, s)) in v.iter().enumerate() {
                    check_name(k).map_err(|e| e.context(format_args!("in vector {name}")))?;
                    check_value(&format!("{name}/{k}"), s)?;
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "\n  {k} = ");
                    push_quoted(&mut out, s);
                }
                out.push_str(" ]\n");
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error(&self, what: impl std::fmt::Display) -> Error {
        let before = &self.src[..self.pos];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Error::invalid_input(format!(
            "template syntax error at line {line}, column {col}: {what}"
        ))
    }

    /// Skips blanks (space, tab, carriage return), not newlines.
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\r' {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    /// Skips blanks, newlines and comments.
    fn skip_all(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('\n') => {
                    self.bump();
                }
                Some('#') => self.skip_comment(),
                _ => break,
            }
        }
    }

    fn name(&mut self) -> Result<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                self.bump();
            } else {
                break;
            }
        }
        if self.pos == start {
            return Err(match self.peek() {
                Some(c) => self.error(format_args!("expected an attribute name, found {c:?}")),
                None => self.error("expected an attribute name, found the end of input"),
            });
        }
        Ok(self.src[start..self.pos].to_owned())
    }

    fn expect_eq(&mut self) -> Result<()> {
        self.skip_blanks();
        match self.peek() {
            Some('=') => {
                self.bump();
                self.skip_blanks();
                Ok(())
            }
            Some(c) => Err(self.error(format_args!("expected '=', found {c:?}"))),
            None => Err(self.error("expected '=', found the end of input")),
        }
    }

    fn quoted(&mut self) -> Result<String> {
        let open = self.pos;
        self.bump(); // the opening quote
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    self.pos = open;
                    return Err(self.error("unterminated quoted value"));
                }
                Some('"') => return Ok(out),
                // oned's lexer: `\"` is a quote, any other backslash pair is kept as it is
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some(next) => {
                        out.push('\\');
                        out.push(next);
                    }
                    None => {
                        self.pos = open;
                        return Err(self.error("unterminated quoted value"));
                    }
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn unquoted(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, '=' | '#' | ' ' | '\t' | '\r' | '\n' | ',' | '[' | ']') {
                break;
            }
            self.bump();
        }
        self.src[start..self.pos].to_owned()
    }

    /// A scalar value after `=`; `stops` are the characters that end an empty value.
    fn scalar(&mut self, in_vector: bool) -> Result<String> {
        match self.peek() {
            Some('"') => self.quoted(),
            None | Some('\n') | Some('#') => Ok(String::new()),
            Some(',') | Some(']') if in_vector => Ok(String::new()),
            Some(c @ ('[' | ']' | ',' | '=')) => {
                Err(self.error(format_args!("unexpected {c:?} where a value was expected")))
            }
            Some(_) => Ok(self.unquoted()),
        }
    }

    fn vector(&mut self) -> Result<Vector> {
        let open = self.pos;
        self.bump(); // '['
        let mut v = Vector::new();
        self.skip_all();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(v);
        }
        loop {
            self.skip_all();
            if self.peek().is_none() {
                self.pos = open;
                return Err(self.error("unterminated vector value (missing ']')"));
            }
            let key = self.name()?;
            self.expect_eq()?;
            let value = self.scalar(true)?;
            v.push_raw(key, value);
            self.skip_all();
            match self.peek() {
                Some(',') => {
                    self.bump();
                    self.skip_all();
                    if self.peek() == Some(']') {
                        self.bump();
                        return Ok(v);
                    }
                }
                Some(']') => {
                    self.bump();
                    return Ok(v);
                }
                None => {
                    self.pos = open;
                    return Err(self.error("unterminated vector value (missing ']')"));
                }
                Some(_) => {}
            }
        }
    }

    fn end_of_attribute(&mut self) -> Result<()> {
        self.skip_blanks();
        match self.peek() {
            None | Some('\n') | Some('#') => Ok(()),
            Some(c) => Err(self.error(format_args!(
                "unexpected {c:?} after a value (one attribute per line; quote values with \
                 blanks)"
            ))),
        }
    }
}

pub(super) fn parse(input: &str) -> Result<Template> {
    // oned's lexer takes `]]>` for the end of a CDATA section anywhere (in a quoted value,
    // an unquoted one or a comment): the whole template is a bare `Parse error.`
    if let Some(at) = input.find("]]>") {
        let line = input[..at].matches('\n').count() + 1;
        return Err(Error::invalid_input(format!(
            "template syntax error at line {line}: oned refuses a template with \"]]>\" in the \
             text syntax (\"Parse error.\"); use the XML form"
        )));
    }
    let mut p = Parser { src: input, pos: 0 };
    let mut tpl = Template::new();
    loop {
        p.skip_all();
        if p.peek().is_none() {
            return Ok(tpl);
        }
        let name = p.name()?;
        p.expect_eq()?;
        let value = if p.peek() == Some('[') {
            TemplateValue::Vector(p.vector()?)
        } else {
            TemplateValue::Single(p.scalar(false)?)
        };
        p.end_of_attribute()?;
        tpl.push(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_style_template() -> Result<()> {
        let t = Template::parse_text(
            "# a comment\nNAME = \"my vm\"\nCPU=1\nMEMORY = 512 # trailing comment\n\
             DISK = [ IMAGE_ID = \"3\",\n  SIZE = 1024 ]\nDISK=[IMAGE=\"ubuntu\"]\nEMPTY =\n\
             NOTHING = [ ]\nQ = \"a \\\"b\\\" c\\d\"\nML = \"line1\nline2\"\n",
        )?;
        assert_eq!(t.get_str("NAME"), Some("my vm"));
        assert_eq!(t.get_str("CPU"), Some("1"));
        assert_eq!(t.get_str("MEMORY"), Some("512"));
        let disks: Vec<_> = t.vectors("DISK").collect();
        assert_eq!(disks.len(), 2);
        assert_eq!(disks[0].get("SIZE"), Some("1024"));
        assert_eq!(disks[1].get("IMAGE"), Some("ubuntu"));
        assert_eq!(t.get_str("EMPTY"), Some(""));
        assert!(t.get_vector("NOTHING").is_some_and(Vector::is_empty));
        assert_eq!(t.get_str("Q"), Some("a \"b\" c\\d"));
        assert_eq!(t.get_str("ML"), Some("line1\nline2"));
        Ok(())
    }

    #[test]
    fn reports_positions() {
        let err = Template::parse_text("A = 1\nB = \"open").expect_err("unterminated");
        assert!(err.message().contains("line 2, column 5"), "{err}");
        let err = Template::parse_text("A = 1 2").expect_err("two values");
        assert!(err.message().contains("line 1"), "{err}");
        assert!(Template::parse_text("A = [ K = 1").is_err());
        assert!(Template::parse_text("= 1").is_err());
        assert!(Template::parse_text("A-B = 1").is_err());
        assert!(Template::parse_text("A = [ K = [ ] ]").is_err());
    }

    #[test]
    fn cdata_end_is_refused_like_oned() {
        for text in [
            "A = \"x ]]> y\"",
            "A = 1\nB = a]]>b",
            "A = 1 # a comment with ]]>\n",
            "V = [ K = \"]]>\" ]",
        ] {
            let err = Template::parse_text(text).expect_err(text);
            assert!(err.message().contains("\"]]>\""), "{err}");
        }
        let err = Template::parse_text("A = 1\nB = \"]]>\"").expect_err("line 2");
        assert!(err.message().contains("line 2"), "{err}");
        // the XML form carries it
        let t = Template::parse("<TEMPLATE><A><![CDATA[x ]]]]><![CDATA[> y]]></A></TEMPLATE>")
            .expect("xml");
        assert_eq!(t.get_str("A"), Some("x ]]> y"));
    }

    #[test]
    fn backslash_pairs_like_oned() -> Result<()> {
        // `\"` is a quote, any other pair stays: "a\\" is a\\ (two backslashes)
        let t = Template::parse_text("A = \"a\\\\\"\nB = \"C:\\dir\\\"q\\\" e\"")?;
        assert_eq!(t.get_str("A"), Some("a\\\\"));
        assert_eq!(t.get_str("B"), Some("C:\\dir\"q\" e"));
        // a single backslash before the closing quote swallows it
        assert!(Template::parse_text("A = \"a\\\"").is_err());
        // what the writer sends reads back the same
        for v in ["a\\\\", "C:\\dir", "say \"hi\"", "two\nlines", "\\n"] {
            let t = Template::new().with("A", v);
            assert_eq!(Template::parse_text(&t.to_text()?)?, t, "{v:?}");
        }
        Ok(())
    }

    #[test]
    fn renders_with_escapes() -> Result<()> {
        let t = Template::new()
            .with("A", "say \"hi\" C:\\dir")
            .with("V", Vector::from([("K", "1"), ("L", "x y")]));
        let s = t.to_text()?;
        assert_eq!(
            s,
            "A = \"say \\\"hi\\\" C:\\dir\"\nV = [\n  K = \"1\",\n  L = \"x y\" ]\n"
        );
        assert_eq!(Template::parse_text(&s)?, t);
        for bad in ["ends\\", "a]]>b", "bell\u{7}"] {
            assert!(Template::new().with("A", bad).to_text().is_err(), "{bad:?}");
        }
        Ok(())
    }
}
