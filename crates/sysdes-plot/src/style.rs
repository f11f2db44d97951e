//! Colours, fonts, sizes, and rendering a [`Figure`] to SVG text or PNG
//! bytes. The font is bundled and registered with plotters once, so PNG
//! text needs no system font library.

use std::sync::OnceLock;

use plotters::prelude::*;
#[cfg(not(target_arch = "wasm32"))]
use plotters::style::FontStyle;

use crate::chart::Figure;

/// DejaVu Sans (Bitstream Vera license, see `fonts/LICENSE-DejaVu.txt`).
#[cfg(not(target_arch = "wasm32"))]
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The font family every text element uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"),
/// ordered so the first colours are the most distinct on white; yellow is
/// left out because it is hard to see on white.
pub(crate) const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
];

/// The palette colour for series `i`, cycling.
pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The palette as CSS hex strings, for Vega-Lite specs.
pub(crate) fn palette_hex() -> Vec<String> {
    PALETTE
        .iter()
        .map(|c| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2))
        .collect()
}

/// The size of an SVG figure in CSS pixels; PNGs are drawn at twice this.
pub(crate) const SIZE: (u32, u32) = (800, 500);
/// The PNG scale factor (sizes, strokes and fonts are multiplied by it).
pub(crate) const PNG_SCALE: u32 = 2;

/// Registers the bundled font with plotters (once per process).
pub(crate) fn register_font() -> Result<(), String> {
    static DONE: OnceLock<bool> = OnceLock::new();
    // plotters has no font registry on wasm32 (sysdes-wasm draws only the
    // topology, which is plain SVG text), so the crate still builds there.
    #[cfg(not(target_arch = "wasm32"))]
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, FONT).is_ok()
    });
    #[cfg(target_arch = "wasm32")]
    let ok = *DONE.get_or_init(|| false);
    if ok {
        Ok(())
    } else {
        Err("the bundled font could not be loaded".to_string())
    }
}

/// Renders `figure` as SVG text.
pub(crate) fn render_svg(figure: &Figure) -> Result<String, String> {
    register_font()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        figure.draw(&root, 1.0)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text)
}

/// Renders `figure` as an RGB bitmap, returning `(width, height, pixels)`.
pub(crate) fn render_rgb(figure: &Figure) -> Result<(u32, u32, Vec<u8>), String> {
    register_font()?;
    let (w, h) = (SIZE.0 * PNG_SCALE, SIZE.1 * PNG_SCALE);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        figure.draw(&root, f64::from(PNG_SCALE))?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok((w, h, buf))
}

/// Encodes an RGB bitmap as PNG.
pub(crate) fn encode_png(w: u32, h: u32, rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Viridis (perceptually uniform, readable with colour-vision deficiency),
/// sampled at nine stops and interpolated linearly; `t` in `0..=1`.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (0x44, 0x01, 0x54),
        (0x48, 0x28, 0x78),
        (0x3E, 0x4A, 0x89),
        (0x31, 0x68, 0x8E),
        (0x26, 0x82, 0x8E),
        (0x1F, 0x9E, 0x89),
        (0x35, 0xB7, 0x79),
        (0x6D, 0xCD, 0x59),
        (0xFD, 0xE7, 0x25),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A number for an axis tick or a label: integers without decimals, others
/// with up to three significant decimals, large numbers with thousands
/// separators.
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    let a = v.abs();
    if a >= 1000.0 || (v.fract() == 0.0 && a < 1e15) {
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (k, ch) in digits.chars().enumerate() {
            if k > 0 && (digits.len() - k) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        return if n < 0 { format!("-{out}") } else { out };
    }
    let decimals = if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else if a >= 1.0 {
        3
    } else if a == 0.0 {
        0
    } else {
        (3 - a.log10().floor() as i32).clamp(0, 9) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(1200.0), "1,200");
        assert_eq!(fmt_num(5.0), "5");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(12.345), "12.35");
        assert_eq!(fmt_num(0.001234), "0.001234");
        assert_eq!(fmt_num(-2500.0), "-2,500");
    }

    #[test]
    fn viridis_ends_at_its_stops() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }
}
