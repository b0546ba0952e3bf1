//! A small XML element tree over quick-xml, enough for AMF and ASC MHL: local names (namespace
//! prefixes dropped), attributes, children, text. Bounded depth; malformed XML is an error with
//! the byte position.

use quick_xml::events::Event;
use quick_xml::Reader;

/// A minimal element tree (local names, namespace prefixes dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    s.rsplit(':').next().unwrap_or(&s).to_string()
}

/// An element (name and attributes, no children yet) from its start tag.
fn element(e: &quick_xml::events::BytesStart<'_>) -> Element {
    Element {
        name: local(e.name().as_ref()),
        attrs: e
            .attributes()
            .flatten()
            .map(|a| {
                (
                    local(a.key.as_ref()),
                    a.unescape_value()
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        ..Default::default()
    }
}

/// Parses XML into an element tree; malformed XML is an error with the byte position.
pub fn parse_xml(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    const MAX_DEPTH: usize = 64;
    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| format!("at byte {pos}: {e}"))?;
        match ev {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                return Err(format!(
                    "elements nested deeper than {MAX_DEPTH} at <{}>",
                    local(e.name().as_ref())
                ))
            }
            Event::Start(e) => {
                stack.push(element(&e));
            }
            Event::Empty(e) => {
                let el = element(&e);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.unescape().map(|v| v.to_string()).unwrap_or_default());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| format!("unbalanced end tag at byte {pos}"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "document ends inside <{}>",
            stack.last().map(|e| e.name.as_str()).unwrap_or("")
        ));
    }
    root.ok_or_else(|| "no root element".to_string())
}
