//! gVisor hand-off: a bundle annotated `run.oci.handler=gvisor` is run by `runsc`, while the
//! client keeps talking to nucleus (same verbs, flags, state documents and exit codes).
//!
//! nucleus still owns `--root/ID`: its `state.json` (the sandbox pid and start time, so `state`
//! and `list` work unchanged), plus `gvisor.json` (the runsc settings chosen at create, whose
//! presence marks the container as handed off) and `runsc/`, runsc's own `--root`. Every verb
//! on such a container goes to runsc ([`dispatch`], called once from `main.rs`); the status is
//! asked from runsc while the sandbox lives ([`status`], called from `State::status`).
//!
//! See docs/GVISOR.md for the settings and what differs from a native container.

mod exec;
mod lifecycle;
mod runsc;
mod settings;
mod verbs;

use crate::cli::{Cli, Cmd};
use crate::state::{self, State, Status};
use anyhow::Result;
use std::path::Path;

/// The file in `--root/ID` that marks a container handed to runsc.
const MARKER: &str = "gvisor.json";

/// True when container directory `dir` belongs to a runsc sandbox.
pub fn owns(dir: &Path) -> bool {
    dir.join(MARKER).exists()
}

/// Run `cmd` through runsc when it concerns a gVisor container (create/run of a bundle with the
/// handler annotation, any other verb on a container created that way). `Ok(None)`: not ours,
/// the native code handles it.
pub fn dispatch(cli: &Cli, cmd: &Cmd) -> Result<Option<i32>> {
    let root = &cli.root;
    let ours = |id: &str| state::validate_id(id).is_ok() && owns(&state::container_dir(root, id));
    Ok(Some(match cmd {
        Cmd::Create(a) => match settings::requested(cli, &a.bundle)? {
            Some(s) => lifecycle::create(cli, a, &s).map(|_| 0)?,
            None => return Ok(None),
        },
        Cmd::Run {
            create,
            detach,
            keep,
            ..
        } => match settings::requested(cli, &create.bundle)? {
            Some(s) => lifecycle::run(cli, create, &s, *detach, *keep)?,
            None => return Ok(None),
        },
        Cmd::Start { id } if ours(id) => lifecycle::start(root, id).map(|_| 0)?,
        Cmd::Kill { all, id, signal } if ours(id) => {
            lifecycle::kill(root, id, signal.as_deref(), *all).map(|_| 0)?
        }
        Cmd::Delete { force, id } if ours(id) => lifecycle::delete(root, id, *force).map(|_| 0)?,
        Cmd::Exec(a) if ours(&a.id) => exec::exec(root, a)?,
        Cmd::Pause { id } if ours(id) => verbs::pause(root, id, true).map(|_| 0)?,
        Cmd::Resume { id } if ours(id) => verbs::pause(root, id, false).map(|_| 0)?,
        Cmd::Ps {
            format,
            id,
            ps_args,
        } if ours(id) => verbs::ps(root, id, format, ps_args).map(|_| 0)?,
        Cmd::Events {
            stats,
            interval,
            id,
        } if ours(id) => verbs::events(root, id, *stats, interval).map(|_| 0)?,
        Cmd::Update(a) if ours(&a.id) => verbs::update(&a.id).map(|_| 0)?,
        // state and list read state.json; `State::status` asks runsc (see [`status`]).
        _ => return Ok(None),
    }))
}

/// The status of a handed-off container: stopped once the sandbox process is gone (runsc's
/// sandbox exits with the container's init), otherwise what runsc says.
pub fn status(st: &State, dir: &Path) -> Status {
    if !st.alive() {
        return Status::Stopped;
    }
    match runsc::Runsc::load(dir).and_then(|r| r.state(&st.id)) {
        Ok(Some(s)) => s.status,
        Ok(None) => Status::Stopped,
        // runsc unusable: the sandbox lives, so say running rather than stopped (which would
        // let `delete` skip killing it).
        Err(_) => Status::Running,
    }
}
