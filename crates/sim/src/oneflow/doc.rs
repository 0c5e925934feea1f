//! oned documents as OneFlow renders them (`DocumentJSON#to_json`), and JSON bodies back
//! to oned template text (`Hash#to_raw`).

use serde_json::{Map, Value};

use crate::onegate::hash::{J, xml_to_hash};

/// A Ruby-style hash of oned XML as JSON.
pub(crate) fn to_value(j: &J) -> Value {
    match j {
        J::Str(s) => Value::String(s.clone()),
        J::Int(n) => Value::from(*n),
        J::Bool(b) => Value::Bool(*b),
        J::Null => Value::Null,
        J::Arr(items) => Value::Array(items.iter().map(to_value).collect()),
        J::Obj(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

/// oned XML as a Ruby-style hash (`XMLElement#to_hash`).
pub(crate) fn xml_value(xml: &str) -> Result<Value, String> {
    xml_to_hash(xml).map(|j| to_value(&j))
}

/// A `<DOCUMENT>` as OneFlow answers it: the hash with `TEMPLATE.BODY` parsed as JSON.
/// Returns the `DOCUMENT` object.
pub(crate) fn document(xml: &str) -> Result<Value, String> {
    let mut v = xml_value(xml)?;
    let mut doc = v
        .get_mut("DOCUMENT")
        .map(Value::take)
        .ok_or("no DOCUMENT in the answer")?;
    parse_body(&mut doc)?;
    Ok(doc)
}

fn parse_body(doc: &mut Value) -> Result<(), String> {
    if let Some(body) = doc.pointer_mut("/TEMPLATE/BODY")
        && let Value::String(s) = body
    {
        let parsed: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
        *body = parsed;
    }
    Ok(())
}

/// A `<DOCUMENT_POOL>`: its documents, bodies parsed.
pub(crate) fn pool(xml: &str) -> Result<Vec<Value>, String> {
    let mut v = xml_value(xml)?;
    let docs = v
        .pointer_mut("/DOCUMENT_POOL/DOCUMENT")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let mut docs = match docs {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    for d in &mut docs {
        parse_body(d)?;
    }
    Ok(docs)
}

/// The pool answer: `{"DOCUMENT_POOL": {"DOCUMENT": [...]}}` (one document as an
/// object, none as an empty pool, as Ruby's hash of the XML).
pub(crate) fn pool_json(docs: Vec<Value>) -> Value {
    let mut pool = Map::new();
    match docs.len() {
        0 => {}
        1 => {
            pool.insert(
                "DOCUMENT".into(),
                docs.into_iter().next().unwrap_or_default(),
            );
        }
        _ => {
            pool.insert("DOCUMENT".into(), Value::Array(docs));
        }
    }
    serde_json::json!({ "DOCUMENT_POOL": Value::Object(pool) })
}

/// The template text OneFlow sends to allocate or update a document: the body as JSON
/// in a CDATA section (`DocumentJSON#build_template_xml`).
pub(crate) fn template_xml(body: &Value, name: Option<&str>) -> String {
    let json = body.to_string().replace("]]>", "]]]]><![CDATA[>");
    let mut out = String::from("<TEMPLATE>");
    if let Some(n) = name {
        out.push_str("<NAME>");
        out.push_str(&n.replace('&', "&amp;").replace('<', "&lt;"));
        out.push_str("</NAME>");
    }
    out.push_str("<BODY><![CDATA[");
    out.push_str(&json);
    out.push_str("]]></BODY></TEMPLATE>");
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// oned template text of a hash (`Hash.to_raw`): scalars `K = "v"`, objects vectors
/// `K = [ A = "x", ... ]`, arrays repeat the attribute.
pub(crate) fn to_raw(attrs: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (k, v) in attrs {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for item in items {
            match item {
                Value::Object(m) => {
                    let inner: Vec<String> = m
                        .iter()
                        .map(|(ik, iv)| format!("{ik} = {}", quoted(&scalar(iv))))
                        .collect();
                    out.push_str(&format!("{k} = [ {} ]\n", inner.join(", ")));
                }
                other => out.push_str(&format!("{k} = {}\n", quoted(&scalar(other)))),
            }
        }
    }
    out
}

/// Ruby's `Hash#deep_merge`: objects merge key by key, anything else is replaced.
pub(crate) fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => deep_merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_and_templates() {
        let xml = "<DOCUMENT><ID>3</ID><UID>0</UID><NAME>web</NAME><TYPE>100</TYPE><TEMPLATE><BODY><![CDATA[{\"name\":\"web\",\"state\":2}]]></BODY></TEMPLATE></DOCUMENT>";
        let d = document(xml).expect("doc");
        assert_eq!(d["ID"], "3");
        assert_eq!(d["TEMPLATE"]["BODY"]["state"], 2);
        let p = pool(&format!("<DOCUMENT_POOL>{xml}</DOCUMENT_POOL>")).expect("pool");
        assert_eq!(p.len(), 1);
        assert!(pool("<DOCUMENT_POOL/>").expect("empty").is_empty());
        assert_eq!(pool_json(vec![]), json!({"DOCUMENT_POOL": {}}));
        let t = template_xml(&json!({"a": "]]>"}), Some("n"));
        assert!(
            t.contains("<NAME>n</NAME>") && !t.contains("\"]]>\""),
            "{t}"
        );
        let raw = to_raw(
            json!({"CPU": 1, "CONTEXT": {"X": "a\"b"}, "NIC": [{"NETWORK_ID": "0"}, {"NETWORK_ID": "1"}]})
                .as_object()
                .expect("obj"),
        );
        assert!(raw.contains("CPU = \"1\""), "{raw}");
        assert!(raw.contains("CONTEXT = [ X = \"a\\\"b\" ]"), "{raw}");
        assert_eq!(raw.matches("NIC = [").count(), 2);
        let mut base = json!({"CONTEXT": {"A": "1", "B": "2"}, "CPU": "1"});
        deep_merge(&mut base, &json!({"CONTEXT": {"B": "3"}, "MEMORY": "64"}));
        assert_eq!(
            base,
            json!({"CONTEXT": {"A": "1", "B": "3"}, "CPU": "1", "MEMORY": "64"})
        );
    }
}
