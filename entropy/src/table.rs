//! Integer frequency tables and the deterministic quantiser that makes them from floats.

use std::borrow::Borrow;
use std::num::NonZeroU32;

use constriction::stream::model::{DecoderModel, EncoderModel, EntropyModel};

use crate::error::{EntropyError, Result};

/// Fixed-point precision of every probability: frequencies sum to `2^PRECISION`.
pub const PRECISION: usize = 16;
/// The total every frequency table sums to.
pub const TOTAL: u32 = 1 << PRECISION;
/// Largest number of symbols (escape included) in one table; keeps every symbol's share
/// of the fixed-point range meaningful.
pub const MAX_SYMBOLS: usize = (TOTAL / 8) as usize;

/// Supports up to this many symbols are searched by a branchless count (latents mostly have
/// small scales, so most symbols take this path); larger ones by binary search.
const LINEAR_SEARCH_MAX: usize = 32;

/// A table as constriction sees it: a view of its cumulative frequencies,
/// `cdf[0] = 0`, `cdf[n] = TOTAL`, inside one flat array shared by all tables.
///
/// constriction's own categorical model keeps one heap vector per table and binary-searches
/// every lookup; this view shares one array and scans small supports linearly. Measured, the
/// gain is small (a few %): decoding is bound by the ANS state chain, not the search (see the
/// crate README). The coded bits are identical either way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Model<'a> {
    pub(crate) cdf: &'a [u32],
}

impl EntropyModel<PRECISION> for Model<'_> {
    type Symbol = usize;
    type Probability = u32;
}

impl Model<'_> {
    #[inline(always)]
    fn interval(&self, symbol: usize) -> (u32, NonZeroU32) {
        let (left, right) = (self.cdf[symbol], self.cdf[symbol + 1]);
        // Tables are validated to have no zero frequency, so MIN is never used.
        (left, NonZeroU32::new(right - left).unwrap_or(NonZeroU32::MIN))
    }
}

impl EncoderModel<PRECISION> for Model<'_> {
    #[inline(always)]
    fn left_cumulative_and_probability(&self, symbol: impl Borrow<usize>) -> Option<(u32, NonZeroU32)> {
        let s = *symbol.borrow();
        (s + 1 < self.cdf.len()).then(|| self.interval(s))
    }
}

impl DecoderModel<PRECISION> for Model<'_> {
    #[inline(always)]
    fn quantile_function(&self, quantile: u32) -> (usize, u32, NonZeroU32) {
        let n = self.cdf.len() - 1;
        let inner = &self.cdf[1..n]; // right edges of symbols 0 ..= n − 2
        let symbol = if n <= LINEAR_SEARCH_MAX {
            inner.iter().filter(|&&c| c <= quantile).count()
        } else {
            inner.partition_point(|&c| c <= quantile)
        };
        let (left, p) = self.interval(symbol);
        (symbol, left, p)
    }
}

/// A quantised distribution over the integers `offset ..= offset + n - 2`, plus an escape
/// symbol (the last entry) that stands for every integer outside that range.
///
/// Invariants, checked on construction: at least one in-range symbol, at most
/// [`MAX_SYMBOLS`] entries, every frequency ≥ 1, and the frequencies sum to [`TOTAL`].
/// Encoder and decoder use these integers and nothing else, so they agree bit for bit on
/// every platform.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Distribution {
    offset: i32,
    freqs: Vec<u32>,
}

impl Distribution {
    /// Validates and wraps a frequency table whose last entry is the escape symbol.
    pub fn new(offset: i32, freqs: Vec<u32>) -> Result<Self> {
        let bad = |m: String| Err(EntropyError::InvalidTable(m));
        if freqs.len() < 2 {
            return bad(format!("{} entries; need at least one symbol and the escape", freqs.len()));
        }
        if freqs.len() > MAX_SYMBOLS {
            return bad(format!("{} entries exceed the limit of {MAX_SYMBOLS}", freqs.len()));
        }
        if i64::from(offset) + freqs.len() as i64 - 2 > i64::from(i32::MAX) {
            return bad(format!("range starting at {offset} overflows i32"));
        }
        if let Some(i) = freqs.iter().position(|&f| f == 0) {
            return bad(format!("entry {i} has zero frequency"));
        }
        let sum: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
        if sum != u64::from(TOTAL) {
            return bad(format!("frequencies sum to {sum}, not {TOTAL}"));
        }
        Ok(Self { offset, freqs })
    }

    /// Quantises a floating-point PMF over `offset ..` (plus `tail_mass` for everything
    /// outside it) into a table; see [`quantize_pmf`].
    pub fn from_pmf(offset: i32, pmf: &[f64], tail_mass: f64) -> Result<Self> {
        Self::new(offset, quantize_pmf(pmf, tail_mass)?)
    }

    /// The integer that symbol 0 stands for.
    pub fn offset(&self) -> i32 {
        self.offset
    }

    /// The frequencies, escape last.
    pub fn freqs(&self) -> &[u32] {
        &self.freqs
    }

    /// Lowest and highest integers coded without escape.
    pub fn range(&self) -> (i32, i32) {
        (self.offset, self.offset + (self.freqs.len() as i32 - 2))
    }

    /// Appends the cumulative frequencies (`n + 1` values, from 0 to `TOTAL`) to `out`.
    pub(crate) fn push_cdf(&self, out: &mut Vec<u32>) {
        let mut acc = 0;
        out.push(acc);
        for &f in &self.freqs {
            acc += f;
            out.push(acc);
        }
    }
}

/// Turns probabilities into integer frequencies summing to [`TOTAL`], every one ≥ 1.
///
/// `pmf` covers the in-range symbols and `tail_mass` the escape. The method is fully
/// specified so that any implementation reproduces it bit for bit from the same `f64`
/// inputs (only IEEE-754 multiply, add, divide and floor are used):
/// 1. `p_i = x_i / Σx` over all entries (escape last);
/// 2. each entry gets `1 + floor(p_i · (TOTAL − n))`;
/// 3. the `TOTAL − Σ` units left go one each to the entries with the largest fractional
///    parts `p_i · (TOTAL − n) − floor(…)`, ties to the lower index (largest remainder).
pub fn quantize_pmf(pmf: &[f64], tail_mass: f64) -> Result<Vec<u32>> {
    let n = pmf.len() + 1;
    if pmf.is_empty() || n > MAX_SYMBOLS {
        return Err(EntropyError::InvalidPmf(format!("{} symbols; need 1..{MAX_SYMBOLS}", pmf.len())));
    }
    let all = || pmf.iter().copied().chain(std::iter::once(tail_mass));
    if all().any(|p| !p.is_finite() || p < 0.0) {
        return Err(EntropyError::InvalidPmf("negative or non-finite probability".into()));
    }
    let sum: f64 = all().sum();
    if sum <= 0.0 {
        return Err(EntropyError::InvalidPmf("probabilities sum to zero".into()));
    }
    let budget = f64::from(TOTAL - n as u32);
    let mut freqs = Vec::with_capacity(n);
    let mut fracs = Vec::with_capacity(n);
    for (i, p) in all().enumerate() {
        let scaled = p / sum * budget;
        let whole = scaled.floor();
        freqs.push(1 + whole as u32);
        fracs.push((scaled - whole, i));
    }
    let assigned: i64 = freqs.iter().map(|&f| i64::from(f)).sum();
    let mut left = i64::from(TOTAL) - assigned;
    // Largest remainder first; `total_cmp` and the index make the order total and portable.
    fracs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut k = 0;
    while left > 0 {
        freqs[fracs[k % n].1] += 1;
        left -= 1;
        k += 1;
    }
    // Rounding can overshoot by a unit or two when Σp_i exceeds 1 by an ulp: take them back
    // from the smallest-remainder entries that can spare them.
    let mut k = n;
    while left < 0 && k > 0 {
        k -= 1;
        let i = fracs[k].1;
        if freqs[i] > 1 {
            freqs[i] -= 1;
            left += 1;
        }
    }
    Ok(freqs)
}
