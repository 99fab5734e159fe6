//! No view panics at any size: every screen (and the help overlay, and the too-small screen)
//! at every size from 1x1 to 20x20, then on a coarser grid up to 120x40. Each widget is also
//! drawn on its own, below the dashboard's minimum size, where only the widget guards itself.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use slotscope_table::Layout;
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{
    ContentionView, Dashboard, FreeList, GenerationHistogram, GenerationMap, HeaderBar, HelpOverlay,
    LatencyView, LineDetail, MapState, OccupancyMap, Palette, Screen, Theme, ThreadsView, TooSmall,
    ViewState, Zoom,
};

fn sizes() -> impl Iterator<Item = (u16, u16)> {
    let small = (1..=20).flat_map(|w| (1..=20).map(move |h| (w, h)));
    let large = (1..=120).step_by(9).flat_map(|w| (1..=40).step_by(4).map(move |h| (w, h)));
    small.chain(large.filter(|&(w, h)| w > 20 || h > 20)).chain([(120, 40), (60, 16), (59, 16), (60, 15)])
}

type Draw<'a> = Box<dyn Fn(Rect, &mut Buffer) + 'a>;

/// Every widget on its own, named.
fn every_widget<'a>(demo: &'a Demo, theme: &'a Theme, map: &'a MapState) -> Vec<(&'static str, Draw<'a>)> {
    let i = demo.inputs();
    let snap = i.snapshot.expect("demo has a table");
    let mut out: Vec<(&'static str, Draw<'a>)> = vec![
        (
            "occupancy",
            Box::new(move |a, b| (&OccupancyMap::new(snap, i.heat, map, theme).next_ids(12)).render(a, b)),
        ),
        ("generations", Box::new(move |a, b| (&GenerationMap::new(snap, map, theme)).render(a, b))),
        ("histogram", Box::new(move |a, b| (&GenerationHistogram::new(snap, theme)).render(a, b))),
        (
            "line detail",
            Box::new(move |a, b| {
                (&LineDetail::new(snap, map.cursor_line, i.heat, i.line_activity, theme)).render(a, b)
            }),
        ),
        ("threads", Box::new(move |a, b| (&ThreadsView::new(i.threads, i.topology, theme)).render(a, b))),
        ("header", Box::new(move |a, b| (&HeaderBar::new(i.header, theme)).render(a, b))),
        ("help", Box::new(move |a, b| (&HelpOverlay::new(theme)).render(a, b))),
        ("too small", Box::new(move |a, b| (&TooSmall::new((80, 24), theme)).render(a, b))),
    ];
    for compact in [false, true] {
        out.push((
            "free list",
            Box::new(move |a, b| (&FreeList::new(snap, i.heat, theme).compact(compact)).render(a, b)),
        ));
        out.push((
            "contention",
            Box::new(move |a, b| {
                (&ContentionView::new(i.threads, i.heat, i.timeline, theme).compact(compact)).render(a, b)
            }),
        ));
        out.push((
            "latency",
            Box::new(move |a, b| {
                (&LatencyView::new(i.latency, i.timeline, theme).compact(compact)).render(a, b)
            }),
        ));
    }
    out
}

#[test]
fn no_view_panics_at_any_size() {
    let demos = [
        Demo::build(&DemoSpec { capacity: 16, churn: 40, ..DemoSpec::default() }),
        Demo::build(&DemoSpec {
            capacity: 512,
            layout: Layout::Padded,
            open_loop: true,
            ..DemoSpec::default()
        }),
    ];
    let themes = [Theme::default(), Theme::new(Palette::Mono, true)];
    let maps = [
        MapState::default(),
        MapState { zoom: Zoom::Slots, cursor_line: usize::MAX },
        MapState { zoom: Zoom::Lines { log2: 3 }, cursor_line: 7 },
    ];
    let mut count = 0u32;
    for (w, h) in sizes() {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        for (d, demo) in demos.iter().enumerate() {
            let theme = &themes[d % 2];
            let map = &maps[(usize::from(w) + usize::from(h)) % maps.len()];
            for screen in Screen::ALL {
                let state = ViewState {
                    screen,
                    map: *map,
                    show_next_ids: true,
                    detail_open: w % 2 == 0,
                    help_open: h % 5 == 0,
                    ..ViewState::default()
                };
                (&Dashboard::new(demo.inputs(), &state, theme)).render(area, &mut buf);
                count += 1;
            }
            for (name, widget) in every_widget(demo, theme, map) {
                widget(area, &mut buf);
                if w > 40 && h > 20 {
                    continue;
                }
                // An offset area inside a larger buffer: nothing may be written outside it.
                let mut big = Buffer::empty(Rect::new(0, 0, w + 6, h + 4));
                let inner = Rect::new(3, 2, w, h);
                widget(inner, &mut big);
                for y in 0..h + 4 {
                    for x in 0..w + 6 {
                        if !inner.contains((x, y).into()) {
                            assert_eq!(
                                big[(x, y)].symbol(),
                                " ",
                                "{name} wrote outside {inner:?} at {x},{y}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(count > 6000, "swept {count} screens");
}
