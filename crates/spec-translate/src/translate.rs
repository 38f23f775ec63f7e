//! Top level of the translation: config.json → Plan.

use crate::error::{Result, TranslateError};
use crate::plan::Plan;
use oci_spec::runtime::Spec;
use std::path::Path;

/// Read and parse `BUNDLE/config.json`.
pub fn load_spec(bundle: &Path) -> Result<Spec> {
    let p = bundle.join("config.json");
    let text = std::fs::read_to_string(&p)
        .map_err(|e| TranslateError::new("", format!("cannot read {}: {}", p.display(), e)))?;
    parse_spec(&text)
}

/// Parse config.json text.
pub fn parse_spec(text: &str) -> Result<Spec> {
    serde_json::from_str(text).map_err(|e| TranslateError::new("", format!("config.json: {e}")))
}

/// Translate a parsed spec into a plan.
pub fn translate(_spec: &Spec, bundle: &Path) -> Result<Plan> {
    Ok(Plan { bundle: bundle.to_path_buf(), ..Default::default() })
}
