//! runc-style logging: `--log FILE`, `--log-format text|json`. containerd reads the `msg` of
//! the last `"level":"error"` JSON line of the log file as the error of a failed call.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Logger {
    file: Option<PathBuf>,
    json: bool,
    debug: bool,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

pub fn init(file: Option<PathBuf>, format: &str, debug: bool) {
    let _ = LOGGER.set(Logger {
        file,
        json: format == "json",
        debug,
    });
}

fn emit(level: &str, msg: &str) {
    let Some(l) = LOGGER.get() else {
        eprintln!("{msg}");
        return;
    };
    let time = crate::timefmt::now_rfc3339();
    let line = if l.json {
        serde_json::json!({"level": level, "msg": msg, "time": time}).to_string()
    } else {
        format!("time=\"{time}\" level={level} msg={msg:?}")
    };
    match &l.file {
        Some(p) => {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
            {
                let _ = writeln!(f, "{line}");
            }
        }
        None if l.json => eprintln!("{line}"),
        None => {}
    }
}

/// An error: always one line on stderr, in runc's text form (`time=… level=error msg="…"`)
/// or as a JSON line with --log-format json, plus a line in the --log file when there is one.
pub fn error(msg: &str) {
    let text = || {
        eprintln!(
            "time=\"{}\" level=error msg={msg:?}",
            crate::timefmt::now_rfc3339()
        )
    };
    match LOGGER.get() {
        Some(l) if l.file.is_none() && l.json => emit("error", msg),
        Some(l) if l.file.is_none() => text(),
        Some(_) => {
            text();
            emit("error", msg);
        }
        None => eprintln!("nucleus: {msg}"),
    }
}

pub fn warn(msg: &str) {
    emit("warning", msg);
    if LOGGER.get().map(|l| l.file.is_some()).unwrap_or(true) {
        return;
    }
    eprintln!("nucleus: warning: {msg}");
}

pub fn debug(msg: &str) {
    if LOGGER.get().map(|l| l.debug).unwrap_or(false) {
        emit("debug", msg);
    }
}
