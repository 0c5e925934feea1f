//! The `nebulair` command line: everyday OpenNebula, OneGate and vCloud operations, the
//! loopback simulators, and a guided demo of the SDK.
//!
//! Run `nebulair --help` for the command tree; the user guide in `docs/` describes each
//! command group. Errors print one line (what failed, what the server said, a hint) and
//! exit with a non-zero code; `-v` adds the cause chain.

mod commands;
mod output;
mod progress;
mod report;
mod wait;

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use crate::output::{ColorChoice, Format, Printer};
use crate::report::Failure;

/// The deadline of a command without `--timeout` (DR actions, `demo` and `simulate` have
/// none unless one is given).
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// nebulair: OpenNebula and vCloud from the command line, with loopback simulators of
/// both and a guided demo.
#[derive(Debug, Parser)]
#[command(name = "nebulair", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Output format: tables for people (wide: every column), JSON or YAML for scripts.
    #[arg(short, long, value_enum, global = true, default_value_t = Format::Table, help_heading = "Global options")]
    output: Format,

    /// Show the cause chain of errors (-v) and debug logs (-vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Global options")]
    verbose: u8,

    /// Overall deadline of the command in seconds, every attempt and retry included
    /// [default: 30; none for DR actions]
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        help_heading = "Global options"
    )]
    timeout: Option<f64>,

    /// Use this saved profile (see `nebulair profile`) instead of the active one.
    #[arg(
        long,
        global = true,
        env = "NEBULAIR_PROFILE",
        value_name = "NAME",
        help_heading = "Global options"
    )]
    profile: Option<String>,

    /// Colour in tables and logs: auto (terminals only), always, never. NO_COLOR disables it.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto, help_heading = "Global options")]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A guided tour of the SDK on embedded simulators (no cloud needed).
    #[cfg(feature = "simulators")]
    Demo(Box<commands::demo::DemoArgs>),
    /// Run the OpenNebula and vCloud simulators in the foreground and print how to use them.
    #[cfg(feature = "simulators")]
    Simulate(commands::simulate::SimulateArgs),
    /// OpenNebula: VMs, hosts, templates, images, networks, and any XML-RPC call.
    One(Box<commands::one_args::OneCmd>),
    /// OneGate calls, for scripts running inside an OpenNebula VM.
    Onegate(Box<commands::onegate::OneGateCmd>),
    /// OneFlow: multi-VM service templates and services (names accepted for ids).
    Flow(Box<commands::flow::FlowCmd>),
    /// vCloud Air and vCloud Director: logins, edge firewall/NAT/IPsec, disaster recovery.
    Vcloud(Box<commands::vcloud::VcloudCmd>),
    /// Saved endpoints and users: add, list, use, remove (passwords only on request, 0600).
    Profile(commands::profile::ProfileCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// Example: `nebulair completions bash > ~/.local/share/bash-completion/completions/nebulair`
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Shared context every command receives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    /// How results are printed.
    pub(crate) printer: Printer,
    /// `-v` count.
    pub(crate) verbose: u8,
    /// `--timeout`, when given.
    pub(crate) timeout: Option<Duration>,
    /// `--profile` (or `NEBULAIR_PROFILE`), when given.
    pub(crate) profile: Option<&'static str>,
}

impl Ctx {
    /// The overall deadline: `--timeout`, else `default`.
    pub(crate) fn deadline(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }

    /// How long one request may take: a third of the deadline (so that retries are
    /// possible within it), at least one second.
    pub(crate) fn attempt_timeout(&self) -> Duration {
        (self.deadline(DEFAULT_DEADLINE) / 3).max(Duration::from_secs(1))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(
        cli.verbose,
        cli.color.enabled(std::io::stderr().is_terminal()),
    );
    let timeout = match cli.timeout {
        None => None,
        Some(t) => match Duration::try_from_secs_f64(t) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                return Failure::new(
                    "reading --timeout",
                    nebulair_core::Error::invalid_input(format!(
                        "--timeout must be a positive number of seconds, not {t}"
                    )),
                )
                .emit(false);
            }
        },
    };
    let ctx = Ctx {
        printer: Printer::new(
            cli.output,
            cli.color.enabled(std::io::stdout().is_terminal()),
        ),
        verbose: cli.verbose,
        timeout,
        // One command per process: the name lives as long as the process.
        profile: cli.profile.map(|p| &*Box::leak(p.into_boxed_str())),
    };
    let result = run(cli.command, ctx);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.emit(ctx.verbose > 0),
    }
}

fn run(command: Command, ctx: Ctx) -> Result<(), Failure> {
    match command {
        #[cfg(feature = "simulators")]
        Command::Demo(args) => args.run(ctx),
        #[cfg(feature = "simulators")]
        Command::Simulate(args) => args.run(ctx),
        Command::One(cmd) => cmd.run(ctx),
        Command::Onegate(cmd) => cmd.run(ctx),
        Command::Flow(cmd) => cmd.run(ctx),
        Command::Vcloud(cmd) => cmd.run(ctx),
        Command::Profile(cmd) => cmd.run(ctx),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "nebulair", &mut script);
            output::write_stdout_bytes(&script).map_err(commands::common::io_failure)
        }
    }
}

/// Logs go to stderr: warnings (retries among them) by default, debug with `-vv`, or
/// whatever `RUST_LOG` says; colour only when `ansi` (stderr is a terminal, no NO_COLOR).
fn init_logging(verbose: u8, ansi: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 | 1 => "warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `--in VDC` (where to look a name up) and the global `--vdc` (the vDC a vca login
    /// opens) are separate arguments: neither value leaks into the other.
    #[test]
    fn in_vdc_is_not_the_login_vdc() {
        for (cmd, path) in [
            (&["vapp", "list"][..], &["vapp", "list"][..]),
            (&["vm", "list"][..], &["vm", "list"][..]),
            (&["disk", "list"][..], &["disk", "list"][..]),
            (&["network", "list"][..], &["network", "list"][..]),
        ] {
            let args = ["nebulair", "vcloud", "--service", "vca", "--vdc", "LOGIN"]
                .into_iter()
                .chain(cmd.iter().copied())
                .chain(["--in", "TARGET"]);
            let m = Cli::command()
                .try_get_matches_from(args)
                .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
            let mut leaf = m.subcommand_matches("vcloud").expect("vcloud");
            assert_eq!(
                leaf.get_one::<String>("vdc").map(String::as_str),
                Some("LOGIN")
            );
            for p in path {
                leaf = leaf.subcommand_matches(p).expect("subcommand");
            }
            assert_eq!(
                leaf.get_one::<String>("in_vdc").map(String::as_str),
                Some("TARGET"),
                "{cmd:?}"
            );
            assert_eq!(
                leaf.get_one::<String>("vdc").map(String::as_str),
                Some("LOGIN"),
                "{cmd:?}"
            );
        }
    }
}
