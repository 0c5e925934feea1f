//! How results reach the user: tables for people, JSON or YAML for scripts.
//!
//! Every command builds its result from the serde types of the library crates and hands
//! them to [`Printer`]. Tables are rendered by `comfy-table` (Unicode display width, the
//! terminal's width when stdout is one, `COLUMNS` otherwise) from a list of columns chosen
//! by the command or by `--columns`; JSON and YAML are rendered from the full serialised
//! value through an order-keeping document ([`Doc`], `serde_norway`'s value), so both keep
//! the field order of the library types and scripts see every field.
//!
//! Only results go to stdout. Summaries, footers and notes go to stderr
//! ([`Printer::note`]), so `| jq`, `| head` and `> file` get data only.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Width};
use nebulair_core::Error;
use serde::Serialize;

use crate::report::Failure;

/// The ordered document JSON and YAML are rendered from (keys keep their insertion order).
pub(crate) type Doc = serde_norway::Value;

/// The output format chosen with `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// Tables with every column the command knows (like `onevm list --list` with all).
    Wide,
    /// Pretty-printed JSON (the serde form of the library types, states with their names).
    Json,
    /// YAML (the same document as JSON, in the same order).
    Yaml,
}

/// When to use colour (`--color`); `NO_COLOR` in the environment always means never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when the stream is a terminal.
    #[default]
    Auto,
    /// Colour even into pipes (but never with `NO_COLOR`).
    Always,
    /// No colour.
    Never,
}

impl ColorChoice {
    /// Whether a stream that is (or is not) a terminal gets colour.
    pub(crate) fn enabled(self, is_terminal: bool) -> bool {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return false;
        }
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && std::env::var("TERM").map_or(true, |t| t != "dumb"),
        }
    }
}

/// One column of a list: its header, whether it shows by default (the others show with
/// `-o wide` or `--columns`), whether it is numeric (right-aligned), and how to fill it.
pub(crate) struct Col<T> {
    /// The header, as the `one*` tools spell it.
    pub(crate) name: &'static str,
    /// Shown without `-o wide`/`--columns`.
    pub(crate) default: bool,
    /// Right-aligned (ids, counts, sizes).
    pub(crate) numeric: bool,
    /// The cell text.
    pub(crate) get: fn(&T) -> String,
}

impl<T> Col<T> {
    /// A default, left-aligned column.
    pub(crate) const fn new(name: &'static str, get: fn(&T) -> String) -> Self {
        Col {
            name,
            default: true,
            numeric: false,
            get,
        }
    }

    /// A default, right-aligned column.
    pub(crate) const fn num(name: &'static str, get: fn(&T) -> String) -> Self {
        Col {
            name,
            default: true,
            numeric: true,
            get,
        }
    }

    /// A left-aligned column shown only with `-o wide` or `--columns`.
    pub(crate) const fn w(name: &'static str, get: fn(&T) -> String) -> Self {
        Col {
            name,
            default: false,
            numeric: false,
            get,
        }
    }

    /// A right-aligned column shown only with `-o wide` or `--columns`.
    pub(crate) const fn wnum(name: &'static str, get: fn(&T) -> String) -> Self {
        Col {
            name,
            default: false,
            numeric: true,
            get,
        }
    }
}

/// The columns to show: the names given with `--columns` (any case, `-` or `_` alike),
/// or the defaults (all with `wide`).
///
/// # Errors
/// An unknown column name, with the list of known ones.
pub(crate) fn select_columns<'c, T>(
    cols: &'c [Col<T>],
    wanted: &[String],
    wide: bool,
) -> Result<Vec<&'c Col<T>>, Failure> {
    if wanted.is_empty() {
        return Ok(cols.iter().filter(|c| wide || c.default).collect());
    }
    let norm = |s: &str| s.trim().to_ascii_uppercase().replace('-', "_");
    wanted
        .iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            cols.iter()
                .find(|c| norm(c.name) == norm(w))
                .ok_or_else(|| {
                    let known: Vec<&str> = cols.iter().map(|c| c.name).collect();
                    Failure::new(
                        "reading --columns",
                        Error::invalid_input(format!(
                            "unknown column {w:?} (known: {})",
                            known.join(", ")
                        )),
                    )
                })
        })
        .collect()
}

/// A table under construction: a header row and rows of cells.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    header: Vec<String>,
    right: Vec<bool>,
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
            right: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// A table of `items` with the chosen columns.
    pub(crate) fn of<T>(items: &[T], cols: &[&Col<T>]) -> Self {
        let mut t = Table::new(cols.iter().map(|c| c.name));
        t.right = cols.iter().map(|c| c.numeric).collect();
        for item in items {
            t.row(cols.iter().map(|c| (c.get)(item)));
        }
        t
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

    /// Renders the table for the width of the output ([`output_width`]).
    pub(crate) fn render(&self) -> String {
        self.render_width(output_width())
    }

    /// Renders the table: columns two spaces apart, padded to the display width of their
    /// widest cell; with a `width`, long cells wrap so that lines fit in it.
    pub(crate) fn render_width(&self, width: Option<u16>) -> String {
        let ncols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.header.len()))
            .max()
            .unwrap_or(0);
        if ncols == 0 {
            return String::new();
        }
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::NOTHING);
        let pad = |row: &[String]| -> Vec<String> {
            let mut r = row.to_vec();
            r.resize(ncols, String::new());
            r
        };
        t.set_header(pad(&self.header));
        for row in &self.rows {
            t.add_row(pad(row));
        }
        match width {
            Some(w) => {
                t.set_width(w);
                t.set_content_arrangement(ContentArrangement::Dynamic);
            }
            None => {
                t.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        for (i, col) in t.column_iter_mut().enumerate() {
            col.set_padding((0, if i + 1 == ncols { 0 } else { 2 }));
            if self.right.get(i).copied().unwrap_or(false) {
                col.set_cell_alignment(CellAlignment::Right);
            }
            // Never squeeze a column below its header.
            let min = u16::try_from(self.header.get(i).map_or(0, |h| h.chars().count()) + 2)
                .unwrap_or(u16::MAX);
            col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min)));
        }
        let mut out = String::new();
        for line in t.lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The width tables are fitted to: `COLUMNS` when set, else the terminal's when stdout
/// is a terminal, else none (pipes and files get whole lines).
pub(crate) fn output_width() -> Option<u16> {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w > 0)
    {
        return Some(w);
    }
    if io::stdout().is_terminal() {
        return terminal_size::terminal_size().map(|(w, _)| w.0);
    }
    None
}

/// Key/value lines for one object (`show` commands).
pub(crate) fn key_values(pairs: &[(&str, String)]) -> String {
    let mut t = Table::new(["KEY", "VALUE"]);
    for (k, v) in pairs {
        t.row([(*k).to_owned(), v.clone()]);
    }
    // Without the header line.
    t.render_width(None)
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Writes results in the chosen format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    format: Format,
    color: bool,
}

impl Printer {
    /// A printer for `format`; `color` bolds table headers.
    pub(crate) fn new(format: Format, color: bool) -> Self {
        Printer { format, color }
    }

    /// The chosen format.
    #[cfg(feature = "simulators")]
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Whether tables get every column.
    pub(crate) fn wide(&self) -> bool {
        self.format == Format::Wide
    }

    /// Whether the output is for scripts (JSON or YAML).
    pub(crate) fn is_data(&self) -> bool {
        matches!(self.format, Format::Json | Format::Yaml)
    }

    /// Prints `value` as JSON or YAML, or, for tables, the text `table` renders.
    pub(crate) fn print<T: Serialize + ?Sized>(
        &self,
        value: &T,
        table: impl FnOnce() -> String,
    ) -> io::Result<()> {
        if self.is_data() {
            let doc = to_doc(value)?;
            return self.print_doc(&doc, table);
        }
        self.print_table_text(&table())
    }

    /// Prints an already built document (or, for tables, the text `table` renders).
    pub(crate) fn print_doc(&self, doc: &Doc, table: impl FnOnce() -> String) -> io::Result<()> {
        let text = match self.format {
            Format::Table | Format::Wide => return self.print_table_text(&table()),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(doc).map_err(io::Error::other)?;
                s.push('\n');
                s
            }
            Format::Yaml => serde_norway::to_string(doc).map_err(io::Error::other)?,
        };
        write_stdout(&text)
    }

    fn print_table_text(&self, text: &str) -> io::Result<()> {
        if self.color && !text.is_empty() {
            // Bold header: the first line only (widths are already computed).
            let (head, rest) = text.split_once('\n').unwrap_or((text, ""));
            return write_stdout(&format!("\x1b[1m{head}\x1b[0m\n{rest}"));
        }
        write_stdout(text)
    }

    /// A summary or footer line for people, on stderr (never mixed into the data).
    pub(crate) fn note(&self, text: &str) {
        if !self.is_data() {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{text}");
        }
    }
}

/// The ordered document of any serialisable value.
pub(crate) fn to_doc<T: Serialize + ?Sized>(value: &T) -> io::Result<Doc> {
    serde_norway::to_value(value).map_err(io::Error::other)
}

/// Inserts `key: value` into a mapping right after `after` (or at the end).
pub(crate) fn insert_after(doc: &mut Doc, after: &str, key: &str, value: Doc) {
    let Doc::Mapping(map) = doc else { return };
    let mut out = serde_norway::Mapping::new();
    let mut done = false;
    for (k, v) in std::mem::take(map) {
        let hit = k.as_str() == Some(after);
        out.insert(k, v);
        if hit && !done {
            out.insert(Doc::String(key.to_owned()), value.clone());
            done = true;
        }
    }
    if !done {
        out.insert(Doc::String(key.to_owned()), value);
    }
    *map = out;
}

/// Writes to stdout, treating a closed pipe (`| head`) as success.
pub(crate) fn write_stdout(text: &str) -> io::Result<()> {
    write_stdout_bytes(text.as_bytes())
}

/// [`write_stdout`] for bytes.
pub(crate) fn write_stdout_bytes(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether stdout is an interactive terminal (progress bars are drawn only then).
pub(crate) fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_and_trims_line_ends() {
        let mut t = Table::new(["ID", "NAME", "STATE"]);
        t.row(["0", "web", "RUNNING"]);
        t.row(["12", "database-1", ""]);
        assert_eq!(
            t.render_width(None),
            "ID  NAME        STATE\n0   web         RUNNING\n12  database-1\n"
        );
    }

    #[test]
    fn table_uses_display_width_for_wide_characters() {
        let mut t = Table::new(["A", "B"]);
        t.row(["名前", "x"]);
        t.row(["é", "y"]);
        // 名前 is four columns wide, é one.
        assert_eq!(t.render_width(None), "A     B\n名前  x\né     y\n");
    }

    #[test]
    fn table_fits_a_narrow_width_by_wrapping() {
        let mut t = Table::new(["ID", "DESCRIPTION"]);
        t.row([
            "1",
            "a long description that does not fit in twenty columns",
        ]);
        let text = t.render_width(Some(24));
        assert!(text.lines().count() > 2, "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 24, "{line:?} in\n{text}");
        }
        assert!(t.render_width(None).lines().count() == 2);
    }

    #[test]
    fn numeric_columns_align_right() {
        let cols: [Col<(i32, &str)>; 2] = [
            Col::num("ID", |v| v.0.to_string()),
            Col::new("NAME", |v| v.1.to_owned()),
        ];
        let sel = select_columns(&cols, &[], false).expect("cols");
        let t = Table::of(&[(1, "a"), (100, "b")], &sel);
        assert_eq!(t.render_width(None), " ID  NAME\n  1  a\n100  b\n");
    }

    #[test]
    fn columns_are_chosen_by_name_in_any_case() {
        let cols: [Col<i32>; 3] = [
            Col::num("ID", |v| v.to_string()),
            Col::new("NAME", |_| "n".into()),
            Col::w("RESCHED", |_| "0".into()),
        ];
        let names = |v: Vec<&Col<i32>>| v.iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(
            names(select_columns(&cols, &[], false).expect("default")),
            ["ID", "NAME"]
        );
        assert_eq!(
            names(select_columns(&cols, &[], true).expect("wide")),
            ["ID", "NAME", "RESCHED"]
        );
        assert_eq!(
            names(select_columns(&cols, &["resched".into(), "id".into()], false).expect("sel")),
            ["RESCHED", "ID"]
        );
        let err = select_columns(&cols, &["nope".into()], false)
            .err()
            .expect("unknown");
        assert!(
            err.line().contains("known: ID, NAME, RESCHED"),
            "{}",
            err.line()
        );
    }

    #[test]
    fn documents_keep_field_order_and_insert_after() {
        #[derive(Serialize)]
        struct S {
            zeta: i32,
            alpha: i32,
            state: i32,
        }
        let mut doc = to_doc(&S {
            zeta: 1,
            alpha: 2,
            state: 3,
        })
        .expect("doc");
        insert_after(
            &mut doc,
            "state",
            "state_name",
            Doc::String("ACTIVE".into()),
        );
        let json = serde_json::to_string(&doc).expect("json");
        assert_eq!(
            json,
            r#"{"zeta":1,"alpha":2,"state":3,"state_name":"ACTIVE"}"#
        );
        let yaml = serde_norway::to_string(&doc).expect("yaml");
        assert_eq!(yaml, "zeta: 1\nalpha: 2\nstate: 3\nstate_name: ACTIVE\n");
    }

    #[test]
    fn yaml_quotes_what_would_change_type() {
        let doc = to_doc(&["42", "true", "", "a: b", "web"]).expect("doc");
        assert_eq!(
            serde_norway::to_string(&doc).expect("yaml"),
            "- '42'\n- 'true'\n- ''\n- 'a: b'\n- web\n"
        );
    }

    #[test]
    fn key_values_align() {
        let s = key_values(&[("ID", "1".into()), ("STATE", "RUNNING".into())]);
        assert_eq!(s, "ID     1\nSTATE  RUNNING\n");
    }

    #[test]
    fn no_color_wins() {
        // SAFETY-free: the variable is read, never set, by this test.
        if std::env::var_os("NO_COLOR").is_none() {
            assert!(ColorChoice::Always.enabled(false));
            assert!(
                ColorChoice::Auto.enabled(true) || std::env::var("TERM").as_deref() == Ok("dumb")
            );
        }
        assert!(!ColorChoice::Never.enabled(true));
        assert!(!ColorChoice::Auto.enabled(false));
    }
}
