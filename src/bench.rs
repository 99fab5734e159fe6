//! Figures for docs/PERFORMANCE.md, as ignored tests (they time things, so they are not part
//! of the suite). Run in release, one at a time:
//!
//! ```text
//! cargo test --release -p slotscope --bin slotscope bench:: -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - `frame_cost`: building a frame from a sample (`update(Sampled)`) and drawing the
//!   dashboard at 200x60, for tables of 2^12, 2^16 and 2^20 slots. Medians of 40 frames.
//! - `memory_beyond_the_table`: a real engine on a 2^20-slot table running 10 s alone, then
//!   sampled at 10 Hz and drawn for 10 s; peak resident memory of each phase.
//! - `headless_throughput`: the read-heavy scenario with 2 threads for 10 s without a UI,
//!   to compare with the same run in the TUI (`slotscope run read-heavy -t 2 -d 10s`).

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use slotscope_stress::LatencySummary;
use slotscope_stress::LineHeat as EngineHeat;
use slotscope_stress::{Engine, Sample, SamplerOptions};
use slotscope_table::{Layout, Table};
use slotscope_views::Theme;

use crate::adapt::RunFacts;
use crate::app::{draw, update, Message, Model};
use crate::cli::WorkloadArgs;
use crate::frames::FrameRing;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// A sample of a half-full table of `capacity` slots with heat on every line and latency
/// histograms, as the sampler fills it.
fn big_sample(capacity: usize) -> Sample {
    let table: Table<u64> = Table::builder().capacity(capacity).layout(Layout::Interleaved).build().unwrap();
    let keys: Vec<_> = (0..capacity as u64 / 2).map(|i| table.insert(i).unwrap()).collect();
    for k in keys.iter().step_by(3) {
        table.remove(*k);
    }
    let mut s = crate::adapt::tests::sample(256, 1);
    let g = table.geometry();
    s.backend.geometry = Some(g);
    s.backend.capacity = Some(capacity);
    s.backend.elements = Some(table.len());
    let cells = g.lines().min(slotscope_stress::HEAT_MAX_CELLS);
    s.heat = EngineHeat {
        lines_per_cell: g.lines().div_ceil(cells),
        slot_writes: (0..cells).map(|l| (l as u32 * 7) % 50).collect(),
        slot_writers: (0..cells).map(|l| (l % 3) as u8).collect(),
        slot_sq: (0..cells).map(|l| ((l as u64 * 7) % 50).pow(2) / 2).collect(),
        ring_writes: vec![3; cells],
        ring_writers: vec![1; cells],
        ring_sq: vec![9; cells],
        header_writes: 1200,
        header_writers: 2,
        header_sq: 720_000,
    };
    for op in &mut s.ops {
        op.interval_summary = LatencySummary::of(&op.interval);
    }
    s.snapshot = Some(table.snapshot());
    s.snapshot_fresh = true;
    s
}

#[test]
#[ignore = "a benchmark: run by hand in release"]
fn frame_cost() {
    for log2 in [12, 16, 20] {
        let capacity = 1usize << log2;
        let mut sample = big_sample(capacity);
        let fresh = sample.snapshot.clone();
        let spec = crate::resolve::resolve_run(None, &WorkloadArgs::default(), false).unwrap().spec;
        let facts = RunFacts::of(&spec, 10);
        let area = Rect::new(0, 0, 200, 60);
        let mut model =
            Model::new(facts, Theme::default(), area, Default::default(), FrameRing::snapshots_for(capacity));
        let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
        let (mut adapt, mut drawn) = (Vec::new(), Vec::new());
        for i in 0..45 {
            // Every frame with a fresh scan: the worst case (the adapter moves it, never copies).
            sample.snapshot.clone_from(&fresh);
            sample.snapshot_fresh = true;
            sample.seq = i + 1;
            let t0 = Instant::now();
            update(&mut model, Message::Sampled(&mut sample));
            let t1 = Instant::now();
            term.draw(|f| draw(&model, f)).unwrap();
            let t2 = Instant::now();
            if i >= 5 {
                adapt.push(t1 - t0);
                drawn.push(t2 - t1);
            }
        }
        let (a, d) = (median(adapt), median(drawn));
        crate::console::note(&format!(
            "2^{log2} slots, 200x60 dashboard: build {:.3} ms + draw {:.3} ms = {:.3} ms (medians of 40)",
            a.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e3,
            (a + d).as_secs_f64() * 1e3
        ));
    }
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "a benchmark: run by hand in release"]
fn memory_beyond_the_table() {
    let args = WorkloadArgs { capacity: Some(1 << 20), threads: Some(2), ..WorkloadArgs::default() };
    let spec = crate::resolve::resolve_run(Some("read-heavy"), &args, false).unwrap().spec;
    let before_engine = vm_rss_kib();
    let facts = RunFacts::of(&spec, 10);
    let snapshots = FrameRing::snapshots_for(spec.table.capacity);
    let engine = Engine::start(spec).unwrap();
    // The engine alone for as long as it is watched below: what it grows by itself.
    let mut with_engine = 0;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        with_engine = with_engine.max(vm_rss_kib());
    }
    let mut sampler = engine.sampler(SamplerOptions::default());
    let mut sample = Sample::new();
    let area = Rect::new(0, 0, 200, 60);
    let mut model = Model::new(facts, Theme::default(), area, Default::default(), snapshots);
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut peak = 0;
    for _ in 0..100 {
        sampler.sample_into(&mut sample);
        update(&mut model, Message::Sampled(&mut sample));
        term.draw(|f| draw(&model, f)).unwrap();
        peak = peak.max(vm_rss_kib());
        std::thread::sleep(Duration::from_millis(100));
    }
    let table_bytes = sample.backend.geometry.map_or(0, |g| g.table_bytes());
    let report = engine.stop();
    crate::console::note(&format!(
        "2^20 slots: RSS before the engine {} MiB, engine alone for 10 s (table + prefill + workers) \
         {} MiB, peak while watching 10 s more {} MiB: the app beyond the running engine {:.1} MiB; \
         table arrays (slots + ring) {:.1} MiB; {} frames kept; {:.0} ops/s",
        before_engine / 1024,
        with_engine / 1024,
        peak / 1024,
        (peak.saturating_sub(with_engine)) as f64 / 1024.0,
        table_bytes as f64 / f64::from(1 << 20),
        model.frames.len(),
        report.throughput_ops_per_s
    ));
}

#[test]
#[ignore = "a benchmark: run by hand in release"]
fn headless_throughput() {
    let args = WorkloadArgs {
        threads: Some(2),
        duration: Some(std::time::Duration::from_secs(10)),
        ..WorkloadArgs::default()
    };
    let spec = crate::resolve::resolve_run(Some("read-heavy"), &args, true).unwrap().spec;
    let report = slotscope_stress::run_headless(spec).unwrap();
    crate::console::note(&format!(
        "read-heavy, 2 threads, 10 s headless: {:.3} M ops/s",
        report.throughput_ops_per_s / 1e6
    ));
}
