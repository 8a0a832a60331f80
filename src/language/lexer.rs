//! Text → tokens, in two layers over one set of rules.
//!
//! [`tokenize`] is lossless and never fails: every byte of the input belongs
//! to a [`Lexeme`] or to the blanks between two of them, so the prompt's
//! highlighter and completer can read half-typed statements (an open quote,
//! a lone `!`, a word cut by the cursor) exactly as the parser will.
//!
//! [`lex`] is the parser's view of the same lexemes: blanks, comments and
//! continued lines dropped, quoted text unescaped, and an error for what the
//! language does not allow. Each [`Token`] keeps the byte span of its source
//! text, so the parser and every later stage can point back at the exact
//! characters.
//!
//! Blanks are spaces, tabs, `\r`, a backslash ending a line (a continued
//! line; an odd run of backslashes, the rule scripts follow too) and
//! comments (`#` to the end of the line). A bare newline separates
//! statements like `;` does, so a whole script can be lexed at once. A
//! backslash anywhere else outside quotes is an error, and a newline inside
//! quotes leaves the quote open.

use crate::error::{Error, Span};
use crate::language::ast::Op;

/// What a [`Lexeme`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A bare word: keyword, name, number, date, id, `kevin@startup.io`.
    Word,
    /// `'...'` or `"..."`; `closed` is false when the line ends inside it.
    Quoted {
        closed: bool,
    },
    /// One of `= != <> < <= =< > >= => ~`.
    Op,
    Open,
    Close,
    Comma,
    /// `;` or a bare newline: the statement ends.
    End,
    /// `#` to the end of the line.
    Comment,
    /// A `\` that continues the statement on the next line (with its newline).
    Continuation,
    /// A character that cannot start a token: a lone `!`, a backslash that
    /// does not end the line, an unusual blank.
    Stray,
}

/// A piece of the source exactly as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lexeme<'a> {
    pub kind: Tok,
    /// Byte offset in the input.
    pub start: usize,
    pub text: &'a str,
}

impl Lexeme<'_> {
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// A token as the parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// The word, the operator, the punctuation, or the unescaped content of
    /// quoted text.
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bare word: keywords, names, ids, numbers, dates, emails, phones.
    Word,
    /// Text between single or double quotes.
    Quoted,
    Op(Op),
    LParen,
    RParen,
    Comma,
    /// `;` or a bare newline: the end of a statement.
    Separator,
    /// Always the last token, so that every error has a place to point at.
    Eof,
}

impl Token {
    /// A bare word equal to `keyword`, ignoring case.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// How an error message names this token.
    pub fn describe(&self) -> String {
        match self.kind {
            TokenKind::Eof => "the end of the line".into(),
            TokenKind::Separator if self.text == "\n" => "the end of the line".into(),
            TokenKind::Quoted => "quoted text".into(),
            _ => format!("`{}`", self.text),
        }
    }
}

/// Blanks between tokens; any other whitespace is a [`Tok::Stray`].
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

/// Characters that end a bare word: whitespace and the language's
/// punctuation.
fn breaks_word(c: char) -> bool {
    c.is_whitespace() || "'\"()=!<>~,;#\\".contains(c)
}

/// Whether `text` reads back as one bare word, so it needs no quotes.
pub fn is_bare_word(text: &str) -> bool {
    !text.is_empty() && !text.contains(breaks_word)
}

/// Two-character operators first, so `<=` is not read as `<` then `=`.
const OPERATORS: [(&str, Op); 10] = [
    ("!=", Op::Ne),
    ("<>", Op::Ne),
    ("<=", Op::Le),
    ("=<", Op::Le),
    (">=", Op::Ge),
    ("=>", Op::Ge),
    ("<", Op::Lt),
    (">", Op::Gt),
    ("=", Op::Eq),
    ("~", Op::Contains),
];

fn operator(s: &str) -> Option<(&'static str, Op)> {
    OPERATORS.into_iter().find(|(sym, _)| s.starts_with(sym))
}

/// The length of the continuation starting at the `\` at byte `i`, if it is
/// one: an odd run of backslashes ending the line or the input.
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
/// escapes the next character (a backslash-newline continues the line); a
/// bare newline leaves the quote open.
fn quoted(s: &str, q: char) -> (usize, bool) {
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((j, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, '\r')) = chars.next() {
                chars.next_if(|&(_, n)| n == '\n');
            }
        } else if c == '\n' {
            return (j, false);
        } else if c == q && chars.next_if(|&(_, n)| n == q).is_none() {
            return (j + c.len_utf8(), true);
        }
    }
    (s.len(), false)
}

/// The content of closed quoted text: the quote doubled, or preceded by a
/// backslash, stands for itself; `\\` is one backslash; a backslash-newline
/// is removed (a continued line); any other backslash is kept as typed, so
/// Windows paths and regexes survive.
fn unquote(quoted: &str) -> String {
    let q = quoted.chars().next().unwrap_or('\'');
    let body = &quoted[q.len_utf8()..quoted.len() - q.len_utf8()];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n) if n == q || n == '\\' => {
                    out.push(n);
                    chars.next();
                }
                Some('\n') => {
                    chars.next();
                }
                Some('\r') => {
                    chars.next();
                    if chars.next_if_eq(&'\n').is_none() {
                        out.push_str("\\\r");
                    }
                }
                _ => out.push('\\'),
            },
            c if c == q => {
                out.push(q);
                chars.next();
            }
            c => out.push(c),
        }
    }
    out
}

/// Splits `s` into lexemes; only blanks are left between them.
pub fn tokenize(s: &str) -> Vec<Lexeme<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        let start = i;
        let kind = match c {
            c if is_blank(c) => {
                i += 1;
                continue;
            }
            '\n' | ';' => {
                i += 1;
                Tok::End
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
            '(' => {
                i += 1;
                Tok::Open
            }
            ')' => {
                i += 1;
                Tok::Close
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            _ if operator(&s[i..]).is_some() => {
                i += operator(&s[i..]).map_or(1, |(sym, _)| sym.len());
                Tok::Op
            }
            '\\' if continuation_at(s, i).is_some() => {
                i += continuation_at(s, i).unwrap_or(1);
                Tok::Continuation
            }
            c if breaks_word(c) => {
                i += c.len_utf8();
                Tok::Stray
            }
            _ => {
                i += s[i..].find(breaks_word).unwrap_or(s.len() - i);
                Tok::Word
            }
        };
        out.push(Lexeme {
            kind,
            start,
            text: &s[start..i],
        });
    }
    out
}

/// Whether the input's last line asks for another line: it ends in a
/// continuation (an odd run of backslashes), not inside a `#` comment or
/// quotes, as [`tokenize`] reads it.
pub fn continues(input: &str) -> bool {
    // Only a line ending in a backslash can: the others, nearly every line
    // of a script, are not tokenized for it.
    if !input.ends_with('\\') {
        return false;
    }
    let last = &input[input.rfind('\n').map_or(0, |i| i + 1)..];
    tokenize(last)
        .last()
        .is_some_and(|l| l.kind == Tok::Continuation)
}

/// Splits `src` into the parser's tokens, ending with [`TokenKind::Eof`].
pub fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    for l in tokenize(src) {
        let (kind, text) = match l.kind {
            Tok::Comment | Tok::Continuation => continue,
            Tok::Stray | Tok::Quoted { closed: false } => return Err(lex_error(src, l)),
            Tok::Word => (TokenKind::Word, l.text.to_string()),
            Tok::Quoted { closed: true } => (TokenKind::Quoted, unquote(l.text)),
            Tok::Op => {
                let op = operator(l.text).map_or(Op::Eq, |(_, op)| op);
                (TokenKind::Op(op), l.text.to_string())
            }
            Tok::Open => (TokenKind::LParen, l.text.to_string()),
            Tok::Close => (TokenKind::RParen, l.text.to_string()),
            Tok::Comma => (TokenKind::Comma, l.text.to_string()),
            Tok::End => (TokenKind::Separator, l.text.to_string()),
        };
        let span = Span::new(l.start, l.text.len());
        tokens.push(Token { kind, text, span });
    }
    let end = tokens.last().map_or(0, |t| t.span.end());
    // One column past the last token reads as "something is missing here".
    let eof = Span::new((end + 1).min(src.len()).max(end), 0);
    tokens.push(Token {
        kind: TokenKind::Eof,
        text: String::new(),
        span: eof,
    });
    Ok(tokens)
}

fn lex_error(src: &str, l: Lexeme<'_>) -> Error {
    let offset = l.start;
    if let Tok::Quoted { .. } = l.kind {
        return Error::parse(Span::new(offset, l.text.len()), "unterminated quoted text");
    }
    let first = l.text.chars().next().unwrap_or(' ');
    let message = if first == '!' {
        "unexpected `!`: did you mean `!=`?".to_string()
    } else if first == '\\' && offset == src.len() - src.trim_start().len() {
        // `\dt`, `\d client`: psql's commands.
        "this is not psql: `help` lists the statements, `list ENTITY` shows a table \
         (a backslash outside quotes only continues a line)"
            .to_string()
    } else if first == '\\' {
        "a backslash outside quotes only continues a line: it must end the line".to_string()
    } else {
        format!("unexpected character `{first}`")
    };
    Error::parse(Span::new(offset, first.len_utf8()), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, String)> {
        lex(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    fn lexemes(s: &str) -> Vec<(Tok, &str)> {
        tokenize(s).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn operators_need_no_spaces() {
        let toks = kinds("remain>=0");
        assert_eq!(toks[1], (TokenKind::Op(Op::Ge), ">=".into()));
        assert_eq!(kinds("a=>1")[1].0, TokenKind::Op(Op::Ge));
        assert_eq!(kinds("a=<1")[1].0, TokenKind::Op(Op::Le));
        assert_eq!(kinds("a<>1")[1].0, TokenKind::Op(Op::Ne));
        assert_eq!(
            lexemes("status=si and remain=>0"),
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
    fn quoted_text_unescapes() {
        assert_eq!(kinds("'O''Hara'")[0].1, "O'Hara");
        assert_eq!(kinds(r"'O\'Hara'")[0].1, "O'Hara");
        assert_eq!(kinds(r#""say ""hi""""#)[0].1, r#"say "hi""#);
        assert_eq!(kinds(r"'C:\temp\\'")[0].1, r"C:\temp\");
        assert_eq!(kinds("'a\\\nb'")[0].1, "ab");
        assert_eq!(kinds("'a\\\r\nb'")[0].1, "ab");
        assert_eq!(kinds(r#"'a\"b'"#)[0].1, r#"a\"b"#);
    }

    #[test]
    fn quotes_escape_and_may_stay_open() {
        assert_eq!(
            lexemes(r#"name='O''Hara' x="a\"b" 'open"#),
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
    fn a_newline_inside_quotes_leaves_them_open() {
        assert_eq!(
            lexemes("'ab\ncd'"),
            vec![
                (Tok::Quoted { closed: false }, "'ab"),
                (Tok::End, "\n"),
                (Tok::Word, "cd"),
                (Tok::Quoted { closed: false }, "'"),
            ]
        );
        let e = lex("add client name='ab\ncd'").unwrap_err();
        assert_eq!(e.span, Some(Span::new(16, 3)));
    }

    #[test]
    fn comments_and_continuations_are_blanks() {
        let toks = kinds("list \\\n clients # all of them\ncount events");
        let texts: Vec<_> = toks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(texts, ["list", "clients", "\n", "count", "events", ""]);
        assert_eq!(
            lexemes("list events \\\n where x # c\nshow;a \\"),
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
                (Tok::Word, "a"),
                (Tok::Continuation, "\\"),
            ]
        );
    }

    #[test]
    fn a_backslash_inside_a_word_ends_it() {
        assert_eq!(
            lexemes("a\\b"),
            vec![(Tok::Word, "a"), (Tok::Stray, "\\"), (Tok::Word, "b")]
        );
        let e = lex("show client a\\b").unwrap_err();
        assert_eq!(e.span, Some(Span::new(13, 1)));
    }

    #[test]
    fn an_even_run_of_backslashes_does_not_continue() {
        assert_eq!(
            lexemes("a\\\\"),
            vec![(Tok::Word, "a"), (Tok::Stray, "\\"), (Tok::Stray, "\\")]
        );
        assert!(lex("a \\\\").is_err());
        assert!(continues("list \\"));
        assert!(!continues("list \\\\"));
        assert!(continues("a\nb \\\\\\"));
        // Not in a comment, nor inside quotes.
        assert!(!continues("count clients # a note \\"));
        assert!(!continues("set client x name = 'a \\"));
        assert!(continues("count clients \\\n# a note \\\nwhere \\"));
        assert!(!continues(""));
    }

    #[test]
    fn spans_are_byte_ranges() {
        let toks = lex("show  event 'é'").unwrap();
        assert_eq!(toks[1].span, Span::new(6, 5));
        assert_eq!(toks[2].span, Span::new(12, 4));
        assert_eq!(toks[3].span, Span::new(16, 0));
    }

    #[test]
    fn unterminated_quote_points_at_the_quote() {
        let e = lex("set client x name='Kevin").unwrap_err();
        assert_eq!(e.span, Some(Span::new(18, 6)));
        assert_eq!(e.message, "unterminated quoted text");
    }

    #[test]
    fn nothing_is_lost_between_lexemes() {
        for s in [
            "list contracts where status = signed and remain > 0",
            "list events \\\n  where attendees > 50 # comment ✓\nshow event geg2021;",
            "!!!===<<>>~~ ((,,)) ;; ## \"",
            "列表 客户 ≠ 'é\u{a0}x\\y\\\\",
        ] {
            let mut rebuilt = String::new();
            for l in tokenize(s) {
                let blanks = &s[rebuilt.len()..l.start];
                assert!(blanks.chars().all(is_blank), "{s:?}: {blanks:?}");
                rebuilt.push_str(blanks);
                rebuilt.push_str(l.text);
            }
            assert!(s[rebuilt.len()..].chars().all(is_blank), "{s:?}");
        }
    }
}
