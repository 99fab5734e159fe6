//! Whole screens through ratatui's `TestBackend`, compared with committed insta snapshots.
//! Inputs come from `demo::Demo`: a real table driven single-threaded by a seeded sequence,
//! so every snapshot is deterministic (no clock, no threads).

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use slotscope_table::{Layout, Variant};
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{Dashboard, MapState, Palette, Screen, Theme, ViewState, Zoom};

fn draw(demo: &Demo, state: &ViewState, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    let dash = Dashboard::new(demo.inputs(), state, theme);
    term.draw(|f| f.render_widget(&dash, f.area())).expect("draw");
    term
}

fn screen(screen: Screen) -> ViewState {
    ViewState { screen, ..ViewState::default() }
}

#[test]
fn every_screen_at_80x24_and_120x40() {
    let demo = Demo::build(&DemoSpec::default());
    let theme = Theme::default();
    for s in Screen::ALL {
        for (w, h) in [(80, 24), (120, 40)] {
            let term = draw(&demo, &screen(s), &theme, w, h);
            let name = format!("{}_{w}x{h}", s.name().to_lowercase().replace(' ', "_"));
            insta::assert_snapshot!(name, term.backend());
        }
    }
}

#[test]
fn occupancy_with_detail_next_ids_and_slot_zoom() {
    let demo = Demo::build(&DemoSpec { layout: Layout::Linear, ..DemoSpec::default() });
    let theme = Theme::default();
    let state = ViewState {
        screen: Screen::Occupancy,
        map: MapState { zoom: Zoom::Slots, cursor_line: 0 },
        show_next_ids: true,
        detail_open: true,
        ..ViewState::default()
    };
    for (w, h) in [(80, 24), (120, 40)] {
        let term = draw(&demo, &state, &theme, w, h);
        insta::assert_snapshot!(format!("occupancy_linear_detail_{w}x{h}"), term.backend());
    }
}

#[test]
fn dashboard_ascii_mono_broken_variant_open_loop() {
    let demo = Demo::build(&DemoSpec {
        variant: Variant::NoGenerationCheck,
        open_loop: true,
        ..DemoSpec::default()
    });
    let theme = Theme::new(Palette::Mono, true);
    for (w, h) in [(80, 24), (120, 40)] {
        let term = draw(&demo, &screen(Screen::Dashboard), &theme, w, h);
        insta::assert_snapshot!(format!("dashboard_ascii_broken_{w}x{h}"), term.backend());
    }
    let term = draw(&demo, &screen(Screen::Latency), &theme, 120, 40);
    insta::assert_snapshot!("latency_open_loop_ascii_120x40", term.backend());
}

#[test]
fn other_backends_say_plainly_what_needs_our_table() {
    let demo = Demo::build(&DemoSpec { backend: "ptab".to_owned(), ..DemoSpec::default() });
    let theme = Theme::default();
    let term = draw(&demo, &screen(Screen::Dashboard), &theme, 120, 40);
    insta::assert_snapshot!("dashboard_ptab_120x40", term.backend());
    let term = draw(&demo, &screen(Screen::Occupancy), &theme, 80, 24);
    insta::assert_snapshot!("occupancy_ptab_80x24", term.backend());
}

#[test]
fn help_overlay_and_too_small() {
    let demo = Demo::build(&DemoSpec::default());
    let theme = Theme::default();
    let state = ViewState { help_open: true, ..ViewState::default() };
    let term = draw(&demo, &state, &theme, 120, 40);
    insta::assert_snapshot!("help_120x40", term.backend());
    let term = draw(&demo, &state, &theme, 50, 12);
    insta::assert_snapshot!("too_small_50x12", term.backend());
}

#[test]
fn a_tall_dashboard_gives_the_rows_its_map_does_not_need_to_charts() {
    let demo = Demo::build(&DemoSpec::default());
    let theme = Theme::default();
    let state = screen(Screen::Dashboard);
    let dash = Dashboard::new(demo.inputs(), &state, &theme);
    // 1024 slots are 128 lines: 10 rows of map at 200 columns, so 60 rows leave charts room.
    let tall = dash.regions(ratatui::layout::Rect::new(0, 0, 200, 60));
    let (map, charts) = (tall.map.unwrap(), tall.charts.expect("charts under the map"));
    assert_eq!(charts.y, map.bottom());
    assert!(charts.height >= 14, "{charts:?}");
    let term = draw(&demo, &state, &theme, 200, 60);
    insta::assert_snapshot!("dashboard_200x60", term.backend());
    // 120x40: the map needs its rows (and zoomed in to slots of a big table, so would 200x60).
    assert!(dash.regions(ratatui::layout::Rect::new(0, 0, 120, 40)).charts.is_none());
    let big = Demo::build(&DemoSpec { capacity: 1 << 16, ..DemoSpec::default() });
    let zoomed = ViewState { map: MapState { zoom: Zoom::Slots, ..MapState::default() }, ..state };
    let dash = Dashboard::new(big.inputs(), &zoomed, &theme);
    assert!(dash.regions(ratatui::layout::Rect::new(0, 0, 200, 60)).charts.is_none());
}

#[test]
fn the_map_legend_names_every_glyph_the_map_draws() {
    let demo = Demo::build(&DemoSpec::default());
    let theme = Theme::default();
    for zoom in [Zoom::Fit, Zoom::Slots] {
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let state =
                ViewState { map: MapState { zoom, ..MapState::default() }, ..screen(Screen::Occupancy) };
            let term = draw(&demo, &state, &theme, w, h);
            let buf = term.backend().buffer();
            let rows: Vec<String> =
                (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_owned()).collect()).collect();
            // The legend is the map panel's last rows: from the first row that starts a legend.
            let legend_at = rows.iter().rposition(|r| r.contains(" occupied")).expect("a legend");
            let legend_at = if rows[legend_at - 1].contains("  ") && rows[legend_at - 1].contains(" free") {
                legend_at - 1
            } else {
                legend_at
            };
            let (map, legend) = (rows[..legend_at].join("\n"), rows[legend_at..].join("\n"));
            for (glyph, meaning) in [("×", "most shared"), ("▒", "reserved"), ("◀", "cursor"), ("·", "free")]
            {
                if map.contains(glyph) {
                    assert!(
                        legend.contains(meaning),
                        "{zoom:?} {w}x{h}: {glyph} drawn, {meaning} not in:\n{legend}"
                    );
                }
            }
        }
    }
}
