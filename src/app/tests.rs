//! `update` for every key, the frame ring, `steer`, and whole screens through `TestBackend`:
//! models built from hand-made samples (a real table filled on one thread), no engine, no
//! clock beyond the `Instant`s the tests pass in.

use std::time::Instant;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use ratatui::Terminal;
use slotscope_stress::BackendKind;
use slotscope_stress::Sample;
use slotscope_table::{Layout, Variant};
use slotscope_views::{CoreDomain, HelpOverlay, Palette, Screen, Theme, Topology, Zoom};

use super::*;
use crate::adapt::tests::sample;
use crate::adapt::RunFacts;
use std::rc::Rc;

use crate::nav::WHEEL_ROWS;

fn facts() -> RunFacts {
    RunFacts {
        scenario: "demo".into(),
        duration: None,
        phases: 6,
        variant: Variant::Correct,
        backend: "slotscope",
        allocator: slotscope_table::Allocator::Ring,
        sample_hz: 10,
    }
}

fn topology() -> Topology {
    Topology { domains: vec![CoreDomain { name: "L3 of core 0".into(), cores: vec![0, 1] }], ui_core: None }
}

/// A model at `w`x`h` that has seen `samples` samples of a 4096-slot table.
fn model_at(w: u16, h: u16, samples: u64) -> Model {
    let mut m = Model::new(facts(), Theme::default(), Rect::new(0, 0, w, h), topology(), 8);
    for seq in 1..=samples {
        feed(&mut m, &mut sample(4096, seq));
    }
    m
}

fn model() -> Model {
    model_at(120, 40, 3)
}

fn feed(m: &mut Model, s: &mut Sample) {
    update(m, Message::Sampled(s));
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn ch(m: &mut Model, c: char) {
    key(m, KeyCode::Char(c));
}

fn status(m: &Model) -> &str {
    m.status.as_ref().map_or("", |s| s.text.as_str())
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut m = model();
    ch(&mut m, 'q');
    assert_eq!(m.exit, Some(Exit::Quit));
    let mut m = model();
    ch(&mut m, '?');
    update(&mut m, Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert_eq!(m.exit, Some(Exit::Quit), "Ctrl-C quits even with the help open");
    assert_eq!(m.theme.palette, Palette::Dark, "and is not the palette key");
}

#[test]
fn key_releases_are_ignored() {
    let mut m = model();
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    release.state = KeyEventState::NONE;
    update(&mut m, Message::Key(release));
    assert_eq!(m.exit, None);
}

#[test]
fn help_opens_closes_and_holds_other_keys() {
    for open in [KeyCode::Char('?'), KeyCode::F(1)] {
        let mut m = model();
        key(&mut m, open);
        assert!(m.view.help_open);
        key(&mut m, KeyCode::Tab);
        ch(&mut m, 'P');
        assert_eq!(m.view.screen, Screen::Dashboard, "keys other than close and quit wait");
        assert!(m.requests.is_empty());
        key(&mut m, KeyCode::Esc);
        assert!(!m.view.help_open);
        ch(&mut m, '?');
        ch(&mut m, '?');
        assert!(!m.view.help_open, "? toggles");
        key(&mut m, KeyCode::F(1));
        ch(&mut m, 'q');
        assert_eq!(m.exit, Some(Exit::Quit));
    }
}

#[test]
fn a_short_help_scrolls_within_its_text() {
    let mut m = model_at(80, 24, 1);
    ch(&mut m, '?');
    let max = HelpOverlay::new(&m.theme).max_scroll(m.area);
    assert!(max > 2);
    ch(&mut m, 'j');
    key(&mut m, KeyCode::Down);
    assert_eq!(m.view.help_scroll, 2);
    ch(&mut m, 'k');
    assert_eq!(m.view.help_scroll, 1);
    key(&mut m, KeyCode::End);
    assert_eq!(m.view.help_scroll, max);
    ch(&mut m, 'j');
    key(&mut m, KeyCode::PageDown);
    assert_eq!(m.view.help_scroll, max, "never past the end");
    assert_eq!(m.view.map.cursor_line, 0, "j scrolls the help, not the map");
    key(&mut m, KeyCode::Home);
    assert_eq!(m.view.help_scroll, 0);
    key(&mut m, KeyCode::End);
    key(&mut m, KeyCode::Esc);
    ch(&mut m, '?');
    assert_eq!(m.view.help_scroll, 0, "the help opens at the top");
    let mut tall = model_at(120, 80, 1);
    ch(&mut tall, '?');
    ch(&mut tall, 'j');
    assert_eq!(tall.view.help_scroll, 0, "nothing to scroll when it fits");
}

#[test]
fn tab_and_digits_switch_screens() {
    let mut m = model();
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.view.screen, Screen::Occupancy);
    key(&mut m, KeyCode::BackTab);
    key(&mut m, KeyCode::BackTab);
    assert_eq!(m.view.screen, Screen::Charts);
    for s in Screen::ALL {
        ch(&mut m, s.digit());
        assert_eq!(m.view.screen, s);
    }
    ch(&mut m, '9');
    assert_eq!(m.view.screen, Screen::Charts, "no screen 9");
}

#[test]
fn ctrl_r_asks_the_engine_to_reset_the_statistics() {
    let mut m = model();
    m.requests.clear();
    update(&mut m, Message::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)));
    assert_eq!(m.requests, [Request::ResetStats]);
    update(&mut m, Message::Steered(Request::ResetStats, Ok(None)));
    assert!(status(&m).starts_with("statistics reset"), "{}", status(&m));
    // A plain r does nothing live (it is the replay's table-source key).
    m.requests.clear();
    ch(&mut m, 'r');
    assert!(m.requests.is_empty());
}

#[test]
fn angle_brackets_sort_the_threads_table_and_the_hottest_lines_open_on_the_map() {
    let mut m = model();
    ch(&mut m, '5');
    ch(&mut m, '>');
    assert_eq!(m.view.sort_key(), "ops/s");
    assert!(
        status(&m).contains("sorted by ops/s, largest first. ops/s: operations per second"),
        "{}",
        status(&m)
    );
    ch(&mut m, '<');
    ch(&mut m, '<');
    assert_eq!(m.view.sort_key(), "viol", "wraps to the last column");
    ch(&mut m, '>');
    assert_eq!(m.view.sort_key(), "thread");
    assert!(status(&m).contains("own order"), "{}", status(&m));
    // j walks the hottest lines; Enter opens the selected one on the map with its detail.
    let hottest = slotscope_views::hottest_lines(&m.shown().heat);
    assert!(hottest.len() >= 2, "the test samples write lines");
    ch(&mut m, 'j');
    ch(&mut m, 'j');
    assert_eq!(m.view.hot_selected, Some(1));
    assert!(status(&m).contains(&format!("slot line {}", hottest[1])), "{}", status(&m));
    ch(&mut m, 'k');
    ch(&mut m, 'k');
    assert_eq!(m.view.hot_selected, None, "above the first: the header line");
    ch(&mut m, 'j');
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.view.screen, Screen::Occupancy);
    assert_eq!(m.view.map.cursor_line, hottest[0]);
    assert!(m.view.detail_open);
}

#[test]
fn slash_goes_to_a_line_a_slot_or_a_key() {
    use crate::app::{parse_place, Place};
    assert_eq!(parse_place("12"), Ok(Place::Line(12)));
    assert_eq!(parse_place(" L12 "), Ok(Place::Line(12)));
    assert_eq!(parse_place("s300"), Ok(Place::Slot(300)));
    assert_eq!(parse_place("300@7"), Ok(Place::Key(300, 7)));
    assert!(parse_place("").unwrap_err().contains("nothing typed"));
    assert!(parse_place("Lx").unwrap_err().contains("the line is not a whole number"));
    assert!(parse_place("3@x").unwrap_err().contains("generation"));

    let mut m = model();
    ch(&mut m, '6');
    for c in "/s300".chars() {
        ch(&mut m, c);
    }
    assert!(status(&m).starts_with("go to: s300_"), "{}", status(&m));
    key(&mut m, KeyCode::Enter);
    let g = m.shown().snapshot.as_ref().unwrap().geometry();
    assert_eq!(m.view.screen, Screen::Occupancy, "a screen without a map goes to the occupancy map");
    assert_eq!(m.view.map.cursor_line, g.line_of_slot(300));
    assert!(status(&m).contains("slot 300, on line"), "{}", status(&m));
    // A key: its slot's line, and whether it is still current.
    let gen = m.shown().snapshot.as_ref().unwrap().generation(77).unwrap();
    for c in format!("/77@{}", gen + 1).chars() {
        ch(&mut m, c);
    }
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.view.map.cursor_line, g.line_of_slot(77));
    assert!(status(&m).contains("stale"), "{}", status(&m));
    // Out of range: an alarm, the cursor stays; Esc cancels, Backspace edits.
    for c in "/L999999".chars() {
        ch(&mut m, c);
    }
    key(&mut m, KeyCode::Enter);
    assert!(m.status.as_ref().unwrap().alarm && status(&m).contains("no line 999999"), "{}", status(&m));
    assert_eq!(m.view.map.cursor_line, g.line_of_slot(77));
    ch(&mut m, '/');
    ch(&mut m, 'q');
    assert!(m.exit.is_none(), "q types into the prompt, it does not quit");
    key(&mut m, KeyCode::Backspace);
    ch(&mut m, '3');
    assert!(status(&m).starts_with("go to: 3_"), "{}", status(&m));
    key(&mut m, KeyCode::Esc);
    assert!(m.find.is_none());
    assert_eq!(m.view.map.cursor_line, g.line_of_slot(77));
}

#[test]
fn the_charts_keep_a_point_a_sample_and_plus_minus_set_their_window() {
    let mut m = model();
    assert_eq!(m.adapter.history().len(), 3, "one point per sample");
    ch(&mut m, '8');
    assert_eq!(m.view.screen, Screen::Charts);
    assert_eq!(m.view.chart_window(), std::time::Duration::from_secs(60), "a minute at start");
    ch(&mut m, '+');
    assert_eq!(m.view.chart_window(), std::time::Duration::from_secs(30));
    assert!(status(&m).contains("30 s (the narrowest)"), "{}", status(&m));
    ch(&mut m, '+');
    assert_eq!(m.view.chart_window(), std::time::Duration::from_secs(30), "no narrower");
    for _ in 0..6 {
        ch(&mut m, '-');
    }
    assert_eq!(m.view.chart_window(), std::time::Duration::from_secs(600));
    assert!(status(&m).contains("10 min (the widest)"), "{}", status(&m));
    // The map's zoom is not touched from the charts; back on the map, + zooms the map.
    let zoom = m.view.map.zoom;
    ch(&mut m, '1');
    ch(&mut m, '+');
    assert_ne!(m.view.map.zoom, zoom);
    assert_eq!(m.view.chart_window(), std::time::Duration::from_secs(600));
}

#[test]
fn space_freezes_and_drops_samples_until_live_again() {
    let mut m = model();
    assert!(m.wants_samples());
    ch(&mut m, ' ');
    assert_eq!(m.frozen, Some(0));
    assert!(m.shown().header.frozen);
    assert!(!m.wants_samples());
    let seq = m.shown().seq;
    feed(&mut m, &mut sample(4096, 9));
    assert_eq!(m.shown().seq, seq, "a sample that raced the freeze changes nothing");
    assert_eq!(m.frames.len(), 3);
    ch(&mut m, ' ');
    assert_eq!(m.frozen, None);
    assert!(!m.shown().header.frozen);
    feed(&mut m, &mut sample(4096, 9));
    assert_eq!(m.shown().seq, 9);
}

#[test]
fn comma_and_dot_step_through_kept_frames() {
    let mut m = model();
    ch(&mut m, '.');
    assert_eq!(m.frozen, None, ". does not freeze");
    assert!(status(&m).contains("Space freezes"), "{}", status(&m));
    ch(&mut m, ',');
    assert_eq!(m.frozen, Some(1), ", from live freezes and steps back");
    assert_eq!(m.shown().seq, 2);
    assert!(status(&m).starts_with("frame 2 of 3"), "{}", status(&m));
    ch(&mut m, ',');
    ch(&mut m, ',');
    assert_eq!(m.frozen, Some(2), "stops at the oldest");
    assert!(status(&m).contains("oldest"), "{}", status(&m));
    assert_eq!(m.shown().seq, 1);
    ch(&mut m, '.');
    assert_eq!(m.shown().seq, 2);
    ch(&mut m, '.');
    ch(&mut m, '.');
    assert_eq!(m.frozen, Some(0), "stops at the newest, still frozen");
    assert!(status(&m).contains("0.0 s before"), "{}", status(&m));
}

#[test]
fn p_pauses_and_resumes_the_workers() {
    let mut m = model();
    ch(&mut m, 'P');
    assert_eq!(m.requests, [Request::Pause]);
    assert!(m.paused);
    let mut s = sample(4096, 4);
    s.paused = true;
    feed(&mut m, &mut s);
    assert!(m.shown().header.paused);
    ch(&mut m, 'P');
    assert_eq!(m.requests, [Request::Pause, Request::Resume]);
}

#[test]
fn brackets_add_and_remove_threads_of_the_newest_group() {
    let mut m = model();
    ch(&mut m, ']');
    ch(&mut m, '[');
    // T1 is the newest thread, in group 1 (`readers`).
    assert_eq!(m.requests, [Request::AddThread("readers".into()), Request::RemoveThread("readers".into())]);
    let mut s = sample(4096, 4);
    s.threads.truncate(1);
    feed(&mut m, &mut s);
    m.requests.clear();
    ch(&mut m, '[');
    assert!(m.requests.is_empty(), "the last thread stays");
    assert!(status(&m).contains("last thread"), "{}", status(&m));
    ch(&mut m, ']');
    assert_eq!(m.requests, [Request::AddThread("writers".into())]);
}

#[test]
fn zoom_keys_step_from_what_is_on_screen() {
    let mut m = model();
    let fit = m.grid().unwrap().zoom;
    assert!(matches!(fit, Zoom::Lines { .. } | Zoom::Slots), "Fit resolves to a level");
    ch(&mut m, '-');
    assert_eq!(m.view.map.zoom, Zoom::zoom_out(fit));
    ch(&mut m, '+');
    ch(&mut m, '+');
    assert_eq!(m.view.map.zoom, Zoom::zoom_in(fit));
    ch(&mut m, '+');
    ch(&mut m, '+');
    assert_eq!(m.view.map.zoom, Zoom::Slots);
    ch(&mut m, '=');
    assert_eq!(m.view.map.zoom, Zoom::Fit);
    ch(&mut m, '6');
    ch(&mut m, '+');
    assert_eq!(m.view.map.zoom, Zoom::Fit, "no map on the latency screen");
    assert!(status(&m).contains("no map"), "{}", status(&m));
}

#[test]
fn arrows_and_hjkl_move_the_cursor() {
    let mut m = model();
    m.view.map.zoom = Zoom::Slots;
    let row = m.grid().unwrap().lines_per_row;
    assert!(row > 1);
    for (k, want) in [
        (KeyCode::Right, 1),
        (KeyCode::Char('l'), 2),
        (KeyCode::Down, 2 + row),
        (KeyCode::Char('j'), 2 + 2 * row),
        (KeyCode::Char('k'), 2 + row),
        (KeyCode::Up, 2),
        (KeyCode::Char('h'), 1),
        (KeyCode::Left, 0),
        (KeyCode::End, 511),
        (KeyCode::Home, 0),
    ] {
        key(&mut m, k);
        assert_eq!(m.view.map.cursor_line, want, "after {k:?}");
    }
    key(&mut m, KeyCode::PageDown);
    assert!(m.view.map.cursor_line > row, "a page is several rows");
    key(&mut m, KeyCode::PageUp);
    assert_eq!(m.view.map.cursor_line, 0);
}

#[test]
fn enter_drills_in_and_esc_backs_out() {
    let mut m = model();
    key(&mut m, KeyCode::Enter);
    assert!(m.view.detail_open);
    key(&mut m, KeyCode::Esc);
    assert!(!m.view.detail_open);
    ch(&mut m, '6');
    key(&mut m, KeyCode::Enter);
    assert!(!m.view.detail_open, "no line to drill into on the latency screen");
    ch(&mut m, '5');
    key(&mut m, KeyCode::Enter);
    assert!(m.view.detail_open, "the contention screen explains the header line");
    key(&mut m, KeyCode::Esc);
    key(&mut m, KeyCode::Esc);
    assert_eq!(m.view.screen, Screen::Dashboard, "Esc goes back to the dashboard");
}

#[test]
fn capital_l_restarts_the_table_with_the_next_layout() {
    let mut m = model();
    ch(&mut m, 'L');
    assert_eq!(m.requests, [Request::Restart(Layout::Interleaved.next())]);
    ch(&mut m, 'l');
    assert_eq!(m.requests.len(), 1, "l moves the cursor, never restarts");
    let mut other = model_at(120, 40, 0);
    let mut s = sample(4096, 1);
    s.backend.kind = Some(BackendKind::Ptab);
    s.backend.geometry = None;
    feed(&mut other, &mut s);
    ch(&mut other, 'L');
    assert!(other.requests.is_empty());
    assert!(status(&other).contains("this backend is ptab"), "{}", status(&other));
}

#[test]
fn capital_a_switches_the_allocator_and_back() {
    use slotscope_table::Allocator;
    let mut m = model();
    ch(&mut m, 'A');
    let magazines = Allocator::Magazine { size: 64 };
    assert_eq!(m.requests, [Request::Allocator(magazines)]);
    assert!(status(&m).contains("magazine of 64"), "{}", status(&m));
    // Only a restart that worked changes what the next `A` asks for.
    m.requests.clear();
    ch(&mut m, 'A');
    assert_eq!(m.requests, [Request::Allocator(magazines)], "still on the ring until the restart is done");
    update(&mut m, Message::Steered(Request::Allocator(magazines), Ok(None)));
    assert!(status(&m).contains("restarted with the magazine of 64 allocator"), "{}", status(&m));
    m.requests.clear();
    ch(&mut m, 'A');
    assert_eq!(m.requests, [Request::Allocator(Allocator::Ring)]);
    // Other backends have no allocator to switch.
    let mut other = model_at(120, 40, 0);
    let mut s = sample(4096, 1);
    s.backend.kind = Some(BackendKind::Ptab);
    s.backend.geometry = None;
    feed(&mut other, &mut s);
    ch(&mut other, 'A');
    assert!(other.requests.is_empty());
    assert!(status(&other).contains("this backend is ptab"), "{}", status(&other));
}

#[test]
fn i_toggles_the_next_ids_and_n_p_need_a_lesson() {
    let mut m = model();
    ch(&mut m, 'i');
    assert!(m.view.show_next_ids);
    ch(&mut m, 'i');
    assert!(!m.view.show_next_ids);
    for c in ['n', 'p'] {
        ch(&mut m, c);
        assert!(!m.view.show_next_ids, "n no longer toggles the next ids");
        assert!(status(&m).contains("`slotscope lessons`"), "{}", status(&m));
        assert!(m.requests.is_empty());
    }
}

#[test]
fn s_asks_for_a_save_and_reports_where() {
    let mut m = model();
    ch(&mut m, 's');
    assert_eq!(m.requests, [Request::Save]);
    update(&mut m, Message::Saved(Ok(vec!["/x/a.txt".into(), "/x/a.json".into()])));
    assert_eq!(status(&m), "saved a.txt + .json in the working directory");
    update(&mut m, Message::Saved(Ok(vec!["/x/a.txt".into(), "/x/b.json".into()])));
    assert_eq!(status(&m), "saved a.txt + b.json in the working directory");
    update(&mut m, Message::Saved(Err("disk full".into())));
    assert!(m.status.as_ref().unwrap().alarm);
    assert!(status(&m).contains("disk full"));
}

#[test]
fn m_toggles_the_mouse_which_scrolls_and_clicks() {
    let mut m = model();
    m.view.map.zoom = Zoom::Slots;
    let mouse = |kind, column, row| MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
    update(&mut m, Message::Mouse(mouse(MouseEventKind::ScrollDown, 5, 5)));
    assert_eq!(m.view.map.cursor_line, 0, "ignored while the mouse is off");
    ch(&mut m, 'm');
    assert!(m.mouse);
    assert_eq!(m.requests, [Request::Mouse(true)]);
    let row = m.grid().unwrap().lines_per_row;
    update(&mut m, Message::Mouse(mouse(MouseEventKind::ScrollDown, 5, 5)));
    assert_eq!(m.view.map.cursor_line, WHEEL_ROWS * row);
    update(&mut m, Message::Mouse(mouse(MouseEventKind::ScrollUp, 5, 5)));
    assert_eq!(m.view.map.cursor_line, 0);
    // A click on some line's cell selects it.
    let grid = m.grid().unwrap();
    let (x, y) = (0..m.area.height)
        .flat_map(|y| (0..m.area.width).map(move |x| (x, y)))
        .find(|&(x, y)| grid.line_at(x, y) == Some(row + 1))
        .expect("line row+1 is on screen");
    update(&mut m, Message::Mouse(mouse(MouseEventKind::Down(MouseButton::Left), x, y)));
    assert_eq!(m.view.map.cursor_line, row + 1);
    update(&mut m, Message::Mouse(mouse(MouseEventKind::Down(MouseButton::Left), 0, 0)));
    assert_eq!(m.view.map.cursor_line, row + 1, "a click off the map keeps the cursor");
    ch(&mut m, 'm');
    assert!(!m.mouse);
    assert_eq!(m.requests.last(), Some(&Request::Mouse(false)));
    update(&mut m, Message::MouseFailed("no tty".into()));
    assert!(!m.mouse && m.status.as_ref().unwrap().alarm);
}

#[test]
fn a_click_on_the_tab_bar_goes_to_that_view() {
    let mut m = model();
    let mouse = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let bar = nav::Navigable::tab_bar(&m).expect("a 120x40 terminal has the tab bar");
    assert_eq!(bar.y, 1, "under the header");
    let term = screen(&m);
    let buf = term.backend().buffer();
    let tabs: String = (0..buf.area.width).map(|x| buf[(x, 1)].symbol().to_owned()).collect();
    let col = |name: &str| u16::try_from(tabs[..tabs.find(name).unwrap()].chars().count()).unwrap();
    let x = col("8 Charts");
    update(&mut m, Message::Mouse(mouse(x, 1)));
    assert_eq!(m.view.screen, Screen::Dashboard, "ignored while the mouse is off");
    ch(&mut m, 'm');
    update(&mut m, Message::Mouse(mouse(x, 1)));
    assert_eq!(m.view.screen, Screen::Charts);
    let x = col("5 Contention");
    update(&mut m, Message::Mouse(mouse(x + 3, 1)));
    assert_eq!(m.view.screen, Screen::Contention);
    // 80x24 has no tab bar: the footer names the view.
    let small = model_at(80, 24, 1);
    assert!(nav::Navigable::tab_bar(&small).is_none());
}

#[test]
fn c_cycles_the_palette() {
    let mut m = model();
    let mut seen = vec![m.theme.palette];
    for _ in 0..4 {
        ch(&mut m, 'c');
        seen.push(m.theme.palette);
    }
    assert_eq!(seen, [Palette::Dark, Palette::Light, Palette::Cvd, Palette::Mono, Palette::Dark]);
}

#[test]
fn status_messages_expire() {
    let t0 = Instant::now();
    let mut m = model();
    update(&mut m, Message::Tick(t0));
    ch(&mut m, 'c');
    m.dirty = false;
    update(&mut m, Message::Tick(t0 + STATUS_FOR / 2));
    assert!(m.status.is_some() && !m.dirty);
    update(&mut m, Message::Tick(t0 + STATUS_FOR));
    assert!(m.status.is_none());
    assert!(m.dirty, "the footer must be redrawn without it");
}

#[test]
fn signals_stop_the_app() {
    let mut m = model();
    update(&mut m, Message::Signal(15));
    assert_eq!(m.exit, Some(Exit::Signal(15)));
}

#[test]
fn engine_answers_become_status_messages() {
    let mut m = model();
    update(&mut m, Message::Steered(Request::AddThread("readers".into()), Ok(Some(7))));
    assert_eq!(status(&m), "added thread T7 to `readers`");
    update(&mut m, Message::Steered(Request::Restart(Layout::Linear), Ok(None)));
    assert_eq!(status(&m), "restarted on a linear table, same load");
    update(
        &mut m,
        Message::Steered(Request::RemoveThread("w".into()), Err("group `w` has no thread".into())),
    );
    assert!(m.status.as_ref().unwrap().alarm);
}

#[test]
fn the_end_of_the_run_stops_sampling_and_steering() {
    let mut m = model();
    let mut s = sample(4096, 4);
    s.done = true;
    feed(&mut m, &mut s);
    assert!(m.done && !m.wants_samples());
    assert!(status(&m).contains("q prints the summary"));
    ch(&mut m, 's');
    let t = m.now + STATUS_FOR;
    update(&mut m, Message::Tick(t));
    assert!(status(&m).contains("q prints the summary"), "the end stays said after other messages");
    update(&mut m, Message::Tick(t + STATUS_FOR * 10));
    assert!(status(&m).contains("q prints the summary"));
    m.requests.clear();
    for c in ['P', ']', '[', 'L'] {
        ch(&mut m, c);
    }
    assert!(m.requests.is_empty());
    ch(&mut m, ' ');
    assert_eq!(m.frozen, Some(0), "the last frames can still be stepped through");
}

#[test]
fn the_ring_keeps_at_most_its_frames_and_snapshots() {
    let mut m = Model::new(facts(), Theme::default(), Rect::new(0, 0, 80, 24), topology(), 2);
    for seq in 1..=5 {
        feed(&mut m, &mut sample(256, seq));
    }
    assert_eq!(m.frames.len(), 2, "every sample scanned: two snapshots, two frames");
    let mut s = sample(256, 6);
    for seq in 6..=9 {
        s.seq = seq;
        s.snapshot_fresh = false;
        feed(&mut m, &mut s);
    }
    assert_eq!(m.frames.len(), 6, "frames without a scan share the newest snapshot");
    assert!(Rc::ptr_eq(
        m.frames.back(0).unwrap().snapshot.as_ref().unwrap(),
        m.frames.back(3).unwrap().snapshot.as_ref().unwrap()
    ));
    // One snapshot allowed (a big table): a fresh scan replaces the kept frames, and the
    // memory of the snapshot that went is what the sampler scans into next.
    let mut big = Model::new(facts(), Theme::default(), Rect::new(0, 0, 80, 24), topology(), 1);
    let mut first = sample(256, 1);
    feed(&mut big, &mut first);
    assert!(first.snapshot.is_none(), "moved into the frame, no spare yet");
    let mut second = sample(256, 2);
    feed(&mut big, &mut second);
    assert_eq!(big.frames.len(), 1);
    assert!(second.snapshot.is_some(), "the first scan's buffer came back for the next scan");
    let mut ring = FrameRing::new(3, 64);
    let mut a = Adapter::new(10);
    for seq in 1..=5 {
        ring.push(&mut a, &mut sample(256, seq), &facts());
    }
    assert_eq!(ring.len(), 3);
    assert_eq!(ring.back(2).unwrap().seq, 3);
    assert!(ring.back(3).is_none());
    assert_eq!(FrameRing::snapshots_for(1 << 20), 1);
    assert_eq!(FrameRing::snapshots_for(1 << 16), 44);
    assert_eq!(FrameRing::snapshots_for(16), MAX_FRAMES);
    let g = |cap, layout| slotscope_table::Geometry::new(cap, layout, 64).ok();
    assert_eq!(FrameRing::frames_for(g(1 << 16, Layout::Interleaved)), MAX_FRAMES);
    assert_eq!(FrameRing::frames_for(g(1 << 20, Layout::Interleaved)), 9);
    assert_eq!(FrameRing::frames_for(g(1 << 20, Layout::Padded)), 2, "one line a slot");
    assert_eq!(FrameRing::frames_for(None), MAX_FRAMES);
}

// ---- whole screens ------------------------------------------------------------------

fn screen(m: &Model) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(m.area.width, m.area.height)).unwrap();
    term.draw(|f| draw(m, f)).unwrap();
    term
}

#[test]
fn whole_screens_at_80x24_and_120x40() {
    for (w, h) in [(80, 24), (120, 40)] {
        let m = model_at(w, h, 3);
        insta::assert_snapshot!(format!("dashboard_{w}x{h}"), screen(&m).backend());
        let mut m = model_at(w, h, 3);
        ch(&mut m, ',');
        ch(&mut m, '+');
        ch(&mut m, '+');
        key(&mut m, KeyCode::Enter);
        ch(&mut m, 'i');
        insta::assert_snapshot!(format!("frozen_detail_status_{w}x{h}"), screen(&m).backend());
    }
}

#[test]
fn other_backends_draw_without_a_snapshot() {
    let mut m = model_at(120, 40, 0);
    let mut s = sample(4096, 1);
    s.backend.kind = Some(BackendKind::Ptab);
    s.backend.geometry = None;
    s.heat = Default::default();
    feed(&mut m, &mut s);
    assert!(m.shown().inputs(&m.topology, m.adapter.history()).snapshot.is_none());
    insta::assert_snapshot!("ptab_120x40", screen(&m).backend());
}

#[test]
fn the_full_draw_path_never_panics() {
    let sizes = (1..=12u16).flat_map(|w| (1..=12u16).map(move |h| (w, h))).chain([
        (59, 16),
        (60, 15),
        (60, 16),
        (80, 24),
        (133, 45),
        (200, 60),
    ]);
    for (w, h) in sizes {
        let mut m = model_at(w, h, 2);
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        for keys in ["", "?", "2+++jjjl", "3-\n", "i4", "5\n", "6", "7", ", ,", "m\n"] {
            for c in keys.chars() {
                match c {
                    '\n' => key(&mut m, KeyCode::Enter),
                    c => ch(&mut m, c),
                }
            }
            term.draw(|f| draw(&m, f)).unwrap();
            update(&mut m, Message::Resize(w.saturating_add(7) % 150 + 1, h.saturating_add(3) % 50 + 1));
            term.draw(|f| draw(&m, f)).unwrap();
            update(&mut m, Message::Resize(w, h));
            key(&mut m, KeyCode::Esc);
        }
    }
}

#[test]
fn a_table_too_big_to_scan_says_so() {
    let mut m = model_at(120, 40, 0);
    let mut s = sample(4096, 1);
    // Above the sampler's scan limit: our table, but never a snapshot.
    s.snapshot = None;
    s.snapshot_fresh = false;
    feed(&mut m, &mut s);
    assert!(m.shown().snapshot.is_none());
    let term = screen(&m);
    let text: String = term.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("this one (4096 slots) is too big to scan live"), "{text}");
    assert!(!text.contains("needs the slotscope table"));
}

// ---- workshops: lessons, the A/B split, explain, presenter -------------------------------

fn lesson_model(w: u16, h: u16) -> Model {
    let text = r#"name = "demo-lesson"
title = "False sharing"
summary = "s"
scenario = "churn"
watch = ["throughput", "sharing", "violations"]

[[step]]
title = "Where do the writes land?"
say = """Two threads insert and remove short-lived keys. The table is laid out linear: id n lives
in slot n, so 8 consecutive ids share one line.

Colour is where writes landed in the last 100 ms."""
ask = "Why do both threads keep writing the same few lines?"
next_ids = true

[[step]]
title = "Padded"
say = "One slot a line."
layout = "padded"
view = "contention"
explain = true
reset = true

[[step]]
title = "Side by side"
say = "Both tables."
split = "linear,interleaved"
focus = 3
"#;
    let lesson = crate::lesson::parse(
        text,
        "t.toml",
        "t",
        None,
        &slotscope_stress::scenario::ValidationContext::with_cores(0..2),
    )
    .unwrap();
    let mut m = model_at(w, h, 3);
    update(&mut m, Message::StartLesson(Box::new(crate::lesson::LessonRun::new(lesson))));
    m
}

#[test]
fn n_and_p_step_a_lesson_forward_and_back() {
    let mut m = lesson_model(120, 40);
    assert!(m.view.show_next_ids, "step 1 shows the next ids");
    assert!(m.requests.is_empty(), "step 1 of this lesson changes nothing in the run");
    ch(&mut m, 'p');
    assert!(status(&m).contains("first step"), "{}", status(&m));
    ch(&mut m, 'n');
    assert_eq!(m.lesson.as_ref().unwrap().step, 1);
    assert_eq!((m.view.screen, m.view.detail_open), (Screen::Contention, true));
    match &m.requests[..] {
        [Request::Lesson { step: 1, changes }] => {
            assert_eq!(changes.len(), 2, "{changes:?}");
            assert_eq!(changes[1], crate::lesson::Change::ResetStats);
        }
        other => panic!("{other:?}"),
    }
    m.requests.clear();
    ch(&mut m, 'n');
    ch(&mut m, 'n');
    assert!(status(&m).contains("last step"), "{}", status(&m));
    assert_eq!(m.view.map.cursor_line, 3, "step 3 focuses line 3");
    m.requests.clear();
    ch(&mut m, 'p');
    match &m.requests[..] {
        [Request::Lesson { step: 1, changes }] => {
            assert!(changes.contains(&crate::lesson::Change::Split(None)), "going back ends the split")
        }
        other => panic!("{other:?}"),
    }
    let back = m.requests[0].clone();
    update(&mut m, Message::Steered(back.clone(), Ok(None)));
    assert!(status(&m).starts_with("step 2/3 Padded: table: padded, correct"), "{}", status(&m));
    assert!(status(&m).contains("split off"), "{}", status(&m));
    update(&mut m, Message::Steered(back, Err("boom".into())));
    assert!(m.status.as_ref().unwrap().alarm);
}

fn split_model(w: u16, h: u16) -> Model {
    let mut m = model_at(w, h, 0);
    m.split = Some(crate::split::SplitState::new(Layout::Interleaved, Layout::Linear, 10, 8));
    for seq in 1..=3 {
        feed(&mut m, &mut sample(4096, seq));
        let mut b = sample(4096, seq);
        b.ops_per_s = 9.2e5;
        b.heat.slot_writers = b.heat.slot_writers.iter().map(|w| w.saturating_add(1)).collect();
        update(&mut m, Message::SampledB(&mut b));
    }
    // Six rounds of turns: B ahead by a third in every round, the same p99.
    let mut turns = crate::split::SplitTurns::default();
    for r in 0..6u32 {
        let f = |x: f64| slotscope_stress::TurnFigures {
            ops_per_s: x * (1.0 + f64::from(r % 3) * 0.05),
            p99_ns: [Some(1000), Some(2000), Some(3000)],
            ..Default::default()
        };
        turns.push(crate::split::Side::A, f(6.9e5));
        turns.push(crate::split::Side::B, f(9.2e5));
    }
    update(&mut m, Message::SplitTurns(&turns));
    m
}

#[test]
fn whole_screens_of_the_workshop() {
    for (w, h) in [(80, 24), (120, 40)] {
        let m = lesson_model(w, h);
        insta::assert_snapshot!(format!("lesson_narration_{w}x{h}"), screen(&m).backend());
        let mut m = split_model(w, h);
        insta::assert_snapshot!(format!("split_{w}x{h}"), screen(&m).backend());
        key(&mut m, KeyCode::Enter);
        insta::assert_snapshot!(format!("split_explain_{w}x{h}"), screen(&m).backend());
        let mut m = model_at(w, h, 3);
        ch(&mut m, 'j');
        key(&mut m, KeyCode::Enter);
        insta::assert_snapshot!(format!("explain_{w}x{h}"), screen(&m).backend());
        let mut m = lesson_model(w, h);
        m.present = true;
        insta::assert_snapshot!(format!("presenter_lesson_{w}x{h}"), screen(&m).backend());
    }
    let mut m = model_at(120, 40, 3);
    m.present = true;
    insta::assert_snapshot!("presenter_120x40", screen(&m).backend());
}

#[test]
fn the_split_moves_one_cursor_and_explains_both_sides() {
    let mut m = split_model(120, 40);
    let before = m.view.map.cursor_line;
    key(&mut m, KeyCode::Right);
    assert_eq!(m.view.map.cursor_line, before + 1, "the split's maps have a cursor");
    key(&mut m, KeyCode::Enter);
    let x = m.extras();
    assert!(x.explanation.is_some() && x.explanation_b.is_some());
    assert_eq!(x.deltas[0].label, "ops/s");
    assert_eq!(x.deltas[0].b, "966k [920k-1.01M]", "the median over the turns, with its interval");
}

#[test]
fn the_workshop_never_panics_at_any_size() {
    for (w, h) in (1..=10u16).flat_map(|w| (1..=10u16).map(move |h| (w * 12, h * 5))) {
        for present in [false, true] {
            let mut m = split_model(w, h);
            m.present = present;
            let mut l = lesson_model(w, h);
            l.present = present;
            for model in [&mut m, &mut l] {
                let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
                for keys in ["", "\n", "5\n", "n", "nn", "p", "+", "-", "i"] {
                    for c in keys.chars() {
                        match c {
                            '\n' => key(model, KeyCode::Enter),
                            c => ch(model, c),
                        }
                    }
                    term.draw(|f| draw(model, f)).unwrap();
                }
            }
        }
    }
}

/// Presenter mode on the first and the last step of every built-in lesson, at 120x40: the
/// screen the step shows on the left, the narration in short lines and the figures in block
/// type on the right.
#[test]
fn presenter_on_the_first_and_last_step_of_every_lesson() {
    let ctx = slotscope_stress::scenario::ValidationContext::with_cores(0..2);
    for (name, _, _) in crate::lesson::list(&ctx) {
        let lesson = crate::lesson::load_builtin(name, &ctx).unwrap();
        let steps = lesson.steps.len();
        let mut m = model_at(120, 40, 3);
        update(&mut m, Message::Present(true));
        update(&mut m, Message::StartLesson(Box::new(crate::lesson::LessonRun::new(lesson))));
        let figures_in_block_type = |m: &Model| {
            let text = format!("{:?}", screen(m).backend());
            text.contains("███")
        };
        insta::assert_snapshot!(format!("presenter_{name}_first_120x40"), screen(&m).backend());
        assert!(figures_in_block_type(&m), "{name}: block type on the first step");
        for _ in 1..steps {
            for r in std::mem::take(&mut m.requests) {
                update(&mut m, Message::Steered(r, Ok(None)));
            }
            ch(&mut m, 'n');
        }
        for r in std::mem::take(&mut m.requests) {
            update(&mut m, Message::Steered(r, Ok(None)));
        }
        assert_eq!(m.lesson.as_ref().unwrap().step, steps - 1, "{name}");
        insta::assert_snapshot!(format!("presenter_{name}_last_120x40"), screen(&m).backend());
        assert!(figures_in_block_type(&m), "{name}: block type on the last step");
    }
}
