//! Prints screens of the views to the terminal, with colours, from deterministic demo inputs.
//!
//! `cargo run -p slotscope-views --example gallery -- occupancy 120x40 [dark|light|cvd|mono] [ascii]`

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::widgets::Widget;
use slotscope_table::{Layout, Variant};
use slotscope_views::demo::{Demo, DemoSpec};
use slotscope_views::{Dashboard, MapState, Palette, Screen, Theme, ViewState, Zoom};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("dashboard", String::as_str);
    let (w, h) = args
        .get(1)
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .unwrap_or((120, 40));
    let palette = args.iter().find_map(|a| a.parse::<Palette>().ok()).unwrap_or_default();
    let ascii = args.iter().any(|a| a == "ascii");
    let layout = args.iter().find_map(|a| a.parse::<Layout>().ok()).unwrap_or_default();
    let capacity =
        args.iter().find_map(|a| a.strip_prefix("cap=").and_then(|c| c.parse().ok())).unwrap_or(1024);
    let backend = args.iter().find_map(|a| a.strip_prefix("backend=")).unwrap_or("slotscope").to_owned();
    let variant = args.iter().find_map(|a| a.parse::<Variant>().ok()).unwrap_or_default();
    let zoom = if args.iter().any(|a| a == "slots") { Zoom::Slots } else { Zoom::Fit };
    let theme = Theme::new(palette, ascii);
    let spec = DemoSpec {
        capacity,
        layout,
        backend,
        variant,
        open_loop: args.iter().any(|a| a == "open"),
        ..DemoSpec::default()
    };
    let demo = Demo::build(&spec);
    let screen = match what {
        "occupancy" => Screen::Occupancy,
        "generations" => Screen::Generations,
        "free" => Screen::FreeList,
        "contention" => Screen::Contention,
        "latency" => Screen::Latency,
        "threads" => Screen::Threads,
        _ => Screen::Dashboard,
    };
    let state = ViewState {
        screen,
        map: MapState { zoom, cursor_line: 0 },
        show_next_ids: args.iter().any(|a| a == "next"),
        detail_open: args.iter().any(|a| a == "detail"),
        help_open: args.iter().any(|a| a == "help"),
        ..ViewState::default()
    };
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    (&Dashboard::new(demo.inputs(), &state, &theme)).render(buf.area, &mut buf);
    if args.iter().any(|a| a == "plain") {
        for y in 0..h {
            let line: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
            println!("{line}");
        }
    } else {
        print_ansi(&buf);
    }
}

fn color(c: Color, fg: bool) -> String {
    let base = if fg { 38 } else { 48 };
    match c {
        Color::Reset => String::new(),
        Color::Indexed(n) => format!("\x1b[{base};5;{n}m"),
        Color::Rgb(r, g, b) => format!("\x1b[{base};2;{r};{g};{b}m"),
        other => format!("\x1b[{base};5;{}m", ansi_index(other)),
    }
}

fn ansi_index(c: Color) -> u8 {
    match c {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        _ => 15,
    }
}

fn print_ansi(buf: &Buffer) {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            out.push_str("\x1b[0m");
            out.push_str(&color(c.fg, true));
            out.push_str(&color(c.bg, false));
            if c.modifier.contains(Modifier::BOLD) {
                out.push_str("\x1b[1m");
            }
            if c.modifier.contains(Modifier::DIM) {
                out.push_str("\x1b[2m");
            }
            if c.modifier.contains(Modifier::REVERSED) {
                out.push_str("\x1b[7m");
            }
            if c.modifier.contains(Modifier::UNDERLINED) {
                out.push_str("\x1b[4m");
            }
            out.push_str(c.symbol());
        }
        out.push_str("\x1b[0m\n");
    }
    print!("{out}");
}
