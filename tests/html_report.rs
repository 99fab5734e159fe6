//! `--output-format html`: one self-contained page with the verdict and four SVG charts.
//! The structural checks always run (each chart a well-formed SVG with its title, nothing
//! fetched from anywhere, no script); a real browser renders the page where Debian's headless
//! Chromium is installed (package `chromium`), and the test prints a SKIPPED line where it is not.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_slotscope");
const TITLES: [&str; 4] =
    ["Throughput over time", "p99 latency over time", "Latency spectrum", "Throughput per thread"];

/// A short two-group run (one group in open loop) written as html into `dir`.
fn html_report(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("run.html");
    let o = Command::new(BIN)
        .args(["run", "demo", "-t", "2", "-d", "1500ms", "--seed", "3", "--output-format", "html", "-o"])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&path).expect("the page was written");
    (path, page)
}

#[test]
fn the_html_report_is_self_contained_and_has_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, page) = html_report(dir.path());
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"), "{page}");
    // The verdict, escaped into a <pre>.
    assert!(page.contains("<pre>slotscope ") && page.contains("self-check  PASSED"), "{page}");
    // Nothing to fetch, nothing to run: the only URL is the SVG namespace, a name, not a link.
    let without_ns = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for banned in ["http://", "https://", "<script", "src=", "href=", "url(", "@import"] {
        assert!(!without_ns.contains(banned), "the page holds `{banned}`");
    }
    // Four figures, each a well-formed SVG whose text names its chart.
    let svgs: Vec<&str> = page.match_indices("<svg").map(|(i, _)| &page[i..]).collect();
    assert_eq!(svgs.len(), TITLES.len(), "one svg per chart");
    for (svg, title) in svgs.iter().zip(TITLES) {
        let end = svg.find("</svg>").expect("a closed svg") + "</svg>".len();
        let doc = roxmltree::Document::parse(&svg[..end])
            .unwrap_or_else(|e| panic!("{title}: not well-formed: {e}"));
        let text: String = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
        assert!(text.contains(title), "{title}: the chart's caption is missing");
        // Something is drawn besides the frame: lines for the series, or bars.
        let marks =
            doc.descendants().filter(|n| matches!(n.tag_name().name(), "polyline" | "rect" | "path")).count();
        assert!(marks > 2, "{title}: only {marks} marks");
        assert!(page.contains(&format!("<figcaption>{title}</figcaption>")));
    }
    // The spectrum draws the open-loop corrected curve over the service-time one.
    assert!(page.contains("insert, open loop corrected") && page.contains("insert, service time"));
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|p| p.exists())
}

#[test]
fn a_headless_browser_renders_the_html_report() {
    let Some(browser) = chromium() else {
        println!("SKIPPED: headless Chromium is not installed (Debian package `chromium`): the page was not rendered");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = html_report(dir.path());
    let png = dir.path().join("run.png");
    let o = Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=900,2000"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", path.display()))
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    assert!(png.exists(), "no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    // Not blank: a rendered page with text and charts has many distinct colours.
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let px = info.color_type.samples();
    let distinct: std::collections::HashSet<&[u8]> = bytes.chunks(px).collect();
    assert!(distinct.len() > 16, "the screenshot is (nearly) blank: {} colours", distinct.len());
    if let Ok(keep) = std::env::var("SLOTSCOPE_KEEP_HTML_PNG") {
        std::fs::copy(&png, keep).unwrap();
    }
}

#[test]
fn compare_refuses_html_before_it_runs() {
    let o = Command::new(BIN)
        .args(["compare", "churn", "--backends", "slotscope,dashmap", "--output-format", "html"])
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    // Refused before anything ran: the error is all it printed (no banner of a run, no table).
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("for hlog or html, `run` each backend") && o.stdout.is_empty(), "{err}");
}
