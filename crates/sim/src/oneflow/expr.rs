//! OneFlow's elasticity expressions (`src/flow/lib/grammar.treetop`): comparisons of VM
//! attributes and numbers joined by `&&`/`&`, `||`/`|`, `!` and parentheses. An
//! attribute is the average over the role's RUNNING VMs of the first of
//! `USER_TEMPLATE/ATT`, `MONITORING/ATT`, `TEMPLATE/ATT`, `ATT` each VM has, rounded to
//! two decimals; a comparison with an attribute no VM has is false.

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>, &'static str),
    Or(Box<Expr>, Box<Expr>, &'static str),
    Not(Box<Expr>),
    Group(Box<Expr>),
    Cmp(Operand, &'static str, Operand),
}

/// A number or an attribute.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Num(f64, bool),
    Var(String),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    far: usize,
    expected: Vec<&'static str>,
}

impl P<'_> {
    fn space(&mut self) {
        while self.s.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
    }
    fn fail(&mut self, what: &'static str) {
        if self.i > self.far {
            self.far = self.i;
            self.expected.clear();
        }
        if self.i == self.far && !self.expected.contains(&what) {
            self.expected.push(what);
        }
    }
    fn lit(&mut self, l: &'static str) -> bool {
        if self.s[self.i..].starts_with(l.as_bytes()) {
            self.i += l.len();
            true
        } else {
            self.fail(l);
            false
        }
    }
    fn expression(&mut self) -> Option<Expr> {
        self.space();
        let start = self.i;
        let e = match self.boolean() {
            Some(e) => e,
            None => {
                self.i = start;
                self.cond()?
            }
        };
        self.space();
        Some(e)
    }
    fn boolean(&mut self) -> Option<Expr> {
        let start = self.i;
        let left = self.cond()?;
        let after_left = self.i;
        self.space();
        for op in ["&&", "&", "||", "|"] {
            if self.lit(op) {
                self.space();
                if let Some(right) = self.expression() {
                    let (l, r) = (Box::new(left), Box::new(right));
                    return Some(if op.starts_with('&') {
                        Expr::And(l, r, op)
                    } else {
                        Expr::Or(l, r, op)
                    });
                }
                self.i = after_left;
                self.space();
            }
        }
        self.i = start;
        None
    }
    fn cond(&mut self) -> Option<Expr> {
        let start = self.i;
        if let Some(l) = self.operand() {
            self.space();
            if let Some(op) = self.comp() {
                self.space();
                if let Some(r) = self.operand() {
                    return Some(Expr::Cmp(l, op, r));
                }
            }
        }
        self.i = start;
        if self.lit("!") {
            self.space();
            if let Some(e) = self.expression() {
                return Some(Expr::Not(Box::new(e)));
            }
        }
        self.i = start;
        if self.lit("(") {
            self.space();
            if let Some(e) = self.expression() {
                self.space();
                if self.lit(")") {
                    return Some(Expr::Group(Box::new(e)));
                }
            }
        }
        self.i = start;
        None
    }
    fn comp(&mut self) -> Option<&'static str> {
        ["==", "=", "!=", "<>", ">=", ">", "<=", "<"]
            .into_iter()
            .find(|op| self.lit(op))
    }
    fn operand(&mut self) -> Option<Operand> {
        let start = self.i;
        let neg = self.s.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let b = p.i;
            while p.s.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i > b
        };
        if digits(self) {
            let mut float = false;
            let int_end = self.i;
            if self.s.get(self.i) == Some(&b'.') {
                self.i += 1;
                if digits(self) {
                    float = true;
                } else {
                    self.i = int_end;
                }
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
            return text.parse().ok().map(|n| Operand::Num(n, float));
        }
        self.i = start;
        self.fail("[0-9]");
        let quote = match self.s.get(self.i) {
            Some(b'"') => Some(b'"'),
            Some(b'\'') => Some(b'\''),
            _ => None,
        };
        if quote.is_some() {
            self.i += 1;
        }
        if !self.s.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
            self.fail("[a-zA-Z]");
            self.i = start;
            return None;
        }
        let name_start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.s[name_start..self.i]).to_uppercase();
        if let Some(q) = quote {
            if self.s.get(self.i) != Some(&q) {
                self.fail(if q == b'"' { "'\"'" } else { "\"'\"" });
                self.i = start;
                return None;
            }
            self.i += 1;
        }
        Some(Operand::Var(name))
    }
}

/// Parses an expression; the error reads like treetop's `failure_reason`.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
        far: 0,
        expected: Vec::new(),
    };
    match p.expression() {
        Some(e) if p.i == text.len() => Ok(e),
        _ => {
            let col = p.far.max(p.i) + 1;
            let after = &text[..p.far.max(p.i).min(text.len())];
            let exp = if p.expected.is_empty() {
                "end of input".to_owned()
            } else {
                p.expected
                    .iter()
                    .map(|e| format!("'{}'", e.trim_matches('\'')))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Err(format!(
                "Expected one of {exp} at line 1, column {col} (byte {col}) after {after}"
            ))
        }
    }
}

/// Ruby's `Float#to_s`.
pub(crate) fn ruby_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

impl Operand {
    fn eval(&self, lookup: &dyn Fn(&str) -> Option<f64>) -> (Option<f64>, String) {
        match self {
            Operand::Num(n, true) => (Some(*n), ruby_float(*n)),
            Operand::Num(n, false) => (Some(*n), format!("{n}")),
            Operand::Var(att) => match lookup(att) {
                Some(v) => {
                    let v = (v * 100.0).round() / 100.0;
                    (Some(v), format!("{att}[{}]", ruby_float(v)))
                }
                None => (None, format!("{att}[--]")),
            },
        }
    }
}

/// Evaluates `e`; `lookup` gives an attribute's average (or `None`). The value and the
/// evaluated text (`CPU[90.0] > 80`), which OneFlow keeps as `expression_evaluated`.
pub(crate) fn eval(e: &Expr, lookup: &dyn Fn(&str) -> Option<f64>) -> (bool, String) {
    match e {
        Expr::And(l, r, op) => {
            let (a, sa) = eval(l, lookup);
            let (b, sb) = eval(r, lookup);
            (a && b, format!("{sa} {op} {sb}"))
        }
        Expr::Or(l, r, op) => {
            let (a, sa) = eval(l, lookup);
            let (b, sb) = eval(r, lookup);
            (a || b, format!("{sa} {op} {sb}"))
        }
        Expr::Not(x) => {
            let (a, s) = eval(x, lookup);
            (!a, format!("!{s}"))
        }
        Expr::Group(x) => {
            let (a, s) = eval(x, lookup);
            (a, format!("({s})"))
        }
        Expr::Cmp(l, op, r) => {
            let (a, sa) = l.eval(lookup);
            let (b, sb) = r.eval(lookup);
            let st = format!("{sa} {op} {sb}");
            let v = match (a, b) {
                (Some(a), Some(b)) => match *op {
                    "==" | "=" => a == b,
                    "!=" | "<>" => a != b,
                    ">=" => a >= b,
                    ">" => a > b,
                    "<=" => a <= b,
                    _ => a < b,
                },
                _ => false,
            };
            (v, st)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, cpu: Option<f64>) -> (bool, String) {
        let e = parse(text).expect("parses");
        eval(&e, &|att| if att == "CPU" { cpu } else { Some(5.0) })
    }

    #[test]
    fn expressions_evaluate_like_oneflow() {
        assert_eq!(run("CPU > 80", Some(90.0)), (true, "CPU[90.0] > 80".into()));
        assert!(!run("CPU > 80", Some(10.0)).0);
        assert_eq!(run("CPU > 80", None), (false, "CPU[--] > 80".into()));
        assert!(run("!(CPU > 80)", None).0);
        assert!(run("CPU > 80 || MEMORY < 10", Some(1.0)).0);
        assert!(!run("CPU > 80 && MEMORY < 10", Some(1.0)).0);
        assert!(run("  cpu >= 1.5&MEMORY=5 ", Some(1.5)).0);
        assert!(run("'CPU' <> 3", Some(1.0)).0);
        assert_eq!(run("CPU < 20.5", Some(1.234)).1, "CPU[1.23] < 20.5");
        for bad in ["", "CPU >", "CPU > 80 &&", "(CPU > 1", "80", "CPU ~ 3"] {
            let e = parse(bad).expect_err(bad);
            assert!(e.starts_with("Expected one of"), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = parse(&s);
        }
    }
}
