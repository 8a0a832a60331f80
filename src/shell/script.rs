//! Reads statements from a script: one per line, a line ending in `\`
//! continued on the next. Every line is kept, the last one even without a
//! newline, and each statement remembers the line it starts on so errors can
//! say `FILE:LINE:COLUMN`.

use std::io::BufRead;

use crate::error::{Error, ErrorKind, Span};

/// One logical line of a script: the text the parser sees (continuations
/// kept as backslash-newline, which it reads as a space) and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// 1-based line number of its first line.
    pub line: usize,
    pub text: String,
}

/// An iterator of [`Unit`]s over any reader. A line that is not UTF-8 is an
/// `error[parse]` pointing at the first bad byte; reading goes on after it.
pub struct Reader<R> {
    input: R,
    line: usize,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input,
            line: 0,
            done: false,
        }
    }

    /// Reads one physical line without its line ending; `None` at the end.
    fn physical(&mut self) -> Option<Result<String, (Error, String)>> {
        let mut buf = Vec::new();
        match self.input.read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                return Some(Err((
                    Error::new(ErrorKind::Usage, format!("cannot read the script: {e}")),
                    String::new(),
                )));
            }
        }
        self.line += 1;
        // A byte order mark at the start of the file (some editors on
        // Windows write one) is not part of the first statement.
        if self.line == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        Some(String::from_utf8(buf).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let offset = String::from_utf8_lossy(&e.as_bytes()[..valid]).len();
            (
                Error::parse(Span::new(offset, 1), "this line is not valid UTF-8 text"),
                lossy,
            )
        }))
    }
}

/// What the reader yields: a unit, or an error with the text to show it in.
pub type Item = Result<Unit, (Error, Unit)>;

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let mut text = String::new();
        let mut start = 0;
        loop {
            let Some(next) = self.physical() else {
                self.done = true;
                // A dangling continuation on the last line still runs.
                return (start != 0).then_some(Ok(Unit { line: start, text }));
            };
            if start == 0 {
                start = self.line;
            }
            let physical = match next {
                Ok(p) => p,
                Err((mut e, lossy)) => {
                    // Drain the rest of this statement so that the next
                    // one starts cleanly.
                    let mut continued = ends_with_continuation(&lossy);
                    if let Some(span) = e.span.as_mut() {
                        span.offset += text.len();
                    }
                    text.push_str(&lossy);
                    while continued {
                        match self.physical() {
                            Some(Ok(p)) => {
                                continued = ends_with_continuation(&p);
                                text.push('\n');
                                text.push_str(&p);
                            }
                            Some(Err((_, p))) => {
                                continued = ends_with_continuation(&p);
                                text.push('\n');
                                text.push_str(&p);
                            }
                            None => break,
                        }
                    }
                    return Some(Err((e, Unit { line: start, text })));
                }
            };
            let continued = ends_with_continuation(&physical);
            text.push_str(&physical);
            if !continued {
                return Some(Ok(Unit { line: start, text }));
            }
            text.push('\n');
        }
    }
}

/// A line continues when it ends in one backslash, outside a `#` comment:
/// the lexer's rule.
fn ends_with_continuation(line: &str) -> bool {
    crate::language::lexer::continues(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(src: &[u8]) -> Vec<Item> {
        Reader::new(src).collect()
    }

    #[test]
    fn one_statement_per_line_and_the_last_without_newline() {
        let got = units(b"list clients\n\ncount events");
        assert_eq!(
            got,
            vec![
                Ok(Unit {
                    line: 1,
                    text: "list clients".into()
                }),
                Ok(Unit {
                    line: 2,
                    text: "".into()
                }),
                Ok(Unit {
                    line: 3,
                    text: "count events".into()
                }),
            ]
        );
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_not_text() {
        let got = units(b"\xEF\xBB\xBFcount events\n\xEF\xBB\xBFcount clients\n");
        assert_eq!(
            got[0],
            Ok(Unit {
                line: 1,
                text: "count events".into()
            })
        );
        // Only at the very start: elsewhere it stays what it is.
        assert_eq!(
            got[1],
            Ok(Unit {
                line: 2,
                text: "\u{feff}count clients".into()
            })
        );
    }

    #[test]
    fn continuation_joins_lines_and_keeps_the_first_line_number() {
        let got = units(b"# c\nlist events \\\n  where attendees > 50\r\nshow event x\n");
        assert_eq!(
            got,
            vec![
                Ok(Unit {
                    line: 1,
                    text: "# c".into()
                }),
                Ok(Unit {
                    line: 2,
                    text: "list events \\\n  where attendees > 50".into()
                }),
                Ok(Unit {
                    line: 4,
                    text: "show event x".into()
                }),
            ]
        );
    }

    #[test]
    fn dangling_continuation_at_the_end_still_runs() {
        let got = units(b"list events \\");
        assert_eq!(
            got,
            vec![Ok(Unit {
                line: 1,
                text: "list events \\\n".into()
            })]
        );
    }

    #[test]
    fn invalid_utf8_is_an_error_at_the_bad_byte_and_reading_goes_on() {
        let got = units(b"list clients\nset client x name = 'a\xffb'\ncount clients\n");
        assert_eq!(got.len(), 3);
        let (e, unit) = got[1].clone().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Parse);
        assert_eq!(unit.line, 2);
        assert_eq!(e.span, Some(Span::new(22, 1)));
        assert!(got[2].is_ok());
    }

    #[test]
    fn a_bad_line_takes_its_continuations_by_the_lexer_s_rule() {
        // `\\` at the end is an escaped backslash: the next line is a
        // statement of its own, not the rest of the bad one.
        let got = units(b"set client x name = '\xff' \\\\\ncount clients\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].is_err());
        assert_eq!(got[1].clone().unwrap().text, "count clients");
        // One backslash continues it.
        let got = units(b"set client x name = '\xff' \\\nand more\ncount clients\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].clone().unwrap_err().1.text.ends_with("and more"));
    }

    #[test]
    fn a_comment_or_quotes_do_not_continue_a_line() {
        let got = units(
            b"list clients \\\n  where name ~ x\n# note \\\ncount events # x \\\ncount clients\n",
        );
        let texts: Vec<String> = got.into_iter().map(|u| u.unwrap().text).collect();
        assert_eq!(
            texts,
            [
                "list clients \\\n  where name ~ x",
                "# note \\",
                "count events # x \\",
                "count clients"
            ]
        );
        // An escaped quote keeps the quotes open, and `#` inside is text.
        let got = units(b"set event x notes='it\\'s # not a comment' \\\n  title=y\n");
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn escaped_backslash_does_not_continue() {
        assert!(ends_with_continuation("a \\"));
        assert!(!ends_with_continuation("a \\\\"));
        assert!(!ends_with_continuation("a"));
    }
}
