//! `update` for every key of the replay, the go-to parser, playback ticks, and whole replay
//! screens through `TestBackend` (insta snapshots). No file, no clock beyond the `Instant`s
//! passed in, no terminal: the frames are built from the views' deterministic demo data.

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui::Terminal;
use slotscope_trace::replay::Target;
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{Mark, MarkKind, Palette, ReplayInfo, Screen, TableSource, Theme, Zoom};

use super::*;

/// The run's time zero, clock ns; the trace spans 9 ms before it to 40 ms after.
const ZERO: u64 = 1_000_000_000;
const FIRST: u64 = ZERO - 9_000_000;
const LAST: u64 = ZERO + 40_000_000;
const EVENTS: u64 = 50_000;

fn facts() -> TraceFacts {
    TraceFacts { events: EVENTS, zero_ns: ZERO, span_ns: (FIRST, LAST), violation: None, violation_key: None }
}

/// A frame at op `position`, time `time_ns`, drawn from the views' demo (a 4096-slot table).
fn frame_at(position: u64, time_ns: u64) -> ReplayFrame {
    let demo = Demo::build(&DemoSpec::default());
    let i = demo.inputs();
    ReplayFrame {
        header: i.header.clone(),
        snapshot: i.snapshot.cloned(),
        heat: i.heat.clone(),
        line_activity: i.line_activity.cloned(),
        threads: i.threads.clone(),
        latency: i.latency.clone(),
        timeline: i.timeline.clone(),
        topology: i.topology.clone(),
        replay: ReplayInfo {
            cursor_ns: i64::try_from(time_ns).unwrap() - i64::try_from(ZERO).unwrap(),
            start_ns: -9_000_000,
            end_ns: 40_000_000,
            position,
            events: EVENTS,
            event_text: format!("event #{position} · t1's op 812: lookup 307@2 -> hit (value t0#479)"),
            table: TableSource::Model,
            activity: (0..200).map(|i| (i * 37 % 23) as u64).collect(),
            marks: vec![
                Mark { at_ns: 0, kind: MarkKind::Control },
                Mark { at_ns: 12_000_000, kind: MarkKind::Drop },
                Mark { at_ns: 25_000_000, kind: MarkKind::Scan },
            ],
            ..ReplayInfo::default()
        },
        position,
        time_ns,
    }
}

fn model_at(w: u16, h: u16) -> Model {
    Model::new(facts(), frame_at(10_000, ZERO), Theme::default(), Rect::new(0, 0, w, h), 0.01, 500_000)
}

fn model() -> Model {
    model_at(120, 40)
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn ch(m: &mut Model, c: char) {
    key(m, KeyCode::Char(c));
}

fn typed(m: &mut Model, s: &str) {
    for c in s.chars() {
        ch(m, c);
    }
}

fn status(m: &Model) -> &str {
    m.status.as_ref().map_or("", |s| s.text.as_str())
}

fn take(m: &mut Model) -> Vec<Request> {
    std::mem::take(&mut m.requests)
}

/// What the loop does for a seek: the frame at the new place.
fn load(m: &mut Model, position: u64, time_ns: u64) {
    update(m, Message::Loaded(Box::new(frame_at(position, time_ns))));
}

#[test]
fn a_new_model_is_paused_and_its_bar_shows_speed_and_frame() {
    let m = model();
    assert!(!m.playing && m.exit.is_none() && m.requests.is_empty());
    assert_eq!((m.shown.replay.speed, m.shown.replay.frame_ns), (0.01, 500_000));
    assert!(!m.shown.replay.playing);
    let m = Model::new(facts(), frame_at(0, FIRST), Theme::default(), Rect::new(0, 0, 80, 24), 1e9, 1);
    assert_eq!((m.speed, m.frame_ns), (SPEED_MAX, FRAME_MIN_NS), "clamped");
}

#[test]
fn q_and_ctrl_c_quit_and_signals_stop() {
    let mut m = model();
    ch(&mut m, 'q');
    assert_eq!(m.exit, Some(Exit::Quit));
    let mut m = model();
    update(&mut m, Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert_eq!(m.exit, Some(Exit::Quit));
    let mut m = model();
    update(&mut m, Message::Signal(15));
    assert_eq!(m.exit, Some(Exit::Signal(15)));
    // Ctrl-C quits from the prompt too; plain q there is typed.
    let mut m = model();
    ch(&mut m, 'g');
    ch(&mut m, 'q');
    assert_eq!((m.exit, m.prompt.as_deref()), (None, Some("q")));
    update(&mut m, Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert_eq!(m.exit, Some(Exit::Quit));
}

#[test]
fn space_plays_and_pauses_and_ticks_advance_by_the_speed() {
    let mut m = model();
    ch(&mut m, ' ');
    assert!(m.playing && m.shown.replay.playing);
    let t0 = Instant::now();
    update(&mut m, Message::Tick(t0));
    assert!(take(&mut m).is_empty(), "the first tick only starts the clock");
    update(&mut m, Message::Tick(t0 + Duration::from_millis(100)));
    // 100 ms of real time at 0.01x: 1 ms of trace time.
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(ZERO + 1_000_000))]);
    ch(&mut m, ' ');
    assert!(!m.playing && !m.shown.replay.playing);
    assert!(status(&m).starts_with("paused"), "{}", status(&m));
    update(&mut m, Message::Tick(t0 + Duration::from_millis(300)));
    assert!(take(&mut m).is_empty(), "paused: no seek");
}

#[test]
fn playing_stops_at_the_end_and_space_there_starts_over() {
    let mut m = model();
    load(&mut m, EVENTS, LAST);
    ch(&mut m, ' ');
    assert_eq!(take(&mut m), [Request::Seek(Target::Start)], "at the end, play starts over");
    load(&mut m, EVENTS, LAST);
    let t0 = Instant::now();
    update(&mut m, Message::Tick(t0));
    update(&mut m, Message::Tick(t0 + Duration::from_millis(50)));
    assert!(!m.playing);
    assert!(status(&m).starts_with("the end of the trace"), "{}", status(&m));
    // Playing near the end never seeks past the last op.
    let mut m = model();
    load(&mut m, EVENTS - 1, LAST - 10);
    ch(&mut m, ' ');
    update(&mut m, Message::Tick(t0));
    update(&mut m, Message::Tick(t0 + Duration::from_secs(10)));
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(LAST))]);
}

#[test]
fn dot_and_comma_step_one_op_and_stop_at_the_ends() {
    let mut m = model();
    ch(&mut m, '.');
    assert_eq!(take(&mut m), [Request::Seek(Target::Rank(10_001))]);
    ch(&mut m, ',');
    assert_eq!(take(&mut m), [Request::Seek(Target::Rank(9_999))]);
    // Stepping pauses a playing replay.
    ch(&mut m, ' ');
    ch(&mut m, '.');
    assert!(!m.playing);
    take(&mut m);
    load(&mut m, 0, FIRST);
    ch(&mut m, ',');
    assert!(take(&mut m).is_empty());
    assert!(status(&m).contains("before the first op"), "{}", status(&m));
    load(&mut m, EVENTS, LAST);
    ch(&mut m, '.');
    assert!(take(&mut m).is_empty());
    assert!(status(&m).contains("the last op"), "{}", status(&m));
}

#[test]
fn angle_brackets_step_a_frame_of_trace_time() {
    let mut m = model();
    ch(&mut m, '>');
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(ZERO + 500_000))]);
    ch(&mut m, '<');
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(ZERO - 500_000))]);
    load(&mut m, EVENTS, LAST - 100);
    ch(&mut m, '>');
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(LAST))], "clamped to the last op");
    load(&mut m, 1, FIRST + 100);
    ch(&mut m, '<');
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(FIRST - 1))], "before the first op");
}

#[test]
fn keys_that_steer_a_live_run_say_so() {
    for (c, says) in [(']', "no threads"), ('[', "no threads"), ('P', "no workers"), ('L', "layout")] {
        let mut m = model();
        ch(&mut m, c);
        assert!(take(&mut m).is_empty(), "{c}");
        assert!(status(&m).contains(says), "{c}: {}", status(&m));
        assert!(!m.playing);
    }
}

#[test]
fn s_asks_for_a_save_and_says_where_it_went() {
    let mut m = model();
    ch(&mut m, 's');
    assert_eq!(take(&mut m), [Request::Save]);
    let paths = vec!["slotscope-demo-1.txt".into(), "slotscope-demo-1.json".into()];
    update(&mut m, Message::Saved(Ok(paths)));
    assert_eq!(status(&m), "saved slotscope-demo-1.txt + .json in the working directory");
    update(&mut m, Message::Saved(Err("disk full".into())));
    assert!(m.status.as_ref().is_some_and(|s| s.alarm && s.text.contains("disk full")));
}

#[test]
fn plus_and_minus_set_the_speed_in_1_2_5_steps_within_limits() {
    let mut m = model();
    ch(&mut m, '+');
    assert!((m.speed - 0.02).abs() < 1e-12, "{}", m.speed);
    ch(&mut m, '+');
    assert!((m.speed - 0.05).abs() < 1e-12, "{}", m.speed);
    assert!(status(&m).contains("0.05"), "{}", status(&m));
    assert!((m.shown.replay.speed - 0.05).abs() < 1e-12, "the bar follows at once");
    ch(&mut m, '-');
    ch(&mut m, '-');
    ch(&mut m, '-');
    assert!((m.speed - 0.005).abs() < 1e-12, "{}", m.speed);
    for _ in 0..40 {
        ch(&mut m, '+');
    }
    assert_eq!(m.speed, SPEED_MAX);
    assert!(status(&m).contains("fastest"), "{}", status(&m));
    for _ in 0..60 {
        ch(&mut m, '-');
    }
    assert!((m.speed - SPEED_MIN).abs() < 1e-15, "{}", m.speed);
    assert!(status(&m).contains("slowest"), "{}", status(&m));
    assert!(m.requests.is_empty(), "speed needs no seek");
}

#[test]
fn braces_set_the_frame_length_and_ask_for_the_window() {
    let mut m = model();
    ch(&mut m, '}');
    assert_eq!(m.frame_ns, 1_000_000);
    assert_eq!(take(&mut m), [Request::Window(1_000_000)]);
    ch(&mut m, '{');
    ch(&mut m, '{');
    assert_eq!(m.frame_ns, 200_000);
    assert_eq!(take(&mut m), [Request::Window(500_000), Request::Window(200_000)]);
    for _ in 0..20 {
        ch(&mut m, '{');
    }
    assert_eq!(m.frame_ns, FRAME_MIN_NS);
    assert!(status(&m).contains("limit"), "{}", status(&m));
}

#[test]
fn g_opens_a_prompt_that_takes_times_and_event_numbers() {
    let mut m = model();
    ch(&mut m, 'g');
    assert_eq!(m.prompt.as_deref(), Some(""));
    typed(&mut m, "1.5s");
    assert_eq!(m.shown.replay.prompt.as_deref(), Some("1.5s"), "the bar shows what is typed");
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.prompt, None);
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(ZERO + 1_500_000_000))]);
    ch(&mut m, 'g');
    typed(&mut m, "200mx");
    key(&mut m, KeyCode::Backspace);
    typed(&mut m, "s");
    key(&mut m, KeyCode::Enter);
    assert_eq!(take(&mut m), [Request::Seek(Target::Time(ZERO + 200_000_000))]);
    ch(&mut m, 'g');
    typed(&mut m, "#18342");
    key(&mut m, KeyCode::Enter);
    assert_eq!(take(&mut m), [Request::Seek(Target::Event(18_342))]);
    // Keys in the prompt are text, not commands; Esc leaves it with nothing done.
    ch(&mut m, 'g');
    typed(&mut m, "q. ");
    key(&mut m, KeyCode::Esc);
    assert_eq!((m.prompt.as_ref(), m.exit), (None, None));
    assert!(take(&mut m).is_empty());
    // A bad entry is an alarm that says what would be accepted.
    ch(&mut m, 'g');
    typed(&mut m, "12");
    key(&mut m, KeyCode::Enter);
    assert!(take(&mut m).is_empty());
    assert!(
        m.status.as_ref().is_some_and(|s| s.alarm && s.text.contains("a time with a unit")),
        "{:?}",
        m.status
    );
}

#[test]
fn the_go_to_parser_reads_units_signs_and_events() {
    assert_eq!(parse_goto("1.5s", ZERO), Ok(Target::Time(ZERO + 1_500_000_000)));
    assert_eq!(parse_goto(" 200ms ", ZERO), Ok(Target::Time(ZERO + 200_000_000)));
    assert_eq!(parse_goto("12.5us", ZERO), Ok(Target::Time(ZERO + 12_500)));
    assert_eq!(parse_goto("3µs", ZERO), Ok(Target::Time(ZERO + 3_000)));
    assert_eq!(parse_goto("-3us", ZERO), Ok(Target::Time(ZERO - 3_000)));
    assert_eq!(parse_goto("+850ns", ZERO), Ok(Target::Time(ZERO + 850)));
    assert_eq!(parse_goto("#18,342", ZERO), Ok(Target::Event(18_342)));
    assert_eq!(parse_goto("#1_000", ZERO), Ok(Target::Event(1_000)));
    for (bad, says) in [
        ("", "type a time"),
        ("#x", "an event number is #"),
        ("12", "`12` has no unit"),
        ("5 min", "unknown time unit `min`"),
        ("ms", "expected a number"),
        ("99999999999s", "too far"),
    ] {
        let e = parse_goto(bad, ZERO).unwrap_err();
        assert!(e.contains(says), "{bad:?}: {e}");
    }
}

#[test]
fn home_and_end_go_to_the_ends_and_pause() {
    let mut m = model();
    ch(&mut m, ' ');
    key(&mut m, KeyCode::End);
    assert!(!m.playing);
    assert_eq!(take(&mut m), [Request::Seek(Target::End)]);
    key(&mut m, KeyCode::Home);
    assert_eq!(take(&mut m), [Request::Seek(Target::Start)]);
}

#[test]
fn r_switches_the_table_source_and_v_goes_to_the_violation() {
    let mut m = model();
    ch(&mut m, 'r');
    assert!(m.scan);
    assert_eq!(take(&mut m), [Request::Refresh]);
    assert!(status(&m).contains("recorded scan"), "{}", status(&m));
    ch(&mut m, 'r');
    assert!(!m.scan);
    take(&mut m);
    ch(&mut m, 'v');
    assert!(take(&mut m).is_empty());
    assert!(status(&m).contains("--at-violation"), "{}", status(&m));
    m.facts.violation = Some(777);
    ch(&mut m, 'v');
    assert_eq!(take(&mut m), [Request::Seek(Target::Event(777))]);
    // With the key the finding names, the map's selection goes to its slot's line.
    let g = m.shown.header.geometry.expect("the demo has a table");
    let slot = g.capacity() - 3;
    m.facts.violation_key = Some(g.key(5, slot).bits());
    m.view.map.cursor_line = 0;
    ch(&mut m, 'v');
    assert_eq!(m.view.map.cursor_line, g.line_of_slot(slot));
    assert!(status(&m).contains(&format!("on slot {slot} (line {}", g.line_of_slot(slot))), "{}", status(&m));
}

#[test]
fn view_keys_work_as_live() {
    let mut m = model();
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.view.screen, Screen::Dashboard.next());
    key(&mut m, KeyCode::BackTab);
    assert_eq!(m.view.screen, Screen::Dashboard);
    ch(&mut m, '4');
    assert_eq!(m.view.screen, Screen::from_digit('4').unwrap());
    key(&mut m, KeyCode::Esc);
    assert_eq!(m.view.screen, Screen::Dashboard);
    // Zoom is on z / Z / = (+ and - are the speed).
    ch(&mut m, 'z');
    let zoomed = m.view.map.zoom;
    assert_ne!(zoomed, Zoom::Fit);
    ch(&mut m, 'Z');
    assert_ne!(m.view.map.zoom, zoomed);
    ch(&mut m, '=');
    assert_eq!(m.view.map.zoom, Zoom::Fit);
    ch(&mut m, 'z');
    let line = m.view.map.cursor_line;
    ch(&mut m, 'j');
    assert!(m.view.map.cursor_line > line);
    ch(&mut m, 'k');
    assert_eq!(m.view.map.cursor_line, line);
    key(&mut m, KeyCode::PageDown);
    assert!(m.view.map.cursor_line > line);
    key(&mut m, KeyCode::Enter);
    assert!(m.view.detail_open);
    key(&mut m, KeyCode::Esc);
    assert!(!m.view.detail_open);
    ch(&mut m, 'i');
    assert!(m.view.show_next_ids);
    ch(&mut m, 'c');
    assert_ne!(m.theme.palette, Theme::default().palette);
    assert!(status(&m).starts_with("colours"), "{}", status(&m));
    ch(&mut m, 'm');
    assert_eq!(take(&mut m), [Request::Mouse(true)]);
    update(
        &mut m,
        Message::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 5,
            row: 5,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert!(m.view.map.cursor_line > 0);
    update(&mut m, Message::MouseFailed("no mouse".into()));
    assert!(!m.mouse && status(&m).contains("no mouse"));
    // Without a table, map keys say why nothing happens.
    let mut m = model();
    let mut f = frame_at(1, ZERO);
    f.snapshot = None;
    f.header.backend = "dashmap".into();
    update(&mut m, Message::Loaded(Box::new(f)));
    ch(&mut m, 'i');
    assert!(status(&m).contains("this trace's backend is dashmap"), "{}", status(&m));
}

#[test]
fn the_help_opens_scrolls_and_closes() {
    let mut m = model_at(80, 24);
    ch(&mut m, '?');
    assert!(m.view.help_open);
    ch(&mut m, 'j');
    assert_eq!(m.view.help_scroll, 1);
    key(&mut m, KeyCode::End);
    assert!(m.view.help_scroll > 1);
    ch(&mut m, '.');
    assert!(m.requests.is_empty(), "keys wait while the help is open");
    key(&mut m, KeyCode::Esc);
    assert!(!m.view.help_open);
    ch(&mut m, '?');
    ch(&mut m, 'q');
    assert_eq!(m.exit, Some(Exit::Quit));
}

#[test]
fn loads_failures_resizes_and_status_expiry() {
    let mut m = model();
    m.prompt = Some("#1".into());
    load(&mut m, 123, ZERO + 5);
    assert_eq!(m.shown.position, 123);
    assert_eq!(m.shown.replay.prompt.as_deref(), Some("#1"), "a load keeps the model's own state");
    ch(&mut m, ' ');
    update(&mut m, Message::Failed("gone".into()));
    assert!(!m.playing);
    assert!(m.status.as_ref().is_some_and(|s| s.alarm && s.text.contains("gone")));
    update(&mut m, Message::Resize(90, 30));
    assert_eq!(m.area, Rect::new(0, 0, 90, 30));
    let since = m.status.as_ref().unwrap().since;
    update(&mut m, Message::Tick(since + STATUS_FOR));
    assert!(m.status.is_none());
}

#[test]
fn speeds_round_to_the_1_2_5_series() {
    assert!((nearest_125(0.0021) - 0.002).abs() < 1e-12);
    assert!((nearest_125(0.004) - 0.005).abs() < 1e-12);
    assert!((nearest_125(7.5) - 10.0).abs() < 1e-12);
    assert!((step_125(1.0, true) - 2.0).abs() < 1e-12);
    assert!((step_125(5.0, true) - 10.0).abs() < 1e-12);
    assert!((step_125(1.0, false) - 0.5).abs() < 1e-12);
    assert!((step_125(1e-6, true) - 2e-6).abs() < 1e-18);
}

// ---- whole screens ------------------------------------------------------------------

fn screen(m: &Model) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(m.area.width, m.area.height)).unwrap();
    term.draw(|f| draw(m, f)).unwrap();
    term
}

#[test]
fn replay_screens_at_80x24_and_120x40() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut m = model_at(w, h);
        m.theme = Theme::new(Palette::Dark, false);
        insta::assert_snapshot!(format!("replay_{w}x{h}"), screen(&m).backend());
        ch(&mut m, 'g');
        typed(&mut m, "1.5ms");
        insta::assert_snapshot!(format!("replay_prompt_{w}x{h}"), screen(&m).backend());
    }
}

#[test]
fn every_replay_screen_draws_at_any_size() {
    for (w, h) in [(1, 1), (20, 5), (59, 16), (60, 16), (80, 24), (133, 45)] {
        let mut m = model_at(w, h);
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        for keys in ["", "?", "2zzj\n", "3", "4", "5", "6", "7", "g#12"] {
            for c in keys.chars() {
                match c {
                    '\n' => key(&mut m, KeyCode::Enter),
                    c => ch(&mut m, c),
                }
            }
            term.draw(|f| draw(&m, f)).unwrap();
            key(&mut m, KeyCode::Esc);
        }
    }
}
