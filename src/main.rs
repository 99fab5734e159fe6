//! slotscope: a terminal app that hosts a lock-free table, stresses it and shows it live.

use clap::Parser;

/// Watch a lock-free, cache-line-aware table work under CPU-pinned stress.
#[derive(Parser, Debug)]
#[command(name = "slotscope", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
