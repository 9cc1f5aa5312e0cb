//! The `triage` binary: a thin shell around [`triage::cli`].
use clap::Parser;

fn main() -> std::process::ExitCode {
    triage::cli::run(triage::cli::Cli::parse())
}
