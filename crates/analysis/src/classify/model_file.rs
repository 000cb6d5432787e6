//! The model file: a versioned binary of quantised weights per category, read back with every
//! length checked (a model file is input like any other).

use super::*;

/// Version 6: the layout of version 5, with presence thresholds set on the three best
/// segments' combined score ([`TopScores`]) rather than the best segment's, which a version 5
/// file's thresholds would misread.
pub(super) const MAGIC: &[u8; 8] = b"CRMODEL6";

/// 8-bit code of a weight, companded by square root: a converged logistic regression has a
/// few large weights and a long tail of small ones, which linear 8-bit steps would round to
/// zero (three in four of them did).
pub(super) fn encode_weight(weight: f32, max: f32) -> u8 {
    (weight.signum() * (weight.abs() / max).sqrt() * 127.0).round().clamp(-127.0, 127.0) as i8 as u8
}

pub(super) fn decode_weight(code: u8, max: f32) -> f32 {
    let q = f32::from(code as i8) / 127.0;
    q.signum() * q * q * max
}

impl Model {
    /// Serialises with 8-bit companded weights (one scale, the largest weight, per weight
    /// vector): after the header, the count and fingerprints of the training contracts; per
    /// category the segment scorer's scale, bias, evidence and presence thresholds, the
    /// document scorer's scale, bias and mix, then the two weight vectors.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CATEGORIES.len() * (2 * DIMENSIONS + CATEGORY_HEADER) + 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(CATEGORIES.len() as u32).to_le_bytes());
        out.extend_from_slice(&(DIMENSIONS as u32).to_le_bytes());
        out.extend_from_slice(&(self.trained_on.len() as u32).to_le_bytes());
        for fingerprint in &self.trained_on {
            out.extend_from_slice(&fingerprint.to_le_bytes());
        }
        let scale = |weights: &[f32]| weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-9);
        for c in 0..CATEGORIES.len() {
            let (max, document_max) = (scale(&self.weights[c]), scale(&self.document_weights[c]));
            for value in [
                max,
                self.bias[c],
                self.thresholds[c],
                self.presence_thresholds[c],
                document_max,
                self.document_bias[c],
                self.document_mix[c],
            ] {
                out.extend_from_slice(&value.to_le_bytes());
            }
            out.extend(self.weights[c].iter().map(|w| encode_weight(*w, max)));
            out.extend(self.document_weights[c].iter().map(|w| encode_weight(*w, document_max)));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let header = 20;
        if bytes.len() < header || &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        let read_u32 = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let read_f32 = |at: usize| f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let (categories, dimensions) = (read_u32(8) as usize, read_u32(12) as usize);
        if categories != CATEGORIES.len() || dimensions != DIMENSIONS {
            return Err(ModelError::WrongShape { categories, dimensions });
        }
        let trained_on = read_u32(16) as usize;
        let weights_at = trained_on.checked_mul(4).and_then(|n| n.checked_add(header));
        let expected = weights_at.and_then(|at| at.checked_add(categories * (CATEGORY_HEADER + 2 * dimensions)));
        if expected != Some(bytes.len()) {
            return Err(ModelError::Truncated);
        }
        let mut model =
            Model { trained_on: (0..trained_on).map(|i| read_u32(header + 4 * i)).collect(), ..Model::default() };
        if !model.trained_on.is_sorted() {
            return Err(ModelError::Damaged("its training fingerprints are out of order"));
        }
        let mut at = header + 4 * trained_on;
        for _ in 0..categories {
            let max = read_f32(at);
            model.bias.push(read_f32(at + 4));
            model.thresholds.push(read_f32(at + 8));
            model.presence_thresholds.push(read_f32(at + 12));
            let document_max = read_f32(at + 16);
            model.document_bias.push(read_f32(at + 20));
            model.document_mix.push(read_f32(at + 24));
            at += CATEGORY_HEADER;
            model.weights.push(bytes[at..at + dimensions].iter().map(|b| decode_weight(*b, max)).collect());
            at += dimensions;
            model
                .document_weights
                .push(bytes[at..at + dimensions].iter().map(|b| decode_weight(*b, document_max)).collect());
            at += dimensions;
        }
        Ok(model)
    }
}

/// Bytes of the numbers before each category's weights in the model file.
pub(super) const CATEGORY_HEADER: usize = 7 * 4;
