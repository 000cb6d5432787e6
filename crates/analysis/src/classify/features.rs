//! Sparse hashed features of a segment: lower-cased word n-grams and its heading's words,
//! L2-normalised, in a fixed number of buckets.

/// Hash buckets of the feature space, shared by the dev split's words and word pairs (a
/// larger space gained nothing for a larger model file).
pub const DIMENSIONS: usize = 1 << 16;

pub(super) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|word| {
            let lower = word.to_lowercase();
            if lower.chars().all(|c| c.is_ascii_digit()) {
                "#".into()
            } else {
                lower
            }
        })
        .collect()
}

/// Sparse, L2-normalised features of a piece of text: (bucket, value), buckets ascending.
///
/// (Other features tried are in docs/experiments.md.)
pub fn features(text: &str) -> Vec<(u32, f32)> {
    segment_features(text, None)
}

/// [`features`] of a segment, with the words of the heading of the section it is in marked
/// as such ("§insurance"): a clause's heading says what it is about even where its own
/// sentences do not.
pub fn segment_features(text: &str, heading: Option<&str>) -> Vec<(u32, f32)> {
    let words = words(text);
    let mut buckets: Vec<u32> = Vec::with_capacity(words.len() * 2 + 2);
    for word in heading.map(self::words).unwrap_or_default() {
        buckets.push(hash(&["§".as_bytes(), word.as_bytes()]));
    }
    for (i, word) in words.iter().enumerate() {
        buckets.push(hash(&[word.as_bytes()]));
        if let Some(next) = words.get(i + 1) {
            buckets.push(hash(&[word.as_bytes(), b" ", next.as_bytes()]));
        }
    }
    // Position-free cue for very short segments (titles, headings).
    buckets.push(hash(&[if words.len() <= 8 { b"<short>".as_slice() } else { b"<long>".as_slice() }]));
    buckets.sort_unstable();
    let mut out: Vec<(u32, f32)> = Vec::new();
    for bucket in buckets {
        match out.last_mut() {
            Some((last, count)) if *last == bucket => *count += 1.0,
            _ => out.push((bucket, 1.0)),
        }
    }
    for (_, value) in out.iter_mut() {
        *value = 1.0 + value.ln();
    }
    let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt().max(1e-6);
    for (_, value) in out.iter_mut() {
        *value /= norm;
    }
    out
}

pub(super) fn hash(parts: &[&[u8]]) -> u32 {
    crate::fnv::fnv1a32(parts) % DIMENSIONS as u32
}
