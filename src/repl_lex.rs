//! A forgiving tokenizer for the prompt's editor. Completion, hints and
//! highlighting look at half-typed statements (an unterminated quote, a
//! dangling operator, a word cut by the cursor) that the parser rightly
//! rejects, so this one never fails: every byte of the input belongs to a
//! token or to the whitespace between two tokens.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word: keyword, name, number, date, id, `kevin@startup.io`.
    Word,
    /// `'...'` or `"..."`; `closed` is false when the input ends inside it.
    Quoted {
        closed: bool,
    },
    /// One of `= != <> < <= =< > >= => ~`.
    Op,
    Open,
    Close,
    Comma,
    /// `;` or a newline that is not continued: the statement ends.
    End,
    /// `#` to the end of the line.
    Comment,
    /// A `\` that continues the statement on the next line (with its newline).
    Continuation,
    /// Anything else that cannot start a token, such as a lone `!`.
    Stray,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: Tok,
    /// Byte offset in the input.
    pub start: usize,
    pub text: &'a str,
}

impl Token<'_> {
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

const TWO_CHAR_OPS: [&str; 6] = ["!=", "<>", "<=", "=<", ">=", "=>"];

fn breaks_word(c: char) -> bool {
    c.is_whitespace() || "=!<>~(),;'\"#".contains(c)
}

/// The length of the continuation starting at the `\` at byte `i`, if it is
/// one: the same rule as scripts, an odd run of backslashes ending the line.
fn continuation_at(s: &str, i: usize) -> Option<usize> {
    let rest = &s[i + 1..];
    let newline = if rest.is_empty() {
        0
    } else if rest.starts_with("\r\n") {
        2
    } else if rest.starts_with('\n') {
        1
    } else {
        return None;
    };
    let run = s[..=i].bytes().rev().take_while(|&b| b == b'\\').count();
    (run % 2 == 1).then_some(1 + newline)
}

/// The length of the quoted text at the start of `s` (which starts with the
/// quote `q`) and whether it is closed. A doubled quote or a backslash
/// escapes the next character.
fn quoted(s: &str, q: char) -> (usize, bool) {
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((j, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == q {
            if chars.peek().is_some_and(|&(_, n)| n == q) {
                chars.next();
            } else {
                return (j + c.len_utf8(), true);
            }
        }
    }
    (s.len(), false)
}

pub(crate) fn tokenize(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        let start = i;
        let kind = match c {
            '\n' | ';' => {
                i += 1;
                Tok::End
            }
            c if c.is_whitespace() => {
                i += c.len_utf8();
                continue;
            }
            '#' => {
                i = s[i..].find('\n').map_or(s.len(), |n| i + n);
                Tok::Comment
            }
            '\'' | '"' => {
                let (len, closed) = quoted(&s[i..], c);
                i += len;
                Tok::Quoted { closed }
            }
            '(' | ')' | ',' => {
                i += 1;
                match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    _ => Tok::Comma,
                }
            }
            '=' | '!' | '<' | '>' | '~' => {
                if s.get(i..i + 2)
                    .is_some_and(|two| TWO_CHAR_OPS.contains(&two))
                {
                    i += 2;
                    Tok::Op
                } else {
                    i += 1;
                    if c == '!' { Tok::Stray } else { Tok::Op }
                }
            }
            '\\' if continuation_at(s, i).is_some() => {
                i += continuation_at(s, i).unwrap_or(1);
                Tok::Continuation
            }
            _ => {
                i += c.len_utf8();
                while let Some(c) = s[i..].chars().next() {
                    if breaks_word(c) || (c == '\\' && continuation_at(s, i).is_some()) {
                        break;
                    }
                    i += c.len_utf8();
                }
                Tok::Word
            }
        };
        out.push(Token {
            kind,
            start,
            text: &s[start..i],
        });
    }
    out
}

/// Whether the input's last line asks for another line: it ends in an odd
/// number of backslashes, the rule scripts follow too.
pub(crate) fn continues(input: &str) -> bool {
    let trailing = input.len() - input.trim_end_matches('\\').len();
    trailing % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Tok, &str)> {
        tokenize(s).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn operators_need_no_spaces() {
        assert_eq!(
            kinds("status=si and remain=>0"),
            vec![
                (Tok::Word, "status"),
                (Tok::Op, "="),
                (Tok::Word, "si"),
                (Tok::Word, "and"),
                (Tok::Word, "remain"),
                (Tok::Op, "=>"),
                (Tok::Word, "0"),
            ]
        );
    }

    #[test]
    fn quotes_escape_and_may_stay_open() {
        assert_eq!(
            kinds(r#"name='O''Hara' x="a\"b" 'open"#),
            vec![
                (Tok::Word, "name"),
                (Tok::Op, "="),
                (Tok::Quoted { closed: true }, "'O''Hara'"),
                (Tok::Word, "x"),
                (Tok::Op, "="),
                (Tok::Quoted { closed: true }, r#""a\"b""#),
                (Tok::Quoted { closed: false }, "'open"),
            ]
        );
    }

    #[test]
    fn comments_continuations_and_statement_ends() {
        assert_eq!(
            kinds("list events \\\n where x # c\nshow;a\\b \\"),
            vec![
                (Tok::Word, "list"),
                (Tok::Word, "events"),
                (Tok::Continuation, "\\\n"),
                (Tok::Word, "where"),
                (Tok::Word, "x"),
                (Tok::Comment, "# c"),
                (Tok::End, "\n"),
                (Tok::Word, "show"),
                (Tok::End, ";"),
                (Tok::Word, "a\\b"),
                (Tok::Continuation, "\\"),
            ]
        );
    }

    #[test]
    fn an_even_run_of_backslashes_does_not_continue() {
        assert_eq!(kinds("a\\\\"), vec![(Tok::Word, "a\\\\")]);
        assert!(continues("list \\"));
        assert!(!continues("list \\\\"));
        assert!(continues("a\nb \\\\\\"));
        assert!(!continues(""));
    }
}
