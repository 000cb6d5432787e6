//! DOCX: the main document part read with a streaming XML parser.
//!
//! Paragraphs become lines, with their automatic numbering rendered ("12.3", "(a)") from
//! `numbering.xml`; tables become one line per row, cells separated by tabs; tracked changes
//! are resolved as accepted (insertions kept, deletions dropped); comments are not part of
//! the text; headers and footers are read apart, as furniture. Text boxes are read in place.
//! Bounded: every part is read through a size limit (zip bombs), XML depth is limited, and
//! entities are never expanded (no billion laughs).

use std::collections::HashMap;
use std::io::{Cursor, Read, Seek};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{Deadline, ExtractError, Extracted, Format, Limits};

pub(super) fn extract(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<Extracted, ExtractError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ExtractError::Corrupt(format!("not a readable DOCX (ZIP) package: {e}")))?;
    let mut budget = limits.max_decompressed_bytes;
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let main_part = main_document_part(&mut archive, &names, &mut budget)?;
    let document = read_part(&mut archive, &main_part, &mut budget)?
        .ok_or_else(|| ExtractError::Unsupported("a ZIP package without a Word document part".into()))?;
    let mut numbering = match read_part(&mut archive, "word/numbering.xml", &mut budget)? {
        Some(xml) => Numbering::parse(&xml, limits, deadline)?,
        None => Numbering::default(),
    };
    if let Some(xml) = read_part(&mut archive, "word/styles.xml", &mut budget)? {
        numbering.read_styles(&xml, limits, deadline)?;
    }
    let mut warnings = Vec::new();
    let text = render(&document, &numbering, limits, deadline, &mut warnings)?;
    let mut furniture = Vec::new();
    let mut parts: Vec<&String> = names
        .iter()
        .filter(|n| (n.starts_with("word/header") || n.starts_with("word/footer")) && n.ends_with(".xml"))
        .collect();
    parts.sort();
    for name in parts {
        if let Some(xml) = read_part(&mut archive, name, &mut budget)? {
            let rendered = render(&xml, &Numbering::default(), limits, deadline, &mut warnings)?;
            let rendered = rendered.trim();
            if !rendered.is_empty() && !furniture.iter().any(|f: &String| f == rendered) {
                furniture.push(rendered.to_owned());
            }
        }
    }
    Ok(Extracted { format: Format::Docx, text, pages: Vec::new(), furniture, warnings })
}

/// Whether a ZIP package is a Word document: it has `[Content_Types].xml` and its main part
/// (as [`main_document_part`] finds it, the part extraction reads) exists under `word/`.
pub(super) fn package_format<R: Read + Seek>(reader: R) -> Result<Format, ExtractError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| {
        ExtractError::Corrupt(format!("the file starts like a ZIP/DOCX but cannot be read as one: {e}"))
    })?;
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let has = |name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    if !has("[Content_Types].xml") {
        return Err(ExtractError::Unsupported("a ZIP archive, not a Word document".into()));
    }
    // The relationships part is small; a bound keeps a hostile one from costing memory.
    let mut budget = 1024 * 1024;
    let main = main_document_part(&mut archive, &names, &mut budget)?;
    if main.starts_with("word/") && names.contains(&main) {
        Ok(Format::Docx)
    } else {
        Err(ExtractError::Unsupported(
            "an Office document that is not a Word document (.docx); only Word documents are reviewed".into(),
        ))
    }
}

/// The main part named by the package relationships (Strict OOXML uses another namespace,
/// and some producers another file name), `word/document.xml` by default.
fn main_document_part<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    names: &[String],
    budget: &mut u64,
) -> Result<String, ExtractError> {
    if let Some(rels) = read_part(archive, "_rels/.rels", budget)? {
        let mut reader = Reader::from_str(&rels);
        loop {
            match reader.read_event() {
                Ok(Event::Empty(e)) | Ok(Event::Start(e)) if e.local_name().as_ref() == b"Relationship" => {
                    let kind = attribute(&e, b"Type").unwrap_or_default();
                    if kind.ends_with("/officeDocument") {
                        if let Some(target) = attribute(&e, b"Target") {
                            let target = target.trim_start_matches('/').to_owned();
                            if names.iter().any(|n| n == &target) {
                                return Ok(target);
                            }
                        }
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    Ok("word/document.xml".to_owned())
}

/// Reads a part as UTF-8, charging its size to `budget`; `None` if the part does not exist.
fn read_part<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    budget: &mut u64,
) -> Result<Option<String>, ExtractError> {
    let mut file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(zip::result::ZipError::UnsupportedArchive(what)) if what.contains("ncrypt") || what.contains("assword") => {
            return Err(ExtractError::Encrypted)
        }
        Err(e) => return Err(ExtractError::Corrupt(format!("cannot open {name}: {e}"))),
    };
    if file.encrypted() {
        return Err(ExtractError::Encrypted);
    }
    if file.size() > *budget {
        return Err(ExtractError::TooLarge(format!("{name} unpacks to {} bytes", file.size())));
    }
    // The declared size can lie: read at most the budget plus one byte.
    let mut bytes = Vec::new();
    (&mut file)
        .take(*budget + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ExtractError::Corrupt(format!("cannot unpack {name}: {e}")))?;
    if bytes.len() as u64 > *budget {
        return Err(ExtractError::TooLarge("the package unpacks to more than the limit (zip bomb?)".into()));
    }
    *budget -= bytes.len() as u64;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(bytes);
    String::from_utf8(bytes).map(Some).map_err(|_| ExtractError::Corrupt(format!("{name} is not UTF-8 XML")))
}

fn attribute(element: &BytesStart, local: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Numbering definitions: per list (`numId`) the levels' format, text pattern and start.
#[derive(Default)]
struct Numbering {
    /// abstractNumId → levels
    abstract_levels: HashMap<String, HashMap<u8, Level>>,
    /// numId → (abstractNumId, start overrides per level)
    instances: HashMap<String, (String, HashMap<u8, i64>)>,
    /// Paragraph styles that carry numbering: styleId → (numId, ilvl), and their parents.
    style_numbering: HashMap<String, (Option<String>, Option<u8>)>,
    style_parent: HashMap<String, String>,
    /// (abstractNumId, styleId) → level linked to that style by `w:lvl/w:pStyle`.
    style_levels: HashMap<(String, String), u8>,
}

#[derive(Clone, Default)]
struct Level {
    format: String,
    pattern: String,
    start: i64,
}

impl Numbering {
    fn parse(xml: &str, limits: &Limits, deadline: &Deadline) -> Result<Self, ExtractError> {
        let mut numbering = Numbering::default();
        let mut reader = Reader::from_str(xml);
        let mut abstract_id: Option<String> = None;
        let mut num_id: Option<String> = None;
        let mut level: Option<(u8, Level)> = None;
        let mut override_level: Option<u8> = None;
        let mut depth = 0usize;
        loop {
            let event = reader.read_event().map_err(|e| ExtractError::Corrupt(format!("numbering.xml: {e}")))?;
            let (element, is_start) = match &event {
                Event::Start(e) => (Some(e.clone()), true),
                Event::Empty(e) => (Some(e.clone()), false),
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    match e.local_name().as_ref() {
                        b"abstractNum" => abstract_id = None,
                        b"num" => num_id = None,
                        b"lvl" => {
                            if let (Some(id), Some((ilvl, lvl))) = (&abstract_id, level.take()) {
                                numbering.abstract_levels.entry(id.clone()).or_default().insert(ilvl, lvl);
                            }
                        }
                        b"lvlOverride" => override_level = None,
                        _ => {}
                    }
                    (None, false)
                }
                Event::Eof => break,
                _ => (None, false),
            };
            let Some(e) = element else { continue };
            if is_start {
                depth += 1;
                if depth > limits.max_xml_depth {
                    return Err(ExtractError::TooLarge("numbering.xml nests too deeply".into()));
                }
                deadline.check()?;
            }
            match e.local_name().as_ref() {
                b"abstractNum" => abstract_id = attribute(&e, b"abstractNumId"),
                b"num" => num_id = attribute(&e, b"numId"),
                b"lvl" if abstract_id.is_some() => {
                    let ilvl = attribute(&e, b"ilvl").and_then(|v| v.parse().ok()).unwrap_or(0);
                    level = Some((ilvl, Level { format: "decimal".into(), pattern: String::new(), start: 1 }));
                }
                b"pStyle" => {
                    if let (Some(id), Some((ilvl, _)), Some(style)) = (&abstract_id, &level, attribute(&e, b"val")) {
                        numbering.style_levels.insert((id.clone(), style), *ilvl);
                    }
                }
                b"start" => {
                    if let Some((_, lvl)) = level.as_mut() {
                        lvl.start = attribute(&e, b"val").and_then(|v| v.parse().ok()).unwrap_or(1);
                    }
                }
                b"numFmt" => {
                    if let Some((_, lvl)) = level.as_mut() {
                        lvl.format = attribute(&e, b"val").unwrap_or_else(|| "decimal".into());
                    }
                }
                b"lvlText" => {
                    if let Some((_, lvl)) = level.as_mut() {
                        lvl.pattern = attribute(&e, b"val").unwrap_or_default();
                    }
                }
                b"abstractNumId" => {
                    if let (Some(num), Some(target)) = (&num_id, attribute(&e, b"val")) {
                        numbering.instances.entry(num.clone()).or_default().0 = target;
                    }
                }
                b"lvlOverride" => override_level = attribute(&e, b"ilvl").and_then(|v| v.parse().ok()),
                b"startOverride" => {
                    if let (Some(num), Some(ilvl), Some(start)) =
                        (&num_id, override_level, attribute(&e, b"val").and_then(|v| v.parse().ok()))
                    {
                        numbering.instances.entry(num.clone()).or_default().1.insert(ilvl, start);
                    }
                }
                _ => {}
            }
        }
        Ok(numbering)
    }

    /// Reads which paragraph styles are numbered (headings of many contracts are).
    fn read_styles(&mut self, xml: &str, limits: &Limits, deadline: &Deadline) -> Result<(), ExtractError> {
        let mut reader = Reader::from_str(xml);
        let mut style: Option<String> = None;
        let mut depth = 0usize;
        loop {
            let event = reader.read_event().map_err(|e| ExtractError::Corrupt(format!("styles.xml: {e}")))?;
            let element = match &event {
                Event::Start(e) => {
                    depth += 1;
                    if depth > limits.max_xml_depth {
                        return Err(ExtractError::TooLarge("styles.xml nests too deeply".into()));
                    }
                    deadline.check()?;
                    e.clone()
                }
                Event::Empty(e) => e.clone(),
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    if e.local_name().as_ref() == b"style" {
                        style = None;
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            match element.local_name().as_ref() {
                b"style" => style = attribute(&element, b"styleId"),
                b"basedOn" => {
                    if let (Some(id), Some(parent)) = (&style, attribute(&element, b"val")) {
                        self.style_parent.insert(id.clone(), parent);
                    }
                }
                b"numId" => {
                    if let Some(id) = &style {
                        self.style_numbering.entry(id.clone()).or_default().0 = attribute(&element, b"val");
                    }
                }
                b"ilvl" => {
                    if let Some(id) = &style {
                        self.style_numbering.entry(id.clone()).or_default().1 =
                            attribute(&element, b"val").and_then(|v| v.parse().ok());
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The list and level a paragraph of `style` is numbered with, following `basedOn`.
    fn style_numbering(&self, style: &str) -> Option<(String, u8)> {
        let mut current = style.to_owned();
        for _ in 0..16 {
            if let Some((Some(num_id), ilvl)) = self.style_numbering.get(&current) {
                let ilvl = ilvl.or_else(|| {
                    let (abstract_id, _) = self.instances.get(num_id)?;
                    self.style_levels.get(&(abstract_id.clone(), style.to_owned())).copied()
                });
                return Some((num_id.clone(), ilvl.unwrap_or(0)));
            }
            current = self.style_parent.get(&current)?.clone();
        }
        None
    }

    fn level(&self, num_id: &str, ilvl: u8) -> Option<(String, Level)> {
        let (abstract_id, overrides) = self.instances.get(num_id)?;
        let mut level = self.abstract_levels.get(abstract_id)?.get(&ilvl)?.clone();
        if let Some(start) = overrides.get(&ilvl) {
            level.start = *start;
        }
        Some((abstract_id.clone(), level))
    }
}

/// Counters of the lists met so far, per abstract list and level.
#[derive(Default)]
struct Counters {
    values: HashMap<String, [i64; 10]>,
}

impl Counters {
    /// Advances `ilvl` of the list and renders the paragraph's label.
    fn label(&mut self, numbering: &Numbering, num_id: &str, ilvl: u8) -> Option<String> {
        if num_id == "0" {
            return None; // numId 0 switches numbering off
        }
        let (abstract_id, level) = numbering.level(num_id, ilvl)?;
        let ilvl = usize::from(ilvl.min(9));
        let starts: Vec<i64> = (0..10u8).map(|l| numbering.level(num_id, l).map_or(1, |(_, lvl)| lvl.start)).collect();
        let values = self.values.entry(abstract_id).or_insert([0; 10]);
        values[ilvl] = if values[ilvl] == 0 { level.start } else { values[ilvl] + 1 };
        for deeper in values.iter_mut().skip(ilvl + 1) {
            *deeper = 0;
        }
        if level.format == "none" {
            return None;
        }
        if level.format == "bullet" {
            return Some("•".into());
        }
        let mut label = level.pattern.clone();
        for (l, start) in starts.iter().enumerate().take(ilvl + 1).rev() {
            let value = if values[l] == 0 { *start } else { values[l] };
            let format = numbering.level(num_id, l as u8).map_or_else(|| "decimal".into(), |(_, lvl)| lvl.format);
            label = label.replace(&format!("%{}", l + 1), &format_number(value, &format));
        }
        let label = label.trim().to_owned();
        (!label.is_empty()).then_some(label)
    }
}

fn format_number(value: i64, format: &str) -> String {
    match format {
        "lowerLetter" => letters(value).to_lowercase(),
        "upperLetter" => letters(value),
        "lowerRoman" => roman(value).to_lowercase(),
        "upperRoman" => roman(value),
        "decimalZero" => format!("{value:02}"),
        _ => value.to_string(),
    }
}

/// 1 → A, 26 → Z, 27 → AA (Word repeats the letter).
fn letters(value: i64) -> String {
    if value < 1 {
        return value.to_string();
    }
    let letter = char::from(b'A' + ((value - 1) % 26) as u8);
    std::iter::repeat_n(letter, ((value - 1) / 26 + 1) as usize).collect()
}

fn roman(value: i64) -> String {
    if !(1..4000).contains(&value) {
        return value.to_string();
    }
    const TABLE: [(i64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut rest = value;
    let mut out = String::new();
    for (n, s) in TABLE {
        while rest >= n {
            out.push_str(s);
            rest -= n;
        }
    }
    out
}

/// One paragraph being assembled.
#[derive(Default)]
struct Paragraph {
    text: String,
    style: Option<String>,
    num_id: Option<String>,
    ilvl: Option<u8>,
}

/// Renders a WordprocessingML part to text.
fn render(
    xml: &str,
    numbering: &Numbering,
    limits: &Limits,
    deadline: &Deadline,
    warnings: &mut Vec<String>,
) -> Result<String, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut counters = Counters::default();
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut depth = 0usize;
    // Inside w:del / w:moveFrom (deleted text) and inside w:t (text runs).
    let mut deleted = 0usize;
    let mut in_text = false;
    let mut in_instruction = 0usize;
    let mut cells: Vec<Vec<String>> = Vec::new(); // open table rows → their cells
    let mut events = 0u64;
    loop {
        let event = reader.read_event().map_err(|e| ExtractError::Corrupt(format!("document XML: {e}")))?;
        events += 1;
        if events.is_multiple_of(4096) {
            deadline.check()?;
        }
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > limits.max_xml_depth {
                    return Err(ExtractError::TooLarge("the document XML nests too deeply".into()));
                }
                match e.local_name().as_ref() {
                    b"p" => paragraphs.push(Paragraph::default()),
                    b"t" => in_text = true,
                    b"del" | b"moveFrom" => deleted += 1,
                    b"instrText" | b"delInstrText" => in_instruction += 1,
                    b"tr" => cells.push(Vec::new()),
                    b"tc" => {
                        if let Some(row) = cells.last_mut() {
                            row.push(String::new());
                        }
                    }
                    other => paragraph_property(other, &e, &mut paragraphs),
                }
            }
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => push_text(&mut paragraphs, "\t", deleted),
                b"br" | b"cr" => push_text(&mut paragraphs, "\n", deleted),
                b"noBreakHyphen" => push_text(&mut paragraphs, "-", deleted),
                b"p" => finish_paragraph(Paragraph::default(), &mut out, &mut cells, numbering, &mut counters),
                other => paragraph_property(other, &e, &mut paragraphs),
            },
            Event::Text(t) if in_text && in_instruction == 0 => {
                let text = t.unescape().map_err(|e| ExtractError::Corrupt(format!("document text: {e}")))?;
                push_text(&mut paragraphs, &text, deleted);
            }
            Event::CData(t) if in_text && in_instruction == 0 => {
                push_text(&mut paragraphs, &String::from_utf8_lossy(&t), deleted);
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    b"p" => {
                        if let Some(paragraph) = paragraphs.pop() {
                            finish_paragraph(paragraph, &mut out, &mut cells, numbering, &mut counters);
                        }
                    }
                    b"t" => in_text = false,
                    b"del" | b"moveFrom" => deleted = deleted.saturating_sub(1),
                    b"instrText" | b"delInstrText" => in_instruction = in_instruction.saturating_sub(1),
                    b"tr" => {
                        if let Some(row) = cells.pop() {
                            let line = row.iter().map(|c| c.trim()).collect::<Vec<_>>().join("\t");
                            let target = cells.last_mut().and_then(|r| r.last_mut()).unwrap_or(&mut out);
                            if !line.trim().is_empty() {
                                target.push_str(line.trim_end());
                                target.push('\n');
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::DocType(_) => warnings.push("the document declares a DTD; it was ignored".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Records numbering properties of the innermost open paragraph.
fn paragraph_property(name: &[u8], element: &BytesStart, paragraphs: &mut [Paragraph]) {
    let Some(paragraph) = paragraphs.last_mut() else { return };
    match name {
        b"pStyle" => paragraph.style = attribute(element, b"val"),
        b"numId" => paragraph.num_id = attribute(element, b"val"),
        b"ilvl" => paragraph.ilvl = attribute(element, b"val").and_then(|v| v.parse().ok()),
        _ => {}
    }
}

fn push_text(paragraphs: &mut [Paragraph], text: &str, deleted: usize) {
    if deleted > 0 {
        return;
    }
    if let Some(paragraph) = paragraphs.last_mut() {
        paragraph.text.push_str(text);
    }
}

/// Writes a finished paragraph (with its numbering label) to the open table cell or the text.
fn finish_paragraph(
    paragraph: Paragraph,
    out: &mut String,
    cells: &mut [Vec<String>],
    numbering: &Numbering,
    counters: &mut Counters,
) {
    let body = paragraph.text.replace('\u{ad}', "");
    // An empty numbered paragraph (often one that only carries a section break) neither
    // shows nor consumes a number here.
    if body.trim().is_empty() {
        if cells.is_empty() {
            out.push('\n');
        }
        return;
    }
    let from_style = paragraph.style.as_deref().and_then(|s| numbering.style_numbering(s));
    let num_id = paragraph.num_id.clone().or_else(|| from_style.as_ref().map(|(id, _)| id.clone()));
    let ilvl = paragraph.ilvl.or_else(|| from_style.as_ref().map(|(_, l)| *l)).unwrap_or(0);
    let label = num_id.as_deref().and_then(|id| counters.label(numbering, id, ilvl));
    let line = match label {
        Some(label) => format!("{label} {body}"),
        None => body,
    };
    if let Some(cell) = cells.last_mut().and_then(|row| row.last_mut()) {
        if !cell.is_empty() {
            cell.push(' ');
        }
        cell.push_str(line.trim());
    } else {
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_in_word_formats() {
        assert_eq!(letters(1), "A");
        assert_eq!(letters(28), "BB");
        assert_eq!(roman(14), "XIV");
        assert_eq!(format_number(3, "lowerRoman"), "iii");
    }

    fn render_body(body: &str, numbering_xml: &str) -> String {
        let limits = Limits::default();
        let deadline = Deadline::after(limits.max_duration);
        let numbering = Numbering::parse(numbering_xml, &limits, &deadline).expect("numbering");
        let xml = format!(r#"<w:document xmlns:w="x"><w:body>{body}</w:body></w:document>"#);
        render(&xml, &numbering, &limits, &deadline, &mut Vec::new()).expect("render")
    }

    const NUMBERING: &str = r#"<w:numbering xmlns:w="x">
        <w:abstractNum w:abstractNumId="1">
          <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
          <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
          <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>
        </w:abstractNum>
        <w:num w:numId="7"><w:abstractNumId w:val="1"/></w:num>
      </w:numbering>"#;

    fn numbered(text: &str, level: u8) -> String {
        format!(
            r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="7"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
        )
    }

    #[test]
    fn automatic_numbering_is_rendered() {
        let body = [
            numbered("Definitions", 0),
            numbered("Term", 1),
            numbered("Scope", 1),
            numbered("first", 2),
            numbered("Payment", 0),
            numbered("Fees", 1),
        ]
        .concat();
        let text = render_body(&body, NUMBERING);
        assert_eq!(text, "1. Definitions\n1.1 Term\n1.2 Scope\n(a) first\n2. Payment\n2.1 Fees\n");
    }

    #[test]
    fn tracked_changes_are_accepted_and_tables_become_rows() {
        let body = r#"<w:p><w:r><w:t>The fee is </w:t></w:r><w:del><w:r><w:delText>$5</w:delText></w:r></w:del><w:ins><w:r><w:t>$7</w:t></w:r></w:ins><w:r><w:t xml:space="preserve"> per unit.</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Party</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Acme &amp; Co</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#;
        assert_eq!(render_body(body, "<w:numbering xmlns:w=\"x\"/>"), "The fee is $7 per unit.\nParty\tAcme & Co\n");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let limits = Limits { max_xml_depth: 50, ..Limits::default() };
        let deadline = Deadline::after(limits.max_duration);
        let xml = "<a>".repeat(100) + &"</a>".repeat(100);
        let result = render(&xml, &Numbering::default(), &limits, &deadline, &mut Vec::new());
        assert!(matches!(result, Err(ExtractError::TooLarge(_))));
    }

    #[test]
    fn entity_bombs_are_not_expanded() {
        let limits = Limits::default();
        let deadline = Deadline::after(limits.max_duration);
        let xml = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"#;
        let result = render(xml, &Numbering::default(), &limits, &deadline, &mut Vec::new());
        assert!(result.is_err() || result.as_deref().is_ok_and(|t| !t.contains("lollol")));
    }
}
