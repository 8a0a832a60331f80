//! Text → tokens. Each token keeps the byte span of its source text, so the
//! parser and every later stage can point back at the exact characters.
//!
//! Blanks are spaces, tabs, `\r`, a backslash followed by a newline (a
//! continued line) and comments (`#` to the end of the line). A bare newline
//! separates statements like `;` does, so a whole script can be lexed at once.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, none_of};
use nom::combinator::{recognize, value};
use nom::multi::fold_many0;
use nom::{IResult, Parser};

use crate::ast::Op;
use crate::error::{Error, Span};

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

/// Characters that end a bare word: blanks and the language's punctuation.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !"'\"()=!<>~,;#\\".contains(c)
}

type LexResult<'a, O> = IResult<&'a str, O, ()>;

/// Splits `src` into tokens, ending with [`TokenKind::Eof`].
pub fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let mut rest = skip_blanks(src);
    while !rest.is_empty() {
        let offset = src.len() - rest.len();
        let (after, (kind, text)) = token(rest).map_err(|_| lex_error(src, offset))?;
        let span = Span::new(offset, rest.len() - after.len());
        tokens.push(Token { kind, text, span });
        rest = skip_blanks(after);
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

fn skip_blanks(mut rest: &str) -> &str {
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t', '\r']);
        let after = if let Some(r) = trimmed.strip_prefix("\\\r\n") {
            r
        } else if let Some(r) = trimmed.strip_prefix("\\\n") {
            r
        } else if trimmed == "\\" {
            // A continuation with nothing after it (the last line of a file).
            ""
        } else if trimmed.starts_with('#') {
            trimmed.find('\n').map_or("", |i| &trimmed[i..])
        } else {
            return trimmed;
        };
        rest = after;
    }
}

fn token(input: &str) -> LexResult<'_, (TokenKind, String)> {
    alt((
        quoted('\''),
        quoted('"'),
        operator,
        punctuation,
        word.map(|w| (TokenKind::Word, w.to_string())),
    ))
    .parse(input)
}

fn word(input: &str) -> LexResult<'_, &str> {
    take_while1(is_word_char).parse(input)
}

fn operator(input: &str) -> LexResult<'_, (TokenKind, String)> {
    // Two-character operators first, so `<=` is not read as `<` then `=`.
    alt((
        value(Op::Ne, tag("!=")),
        value(Op::Ne, tag("<>")),
        value(Op::Le, tag("<=")),
        value(Op::Le, tag("=<")),
        value(Op::Ge, tag(">=")),
        value(Op::Ge, tag("=>")),
        value(Op::Lt, tag("<")),
        value(Op::Gt, tag(">")),
        value(Op::Eq, tag("=")),
        value(Op::Contains, tag("~")),
    ))
    .parse(input)
    .map(|(rest, op)| {
        (
            rest,
            (
                TokenKind::Op(op),
                input[..input.len() - rest.len()].to_string(),
            ),
        )
    })
}

fn punctuation(input: &str) -> LexResult<'_, (TokenKind, String)> {
    alt((
        value(TokenKind::LParen, char('(')),
        value(TokenKind::RParen, char(')')),
        value(TokenKind::Comma, char(',')),
        value(TokenKind::Separator, char(';')),
        value(TokenKind::Separator, char('\n')),
    ))
    .parse(input)
    .map(|(rest, kind)| (rest, (kind, input[..input.len() - rest.len()].to_string())))
}

/// Quoted text: the quote doubled, or preceded by a backslash, stands for
/// itself; `\\` is one backslash; a backslash-newline is removed (a
/// continued line); any other backslash is kept as typed, so Windows paths
/// and regexes survive. A bare newline ends the line, so the text is then
/// unterminated.
fn quoted<'a>(q: char) -> impl Parser<&'a str, Output = (TokenKind, String), Error = ()> {
    let (doubled, escaped, quote) = if q == '\'' {
        ("''", "\\'", "'")
    } else {
        ("\"\"", "\\\"", "\"")
    };
    let forbidden = if q == '\'' { "'\n" } else { "\"\n" };
    let piece = alt((
        value(quote, tag(doubled)),
        value(quote, tag(escaped)),
        value("\\", tag("\\\\")),
        value("", tag("\\\r\n")),
        value("", tag("\\\n")),
        recognize(none_of(forbidden)),
    ));
    let body = fold_many0(piece, String::new, |mut s, p: &str| {
        s.push_str(p);
        s
    });
    (char(q), body, char(q)).map(|(_, text, _)| (TokenKind::Quoted, text))
}

fn lex_error(src: &str, offset: usize) -> Error {
    let rest = &src[offset..];
    let first = rest.chars().next().unwrap_or(' ');
    if first == '\'' || first == '"' {
        let len = rest.find('\n').unwrap_or(rest.len());
        return Error::parse(Span::new(offset, len), "unterminated quoted text");
    }
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

    #[test]
    fn operators_need_no_spaces() {
        let toks = kinds("remain>=0");
        assert_eq!(toks[1], (TokenKind::Op(Op::Ge), ">=".into()));
        assert_eq!(kinds("a=>1")[1].0, TokenKind::Op(Op::Ge));
        assert_eq!(kinds("a=<1")[1].0, TokenKind::Op(Op::Le));
        assert_eq!(kinds("a<>1")[1].0, TokenKind::Op(Op::Ne));
    }

    #[test]
    fn quoted_text_unescapes() {
        assert_eq!(kinds("'O''Hara'")[0].1, "O'Hara");
        assert_eq!(kinds(r"'O\'Hara'")[0].1, "O'Hara");
        assert_eq!(kinds(r#""say ""hi""""#)[0].1, r#"say "hi""#);
        assert_eq!(kinds(r"'C:\temp\\'")[0].1, r"C:\temp\");
        assert_eq!(kinds("'a\\\nb'")[0].1, "ab");
    }

    #[test]
    fn comments_and_continuations_are_blanks() {
        let toks = kinds("list \\\n clients # all of them\ncount events");
        let texts: Vec<_> = toks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(texts, ["list", "clients", "\n", "count", "events", ""]);
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
}
