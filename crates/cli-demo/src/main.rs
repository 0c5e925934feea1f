//! The `nebulair` command line.

use clap::Parser;

/// nebulair: OpenNebula and vCloud from the command line.
#[derive(Debug, Parser)]
#[command(name = "nebulair", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the guided demo on embedded simulators.
    Demo,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Demo) | None => {
            println!(
                "nebulair {}: the guided demo is not built yet; see --help",
                env!("CARGO_PKG_VERSION")
            );
        }
    }
}
