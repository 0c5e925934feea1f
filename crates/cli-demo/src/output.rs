//! How results reach the user: aligned tables for people, JSON or YAML for scripts.
//!
//! Every command builds its result from the serde types of the library crates and hands
//! them to [`Printer`]. Tables are rendered from a list of columns chosen by the command;
//! JSON and YAML are rendered from the full serialised value, so scripts see every field.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

/// The output format chosen with `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// Pretty-printed JSON (the serde form of the library types).
    Json,
    /// YAML (the same data as JSON).
    Yaml,
}

/// A table under construction: a header row and rows of cells.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub(crate) fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing trailing cells are left blank, extra ones are kept.
    pub(crate) fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
    }

    /// Renders the table with columns padded to their widest cell.
    pub(crate) fn render(&self) -> String {
        let ncols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.header.len()))
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                if i + 1 == ncols {
                    line.push_str(cell);
                } else {
                    let pad = width - cell.chars().count();
                    let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Key/value lines for one object (`show` commands).
pub(crate) fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        let _ = writeln!(out, "{k:<width$}  {v}");
    }
    out
}

/// Writes results in the chosen format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    format: Format,
}

impl Printer {
    /// A printer for `format`.
    pub(crate) fn new(format: Format) -> Self {
        Printer { format }
    }

    /// The chosen format.
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Prints `value` as JSON or YAML, or, for tables, the text `table` renders.
    pub(crate) fn print<T: Serialize + ?Sized>(
        &self,
        value: &T,
        table: impl FnOnce() -> String,
    ) -> io::Result<()> {
        let text = match self.format {
            Format::Table => table(),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
                s.push('\n');
                s
            }
            Format::Yaml => {
                let v = serde_json::to_value(value).map_err(io::Error::other)?;
                to_yaml(&v)
            }
        };
        write_stdout(&text)
    }
}

/// Writes to stdout, treating a closed pipe (`| head`) as success.
pub(crate) fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether stdout is an interactive terminal (progress bars are drawn only then).
pub(crate) fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Renders a JSON value as a YAML document.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => yaml_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => yaml_seq(a, 0, &mut out),
        other => {
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
    out
}

fn yaml_map(m: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in m {
        let pad = " ".repeat(indent);
        let key = yaml_string(k);
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{pad}{key}:");
                yaml_map(inner, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                let _ = writeln!(out, "{pad}{key}:");
                yaml_seq(items, indent, out);
            }
            other => {
                let _ = writeln!(out, "{pad}{key}: {}", yaml_scalar(other));
            }
        }
    }
}

fn yaml_seq(items: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                // The first key goes on the dash line, the rest are indented under it.
                let mut nested = String::new();
                yaml_map(inner, indent + 2, &mut nested);
                let body = nested
                    .strip_prefix(&" ".repeat(indent + 2))
                    .unwrap_or(&nested);
                let _ = write!(out, "{pad}- {body}");
            }
            Value::Array(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{pad}-");
                yaml_seq(inner, indent + 2, out);
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", yaml_scalar(other));
            }
        }
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_string(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// Quotes a string when YAML would read it as something else (a number, a boolean, null,
/// a structure) or when it holds characters that need escaping.
fn yaml_string(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && !s.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`~".contains(c))
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.chars().any(char::is_control)
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
        )
        && s.parse::<f64>().is_err()
        && !s.starts_with("0x")
        && !s.starts_with("0o");
    if plain_ok {
        s.to_owned()
    } else {
        // A JSON string is a valid YAML double-quoted scalar.
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_pads_columns_and_trims_line_ends() {
        let mut t = Table::new(["ID", "NAME", "STATE"]);
        t.row(["0", "web", "RUNNING"]);
        t.row(["12", "database-1", ""]);
        assert_eq!(
            t.render(),
            "ID  NAME        STATE\n0   web         RUNNING\n12  database-1\n"
        );
    }

    #[test]
    fn table_with_unicode_counts_characters() {
        let mut t = Table::new(["A", "B"]);
        t.row(["é", "x"]);
        assert_eq!(t.render(), "A  B\né  x\n");
    }

    #[test]
    fn yaml_quotes_what_would_change_type() {
        assert_eq!(yaml_string("web"), "web");
        assert_eq!(yaml_string("42"), "\"42\"");
        assert_eq!(yaml_string("true"), "\"true\"");
        assert_eq!(yaml_string(""), "\"\"");
        assert_eq!(yaml_string("a: b"), "\"a: b\"");
        assert_eq!(yaml_string("line\nbreak"), "\"line\\nbreak\"");
        assert_eq!(yaml_string("- x"), "\"- x\"");
    }

    #[test]
    fn yaml_nested_document() {
        // Keys in sorted order, so the test holds with or without serde_json's
        // `preserve_order` feature.
        let v = json!({
            "disks": [{"image": "ubuntu", "size": 10}, {"image": "data"}],
            "empty": [],
            "id": 3,
            "meta": {"group": null, "owner": "oneadmin"},
            "name": "vm",
            "tags": ["a", "b"]
        });
        let y = to_yaml(&v);
        assert_eq!(
            y,
            "disks:\n- image: ubuntu\n  size: 10\n- image: data\nempty: []\nid: 3\nmeta:\n  group: null\n  owner: oneadmin\nname: vm\ntags:\n- a\n- b\n"
        );
    }

    #[test]
    fn yaml_top_level_sequence() {
        assert_eq!(to_yaml(&json!([1, "x"])), "- 1\n- x\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
    }

    #[test]
    fn key_values_align() {
        let s = key_values(&[("ID", "1".into()), ("STATE", "RUNNING".into())]);
        assert_eq!(s, "ID     1\nSTATE  RUNNING\n");
    }
}
