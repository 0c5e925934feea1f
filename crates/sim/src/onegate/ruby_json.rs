//! The messages of Ruby's `JSON.parse` for a malformed body, as OneGate answers them
//! (`parse_json` halts with 400 and the exception's message).
//!
//! OpenNebula 7.5.80's `share/install_gems/*/Gemfile.lock` pin the json gem at 2.20.0
//! (2.7.6 on openSUSE Leap 15); its C parser (`ext/json/ext/parser/parser.c`) words an error
//! `<what> <fragment> at line L column C`: the fragment is up to 32 bytes from the error
//! position to the next blank, quoted (`'abc'`, a last multi-byte character left out), or
//! `EOF` at the end; the column counts bytes from the line's start, 1-based. The numeric
//! `NNN: ` prefix of older gems (`859: unexpected token at 'x'`) went with json 2.6.3 and
//! is not what OpenNebula 7 ships. This module follows 2.20.0's phases (value, object key,
//! colon, comma, array comma, end of stream) and their texts.

/// The message `JSON.parse(text)` raises, or `None` when the gem parses `text`.
pub(crate) fn parse_error(text: &str) -> Option<String> {
    let mut p = P {
        b: text.as_bytes(),
        i: 0,
    };
    p.document().err()
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
}

/// What an open container expects next.
enum Frame {
    /// An array: after a value, `,` or `]`.
    Array,
    /// An object, with the number of keys read.
    Object(usize),
}

impl P<'_> {
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn eos(&self) -> bool {
        self.i >= self.b.len()
    }

    /// `build_parse_error_message` + `cursor_position` at `at`.
    fn error_at(&self, format: &str, at: usize) -> String {
        let fragment = if at < self.b.len() {
            let rest = &self.b[at..];
            let mut len = 0;
            while len < 32 && len < rest.len() {
                let ch = rest[len];
                if ch == 0 || ch == b'\n' || ch == b' ' || ch == b'\t' || ch == b'\r' {
                    break;
                }
                len += 1;
            }
            if len > 0 {
                // buffer[1..=len] holds the bytes; trailing continuation bytes and the lead
                // byte before them go
                let mut buf: Vec<u8> = Vec::with_capacity(len + 2);
                buf.push(b'\'');
                buf.extend_from_slice(&rest[..len]);
                let mut l = len;
                while l > 0 && (0x80..0xC0).contains(&buf[l]) {
                    l -= 1;
                }
                if l > 0 && buf[l] >= 0xC0 {
                    l -= 1;
                }
                buf.truncate(l + 1);
                buf.push(b'\'');
                String::from_utf8_lossy(&buf).into_owned()
            } else {
                // nothing before a blank: the C code prints the raw rest of the input
                String::from_utf8_lossy(rest)
                    .split('\0')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            }
        } else {
            "EOF".to_owned()
        };
        let message = format.replace("%s", &fragment);
        let (line, column) = self.position(at);
        format!("{message} at line {line} column {column}")
    }

    fn error(&self, format: &str) -> String {
        self.error_at(format, self.i)
    }

    /// `cursor_position`: the line (1-based) and the bytes back to the previous newline,
    /// the one at the position counted.
    fn position(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.b.len());
        let byte = |k: usize| self.b.get(k).copied().unwrap_or(0);
        let mut line = 1;
        let mut column = 0;
        let mut k = at as isize;
        while k >= 0 {
            let c = byte(k as usize);
            k -= 1;
            if c == b'\n' {
                line += 1;
                break;
            }
            column += 1;
        }
        while k >= 0 {
            if byte(k as usize) == b'\n' {
                line += 1;
            }
            k -= 1;
        }
        (line, column)
    }

    /// `json_eat_whitespace` with comments (accepted, with a deprecation warning).
    fn blanks(&mut self) -> Result<(), String> {
        loop {
            match self.peek() {
                b' ' | b'\n' | b'\t' | b'\r' => self.i += 1,
                b'/' => {
                    let start = self.i;
                    self.i += 1;
                    match self.peek() {
                        b'/' => {
                            while !self.eos() && self.peek() != b'\n' {
                                self.i += 1;
                            }
                            if !self.eos() {
                                self.i += 1;
                            }
                        }
                        b'*' => {
                            self.i += 1;
                            loop {
                                let Some(star) = self.b[self.i..].iter().position(|&c| c == b'*')
                                else {
                                    return Err(self.error_at(
                                        "unterminated comment, expected closing '*/'",
                                        start,
                                    ));
                                };
                                self.i += star + 1;
                                if self.peek() == b'/' {
                                    self.i += 1;
                                    break;
                                }
                            }
                        }
                        _ => return Err(self.error_at("unexpected token %s", start)),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn keyword(&mut self, word: &str) -> Result<(), String> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.error("unexpected token %s"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_ascii_digit() {
            self.i += 1;
        }
        self.i - start
    }

    /// `json_parse_number` (the cursor after an optional `-`).
    fn number(&mut self, start: usize, negative: bool) -> Result<(), String> {
        let first = self.peek();
        let n = self.digits();
        let invalid = |p: &Self| p.error_at("invalid number: %s", start);
        if (first == b'0' && n > 1) || (negative && n == 0) {
            return Err(invalid(self));
        }
        if self.peek() == b'.' {
            self.i += 1;
            if self.digits() == 0 {
                return Err(invalid(self));
            }
        }
        if self.peek().eq_ignore_ascii_case(&b'e') {
            self.i += 1;
            if matches!(self.peek(), b'-' | b'+') {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(invalid(self));
            }
        }
        Ok(())
    }

    /// A string at its opening quote: scanned to its closing quote first (a raw control
    /// character or the end is an error there), then its escapes checked, as the gem's
    /// `json_parse_escaped_string` and `json_string_unescape` do.
    fn string(&mut self) -> Result<(), String> {
        self.i += 1;
        let start = self.i;
        loop {
            if self.eos() {
                return Err(self.error("unexpected end of input, expected closing \""));
            }
            match self.peek() {
                b'"' => break,
                b'\\' => self.i += 2,
                c if c < 0x20 => {
                    return Err(self.error("invalid ASCII control character in string: %s"));
                }
                _ => self.i += 1,
            }
        }
        let end = self.i;
        self.i += 1;
        let mut k = start;
        while k < end {
            if self.b[k] != b'\\' {
                k += 1;
                continue;
            }
            let next = self.b.get(k + 1).copied().unwrap_or(0);
            match next {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => k += 2,
                b'u' => {
                    let hex = self.b.get(k + 2..k + 6);
                    if k + 6 > end || !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return Err(
                            self.error_at("incomplete unicode character escape sequence at %s", k)
                        );
                    }
                    k += 6;
                }
                b'\n' => {
                    return Err(
                        self.error_at("Invalid unescaped newline character (\\n) in string: %s", k)
                    );
                }
                c if c < 0x20 => {
                    return Err(self.error_at("invalid ASCII control character in string: %s", k));
                }
                _ => return Err(self.error_at("invalid escape character in string: %s", k)),
            }
        }
        Ok(())
    }

    /// `json_parse_any` then `json_ensure_eof`.
    fn document(&mut self) -> Result<(), String> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            // JSON_PHASE_VALUE
            self.blanks()?;
            let start = self.i;
            match self.peek() {
                b'n' => self.keyword("null")?,
                b't' => self.keyword("true")?,
                b'f' => self.keyword("false")?,
                b'N' | b'I' => return Err(self.error("unexpected token %s")),
                b'-' => {
                    self.i += 1;
                    self.number(start, true)?;
                }
                b'0'..=b'9' => self.number(start, false)?,
                b'"' => self.string()?,
                b'[' => {
                    self.i += 1;
                    self.blanks()?;
                    if self.peek() == b']' {
                        self.i += 1;
                    } else {
                        stack.push(Frame::Array);
                        continue 'value;
                    }
                }
                b'{' => {
                    self.i += 1;
                    self.blanks()?;
                    if self.peek() == b'}' {
                        self.i += 1;
                    } else {
                        stack.push(Frame::Object(0));
                        self.object_key(&mut stack)?;
                        continue 'value;
                    }
                }
                0 if self.eos() => return Err(self.error("unexpected end of input")),
                0 => return Err(self.error("unexpected NULL byte: %s")),
                _ => return Err(self.error("unexpected character: %s")),
            }
            // a value is complete: what its container expects next
            loop {
                match stack.last_mut() {
                    None => {
                        self.blanks()?;
                        if !self.eos() {
                            return Err(self.error("unexpected token at end of stream %s"));
                        }
                        return Ok(());
                    }
                    Some(Frame::Array) => {
                        self.blanks()?;
                        match self.peek() {
                            b',' => {
                                self.i += 1;
                                continue 'value;
                            }
                            b']' => {
                                self.i += 1;
                                stack.pop();
                            }
                            0 if self.eos() => {
                                return Err(self.error("unexpected end of input"));
                            }
                            _ => {
                                return Err(self.error("expected ',' or ']' after array value"));
                            }
                        }
                    }
                    Some(Frame::Object(_)) => {
                        self.blanks()?;
                        match self.peek() {
                            b',' => {
                                self.i += 1;
                                self.blanks()?;
                                self.object_key(&mut stack)?;
                                continue 'value;
                            }
                            b'}' => {
                                self.i += 1;
                                stack.pop();
                            }
                            0 if self.eos() => {
                                return Err(self.error("unexpected end of input"));
                            }
                            _ => {
                                return Err(
                                    self.error("expected ',' or '}' after object value, got: %s")
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// JSON_PHASE_OBJECT_KEY and JSON_PHASE_OBJECT_COLON.
    fn object_key(&mut self, stack: &mut [Frame]) -> Result<(), String> {
        let Some(Frame::Object(keys)) = stack.last_mut() else {
            return Ok(());
        };
        self.blanks()?;
        if self.peek() != b'"' {
            return Err(if *keys == 0 {
                self.error("expected object key, got %s")
            } else {
                self.error("expected object key, got: %s")
            });
        }
        self.string()?;
        *keys += 1;
        self.blanks()?;
        if self.peek() != b':' {
            return Err(if *keys == 1 {
                self.error("expected ':' after object key")
            } else {
                self.error("expected ':' after object key, got: %s")
            });
        }
        self.i += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_error;

    #[test]
    fn texts_of_json_2_20() {
        for (text, want) in [
            ("", "unexpected end of input at line 1 column 1"),
            ("hello", "unexpected character: 'hello' at line 1 column 1"),
            ("not json", "unexpected token 'not' at line 1 column 1"),
            (
                "{action: 1}",
                "expected object key, got 'action:' at line 1 column 2",
            ),
            (
                "{\"a\" 1}",
                "expected ':' after object key at line 1 column 6",
            ),
            (
                "{\"a\":1 \"b\"}",
                "expected ',' or '}' after object value, got: '\"b\"}' at line 1 column 8",
            ),
            (
                "{\"a\":1,}",
                "expected object key, got: '}' at line 1 column 8",
            ),
            (
                "[1 2]",
                "expected ',' or ']' after array value at line 1 column 4",
            ),
            ("{\"a\":", "unexpected end of input at line 1 column 6"),
            ("{\"a\"", "expected ':' after object key at line 1 column 5"),
            ("{", "expected object key, got EOF at line 1 column 2"),
            ("{\"a\":01}", "invalid number: '01}' at line 1 column 6"),
            ("{\"a\":-}", "invalid number: '-}' at line 1 column 6"),
            (
                "{}\n x",
                "unexpected token at end of stream 'x' at line 2 column 2",
            ),
            (
                "\"abc",
                "unexpected end of input, expected closing \" at line 1 column 5",
            ),
            (
                "\"a\\qb\"",
                "invalid escape character in string: '\\qb\"' at line 1 column 3",
            ),
            ("{\"é\":x}", "unexpected character: 'x}' at line 1 column 7"),
            ("/x", "unexpected token '/x' at line 1 column 1"),
        ] {
            assert_eq!(parse_error(text).as_deref(), Some(want), "{text:?}");
        }
        for ok in [
            "{}",
            "[]",
            "{\"action\": {\"perform\": \"hold\", \"params\": {}}}",
            "[1, -2.5e3, true, false, null, \"\\u00e9\\n\"]",
            " /* c */ {\"a\": 1} // end",
        ] {
            assert_eq!(parse_error(ok), None, "{ok}");
        }
    }

    #[test]
    fn fragments_stop_at_blanks_and_32_bytes() {
        let long = format!("{{{}}}", "x".repeat(40));
        assert_eq!(
            parse_error(&long).as_deref(),
            Some(
                format!(
                    "expected object key, got '{}' at line 1 column 2",
                    "x".repeat(32)
                )
                .as_str()
            )
        );
        // the last multi-byte character of a fragment is left out, as the C code does
        assert_eq!(
            parse_error("é").as_deref(),
            Some("unexpected character: '' at line 1 column 1")
        );
    }
}
