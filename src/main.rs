//! slotscope: a terminal app that hosts a lock-free table, stresses it and shows it live.

mod cli;

use clap::Parser;

fn main() {
    let _cli = cli::Cli::parse();
}
