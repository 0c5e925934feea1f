//! FIQL filters for the query service, encoded the way each API version expects.

use std::fmt;

use crate::model::ApiVersion;

/// A comparison operator of a FIQL filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// `==` (a `*` in the value is a wildcard).
    Eq,
    /// `!=`.
    Ne,
    /// `=gt=`.
    Gt,
    /// `=ge=`.
    Ge,
    /// `=lt=`.
    Lt,
    /// `=le=`.
    Le,
}

impl FilterOp {
    fn as_str(self) -> &'static str {
        match self {
            FilterOp::Eq => "==",
            FilterOp::Ne => "!=",
            FilterOp::Gt => "=gt=",
            FilterOp::Ge => "=ge=",
            FilterOp::Lt => "=lt=",
            FilterOp::Le => "=le=",
        }
    }
}

/// A query filter: comparisons joined with `;` (and) and `,` (or), or a raw FIQL
/// string passed through unchanged.
///
/// Values are encoded for the API version in use: below 35.0 they are percent-encoded
/// and the request says `filterEncoded=true`; from 35.0 the characters `( ) ; , \`
/// inside values are escaped with a backslash. Either way a value may contain any
/// character.
///
/// ```
/// use nebulair_vcloud::query::Filter;
/// use nebulair_vcloud::ApiVersion;
///
/// let f = Filter::eq("name", "web*").and(Filter::eq("isDeleted", "false"));
/// let (text, encoded) = f.encode(&ApiVersion::new("36.0")?);
/// assert_eq!(text, "name==web*;isDeleted==false");
/// assert!(!encoded);
/// let (text, encoded) = Filter::eq("name", "a;b").encode(&ApiVersion::new("32.0")?);
/// assert_eq!(text, "name==a%3Bb");
/// assert!(encoded);
/// # Ok::<(), nebulair_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attr <op> value`.
    Cmp {
        /// The attribute name.
        attr: String,
        /// The operator.
        op: FilterOp,
        /// The value (not encoded).
        value: String,
    },
    /// All of these (`;`).
    And(Vec<Filter>),
    /// Any of these (`,`).
    Or(Vec<Filter>),
    /// A FIQL string sent as written. Below API 35.0 the request still says
    /// `filterEncoded=true` (as pyvcloud does), so `%XX` sequences in its values are
    /// decoded by the server; use [`Filter::eq`] and friends for arbitrary values.
    Raw(String),
}

impl Filter {
    /// `attr==value`.
    pub fn eq(attr: impl Into<String>, value: impl Into<String>) -> Self {
        Self::cmp(attr, FilterOp::Eq, value)
    }

    /// `attr!=value`.
    pub fn ne(attr: impl Into<String>, value: impl Into<String>) -> Self {
        Self::cmp(attr, FilterOp::Ne, value)
    }

    /// A comparison with any operator.
    pub fn cmp(attr: impl Into<String>, op: FilterOp, value: impl Into<String>) -> Self {
        Filter::Cmp {
            attr: attr.into(),
            op,
            value: value.into(),
        }
    }

    /// `self;other`.
    pub fn and(self, other: Filter) -> Self {
        match self {
            Filter::And(mut v) => {
                v.push(other);
                Filter::And(v)
            }
            f => Filter::And(vec![f, other]),
        }
    }

    /// `self,other`.
    pub fn or(self, other: Filter) -> Self {
        match self {
            Filter::Or(mut v) => {
                v.push(other);
                Filter::Or(v)
            }
            f => Filter::Or(vec![f, other]),
        }
    }

    /// The filter text for `version` and whether `filterEncoded=true` must be sent.
    pub fn encode(&self, version: &ApiVersion) -> (String, bool) {
        let legacy = !version.at_least(35, 0);
        let mut out = String::new();
        self.write(&mut out, legacy, false);
        (out, legacy)
    }

    /// The filter text as the cloudapi takes it (and the query service from API 35.0):
    /// values escaped with backslashes, never percent-encoded.
    pub fn to_fiql(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, false, false);
        out
    }

    fn write(&self, out: &mut String, legacy: bool, nested: bool) {
        match self {
            Filter::Cmp { attr, op, value } => {
                out.push_str(attr);
                out.push_str(op.as_str());
                if legacy {
                    out.push_str(&percent_encode_value(value));
                } else {
                    for c in value.chars() {
                        if matches!(c, '(' | ')' | ';' | ',' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
            }
            Filter::Raw(s) => out.push_str(s),
            Filter::And(items) | Filter::Or(items) => {
                let sep = if matches!(self, Filter::And(_)) {
                    ';'
                } else {
                    ','
                };
                let paren = nested && items.len() > 1;
                if paren {
                    out.push('(');
                }
                for (i, f) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(sep);
                    }
                    f.write(out, legacy, true);
                }
                if paren {
                    out.push(')');
                }
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters and `*` (the wildcard).
fn percent_encode_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'*') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl From<&str> for Filter {
    fn from(s: &str) -> Self {
        Filter::Raw(s.to_owned())
    }
}

impl From<String> for Filter {
    fn from(s: String) -> Self {
        Filter::Raw(s)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, false, false);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ApiVersion {
        ApiVersion::new(s).expect("v")
    }

    #[test]
    fn nesting_and_escaping() {
        let f = Filter::eq("name", "a(1),b;c\\d")
            .or(Filter::eq("status", "POWERED_ON").and(Filter::ne("isDeleted", "true")));
        let (t, enc) = f.encode(&v("36.0"));
        assert!(!enc);
        assert_eq!(
            t,
            "name==a\\(1\\)\\,b\\;c\\\\d,(status==POWERED_ON;isDeleted!=true)"
        );
        let (t, enc) = f.encode(&v("33.0"));
        assert!(enc);
        assert_eq!(
            t,
            "name==a%281%29%2Cb%3Bc%5Cd,(status==POWERED_ON;isDeleted!=true)"
        );
        assert_eq!(Filter::from("x==1").encode(&v("5.6")).0, "x==1");
    }

    proptest::proptest! {
        #[test]
        fn legacy_values_have_no_separators(value in ".{0,40}") {
            let (t, _) = Filter::eq("name", value).encode(&v("32.0"));
            let rest = &t["name==".len()..];
            proptest::prop_assert!(!rest.contains(';') && !rest.contains(',') && !rest.contains('(') && !rest.contains(')'));
        }
    }
}
