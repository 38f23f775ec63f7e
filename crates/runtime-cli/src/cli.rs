//! runc's command line, flag for flag (see ../shared/fixtures/client-calls.txt).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "nucleus",
    disable_version_flag = true,
    about = "An OCI container runtime: runc's interface, layered isolation, fast."
)]
pub struct Cli {
    /// Root directory for container state.
    #[arg(long, global = true, default_value = "/run/nucleus")]
    pub root: PathBuf,
    /// Write logs to this file instead of stderr.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long = "log-format", global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Enable debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Use the systemd cgroup driver.
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless mode: auto, true or false.
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "true", "false"])]
    pub rootless: String,
    /// Ignored, for runc compatibility (criu path).
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
    /// Print the version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CreateArgs {
    /// Path to the bundle directory.
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket that receives the pty master of a terminal container.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// File to write the container's init pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root.
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N extra fds (3..3+N) to the container.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container id.
    pub id: String,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a container (it waits for `start`).
    Create(CreateArgs),
    /// Start a created container.
    Start { id: String },
    /// Create and start a container.
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Detach from the container's process.
        #[arg(short = 'd', long)]
        detach: bool,
        /// Keep the container's state after it exits.
        #[arg(long)]
        keep: bool,
        /// Do not become a subreaper.
        #[arg(long = "no-subreaper")]
        no_subreaper: bool,
    },
    /// Send a signal to the container's init (or all processes with --all).
    Kill {
        #[arg(short = 'a', long)]
        all: bool,
        id: String,
        signal: Option<String>,
    },
    /// Delete a container and everything it owns.
    Delete {
        #[arg(short = 'f', long)]
        force: bool,
        id: String,
    },
    /// Print the OCI state of a container.
    State { id: String },
    /// List containers.
    #[command(alias = "ls")]
    List {
        #[arg(short = 'f', long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        #[arg(short = 'q', long)]
        quiet: bool,
    },
    /// Write a default config.json.
    Spec {
        #[arg(short = 'b', long, default_value = ".")]
        bundle: PathBuf,
        #[arg(long)]
        rootless: bool,
    },
    /// Print what this runtime supports (runtime-spec features.md).
    Features,
    /// Inspect seccomp filters.
    Seccomp {
        #[command(subcommand)]
        cmd: SeccompCmd,
    },
}

#[derive(Subcommand, Debug)]
pub enum SeccompCmd {
    /// Compile a seccomp profile (config.json or a bare linux.seccomp object) and print it.
    Compile {
        #[arg(long)]
        arch: Option<String>,
        #[arg(long, default_value = "asm", value_parser = ["raw", "asm"])]
        format: String,
        file: PathBuf,
    },
}
