//! `specgr`: the SpecGR command-line tool (see [`bench::cli`]).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    bench::cli::run(bench::cli::Cli::parse())
}
