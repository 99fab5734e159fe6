//! Every screen at 80x24, 120x40 and 200x60 with the values of a long run on a big table and a
//! big machine: a 2^20-slot table (131072 lines, so line numbers of six digits), ids past 10^7
//! and generations in the thousands after churn, tickets past 10^10, cores numbered from 100.
//! Numbers may lose precision (`1.23M`), never digits: no screen may show a number cut short.
//!
//! The check: for every such number the inputs hold, no run of digits on screen is a strict
//! prefix of it that stops where a panel ends (the end of the row, a border, `…`) or at the
//! space before the next column (for 3 digits or more, or any line number `L..`), unless that
//! run is itself one of the numbers shown; and no digit run is one of them with more digits
//! glued on (two columns run together).

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{Dashboard, Screen, Theme, ViewState};

fn text(demo: &Demo, screen: Screen, w: u16, h: u16, detail: bool) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    // The selected line: the hottest one, whose numbers are the largest on screen.
    let hottest = demo.heat.slots.writes.iter().enumerate().max_by_key(|p| p.1).map_or(0, |p| p.0);
    let map = slotscope_views::MapState { cursor_line: hottest, ..slotscope_views::MapState::default() };
    let state = ViewState { screen, show_next_ids: true, detail_open: detail, map, ..ViewState::default() };
    let theme = Theme::default();
    let dash = Dashboard::new(demo.inputs(), &state, &theme);
    term.draw(|f| f.render_widget(&dash, f.area())).expect("draw");
    let buf = term.backend().buffer();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect()).collect()
}

/// The maximal runs of ASCII digits in `row`, with the character after each (if any) and
/// whether an `L` (a line: `L67248`) comes right before.
fn digit_runs(row: &str) -> Vec<(String, Option<char>, bool)> {
    let chars: Vec<char> = row.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            // A digit run inside a decimal (`1.23M`) is a rounded figure, not a cut one.
            let in_decimal = start > 0 && chars[start - 1] == '.' || chars.get(i) == Some(&'.');
            if !in_decimal {
                let after_l = start > 0 && chars[start - 1] == 'L';
                out.push((chars[start..i].iter().collect(), chars.get(i).copied(), after_l));
            }
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn every_number_appears_whole_at_every_size() {
    let mut demo = Demo::build(&DemoSpec { capacity: 1 << 20, churn: 200_000, ..DemoSpec::default() });
    // A big machine: cores from 100 up.
    for (i, row) in demo.threads.rows.iter_mut().enumerate() {
        row.core = Some(100 + 37 * u32::try_from(i).unwrap());
    }
    // A long run: the ring's cursors past 10^10 tickets (the snapshot keeps its cells).
    let snap = demo.snapshot.as_mut().expect("a table");
    let (alloc, free) = (snap.alloc_cursor(), snap.free_cursor());
    let n = snap.capacity() as u64;
    let shift = (10_000_000_000u64 / n + 1) * n;
    snap.set_header(snap.count(), alloc + shift, free + shift);
    // ... and the next ids' slots reused 123456 times and more.
    let g = snap.geometry();
    let next: Vec<(u64, Option<slotscope_table::Key>)> = snap.next_ids(40).collect();
    for (i, (ticket, key)) in next.into_iter().enumerate() {
        if let Some(k) = key {
            snap.set_ring_cell((ticket % n) as usize, Some(g.key(123_456 + i as u64, k.slot())));
        }
    }
    let snap = demo.snapshot.as_ref().unwrap();

    // The numbers a screen may show whole.
    let mut whole: Vec<u64> = demo.threads.rows.iter().filter_map(|r| r.core.map(u64::from)).collect();
    let mut lines: Vec<(u32, usize)> =
        demo.heat.slots.writes.iter().copied().enumerate().map(|(l, w)| (w, l)).filter(|p| p.0 > 0).collect();
    lines.sort_unstable_by(|a, b| b.cmp(a));
    whole.extend(lines.iter().take(32).map(|&(_, l)| l as u64));
    for (ticket, key) in snap.next_ids(40) {
        whole.push(ticket);
        if let Some(k) = key.filter(|k| g.owns(*k)) {
            whole.extend([g.id_of(k), k.slot() as u64, g.line_of_slot(k.slot()) as u64, k.generation()]);
        }
    }
    // The selected (hottest) line's slots, as its detail lists them.
    let hottest = lines.first().map_or(0, |&(_, l)| l);
    for s in g.slots_of_line(hottest) {
        whole.push(s as u64);
        if let Some(k) = snap.slot(s).key {
            whole.extend([g.id_of(k), k.generation()]);
        }
    }
    for big in [100_000, 10_000_000, 10_000_000_000] {
        assert!(whole.iter().any(|&n| n >= big), "no value past {big}: {whole:?}");
    }
    let whole: Vec<String> = whole.iter().map(u64::to_string).collect();

    // Every screen, and every screen with the selected line's detail (Enter) open.
    let shots = Screen::ALL.into_iter().flat_map(|s| [(s, false), (s, true)]);
    for (screen, detail) in shots {
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            for (y, row) in text(&demo, screen, w, h, detail).iter().enumerate() {
                for (run, next, after_l) in digit_runs(row) {
                    // A cut stops at an edge, or at the space before the next column; a run
                    // followed by a unit or a multiplier (`123ns`, `41k`) is a quantity.
                    let cut_by_edge = matches!(next, None | Some('│' | '║' | '┃' | '…'));
                    let before_space = next == Some(' ');
                    let known = whole.contains(&run);
                    for n in &whole {
                        let prefix = n.len() > run.len() && n.starts_with(&run);
                        assert!(
                            !(prefix
                                && !known
                                && (cut_by_edge || before_space && (run.len() >= 3 || after_l))),
                            "{screen:?} (detail {detail}) at {w}x{h}, row {y}: `{run}` looks like {n} cut short:\n{row}"
                        );
                        // Two columns run together: a big number with more digits glued on.
                        let glued = n.len() >= 7 && run.len() > n.len() && run.starts_with(n.as_str());
                        assert!(
                            known || !glued,
                            "{screen:?} (detail {detail}) at {w}x{h}, row {y}: `{run}` runs {n} into the next column:\n{row}"
                        );
                    }
                }
            }
        }
    }
}
