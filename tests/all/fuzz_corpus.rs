//! The fuzzing corpus, replayed on every `cargo test`, and a seeded
//! mutation fuzzer over it that runs on stable Rust.
//!
//! The coverage-guided fuzzer is `fuzz/` (cargo-fuzz, libFuzzer, nightly):
//!
//!     cd fuzz && cargo +nightly fuzz run statement ../tests/fixtures/fuzz-corpus \
//!         -- -dict=statement.dict -max_len=512 -max_total_time=600
//!
//! Its corpus, minimised, is `tests/fixtures/fuzz-corpus/`; an input that
//! ever crashed goes to `tests/fixtures/fuzz-regressions/`. This test is not
//! coverage-guided: it mutates that corpus blindly, `OC12_FUZZ_ITERATIONS`
//! times (default 20,000; set it to millions for a long run).

use std::path::Path;

#[path = "../../fuzz/pipeline.rs"]
mod pipeline;
use pipeline::run;

fn inputs(folder: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_corpus_and_every_past_crash_run_clean() {
    let corpus = inputs("tests/fixtures/fuzz-corpus");
    assert!(corpus.len() > 100, "{}", corpus.len());
    for (name, data) in corpus
        .iter()
        .chain(&inputs("tests/fixtures/fuzz-regressions"))
    {
        let result = std::panic::catch_unwind(|| run(data));
        assert!(
            result.is_ok(),
            "{name}: {:?}",
            String::from_utf8_lossy(data)
        );
    }
}

/// xorshift64*: seeded, so that a failure is found again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Words worth inserting: the fuzzer's dictionary.
fn dictionary() -> Vec<Vec<u8>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/statement.dict"))
            .unwrap();
    text.lines()
        .filter(|l| l.starts_with('"'))
        .map(|l| {
            l[1..l.len() - 1]
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
                .into_bytes()
        })
        .collect()
}

fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], words: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next() as u8),
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 | 4 => {
                let word = &words[rng.below(words.len())];
                out.splice(at..at, word.iter().copied());
            }
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(32)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ if !out.is_empty() => {
                let from = rng.below(out.len());
                let end = (from + 1 + rng.below(16)).min(out.len());
                let copy = out[from..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => {}
        }
    }
    out.truncate(4096);
    out
}

#[test]
fn seeded_mutations_of_the_corpus_never_panic() {
    let iterations: usize = std::env::var("OC12_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let corpus: Vec<Vec<u8>> = inputs("tests/fixtures/fuzz-corpus")
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    let words = dictionary();
    let mut rng = Rng(0x0c12_f022);
    for i in 0..iterations {
        let input = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        let data = mutate(&mut rng, input, other, &words);
        let result = std::panic::catch_unwind(|| run(&data));
        assert!(
            result.is_ok(),
            "iteration {i}: {:?}",
            String::from_utf8_lossy(&data)
        );
    }
}
