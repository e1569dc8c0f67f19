//! The page: the sections of each run (and the comparison) rendered by the
//! `report.html` template with minijinja; the stylesheet is inlined, the
//! charts are inline SVG, so the file needs nothing but itself.

use minijinja::{context, Environment};

use crate::read::Run;
use crate::sections::{compare, facts::Facts, RunView};
use crate::ReportError;

const PAGE: &str = include_str!("../templates/report.html");
const STYLE: &str = include_str!("../templates/report.css");

/// Renders the report of `runs` (one section per run, a comparison with more than one).
pub fn render(runs: &[Run]) -> Result<String, ReportError> {
    let facts: Vec<Facts> = runs.iter().map(Facts::of).collect();
    let views: Vec<RunView> = runs
        .iter()
        .zip(&facts)
        .map(|(r, f)| RunView::new(r, f))
        .collect();
    let pairs: Vec<(&Run, &Facts)> = runs.iter().zip(&facts).collect();
    let comparison = compare::build(&pairs);
    let mut env = Environment::new();
    env.add_template("report.html", PAGE)?;
    env.add_template("report.css", STYLE)?;
    let page = env.get_template("report.html")?.render(context! {
        runs => views,
        comparison => comparison,
        version => env!("CARGO_PKG_VERSION"),
        accuracy_target => format!("{:.4}", eval::accuracy_target()),
    })?;
    Ok(page)
}
