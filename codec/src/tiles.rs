//! Tiled coding for images too large to code in one piece (bitstream/FORMAT.md, "Tiling").
//!
//! The image is cut into a grid of `tile_width × tile_height` cells in raster order; each
//! tile codes its cell extended by `overlap` pixels past every inner edge, as an independent
//! image. The decoder blends the overlaps with linear ramps that sum to one, so seams vanish
//! and every tile can be decoded on its own (in parallel, in bounded memory).

use lic_bitstream::Tiling;

/// Images above this many pixels are tiled unless the caller says otherwise: memory for
/// the transforms grows with the tile, not with the image.
pub const AUTO_TILE_PIXELS: u64 = 1 << 22;
/// Default tile for automatic tiling. The overlap is small on purpose: overlapping pixels are
/// coded twice. On Kodak with 512-pixel tiles, overlap 32 cost 0.17 dB (BD-PSNR) and overlap 0
/// cost 0.02 dB against untiled coding; 8 at 1024 codes 1.6% extra area.
pub const DEFAULT_TILING: Tiling = Tiling { tile_width: 1024, tile_height: 1024, overlap: 8 };

/// One tile: its cell and the extended area it codes (half-open pixel ranges).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Cell, `[x0, x1)`.
    pub cell_x: (u32, u32),
    /// Cell, `[y0, y1)`.
    pub cell_y: (u32, u32),
    /// Coded area, `[x0, x1)`: the cell plus the overlap past inner edges.
    pub ext_x: (u32, u32),
    /// Coded area, `[y0, y1)`.
    pub ext_y: (u32, u32),
}

impl Tile {
    /// Width and height of the coded area.
    pub fn ext_size(&self) -> (u32, u32) {
        (self.ext_x.1 - self.ext_x.0, self.ext_y.1 - self.ext_y.0)
    }
}

fn spans(len: u32, cell: u32, overlap: u32) -> Vec<((u32, u32), (u32, u32))> {
    (0..len.div_ceil(cell))
        .map(|i| {
            let (a, b) = (i * cell, ((i + 1) * cell).min(len));
            ((a, b), (a.saturating_sub(overlap), (b + overlap).min(len)))
        })
        .collect()
}

/// The tiles of a `width × height` image, in raster order (the chunk tile index).
pub fn layout(width: u32, height: u32, t: &Tiling) -> Vec<Tile> {
    let ov = u32::from(t.overlap);
    let xs = spans(width, t.tile_width, ov);
    let ys = spans(height, t.tile_height, ov);
    ys.iter()
        .flat_map(|&(cell_y, ext_y)| {
            xs.iter().map(move |&(cell_x, ext_x)| Tile { cell_x, cell_y, ext_x, ext_y })
        })
        .collect()
}

/// Blending weight along one axis of pixel `p` in a tile whose cell is `cell` and coded
/// span `ext`: 1 inside, a linear ramp across the `2·overlap` band around each inner edge
/// (the neighbour's ramp is its complement, so the two sum to exactly one), 0 outside.
pub fn axis_weight(p: u32, cell: (u32, u32), ext: (u32, u32), overlap: u32) -> f32 {
    if overlap == 0 {
        return if (cell.0..cell.1).contains(&p) { 1.0 } else { 0.0 };
    }
    let band = 2.0 * overlap as f32;
    let c = p as f32 + 0.5;
    let mut w = 1.0f32;
    if ext.0 < cell.0 {
        // Inner left/top edge at cell.0; the band is [cell.0 − ov, cell.0 + ov).
        w = w.min(((c - (cell.0 - overlap) as f32) / band).clamp(0.0, 1.0));
    }
    if ext.1 > cell.1 {
        w = w.min((((cell.1 + overlap) as f32 - c) / band).clamp(0.0, 1.0));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image_and_weights_sum_to_one() {
        let t = Tiling { tile_width: 128, tile_height: 64, overlap: 16 };
        let (w, h) = (300, 150);
        let tiles = layout(w, h, &t);
        assert_eq!(tiles.len(), 3 * 3);
        for y in 0..h {
            for x in 0..w {
                let sum: f32 = tiles
                    .iter()
                    .filter(|t| (t.ext_x.0..t.ext_x.1).contains(&x) && (t.ext_y.0..t.ext_y.1).contains(&y))
                    .map(|t| axis_weight(x, t.cell_x, t.ext_x, 16) * axis_weight(y, t.cell_y, t.ext_y, 16))
                    .sum();
                assert!((sum - 1.0).abs() < 1e-6, "({x}, {y}): weights sum to {sum}");
            }
        }
    }

    #[test]
    fn no_overlap_means_disjoint_cells() {
        let t = Tiling { tile_width: 64, tile_height: 64, overlap: 0 };
        let tiles = layout(100, 64, &t);
        assert_eq!(tiles[0].ext_x, (0, 64));
        assert_eq!(tiles[1].ext_x, (64, 100));
        assert_eq!(axis_weight(63, tiles[0].cell_x, tiles[0].ext_x, 0), 1.0);
        assert_eq!(axis_weight(64, tiles[0].cell_x, tiles[0].ext_x, 0), 0.0);
    }
}
