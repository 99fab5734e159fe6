//! Garbage in never panics: every parser answers arbitrary text with a value or an error whose
//! span lies inside the input, on character boundaries, and renders. Deterministic (a fixed
//! xorshift stream), no timing.

use slotscope_stress::report::fail_if::parse_fail_if;
use slotscope_stress::scenario::values::{
    parse_cores, parse_duration, parse_keys, parse_mix, parse_pin, parse_rate, ValueError,
};
use slotscope_stress::scenario::{parse, ValidationContext, BUILTINS};

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ALPHABET: &[&str] = &[
    "0", "1", "9", ".", "-", ",", ":", "/", "(", ")", "<", ">", "=", "!", " ", "k", "M", "m", "s", "u", "n",
    "e", "p", "µ", "é", "—", "\t", "lookup", "zipf", "hot", "all", "uniform", "_", "x", "%", "\"",
];

fn random_text(rng: &mut Xorshift) -> String {
    (0..rng.below(12)).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect()
}

fn check_error(e: &ValueError) {
    assert!(e.span.start <= e.span.end && e.span.end <= e.input.len(), "{e:?}");
    assert!(e.input.is_char_boundary(e.span.start) && e.input.is_char_boundary(e.span.end), "{e:?}");
    let _ = e.to_string();
    let _ = e.column();
}

#[test]
fn value_parsers_never_panic() {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5_000 {
        let s = random_text(&mut rng);
        for r in [
            parse_duration(&s).map(|_| ()),
            parse_rate(&s).map(|_| ()),
            parse_cores(&s).map(|_| ()),
            parse_mix(&s).map(|_| ()),
            parse_keys(&s).map(|_| ()),
            parse_pin(&s).map(|_| ()),
            parse_fail_if(&s).map(|_| ()),
        ] {
            if let Err(e) = r {
                check_error(&e);
            }
        }
    }
}

#[test]
fn mangled_scenarios_never_panic() {
    let ctx = ValidationContext::with_cores(0..4);
    let mut rng = Xorshift(0x2545_f491_4f6c_dd1d);
    let pieces =
        ["", "\n", "=", "[", "]", "\"", "{", "}", "0", "-1", "é", "[[group]]\n", "[[phase]]\n", "x = 1\n"];
    for b in BUILTINS {
        for _ in 0..120 {
            let mut text = b.source.to_owned();
            for _ in 0..1 + rng.below(3) {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + rng.below(8)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, pieces[rng.below(pieces.len())]);
            }
            match parse(&text, "mangled.toml", "m", &ctx) {
                Ok(s) => {
                    let _ = s.render_warnings();
                }
                Err(e) => {
                    assert!(!e.errors.is_empty());
                    for d in e.errors.iter().chain(&e.warnings) {
                        assert!(d.line >= 1 && d.col >= 1 && d.span.end <= text.len());
                    }
                    let _ = e.to_string();
                }
            }
        }
    }
}
