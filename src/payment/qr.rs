//! QR symbols for payment payloads: error correction M, a quiet zone of four
//! modules, and for the Swiss QR-bill the Swiss cross in the centre.

use qrcode::{EcLevel, QrCode};

use super::error::Error;

/// Quiet zone around the symbol, in modules.
const QUIET: usize = 4;

/// A rendered QR symbol.
#[derive(Debug, Clone)]
pub struct QrImage {
    width: usize,
    dark: Vec<bool>,
    swiss_cross: bool,
}

impl QrImage {
    /// Encodes `payload` at error correction M; `swiss_cross` overlays the
    /// cross that identifies a Swiss QR-bill.
    pub fn new(payload: &str, swiss_cross: bool) -> Result<QrImage, Error> {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
            .map_err(|e| Error::Qr(e.to_string()))?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Ok(QrImage {
            width,
            dark,
            swiss_cross,
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at (x, y) of the symbol is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// An SVG image `size` pixels wide, quiet zone included.
    pub fn to_svg(&self, size: u32) -> String {
        let total = self.width + 2 * QUIET;
        let mut path = String::with_capacity(self.width * self.width * 4);
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    path.push_str(&format!(
                        "M{} {}h{}v1h-{}z",
                        start + QUIET,
                        y + QUIET,
                        x - start,
                        x - start
                    ));
                } else {
                    x += 1;
                }
            }
        }
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {total} {total}\" width=\"{size}\" height=\"{size}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"payment QR code\">\
             <rect width=\"{total}\" height=\"{total}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/>"
        );
        if self.swiss_cross {
            svg.push_str(&self.cross_svg(total as f64));
        }
        svg.push_str("</svg>");
        svg
    }

    /// The Swiss cross: 7 mm on a 46 mm symbol, a black square with a white
    /// border and a white cross in the flag's proportions.
    fn cross_svg(&self, total: f64) -> String {
        let side = self.width as f64 * 7.0 / 46.0;
        let centre = total / 2.0;
        let outer = side;
        let black = side * 0.86;
        let arm_len = black * 0.625;
        let arm_w = black * 0.1875;
        format!(
            "<rect x=\"{:.3}\" y=\"{:.3}\" width=\"{outer:.3}\" height=\"{outer:.3}\" fill=\"#fff\"/>\
             <rect x=\"{:.3}\" y=\"{:.3}\" width=\"{black:.3}\" height=\"{black:.3}\" fill=\"#000\"/>\
             <rect x=\"{:.3}\" y=\"{:.3}\" width=\"{arm_w:.3}\" height=\"{arm_len:.3}\" fill=\"#fff\"/>\
             <rect x=\"{:.3}\" y=\"{:.3}\" width=\"{arm_len:.3}\" height=\"{arm_w:.3}\" fill=\"#fff\"/>",
            centre - outer / 2.0,
            centre - outer / 2.0,
            centre - black / 2.0,
            centre - black / 2.0,
            centre - arm_w / 2.0,
            centre - arm_len / 2.0,
            centre - arm_len / 2.0,
            centre - arm_w / 2.0,
        )
    }

    /// Pixel colours (true = dark) at `scale` pixels per module, quiet zone
    /// and Swiss cross included: the raster for PNG output.
    pub fn raster(&self, scale: usize) -> (usize, Vec<bool>) {
        let total = (self.width + 2 * QUIET) * scale;
        let mut pixels = vec![false; total * total];
        for y in 0..self.width {
            for x in 0..self.width {
                if self.is_dark(x, y) {
                    for dy in 0..scale {
                        let row = (y + QUIET) * scale + dy;
                        let from = row * total + (x + QUIET) * scale;
                        pixels[from..from + scale].fill(true);
                    }
                }
            }
        }
        if self.swiss_cross {
            let module = scale as f64;
            let side = self.width as f64 * 7.0 / 46.0 * module;
            let centre = total as f64 / 2.0;
            let black = side * 0.86;
            let arm_len = black * 0.625;
            let arm_w = black * 0.1875;
            let inside = |v: f64, c: f64, half: f64| (v - c).abs() <= half;
            for py in 0..total {
                for px in 0..total {
                    let (fx, fy) = (px as f64 + 0.5, py as f64 + 0.5);
                    if !(inside(fx, centre, side / 2.0) && inside(fy, centre, side / 2.0)) {
                        continue;
                    }
                    let in_black =
                        inside(fx, centre, black / 2.0) && inside(fy, centre, black / 2.0);
                    let in_cross = (inside(fx, centre, arm_w / 2.0)
                        && inside(fy, centre, arm_len / 2.0))
                        || (inside(fx, centre, arm_len / 2.0) && inside(fy, centre, arm_w / 2.0));
                    pixels[py * total + px] = in_black && !in_cross;
                }
            }
        }
        (total, pixels)
    }
}

impl QrImage {
    /// A greyscale PNG at `scale` pixels per module, quiet zone included.
    pub fn to_png(&self, scale: usize) -> Result<Vec<u8>, Error> {
        let (side, pixels) = self.raster(scale.max(1));
        let bytes: Vec<u8> = pixels
            .iter()
            .map(|dark| if *dark { 0 } else { 255 })
            .collect();
        let mut out = Vec::new();
        {
            let side = u32::try_from(side).map_err(|e| Error::Qr(e.to_string()))?;
            let mut encoder = png::Encoder::new(&mut out, side, side);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder
                .write_header()
                .map_err(|e| Error::Qr(e.to_string()))?;
            writer
                .write_image_data(&bytes)
                .map_err(|e| Error::Qr(e.to_string()))?;
        }
        Ok(out)
    }
}

/// Renders a payload for a terminal, two modules per character cell, light
/// modules drawn as blocks (for the usual light-on-dark terminal).
pub fn render_terminal(image: &QrImage) -> String {
    let total = image.width + 2 * QUIET;
    let dark = |x: usize, y: usize| x >= QUIET && y >= QUIET && image.is_dark(x - QUIET, y - QUIET);
    let mut out = String::new();
    for row in (0..total).step_by(2) {
        for x in 0..total {
            let top = !dark(x, row);
            let bottom = row + 1 < total && !dark(x, row + 1);
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    out
}
