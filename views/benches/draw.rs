//! How long one whole dashboard frame takes to draw for a 2^20-slot table on a 200x60
//! terminal (the target: under 5 ms). Run in release:
//! `cargo bench -p slotscope-views --bench draw`
//!
//! Draws into a reused `Buffer` (what `Terminal::draw` hands a widget) and reports the median
//! and the slowest of the timed frames, per screen. A plain harness: no statistics crate.

use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use slotscope_table::Layout;
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{Dashboard, Screen, Theme, ViewState};

/// Frames timed per screen.
const FRAMES: usize = 60;

fn main() {
    let capacity = 1 << 20;
    let build = Instant::now();
    let demo = Demo::build(&DemoSpec {
        capacity,
        layout: Layout::Interleaved,
        churn: 200_000,
        ..DemoSpec::default()
    });
    println!("demo inputs for {capacity} slots built in {:?}", build.elapsed());
    let theme = Theme::default();
    let area = Rect::new(0, 0, 200, 60);
    let mut buf = Buffer::empty(area);
    for screen in Screen::ALL {
        for next_ids in [false, true] {
            if next_ids && screen != Screen::Dashboard {
                continue;
            }
            let state = ViewState { screen, show_next_ids: next_ids, ..ViewState::default() };
            let mut times: Vec<Duration> = Vec::with_capacity(FRAMES);
            for _ in 0..FRAMES + 5 {
                buf.reset();
                let t0 = Instant::now();
                (&Dashboard::new(demo.inputs(), &state, &theme)).render(area, &mut buf);
                times.push(t0.elapsed());
            }
            // The first frames warm the caches; drop them.
            times.drain(..5);
            times.sort_unstable();
            let label = format!("{}{}", screen.name(), if next_ids { " + next ids" } else { "" });
            println!(
                "{label:<24} 200x60, 2^20 slots: median {:>8.3} ms, max {:>8.3} ms",
                times[FRAMES / 2].as_secs_f64() * 1e3,
                times[FRAMES - 1].as_secs_f64() * 1e3
            );
        }
    }
}
