//! procd: flags in, exit status out. Everything else is in the library.

use clap::Parser;

fn main() {
    let cli = procd::cli::Cli::parse();
    std::process::exit(procd::run(cli));
}
