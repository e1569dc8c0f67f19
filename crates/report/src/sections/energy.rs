//! The energy block: `results.json`'s `energy` (the measured window's
//! joules, watts and the per-token figures), each figure shown rounded and
//! kept exact in `data-value` so that it can be checked against the file.

use serde::Serialize;

use super::facts::num;
use crate::read::telemetry::EnergyReport;

/// One figure: its label, the text shown and the exact value.
#[derive(Serialize)]
pub struct Figure {
    /// Element id suffix (`joules`, `avg-watts`, …).
    pub id: &'static str,
    /// What it is.
    pub label: &'static str,
    /// Rounded, with its unit.
    pub text: String,
    /// The value as `results.json` holds it.
    pub value: String,
}

/// The energy section.
#[derive(Serialize)]
pub struct Energy {
    /// Where the watts came from.
    pub source: String,
    /// The figures, in display order.
    pub figures: Vec<Figure>,
    /// Per GPU: key, joules, average and peak watts (rounded).
    pub gpus: Vec<[String; 4]>,
}

/// Builds the section; `None` when the run measured no power.
pub fn build(energy: Option<&EnergyReport>) -> Option<Energy> {
    let e = energy?;
    let figure = |id, label, v: Option<f64>, unit: &str| Figure {
        id,
        label,
        text: v.map_or("-".into(), |v| format!("{} {unit}", num(v))),
        value: v.map_or(String::new(), |v| v.to_string()),
    };
    Some(Energy {
        source: e.source.clone(),
        figures: vec![
            figure(
                "window",
                "measured window (first issue to last completion)",
                Some(e.window_s),
                "s",
            ),
            figure("joules", "energy", Some(e.joules), "J"),
            figure("avg-watts", "average power", Some(e.avg_watts), "W"),
            figure("peak-watts", "peak power", Some(e.peak_watts), "W"),
            figure(
                "joules-per-token",
                "energy per output token",
                e.joules_per_output_token,
                "J",
            ),
            figure(
                "tokens-per-kw",
                "output tokens/s per kW",
                e.tokens_per_s_per_kw,
                "",
            ),
        ],
        gpus: e
            .gpus
            .iter()
            .map(|g| {
                [
                    g.gpu.clone(),
                    num(g.joules),
                    num(g.avg_watts),
                    num(g.peak_watts),
                ]
            })
            .collect(),
    })
}
