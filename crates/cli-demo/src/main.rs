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

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::output::{Format, Printer};
use crate::report::Failure;

/// nebulair: OpenNebula and vCloud from the command line, with loopback simulators of
/// both and a guided demo.
#[derive(Debug, Parser)]
#[command(name = "nebulair", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Output format: aligned tables for people, JSON or YAML for scripts.
    #[arg(short, long, value_enum, global = true, default_value_t = Format::Table)]
    output: Format,

    /// Show the cause chain of errors (-v) and debug logs (-vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A guided tour of the SDK on embedded simulators (no cloud needed).
    Demo(Box<commands::demo::DemoArgs>),
    /// Run the OpenNebula and vCloud simulators in the foreground and print how to use them.
    Simulate(commands::simulate::SimulateArgs),
    /// OpenNebula: VMs, hosts, templates, images, networks, and any XML-RPC call.
    One(Box<commands::one_args::OneCmd>),
    /// OneGate calls, for scripts running inside an OpenNebula VM.
    Onegate(Box<commands::onegate::OneGateCmd>),
    /// vCloud Air and vCloud Director: logins, edge firewall/NAT/IPsec, disaster recovery.
    Vcloud(Box<commands::vcloud::VcloudCmd>),
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let ctx = Ctx {
        printer: Printer::new(cli.output),
        verbose: cli.verbose,
    };
    let result = run(cli.command, ctx);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.emit(ctx.verbose > 0),
    }
}

fn run(command: Command, ctx: Ctx) -> Result<(), Failure> {
    match command {
        Command::Demo(args) => args.run(),
        Command::Simulate(args) => args.run(ctx),
        Command::One(cmd) => cmd.run(ctx),
        Command::Onegate(cmd) => cmd.run(ctx),
        Command::Vcloud(cmd) => cmd.run(ctx),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "nebulair", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Logs go to stderr: warnings by default, debug with `-vv`, or whatever `RUST_LOG` says.
fn init_logging(verbose: u8) {
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
}
