//! The dashboard in replay mode: the REPLAY badge, the replay bar above the footer, the replay's
//! keys in the footer and the help, and no panic at any size.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{Dashboard, Mark, MarkKind, ReplayInfo, Screen, TableSource, Theme, ViewState};

fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height).map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()).collect()
}

fn info() -> ReplayInfo {
    ReplayInfo {
        playing: true,
        speed: 0.01,
        frame_ns: 1_000_000,
        cursor_ns: 2_000_000,
        start_ns: -1_000_000,
        end_ns: 80_000_000,
        position: 1200,
        events: 400_000,
        event_text: "#1199 t0 op 77 insert t0#12 -> 5@3".into(),
        table: TableSource::Scan { age_ns: 1_500_000 },
        activity: vec![3, 9, 4, 0, 7],
        marks: vec![Mark { at_ns: 40_000_000, kind: MarkKind::Drop }],
        notice: None,
        prompt: None,
        stopped: Some("truncated in record 9 at byte 50000".into()),
    }
}

#[test]
fn replay_chrome_takes_its_rows_and_keys() {
    let demo = Demo::build(&DemoSpec::default());
    let theme = Theme::default();
    let state = ViewState::default();
    let info = info();
    let d = Dashboard::new(demo.inputs(), &state, &theme).replay(Some(&info));
    let area = Rect::new(0, 0, 120, 40);
    let r = d.regions(area);
    let bar = r.replay.expect("a replay bar");
    assert_eq!((bar.y, bar.height), (36, 3), "right above the footer");
    assert!(r.map.is_some_and(|m| m.bottom() <= bar.y), "the map ends above the bar");
    let mut buf = Buffer::empty(area);
    (&d).render(area, &mut buf);
    let text = rows(&buf);
    assert!(text[0].contains(" REPLAY ▶ 0.01× ") && text[0].contains("TRUNCATED"), "{}", text[0]);
    assert!(text[0].contains("table: scan 1.50ms before cursor") || text[0].len() > 100, "{}", text[0]);
    assert!(text[38].contains("#1199 t0 op 77 insert"), "{}", text[38]);
    let footer = &text[39];
    assert!(footer.contains("play") && footer.contains("go to") && !footer.contains("freeze"), "{footer}");
    // The live dashboard has none of it.
    let live = Dashboard::new(demo.inputs(), &state, &theme);
    assert!(live.regions(area).replay.is_none());
    // The help lists the replay's keys and the notes, not the live run's.
    let notes = vec!["the table is modelled from the ops".to_owned()];
    let help_state = ViewState { help_open: true, ..ViewState::default() };
    let d = Dashboard::new(demo.inputs(), &help_state, &theme).replay(Some(&info)).help_notes(&notes);
    let mut buf = Buffer::empty(Rect::new(0, 0, 120, 80));
    (&d).render(buf.area, &mut buf);
    let all = rows(&buf).join("\n");
    assert!(all.contains("About this screen") && all.contains("the table is modelled"), "{all}");
    assert!(all.contains("Replay (trace time)") && all.contains("go to a time"), "{all}");
    assert!(!all.contains("pause / resume the workers"), "{all}");
}

#[test]
fn no_replay_screen_panics_at_any_size() {
    let demo = Demo::build(&DemoSpec::default());
    let theme = Theme::default();
    let mut info = info();
    for prompt in [None, Some("12.5ms".to_owned())] {
        info.prompt = prompt;
        for screen in Screen::ALL {
            for help_open in [false, true] {
                let state = ViewState { screen, help_open, detail_open: true, ..ViewState::default() };
                let d = Dashboard::new(demo.inputs(), &state, &theme).replay(Some(&info));
                for w in (1..=130).step_by(11) {
                    for h in (1..=44).step_by(5) {
                        let area = Rect::new(0, 0, w, h);
                        let mut buf = Buffer::empty(area);
                        (&d).render(area, &mut buf);
                        let _ = d.map_grid(area);
                    }
                }
            }
        }
    }
}
