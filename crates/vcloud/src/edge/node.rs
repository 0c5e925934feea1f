//! A small mutable XML tree that writes back what it read, used to edit
//! `EdgeGatewayServiceConfiguration` without losing elements this SDK does not model.

use crate::model::xml::{XmlElement, escape};

/// One element: local name, attributes, children, and text (for leaves).
///
/// `Debug` shows only the element name and the number of children: subtrees may hold
/// secrets (`SharedSecret`).
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) text: String,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} ({} children)>", self.name, self.children.len())
    }
}

impl Node {
    pub(crate) fn new(name: &str) -> Node {
        Node {
            name: name.to_owned(),
            ..Node::default()
        }
    }

    pub(crate) fn leaf(name: &str, text: impl Into<String>) -> Node {
        Node {
            name: name.to_owned(),
            text: text.into(),
            ..Node::default()
        }
    }

    pub(crate) fn from_element(el: &XmlElement) -> Node {
        let children: Vec<Node> = el.children().iter().map(Node::from_element).collect();
        Node {
            name: el.name().to_owned(),
            attrs: el.attributes().to_vec(),
            text: if children.is_empty() {
                el.text().to_owned()
            } else {
                String::new()
            },
            children,
        }
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Where a new child named `name` goes so that `order` (the schema's sequence) is
    /// kept: after the last child whose name comes earlier or equal in `order`.
    fn insert_position(&self, name: &str, order: &[&str]) -> usize {
        let Some(rank) = order.iter().position(|n| *n == name) else {
            return self.children.len();
        };
        let mut pos = 0;
        for (i, c) in self.children.iter().enumerate() {
            if let Some(r) = order.iter().position(|n| *n == c.name)
                && r <= rank
            {
                pos = i + 1;
            }
        }
        pos
    }

    /// Replaces the first child named like `node` (or inserts it in schema order).
    pub(crate) fn put(&mut self, node: Node, order: &[&str]) {
        if let Some(existing) = self.children.iter_mut().find(|c| c.name == node.name) {
            *existing = node;
        } else {
            let pos = self.insert_position(&node.name, order);
            self.children.insert(pos, node);
        }
    }

    /// Sets (or, with `None`, removes) the text child `name`, keeping schema order.
    pub(crate) fn set_text(&mut self, name: &str, value: Option<String>, order: &[&str]) {
        match value {
            Some(v) => {
                if let Some(existing) = self.children.iter_mut().find(|c| c.name == name) {
                    existing.text = v;
                    existing.children.clear();
                } else {
                    self.put(Node::leaf(name, v), order);
                }
            }
            None => self.children.retain(|c| c.name != name),
        }
    }

    /// Replaces every child named `name` with `nodes`, placed in schema order.
    pub(crate) fn replace_all(&mut self, name: &str, nodes: Vec<Node>, order: &[&str]) {
        let first = self.children.iter().position(|c| c.name == name);
        self.children.retain(|c| c.name != name);
        let pos = first.unwrap_or_else(|| self.insert_position(name, order));
        let pos = pos.min(self.children.len());
        self.children.splice(pos..pos, nodes);
    }

    /// Writes the element (and its subtree); `xmlns`, when given, is set on this element.
    pub(crate) fn write(&self, out: &mut String, xmlns: Option<&str>) {
        out.push('<');
        out.push_str(&self.name);
        if let Some(ns) = xmlns {
            out.push_str(" xmlns=\"");
            out.push_str(&escape(ns));
            out.push('"');
        }
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            out.push_str(&escape(v));
            out.push('"');
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if self.children.is_empty() {
            out.push_str(&escape(&self.text));
        }
        for c in &self.children {
            c.write(out, None);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ordered_insert() {
        let el = XmlElement::parse(r#"<A x="1&amp;2"><B>b</B><D>d &lt;</D><Z/></A>"#).expect("xml");
        let mut n = Node::from_element(&el);
        let mut s = String::new();
        n.write(&mut s, None);
        assert_eq!(s, r#"<A x="1&amp;2"><B>b</B><D>d &lt;</D><Z/></A>"#);
        let order = ["B", "C", "D"];
        n.set_text("C", Some("c".into()), &order);
        n.set_text("B", None, &order);
        n.set_text("D", Some("e".into()), &order);
        let mut s = String::new();
        n.write(&mut s, Some("urn:x"));
        assert_eq!(
            s,
            r#"<A xmlns="urn:x" x="1&amp;2"><C>c</C><D>e</D><Z/></A>"#
        );
    }
}
