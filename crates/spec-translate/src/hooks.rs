//! `hooks` → [`plan::Hooks`]: absolute paths, sane timeouts.

use crate::error::{Result, TranslateError};
use crate::plan::{Hook, Hooks};

fn list(kind: &str, hooks: &Option<Vec<oci_spec::runtime::Hook>>) -> Result<Vec<Hook>> {
    let mut out = Vec::new();
    for (i, h) in hooks.iter().flatten().enumerate() {
        let field = format!("hooks.{kind}[{i}]");
        let path = h.path().to_string_lossy().into_owned();
        if !path.starts_with('/') {
            return Err(TranslateError::new(
                format!("{field}.path"),
                format!("{path:?} is not an absolute path"),
            ));
        }
        let timeout = match h.timeout() {
            None => None,
            Some(t) if t > 0 && t <= u32::MAX as i64 => Some(t as u32),
            Some(t) => {
                return Err(TranslateError::new(
                    format!("{field}.timeout"),
                    format!("{t} must be a positive number of seconds"),
                ))
            }
        };
        out.push(Hook {
            path,
            args: h.args().clone().unwrap_or_default(),
            env: h.env().clone().unwrap_or_default(),
            timeout,
        });
    }
    Ok(out)
}

pub fn translate(h: &oci_spec::runtime::Hooks) -> Result<Hooks> {
    Ok(Hooks {
        prestart: list("prestart", h.prestart())?,
        create_runtime: list("createRuntime", h.create_runtime())?,
        create_container: list("createContainer", h.create_container())?,
        start_container: list("startContainer", h.start_container())?,
        poststart: list("poststart", h.poststart())?,
        poststop: list("poststop", h.poststop())?,
    })
}
