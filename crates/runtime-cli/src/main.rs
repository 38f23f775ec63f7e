//! `nucleus`: an OCI runtime with runc's interface.

mod args;
mod cli;
mod commands;
mod gvisor;
mod logging;
mod seccomp_cmd;
mod selfclone;
mod signals;
mod state;
mod timefmt;
mod tty;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Cmd, SeccompCmd};
use std::path::Path;

fn version() {
    println!("nucleus version {}", env!("CARGO_PKG_VERSION"));
    println!("spec: {}", spec_translate::OCI_VERSION);
}

/// Dispatch a verb; `Ok(code)` is the process exit code.
fn dispatch(cli: &Cli) -> anyhow::Result<i32> {
    let Some(cmd) = &cli.cmd else {
        Cli::command().print_help()?;
        return Ok(0);
    };
    // run.oci.handler=gvisor: runsc does the work, nucleus keeps the state (gvisor/mod.rs).
    if let Some(code) = gvisor::dispatch(cli, cmd)? {
        return Ok(code);
    }
    if matches!(cmd, Cmd::Create(_) | Cmd::Run { .. } | Cmd::Exec(_)) {
        selfclone::ensure_sealed(Path::new("/run/.nucleus-exe-lower"))?;
    }
    match cmd {
        Cmd::Create(a) => commands::create::create(cli, a).map(|_| 0),
        Cmd::Start { id } => commands::start::start(&cli.root, id).map(|_| 0),
        Cmd::Run {
            create,
            detach,
            keep,
            no_subreaper,
        } => commands::run::run(cli, create, *detach, *keep, *no_subreaper),
        Cmd::Kill { all, id, signal } => {
            commands::kill::kill(&cli.root, id, signal.as_deref(), *all).map(|_| 0)
        }
        Cmd::Delete { force, id } => commands::delete::delete(&cli.root, id, *force).map(|_| 0),
        Cmd::State { id } => commands::state::state(&cli.root, id).map(|_| 0),
        Cmd::List { format, quiet } => commands::list::list(&cli.root, format, *quiet).map(|_| 0),
        Cmd::Spec { bundle, rootless } => commands::spec::spec(bundle, *rootless).map(|_| 0),
        Cmd::Exec(a) => commands::exec::exec(cli, a),
        Cmd::Pause { id } => commands::pause::pause(&cli.root, id).map(|_| 0),
        Cmd::Resume { id } => commands::pause::resume(&cli.root, id).map(|_| 0),
        Cmd::Ps {
            format,
            id,
            ps_args,
        } => commands::ps::ps(&cli.root, id, format, ps_args).map(|_| 0),
        Cmd::Update(a) => commands::update::update(&cli.root, a).map(|_| 0),
        Cmd::Events {
            stats,
            interval,
            id,
        } => commands::events::events(&cli.root, id, *stats, interval).map(|_| 0),
        Cmd::Features => commands::features::print().map(|_| 0),
        Cmd::Seccomp {
            cmd: SeccompCmd::Compile { arch, format, file },
        } => seccomp_cmd::run(arch.as_deref(), format, file).map(|_| 0),
    }
}

fn main() {
    let argv = args::normalise(std::env::args().collect(), &Cli::command());
    let matches = match Cli::command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind::*;
            if matches!(
                e.kind(),
                DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                std::process::exit(0);
            }
            // One line naming the problem, not clap's multi-line usage dump.
            let msg = e.to_string();
            let first = msg
                .lines()
                .next()
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ");
            eprintln!("nucleus: {first} (see nucleus --help)");
            std::process::exit(1);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "nucleus: {}",
                e.to_string().lines().next().unwrap_or("bad arguments")
            );
            std::process::exit(1);
        }
    };
    if cli.version {
        version();
        return;
    }
    logging::init(cli.log.clone(), &cli.log_format, cli.debug);
    match dispatch(&cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            logging::error(&format!("{e:#}").replace('\n', " "));
            std::process::exit(1);
        }
    }
}
