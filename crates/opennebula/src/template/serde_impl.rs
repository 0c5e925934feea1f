//! `serde` support: a template is a map; repeated names are arrays; vectors are maps.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Template, TemplateValue, Vector, yes_no};

impl Serialize for Vector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for TemplateValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TemplateValue::Single(s) => serializer.serialize_str(s),
            TemplateValue::Vector(v) => v.serialize(serializer),
        }
    }
}

impl Serialize for Template {
    /// A map in first-appearance order; a name that occurs more than once becomes an array
    /// of its values.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&str> = Vec::new();
        for (n, _) in self.iter() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut map = serializer.serialize_map(Some(names.len()))?;
        for name in names {
            let values: Vec<&TemplateValue> = self
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v)
                .collect();
            if let [one] = values.as_slice() {
                map.serialize_entry(name, one)?;
            } else {
                map.serialize_entry(name, &values)?;
            }
        }
        map.end()
    }
}

/// A scalar: string, number, boolean (`YES`/`NO`) or null (empty string).
struct Scalar(String);

struct ScalarVisitor;

macro_rules! visit_display {
    ($wrap:expr; $($f:ident: $t:ty),+) => {$(
        fn $f<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            Ok($wrap(v.to_string()))
        }
    )+};
}

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }
    visit_display!(Scalar; visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_i128: i128, visit_u128: u128);
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar(yes_no(v).to_owned()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar(String::new()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar(String::new()))
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct VectorVisitor;

impl<'de> Visitor<'de> for VectorVisitor {
    type Value = Vector;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of names to scalar values")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vector, A::Error> {
        let mut v = Vector::new();
        while let Some((k, Scalar(s))) = map.next_entry::<String, Scalar>()? {
            v.push_raw(k, s);
        }
        Ok(v)
    }
}

impl<'de> Deserialize<'de> for Vector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(VectorVisitor)
    }
}

/// One attribute's value in a map: a scalar, a map (vector) or an array of those.
enum Entry {
    One(TemplateValue),
    Many(Vec<TemplateValue>),
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = TemplateValue;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, null or a map of scalars")
    }
    visit_display!(TemplateValue::Single; visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_i128: i128, visit_u128: u128);
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(TemplateValue::Single(yes_no(v).to_owned()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(TemplateValue::Single(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(TemplateValue::Single(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TemplateValue::Single(String::new()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TemplateValue::Single(String::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        VectorVisitor.visit_map(map).map(TemplateValue::Vector)
    }
}

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, null, a map of scalars, or an array of those")
    }
    visit_display!(|s| Entry::One(TemplateValue::Single(s)); visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_i128: i128, visit_u128: u128);
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        ValueVisitor.visit_bool(v).map(Entry::One)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        ValueVisitor.visit_str(v).map(Entry::One)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        ValueVisitor.visit_string(v).map(Entry::One)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        ValueVisitor.visit_unit().map(Entry::One)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        ValueVisitor.visit_none().map(Entry::One)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        ValueVisitor.visit_map(map).map(Entry::One)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<TemplateValue>()? {
            out.push(v);
        }
        Ok(Entry::Many(out))
    }
}

struct EntryVisitor;

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

impl<'de> Deserialize<'de> for TemplateValue {
    /// A scalar (string, number, boolean as `YES`/`NO`, null as `""`) or a map of scalars.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct TemplateVisitor;

impl<'de> Visitor<'de> for TemplateVisitor {
    type Value = Template;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of template attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Template, A::Error> {
        let mut t = Template::new();
        while let Some((name, entry)) = map.next_entry::<String, Entry>()? {
            match entry {
                Entry::One(v) => {
                    t.push(name, v);
                }
                Entry::Many(vs) => {
                    for v in vs {
                        t.push(name.clone(), v);
                    }
                }
            }
        }
        Ok(t)
    }
}

impl<'de> Deserialize<'de> for Template {
    /// From a map: scalars (numbers and booleans accepted, booleans as `YES`/`NO`), maps of
    /// scalars (vectors) and arrays of those (a repeated attribute).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TemplateVisitor)
    }
}

impl TryFrom<serde_json::Value> for Template {
    type Error = nebulair_core::Error;
    /// Converts a JSON object such as
    /// `{"NAME": "x", "DISK": [{"IMAGE_ID": 1}, {"IMAGE_ID": 2}]}`.
    fn try_from(value: serde_json::Value) -> nebulair_core::Result<Template> {
        serde_json::from_value(value)
            .map_err(|e| nebulair_core::Error::invalid_input(format!("invalid template map: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() -> Result<(), serde_json::Error> {
        let t: Template = serde_json::from_str(
            r#"{"NAME":"x","CPU":0.5,"MEMORY":512,"DISK":[{"IMAGE_ID":1},{"IMAGE_ID":2,"RO":false}],
                "CONTEXT":{"NETWORK":true,"X":null},"TAGS":["a","b"]}"#,
        )?;
        assert_eq!(t.get_str("CPU"), Some("0.5"));
        assert_eq!(t.vectors("DISK").count(), 2);
        assert_eq!(
            t.vectors("DISK").nth(1).and_then(|d| d.get("RO")),
            Some("NO")
        );
        assert_eq!(t.get_vector("CONTEXT").and_then(|c| c.get("X")), Some(""));
        assert_eq!(t.get_all("TAGS").count(), 2);
        let json = serde_json::to_value(&t)?;
        assert_eq!(json["DISK"][1]["IMAGE_ID"], "2");
        assert_eq!(json["NAME"], "x");
        // serde_json::Value sorts keys, so go through a string to keep the order.
        let back: Template = serde_json::from_str(&serde_json::to_string(&t)?)?;
        assert_eq!(back, t);
        Ok(())
    }

    #[test]
    fn nested_values_are_rejected() {
        assert!(serde_json::from_str::<Template>(r#"{"A":{"B":{"C":1}}}"#).is_err());
        assert!(serde_json::from_str::<Template>(r#"{"A":[[1]]}"#).is_err());
        assert!(serde_json::from_str::<Template>(r#"[1]"#).is_err());
        assert!(Template::try_from(serde_json::json!({"A": {"B": [1]}})).is_err());
    }
}
