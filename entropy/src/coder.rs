//! Batch encoding and decoding of integer symbols with a set of integer tables.

use std::convert::Infallible;

use constriction::stream::model::UniformModel;
use constriction::stream::stack::DefaultAnsCoder;
use constriction::stream::{Decode, Encode};

use crate::error::{EntropyError, Result};
use crate::table::{Distribution, Model};

/// Bits of an escaped value's payload sent per uniform symbol.
const RAW_CHUNK_BITS: u32 = 16;

type Uniform = UniformModel<u32, 24>;

/// Where one table lives in the flat CDF array, and the values it codes directly.
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: u32,
    end: u32,
    lo: i32,
    hi: i32,
}

impl Entry {
    /// The escape is the last symbol: the CDF has one more entry than there are symbols.
    fn escape(&self) -> usize {
        (self.end - self.start - 2) as usize
    }
}

/// A set of integer tables, ready to code: table `t` codes the symbols whose table index is
/// `t` (a scale bin for the Gaussian conditional, a channel for the factorized prior).
///
/// Streams are constriction's ANS with 32-bit words, written as little-endian bytes. An
/// in-range value `v` of table `t` is the symbol `v − offset_t`; any other `i32` is the
/// escape symbol followed by, all uniform: a sign (1 of 2), the bit length `L` of
/// `m = distance beyond the range` (1 of 32, as `L − 1`), then the `L − 1` bits of `m` below
/// its top bit, low 16 first. So every `i32` is codable and nothing is clipped.
#[derive(Clone, Debug)]
pub struct TableSet {
    dists: Vec<Distribution>,
    /// Every table's CDF, back to back, so a lookup is one load from `entries` and one
    /// from here.
    cdfs: Vec<u32>,
    entries: Vec<Entry>,
    sign: Uniform,
    length: Uniform,
    chunk: Uniform,
}

impl TableSet {
    /// Builds coders for the given tables (at most 65,536 of them).
    pub fn new(dists: Vec<Distribution>) -> Result<Self> {
        if dists.is_empty() || dists.len() > usize::from(u16::MAX) + 1 {
            return Err(EntropyError::InvalidTable(format!("{} tables; need 1..=65536", dists.len())));
        }
        let mut cdfs = Vec::new();
        let mut entries = Vec::with_capacity(dists.len());
        for d in &dists {
            let start = cdfs.len();
            d.push_cdf(&mut cdfs);
            let (lo, hi) = d.range();
            entries.push(Entry { start: start as u32, end: cdfs.len() as u32, lo, hi });
        }
        Ok(Self {
            dists,
            cdfs,
            entries,
            sign: Uniform::new(2),
            length: Uniform::new(32),
            chunk: Uniform::new(1 << RAW_CHUNK_BITS),
        })
    }

    /// The standard Gaussian conditional tables of a scale ladder.
    pub fn gaussian(scales: &crate::ScaleTable) -> Result<Self> {
        Self::new(scales.distributions()?)
    }

    #[inline(always)]
    fn model(&self, e: &Entry) -> Model<'_> {
        Model { cdf: &self.cdfs[e.start as usize..e.end as usize] }
    }

    /// The tables, in index order.
    pub fn distributions(&self) -> &[Distribution] {
        &self.dists
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.dists.len()
    }

    /// Always false: a set has at least one table.
    pub fn is_empty(&self) -> bool {
        self.dists.is_empty()
    }

    fn check(&self, n: usize, tables: &[u16]) -> Result<()> {
        if n != tables.len() {
            return Err(EntropyError::InvalidRequest(format!(
                "{n} symbols but {} table indices",
                tables.len()
            )));
        }
        if let Some(&t) = tables.iter().find(|&&t| usize::from(t) >= self.dists.len()) {
            return Err(EntropyError::InvalidRequest(format!(
                "table index {t} of {} tables",
                self.dists.len()
            )));
        }
        Ok(())
    }

    /// Encodes `symbols[i]` with table `tables[i]`, in one call.
    pub fn encode(&self, symbols: &[i32], tables: &[u16]) -> Result<Vec<u8>> {
        encode_parts(&[(self, symbols, tables)])
    }

    /// Pushes `symbols` (table `tables[i]` each) onto `ans`, last first, so that a decoder
    /// pops them in their natural order.
    fn push(&self, ans: &mut DefaultAnsCoder, symbols: &[i32], tables: &[u16]) -> Result<()> {
        self.check(symbols.len(), tables)?;
        let fail = |e: constriction::CoderError<constriction::DefaultEncoderFrontendError, Infallible>| {
            EntropyError::InvalidRequest(e.to_string())
        };
        // ANS is a stack: push in reverse so the decoder pops in natural order. Within one
        // escaped value the decoder reads sign, length, chunks; so push them reversed too.
        for (&v, &t) in symbols.iter().zip(tables).rev() {
            let e = &self.entries[usize::from(t)];
            let (lo, hi, esc) = (e.lo, e.hi, e.escape());
            let model = self.model(e);
            if (lo..=hi).contains(&v) {
                ans.encode_symbol((v - lo) as usize, model).map_err(fail)?;
                continue;
            }
            let (negative, m) = if v < lo {
                (true, (i64::from(lo) - i64::from(v)) as u64)
            } else {
                (false, (i64::from(v) - i64::from(hi)) as u64)
            };
            let len = 64 - m.leading_zeros(); // 1 ..= 32, as m ≤ 2^32 − 1
            let rest = m - (1u64 << (len - 1));
            let chunks = (len - 1).div_ceil(RAW_CHUNK_BITS);
            for c in (0..chunks).rev() {
                let bits = (rest >> (c * RAW_CHUNK_BITS)) & ((1 << RAW_CHUNK_BITS) - 1);
                ans.encode_symbol(bits as usize, self.chunk).map_err(fail)?;
            }
            ans.encode_symbol((len - 1) as usize, self.length).map_err(fail)?;
            ans.encode_symbol(usize::from(negative), self.sign).map_err(fail)?;
            ans.encode_symbol(esc, model).map_err(fail)?;
        }
        Ok(())
    }

    /// Decodes as many symbols as `tables` has entries.
    pub fn decode(&self, bytes: &[u8], tables: &[u16]) -> Result<Vec<i32>> {
        let mut out = vec![0; tables.len()];
        self.decode_into(bytes, tables, &mut out)?;
        Ok(out)
    }

    /// Decodes into `out` (`out.len() == tables.len()`), checking that the stream is used up
    /// exactly: a stream that ends early, runs long or was made with other tables is an error.
    pub fn decode_into(&self, bytes: &[u8], tables: &[u16], out: &mut [i32]) -> Result<()> {
        self.check(out.len(), tables)?;
        let mut stream = self.stream(bytes)?;
        stream.decode_into(tables, out)?;
        stream.finish()
    }

    /// A decoder that reads one stream in several calls, for streams whose later tables
    /// depend on the symbols decoded before them (a checkerboard's second half). The symbols
    /// come out in the order [`TableSet::encode`] got them.
    pub fn stream(&self, bytes: &[u8]) -> Result<StreamDecoder<'_>> {
        let corrupt = |m: &str| EntropyError::CorruptStream(m.to_owned());
        if bytes.len() % 4 != 0 {
            return Err(corrupt("length is not a multiple of 4 bytes"));
        }
        let words: Vec<u32> =
            bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let ans =
            DefaultAnsCoder::from_compressed(words).map_err(|_| corrupt("stream ends in a zero word"))?;
        Ok(StreamDecoder { set: self, ans })
    }

    /// The information content, in bits, of coding `symbols` with these tables: the size an
    /// ideal coder would reach with exactly these integer probabilities.
    pub fn information_bits(&self, symbols: &[i32], tables: &[u16]) -> Result<f64> {
        self.check(symbols.len(), tables)?;
        let total = f64::from(crate::TOTAL);
        let mut bits = 0.0;
        for (&v, &t) in symbols.iter().zip(tables) {
            let t = usize::from(t);
            let e = &self.entries[t];
            let (lo, hi, esc) = (e.lo, e.hi, e.escape());
            let freqs = self.dists[t].freqs();
            if (lo..=hi).contains(&v) {
                bits -= (f64::from(freqs[(v - lo) as usize]) / total).log2();
            } else {
                let m = if v < lo { i64::from(lo) - i64::from(v) } else { i64::from(v) - i64::from(hi) };
                let len = 64 - (m as u64).leading_zeros();
                let chunks = (len - 1).div_ceil(RAW_CHUNK_BITS);
                bits +=
                    -(f64::from(freqs[esc]) / total).log2() + 1.0 + 5.0 + f64::from(chunks * RAW_CHUNK_BITS);
            }
        }
        Ok(bits)
    }
}

/// Encodes several parts, each with its own table set, into **one** stream: a decoder opens it
/// with [`TableSet::stream`] and reads the parts in order, each with its own set
/// ([`StreamDecoder::decode_with`]). One stream instead of one per part saves each part's
/// final coder state (a few bytes) and, in a container, a chunk-table entry per part, which
/// matters for small pictures such as video frames.
pub fn encode_parts(parts: &[(&TableSet, &[i32], &[u16])]) -> Result<Vec<u8>> {
    let mut ans = DefaultAnsCoder::new();
    // ANS is a stack: the last part goes in first.
    for &(set, symbols, tables) in parts.iter().rev() {
        set.push(&mut ans, symbols, tables)?;
    }
    let words = ans.into_compressed().map_err(|e| EntropyError::InvalidRequest(format!("{e:?}")))?;
    Ok(words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// One stream being decoded in parts ([`TableSet::stream`]).
pub struct StreamDecoder<'t> {
    set: &'t TableSet,
    ans: DefaultAnsCoder,
}

impl StreamDecoder<'_> {
    /// Decodes the next `out.len()` symbols (`out.len() == tables.len()`).
    pub fn decode_into(&mut self, tables: &[u16], out: &mut [i32]) -> Result<()> {
        self.decode_into_with(self.set, tables, out)
    }

    /// Decodes the next `tables.len()` symbols with another table set: the next part of a
    /// stream written by [`encode_parts`].
    pub fn decode_with(&mut self, set: &TableSet, tables: &[u16]) -> Result<Vec<i32>> {
        let mut out = vec![0; tables.len()];
        self.decode_into_with(set, tables, &mut out)?;
        Ok(out)
    }

    fn decode_into_with(&mut self, set: &TableSet, tables: &[u16], out: &mut [i32]) -> Result<()> {
        set.check(out.len(), tables)?;
        let corrupt = |m: &str| EntropyError::CorruptStream(m.to_owned());
        let ans = &mut self.ans;
        for (slot, &t) in out.iter_mut().zip(tables) {
            let e = &set.entries[usize::from(t)];
            let (lo, hi, esc) = (e.lo, e.hi, e.escape());
            let s = ans.decode_symbol(set.model(e)).map_err(|e| corrupt(&e.to_string()))?;
            if s != esc {
                *slot = lo + s as i32;
                continue;
            }
            let negative = ans.decode_symbol(set.sign).map_err(|e| corrupt(&e.to_string()))? == 1;
            let len = ans.decode_symbol(set.length).map_err(|e| corrupt(&e.to_string()))? as u32 + 1;
            let mut rest = 0u64;
            for c in 0..(len - 1).div_ceil(RAW_CHUNK_BITS) {
                let bits = ans.decode_symbol(set.chunk).map_err(|e| corrupt(&e.to_string()))? as u64;
                rest |= bits << (c * RAW_CHUNK_BITS);
            }
            if rest >> (len - 1) != 0 {
                return Err(corrupt("escape payload has more bits than its length"));
            }
            let m = (1u64 << (len - 1)) + rest;
            let v = if negative { i64::from(lo) - m as i64 } else { i64::from(hi) + m as i64 };
            *slot = i32::try_from(v).map_err(|_| corrupt("escaped value outside i32"))?;
        }
        Ok(())
    }

    /// As [`StreamDecoder::decode_into`], into a new vector.
    pub fn decode(&mut self, tables: &[u16]) -> Result<Vec<i32>> {
        let mut out = vec![0; tables.len()];
        self.decode_into(tables, &mut out)?;
        Ok(out)
    }

    /// Ends the stream, checking it was used up exactly.
    pub fn finish(self) -> Result<()> {
        if !self.ans.is_empty() {
            return Err(EntropyError::CorruptStream("data left over after the last symbol".into()));
        }
        Ok(())
    }
}
