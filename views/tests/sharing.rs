//! The occupancy map's sharing classes on heat recorded from real busy runs
//! (`views/tests/data/heat_*.txt`, written by `record_busy_heat` in the binary's tests).
//!
//! The rule the map keeps: the top class holds no more than a quarter of the shared lines
//! unless their rates are within 2x of each other, and then the legend says the sharing is
//! even; occupancy is never hidden; only the [`TOP_SHARED`] most shared lines are marked.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use slotscope_table::{Geometry, Layout, SlotState, Snapshot};
use slotscope_views::model::LineWrites;
use slotscope_views::theme::HEAT_LEVELS;
use slotscope_views::{
    even_sharing, expected_transfers, LineHeat, MapState, OccupancyMap, ShareScale, Theme, TOP_SHARED,
};

/// Loads a recorded sample: the heat, and the table's line count.
fn recorded(name: &str) -> LineHeat {
    let path = format!("{}/tests/data/heat_{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let head: Vec<u64> = lines.next().unwrap().split(' ').map(|x| x.parse().unwrap()).collect();
    assert_eq!(head[0], 1, "{name}: one line per cell");
    let mut slots = LineWrites::default();
    for l in lines {
        let v: Vec<u64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
        slots.writes.push(u32::try_from(v[0]).unwrap());
        slots.writers.push(u8::try_from(v[1]).unwrap());
        #[allow(clippy::cast_possible_truncation)]
        slots.transfers.push(expected_transfers(v[0], v[2]) as f32);
    }
    LineHeat { measured: true, interval_ns: head[1], slots, ..LineHeat::default() }
}

fn classes(heat: &LineHeat) -> Vec<u8> {
    let scale = ShareScale::new(heat.slots.max_transfers());
    heat.slots.transfers.iter().map(|&t| scale.level(t)).collect()
}

#[test]
fn the_top_class_is_small_or_even_in_every_recorded_run() {
    for name in ["churn", "demo", "false-sharing", "read-heavy"] {
        let heat = recorded(name);
        let levels = classes(&heat);
        let shared: Vec<f32> = heat.slots.transfers.iter().copied().filter(|&t| t > 0.0).collect();
        assert!(!shared.is_empty(), "{name}: a busy run shares lines");
        let top: Vec<f32> = heat
            .slots
            .transfers
            .iter()
            .zip(&levels)
            .filter(|(_, &l)| l == HEAT_LEVELS)
            .map(|(&t, _)| t)
            .collect();
        let (lo, hi) = top.iter().fold((f32::MAX, 0.0f32), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        let small = top.len() * 4 <= shared.len();
        assert!(
            small || hi <= 2.0 * lo,
            "{name}: {} of {} lines in the top class, {lo}..{hi}",
            top.len(),
            shared.len()
        );
        // The legend says "even" exactly when the top class is not small.
        assert_eq!(even_sharing(&heat.slots, heat.slots.max_transfers()).is_some(), !small, "{name}");
        // Lines written by one thread only are never in a shared class.
        for (i, &l) in levels.iter().enumerate() {
            if heat.slots.writers[i] < 2 {
                assert_eq!(l, 0, "{name}: line {i} has one writer");
            }
        }
    }
}

#[test]
fn a_skewed_run_shows_several_classes_and_marks_only_the_top() {
    // The demo's sample: a hot band and a background; the map separates them.
    let heat = recorded("demo");
    let mut seen: Vec<u8> = classes(&heat);
    seen.sort_unstable();
    seen.dedup();
    assert!(seen.len() >= 2, "{seen:?}");

    let lines = heat.slots.transfers.len();
    let g = Geometry::new(lines * 8, Layout::Interleaved, 64).unwrap();
    let mut snap = Snapshot::fresh(g);
    for slot in (0..g.capacity()).step_by(2) {
        snap.set_slot(slot, SlotState::Occupied, Some(g.key(0, slot)));
    }
    let theme = Theme::default();
    let map = OccupancyMap::new(&snap, &heat, &MapState::default(), &theme);
    let mut buf = Buffer::empty(Rect::new(0, 0, 120, 30));
    (&map).render(buf.area, &mut buf);
    // The grid: every row but the border's and the legend's (row 28).
    let text: String = (1..28)
        .flat_map(|y| (0..120).map(move |x| (x, y)))
        .map(|(x, y)| buf[(x, y)].symbol().to_owned())
        .collect();
    let marks = text.matches('×').count();
    assert!((1..=TOP_SHARED).contains(&marks), "{marks} marks");
    assert!(text.contains('█'), "occupancy shows");
}

#[test]
fn even_churn_says_so_in_the_legend() {
    let heat = recorded("churn");
    let g = Geometry::new(heat.slots.transfers.len() * 8, Layout::Interleaved, 64).unwrap();
    let snap = Snapshot::fresh(g);
    let theme = Theme::default();
    let map = OccupancyMap::new(&snap, &heat, &MapState::default(), &theme);
    let mut buf = Buffer::empty(Rect::new(0, 0, 200, 60));
    (&map).render(buf.area, &mut buf);
    let legend: String = (0..200).map(|x| buf[(x, 58)].symbol().to_owned()).collect();
    assert!(legend.contains("even: 8192/8192 top"), "{legend}");
}
