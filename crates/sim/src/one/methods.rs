//! The catalogue of oned's XML-RPC methods (`api-methods.tsv`, copied from the OpenNebula
//! sources) and xmlrpc-c style parameter checking.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::xmlrpc::Value;

/// The catalogue, as shipped with the crate.
pub(crate) const CATALOGUE: &str = include_str!("api-methods.tsv");

/// Type of one declared parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PType {
    Int,
    I8,
    Bool,
    Str,
    IntArray,
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct ParamSpec {
    pub(crate) ty: PType,
    /// Default used when the caller leaves the parameter out; `None` = required.
    pub(crate) default: Option<Value>,
}

/// The parameters of every method, keyed by method name (without the session).
pub(crate) fn catalogue() -> &'static HashMap<String, Vec<ParamSpec>> {
    static CAT: OnceLock<HashMap<String, Vec<ParamSpec>>> = OnceLock::new();
    CAT.get_or_init(|| {
        let mut map = HashMap::new();
        for line in CATALOGUE.lines() {
            if line.starts_with('#') || line.starts_with("method\t") || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 4 {
                continue;
            }
            map.insert(cols[0].to_owned(), parse_params(cols[3]));
        }
        map
    })
}

fn parse_params(spec: &str) -> Vec<ParamSpec> {
    if spec.starts_with("(session only)") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for p in spec.split("; ") {
        let p = p.split(" (").next().unwrap_or(p).trim();
        let Some((_, rest)) = p.split_once(':') else {
            continue;
        };
        let (ty_str, default) = match rest.split_once('=') {
            Some((t, d)) => (t, Some(d)),
            None => (rest, None),
        };
        let optional_no_default = ty_str.ends_with('?');
        let ty_str = ty_str.trim_end_matches('?');
        let ty = match ty_str {
            "int" => PType::Int,
            "i8" => PType::I8,
            "bool" => PType::Bool,
            "array<int>" => PType::IntArray,
            _ => PType::Str,
        };
        let default = match (default, ty) {
            (Some(d), PType::Int) => Some(Value::Int(d.parse().unwrap_or(0))),
            (Some(d), PType::Bool) => Some(Value::Bool(d == "true")),
            (Some(d), PType::Str) => Some(Value::Str(d.trim_matches('"').to_owned())),
            (Some(d), PType::I8) => Some(Value::I8(d.parse().unwrap_or(0))),
            (Some(_), PType::IntArray) | (None, PType::IntArray) if optional_no_default => {
                Some(Value::Array(Vec::new()))
            }
            _ => None,
        };
        out.push(ParamSpec { ty, default });
    }
    out
}

/// Checked parameters of a call (the session string is not included).
#[derive(Debug, Clone)]
pub(crate) struct Args(pub(crate) Vec<Value>);

impl Args {
    /// The int at `i` (checked before, so a mismatch gives 0).
    pub(crate) fn int(&self, i: usize) -> i32 {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            _ => 0,
        }
    }
    /// The bool at `i`.
    pub(crate) fn bool(&self, i: usize) -> bool {
        matches!(self.0.get(i), Some(Value::Bool(true)))
    }
    /// The string at `i`.
    pub(crate) fn str(&self, i: usize) -> &str {
        match self.0.get(i) {
            Some(Value::Str(v)) => v,
            _ => "",
        }
    }
    /// The int array at `i`.
    pub(crate) fn ints(&self, i: usize) -> Vec<i32> {
        match self.0.get(i) {
            Some(Value::Array(v)) => v
                .iter()
                .filter_map(|x| match x {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Check `params` (session first) against the catalogue entry, like xmlrpc-c: the error
/// is the fault string.
pub(crate) fn check(specs: &[ParamSpec], params: &[Value]) -> Result<(String, Args), String> {
    let session = match params.first() {
        None => return Err("Not enough parameters".into()),
        Some(Value::Str(s)) => s.clone(),
        Some(_) => return Err("Parameter that is supposed to be a string is not".into()),
    };
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        match params.get(i + 1) {
            None => match &spec.default {
                Some(d) => out.push(d.clone()),
                None => return Err("Not enough parameters".into()),
            },
            Some(v) => {
                let ok = matches!(
                    (spec.ty, v),
                    (PType::Int, Value::Int(_))
                        | (PType::I8, Value::I8(_))
                        | (PType::Bool, Value::Bool(_))
                        | (PType::Str, Value::Str(_))
                        | (PType::IntArray, Value::Array(_))
                );
                if !ok {
                    return Err(match spec.ty {
                        PType::Int => "Parameter that is supposed to be integer is not",
                        PType::I8 => "Parameter that is supposed to be 64-bit integer is not",
                        PType::Bool => "Parameter that is supposed to be boolean is not",
                        PType::Str => "Parameter that is supposed to be a string is not",
                        PType::IntArray => "Parameter that is supposed to be an array is not",
                    }
                    .into());
                }
                if let (PType::IntArray, Value::Array(items)) = (spec.ty, v)
                    && items.iter().any(|x| !matches!(x, Value::Int(_)))
                {
                    return Err("Parameter that is supposed to be integer is not".into());
                }
                out.push(v.clone());
            }
        }
    }
    Ok((session, Args(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_all_methods() {
        let c = catalogue();
        assert_eq!(c.len(), 307);
        assert_eq!(c["one.vm.info"].len(), 2);
        assert_eq!(c["one.vm.chmod"].len(), 10);
        assert_eq!(c["one.user.allocate"][3].ty, PType::IntArray);
        assert!(c["one.user.allocate"][3].default.is_some());
        assert!(c["one.system.version"].is_empty());
    }

    #[test]
    fn checks_like_xmlrpc_c() {
        let spec = &catalogue()["one.vm.info"];
        let s = Value::Str("a:b".into());
        assert_eq!(
            check(spec, std::slice::from_ref(&s)).err().as_deref(),
            Some("Not enough parameters")
        );
        assert_eq!(
            check(spec, &[s.clone(), Value::I8(1)]).err().as_deref(),
            Some("Parameter that is supposed to be integer is not")
        );
        assert_eq!(
            check(spec, &[s.clone(), Value::Int(1), Value::Int(0)])
                .err()
                .as_deref(),
            Some("Parameter that is supposed to be boolean is not")
        );
        let (sess, args) = check(spec, &[s, Value::Int(7)]).expect("ok");
        assert_eq!(sess, "a:b");
        assert_eq!(args.int(0), 7);
        assert!(!args.bool(1));
    }
}
