//! Builds a large test image by tiling photos (for memory and speed measurements of tiled
//! coding): `cargo run --release -p lic-codec --example mosaic -- OUT.png WIDTH HEIGHT IMG...`
//! Photos are laid out in raster order, mirrored on alternate columns/rows so the seams
//! between them do not form hard edges.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, w, h, photos @ ..] = args.as_slice() else {
        return Err("usage: mosaic OUT.png WIDTH HEIGHT IMG...".into());
    };
    let (w, h): (u32, u32) = (w.parse()?, h.parse()?);
    let photos: Vec<image::RgbImage> =
        photos.iter().map(|p| image::open(p).map(|i| i.into_rgb8())).collect::<Result<_, _>>()?;
    let first = photos.first().ok_or("no photos")?;
    let (pw, ph) = first.dimensions();
    let mut img = image::RgbImage::new(w, h);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (tx, ty) = (x / pw, y / ph);
        let photo = &photos[((ty * (w.div_ceil(pw)) + tx) as usize) % photos.len()];
        let (mut sx, mut sy) = (x % pw, y % ph);
        if tx % 2 == 1 {
            sx = pw - 1 - sx;
        }
        if ty % 2 == 1 {
            sy = ph - 1 - sy;
        }
        let (sx, sy) = (sx.min(photo.width() - 1), sy.min(photo.height() - 1));
        *px = *photo.get_pixel(sx, sy);
    }
    img.save(out)?;
    Ok(())
}
