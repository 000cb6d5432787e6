//! Text of a PDF page from its content stream, following Form XObjects (many generators,
//! HTML-to-PDF ones in particular, draw every page as a form, which lopdf's own
//! `extract_text` does not enter). Lines are told apart by the text position: a change of
//! baseline starts a new line, a gap on the same baseline is a space.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

use super::{Deadline, ExtractError};

/// Deepest nesting of forms followed.
const MAX_FORM_DEPTH: usize = 8;
/// Most decompressed bytes of content streams read for one page.
const MAX_PAGE_CONTENT: usize = 64 * 1024 * 1024;

pub(super) fn page_text(doc: &Document, page_id: ObjectId, deadline: &Deadline) -> Result<String, ExtractError> {
    let content = doc
        .get_page_content_with_limit(page_id, MAX_PAGE_CONTENT)
        .map_err(|e| ExtractError::Corrupt(format!("page content: {e}")))?;
    let (direct, referenced) =
        doc.get_page_resources(page_id).map_err(|e| ExtractError::Corrupt(format!("page resources: {e}")))?;
    let mut resources: Vec<&Dictionary> = direct.into_iter().collect();
    resources.extend(referenced.into_iter().filter_map(|id| doc.get_dictionary(id).ok()));
    let mut walker =
        Walker { doc, deadline, out: String::new(), last_y: None, last_x_end: 0.0, budget: MAX_PAGE_CONTENT };
    walker.walk(&content, &resources, 0)?;
    Ok(walker.out)
}

struct Walker<'a> {
    doc: &'a Document,
    deadline: &'a Deadline,
    out: String,
    last_y: Option<f32>,
    last_x_end: f32,
    budget: usize,
}

type Matrix = [f32; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

fn number(object: &Object) -> f32 {
    match object {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        _ => 0.0,
    }
}

fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

/// Entries of sub-dictionary `key` across the resource dictionaries (first wins).
fn entries<'a>(doc: &'a Document, resources: &[&'a Dictionary], key: &[u8]) -> BTreeMap<Vec<u8>, &'a Object> {
    let mut out = BTreeMap::new();
    for dict in resources {
        if let Some(Object::Dictionary(sub)) = dict.get(key).ok().and_then(|o| deref(doc, o)) {
            for (name, value) in sub.iter() {
                out.entry(name.clone()).or_insert(value);
            }
        }
    }
    out
}

impl<'a> Walker<'a> {
    fn walk(&mut self, content: &[u8], resources: &[&'a Dictionary], depth: usize) -> Result<(), ExtractError> {
        self.deadline.check()?;
        let doc = self.doc;
        let fonts: BTreeMap<Vec<u8>, Encoding<'a>> = entries(doc, resources, b"Font")
            .into_iter()
            .filter_map(|(name, font)| match deref(doc, font) {
                Some(Object::Dictionary(dict)) => dict.get_font_encoding(doc).ok().map(|e| (name, e)),
                _ => None,
            })
            .collect();
        let xobjects = entries(doc, resources, b"XObject");
        let content = Content::decode(content).map_err(|e| ExtractError::Corrupt(format!("content stream: {e}")))?;
        let mut font: Option<&Encoding> = None;
        let mut size = 12.0f32;
        let (mut tm, mut tlm) = (IDENTITY, IDENTITY);
        for op in &content.operations {
            let operands = &op.operands;
            match op.operator.as_str() {
                "BT" => (tm, tlm) = (IDENTITY, IDENTITY),
                "Tf" => {
                    font = operands.first().and_then(|o| o.as_name().ok()).and_then(|name| fonts.get(name));
                    size = operands.get(1).map_or(12.0, number);
                }
                "Td" | "TD" => {
                    let (tx, ty) = (operands.first().map_or(0.0, number), operands.get(1).map_or(0.0, number));
                    tlm[4] += tx * tlm[0] + ty * tlm[2];
                    tlm[5] += tx * tlm[1] + ty * tlm[3];
                    tm = tlm;
                }
                "Tm" if operands.len() == 6 => {
                    for (slot, value) in tlm.iter_mut().zip(operands) {
                        *slot = number(value);
                    }
                    tm = tlm;
                }
                "T*" => self.newline(),
                "Tj" | "TJ" | "'" | "\"" => {
                    if op.operator == "'" || op.operator == "\"" {
                        self.newline();
                    }
                    let shown: &[Object] =
                        if op.operator == "\"" { operands.get(2..).unwrap_or(&[]) } else { operands };
                    if let Some(encoding) = font {
                        self.show(encoding, shown, &tm, size);
                    }
                }
                "Do" if depth < MAX_FORM_DEPTH => {
                    let Some(name) = operands.first().and_then(|o| o.as_name().ok()) else { continue };
                    let Some(Object::Stream(stream)) = xobjects.get(name).and_then(|o| deref(doc, o)) else { continue };
                    if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form".as_slice()) {
                        continue;
                    }
                    let data = if stream.dict.has(b"Filter") {
                        stream.decompressed_content_with_limit(self.budget).unwrap_or_default()
                    } else {
                        stream.content.clone()
                    };
                    self.budget = self.budget.saturating_sub(data.len());
                    if self.budget == 0 {
                        return Err(ExtractError::TooLarge("the page's content streams unpack to too much".into()));
                    }
                    let own: Vec<&'a Dictionary> = match stream.dict.get(b"Resources").ok().and_then(|o| deref(doc, o))
                    {
                        Some(Object::Dictionary(dict)) => vec![dict],
                        _ => resources.to_vec(),
                    };
                    // A form has its own text positions: its text starts, and is followed by,
                    // a new line.
                    self.newline();
                    self.walk(&data, &own, depth + 1)?;
                    self.newline();
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn newline(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.last_y = None;
    }

    fn show(&mut self, encoding: &Encoding, operands: &[Object], tm: &Matrix, size: f32) {
        let scale = (size * tm[3].abs().max(tm[0].abs())).max(0.1);
        let (x, y) = (tm[4], tm[5]);
        match self.last_y {
            Some(last) if (y - last).abs() > scale * 0.5 => self.newline(),
            Some(_) if x > self.last_x_end + scale * 0.15 && !self.out.ends_with([' ', '\n']) => self.out.push(' '),
            None if !self.out.is_empty() && !self.out.ends_with('\n') => self.out.push('\n'),
            _ => {}
        }
        let before = self.out.chars().count();
        collect(&mut self.out, encoding, operands);
        let shown = self.out.chars().count() - before;
        self.last_y = Some(y);
        self.last_x_end = x + shown as f32 * scale * 0.45;
    }
}

fn collect(out: &mut String, encoding: &Encoding, operands: &[Object]) {
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                let _ = encoding.write_to_string(bytes, out);
            }
            Object::Array(items) => collect(out, encoding, items),
            // A large negative adjustment inside TJ is a gap between words.
            Object::Integer(i) if *i < -150 => push_space(out),
            Object::Real(r) if *r < -150.0 => push_space(out),
            _ => {}
        }
    }
}

fn push_space(out: &mut String) {
    if !out.ends_with([' ', '\n']) {
        out.push(' ');
    }
}
