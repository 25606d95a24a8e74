//! Embedding lic: encode an image with the built-in model, decode it, report size and PSNR.
//! `cargo run --release -p lic-codec --example embed -- photo.png 4`
use lic_codec::{Backend, Decoder, Encoder, Model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: embed IMAGE [QUALITY]")?;
    let quality: f64 = args.next().map_or(Ok(4.0), |q| q.parse())?;
    let model = Model::embedded(Backend::Auto)?;
    let image = image::open(&path)?;
    let bytes = Encoder::new(&model).quality(quality)?.encode(&image)?;
    let decoded = Decoder::new(&model).decode(&bytes)?;
    let (a, b) = (image.to_rgb8(), decoded.to_rgb8());
    let se: f64 = a.iter().zip(b.iter()).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    let psnr = 10.0 * (255.0f64.powi(2) * a.len() as f64 / se).log10();
    let bpp = bytes.len() as f64 * 8.0 / f64::from(image.width() * image.height());
    println!("{path}: {} bytes, {bpp:.4} bpp, {psnr:.2} dB", bytes.len());
    Ok(())
}
