//! Charts as inline SVG, drawn on the server: no script, no external asset.
//! Styling comes from classes in `static/app.css` (the CSP allows no inline
//! styles). Floating point is used here for drawing coordinates only; the
//! amounts shown as text stay exact decimals.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::format::grouped;
use crate::portfolio::{Accumulated, PricePoint};

const W: f64 = 640.0;
const H: f64 = 240.0;
const RIGHT: f64 = 16.0;
/// The widest a label character is drawn, in chart units: the labels are
/// 11 units on a desktop and 18 on a phone (where the chart is scaled down,
/// see `app.css`), so the left margin fits the y labels at either size.
const CHAR_WIDTH: f64 = 10.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

fn time(at: &DateTime<Utc>) -> f64 {
    at.timestamp() as f64
}

fn day(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// Maps values into the plot area.
struct Scale {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    /// The left margin: room for the widest y label.
    left: f64,
}

impl Scale {
    fn new(x: (f64, f64), y: (f64, f64), y_label: &impl Fn(f64) -> String) -> Scale {
        let widest = (0..=4)
            .map(|i| {
                y_label(y.0 + (y.1 - y.0) * f64::from(i) / 4.0)
                    .chars()
                    .count()
            })
            .max()
            .unwrap_or(0);
        Scale {
            x0: x.0,
            x1: x.1,
            y0: y.0,
            y1: y.1,
            left: (widest as f64 * CHAR_WIDTH + 12.0).max(40.0),
        }
    }

    fn x(&self, v: f64) -> f64 {
        let left = self.left;
        if self.x1 <= self.x0 {
            return left + (W - left - RIGHT) / 2.0;
        }
        left + (v - self.x0) / (self.x1 - self.x0) * (W - left - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        if self.y1 <= self.y0 {
            return H - BOTTOM;
        }
        H - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)
    }
}

fn frame(
    scale: &Scale,
    y_label: impl Fn(f64) -> String,
    first: &DateTime<Utc>,
    last: &DateTime<Utc>,
    title: &str,
) -> String {
    let left = scale.left;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{title}\">"
    );
    for i in 0..=4 {
        let v = scale.y0 + (scale.y1 - scale.y0) * f64::from(i) / 4.0;
        let y = scale.y(v);
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            left - 6.0,
            y + 4.0,
            y_label(v)
        ));
    }
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{left}\" x2=\"{left}\" y1=\"{TOP}\" y2=\"{}\"/><line class=\"axis\" x1=\"{left}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    ));
    svg.push_str(&format!(
        "<text x=\"{left}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        H - 8.0,
        day(first),
        W - RIGHT,
        H - 8.0,
        day(last)
    ));
    svg
}

/// An empty chart with a note.
fn empty(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} 60\" role=\"img\" aria-label=\"{title}\"><text x=\"{}\" y=\"34\" text-anchor=\"middle\">No purchases yet</text></svg>",
        W / 2.0
    )
}

/// Bitcoin accumulated over time: a step line of the running total.
pub fn accumulation(points: &[Accumulated]) -> String {
    let title = "bitcoin accumulated over time";
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return empty(title);
    };
    let label = |v: f64| format!("{:.4} BTC", v / 1e8);
    let scale = Scale::new(
        (time(&first.at), time(&last.at)),
        (0.0, last.total_sat.max(1) as f64 * 1.05),
        &label,
    );
    let mut svg = frame(&scale, label, &first.at, &last.at, title);
    let mut path = format!("M{:.1} {:.1}", scale.x(time(&first.at)), scale.y(0.0));
    let mut previous = 0.0;
    for p in points {
        let x = scale.x(time(&p.at));
        path.push_str(&format!(
            " L{x:.1} {:.1} L{x:.1} {:.1}",
            scale.y(previous),
            scale.y(p.total_sat as f64)
        ));
        previous = p.total_sat as f64;
    }
    svg.push_str(&format!("<path class=\"line\" d=\"{path}\"/>"));
    for p in points {
        svg.push_str(&format!(
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}: {} sats</title></circle>",
            scale.x(time(&p.at)),
            scale.y(p.total_sat as f64),
            day(&p.at),
            grouped(&p.total_sat.to_string())
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Price paid per purchase (dots and line) against the running average cost
/// (dashed); the legend is HTML next to it (`order.html`), readable at any
/// width.
pub fn prices(points: &[PricePoint], currency: &str) -> String {
    let title = "price paid per purchase and running average cost";
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return empty(title);
    };
    let f = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let lo = points
        .iter()
        .map(|p| f(p.paid).min(f(p.average)))
        .fold(f64::MAX, f64::min);
    let hi = points
        .iter()
        .map(|p| f(p.paid).max(f(p.average)))
        .fold(f64::MIN, f64::max);
    let pad = ((hi - lo) * 0.1).max(hi * 0.02);
    let label = |v: f64| format!("{} {}", currency, grouped(&format!("{v:.0}")));
    let scale = Scale::new(
        (time(&first.at), time(&last.at)),
        ((lo - pad).max(0.0), hi + pad),
        &label,
    );
    let mut svg = frame(&scale, label, &first.at, &last.at, title);
    let line = |value: &dyn Fn(&PricePoint) -> f64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{}{:.1} {:.1}",
                    if i == 0 { "M" } else { " L" },
                    scale.x(time(&p.at)),
                    scale.y(value(p))
                )
            })
            .collect::<String>()
    };
    svg.push_str(&format!(
        "<path class=\"line\" d=\"{}\"/>",
        line(&|p| f(p.paid))
    ));
    svg.push_str(&format!(
        "<path class=\"avg\" d=\"{}\"/>",
        line(&|p| f(p.average))
    ));
    for p in points {
        svg.push_str(&format!(
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\"><title>{}: paid {currency} {}/BTC, average {currency} {}</title></circle>",
            scale.x(time(&p.at)),
            scale.y(f(p.paid)),
            day(&p.at),
            grouped(&p.paid.to_string()),
            grouped(&p.average.to_string())
        ));
    }
    svg.push_str("</svg>");
    svg
}
