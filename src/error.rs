//! The one error type of the shell: a kind (what `error[KIND]` prints and
//! which exit code follows), a message, and optionally the span of the
//! statement it is about and a suggestion. An internal error (a bug) also
//! keeps the stack where it was made, for monitoring.

use std::backtrace::Backtrace;
use std::fmt;
use std::sync::Arc;

/// A byte range into the source text of one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(offset: usize, len: usize) -> Span {
        Span { offset, len }
    }

    pub const fn end(self) -> usize {
        self.offset + self.len
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        let start = self.offset.min(other.offset);
        let end = self.end().max(other.end());
        Span::new(start, end - start)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The statement is not in the language.
    Parse,
    /// An unknown entity, field or value name.
    Unknown,
    /// A value breaks a rule.
    Invalid,
    /// No record with that id.
    NotFound,
    /// The user's department or ownership does not allow it.
    Permission,
    /// The change would break a reference or a state rule.
    Conflict,
    /// Not logged in, token expired, tampered, revoked.
    Auth,
    /// The database cannot be reached.
    Connection,
    /// Bad command-line usage.
    Usage,
    /// The user stopped a running statement (Ctrl-C): nothing was changed.
    Canceled,
    /// One of the shell's own files or folders (configuration, token,
    /// history, local cluster) cannot be read or written: not a usage
    /// mistake, not a bug.
    File,
    /// A bug.
    Internal,
}

impl ErrorKind {
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::Unknown => "unknown",
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Permission => "permission",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Auth => "auth",
            ErrorKind::Connection => "connection",
            ErrorKind::Usage => "usage",
            ErrorKind::Canceled => "canceled",
            ErrorKind::File => "file",
            ErrorKind::Internal => "internal",
        }
    }

    /// The process exit code of PRODUCT.md for a run that failed with this kind.
    pub const fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Usage => 2,
            ErrorKind::Auth => 3,
            ErrorKind::Connection => 4,
            _ => 1,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Where in the statement the problem is, when it is about a place.
    pub span: Option<Span>,
    /// A close name: rendered as "did you mean `…`?".
    pub suggestion: Option<String>,
    /// The SQLSTATE of the database error it comes from, if any.
    pub sqlstate: Option<String>,
    /// Internal errors: the stack where the error was made (monitoring
    /// reports it; the place it is printed or reported says nothing).
    pub trace: Option<Trace>,
}

/// A backtrace captured when an internal error is made. It never makes
/// two errors different.
#[derive(Clone)]
pub struct Trace(Arc<Backtrace>);

impl Trace {
    /// The stack here, whatever `RUST_BACKTRACE` says: internal errors are
    /// rare, and their place is what a report needs most.
    pub fn capture() -> Trace {
        Trace(Arc::new(Backtrace::force_capture()))
    }

    pub fn backtrace(&self) -> &Backtrace {
        &self.0
    }
}

impl PartialEq for Trace {
    fn eq(&self, _: &Trace) -> bool {
        true
    }
}

impl Eq for Trace {}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Trace(..)")
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            span: None,
            suggestion: None,
            sqlstate: None,
            trace: (kind == ErrorKind::Internal).then(Trace::capture),
        }
    }

    pub fn with_sqlstate(mut self, code: impl Into<String>) -> Error {
        self.sqlstate = Some(code.into());
        self
    }

    pub fn at(kind: ErrorKind, span: Span, message: impl Into<String>) -> Error {
        Error::new(kind, message).with_span(span)
    }

    pub fn with_span(mut self, span: Span) -> Error {
        self.span = Some(span);
        self
    }

    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Error {
        self.suggestion = Some(suggestion.into());
        self
    }

    pub fn parse(span: Span, message: impl Into<String>) -> Error {
        Error::at(ErrorKind::Parse, span, message)
    }
    pub fn unknown(span: Span, message: impl Into<String>) -> Error {
        Error::at(ErrorKind::Unknown, span, message)
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }
    pub fn permission(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Permission, message)
    }
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }
    pub fn auth(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Auth, message)
    }
    pub fn connection(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Connection, message)
    }
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
    pub fn file(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::File, message)
    }

    /// Renders the error for a person: the `error[KIND]: message` line, then,
    /// when the error points into `source`, the line it is on with carets as
    /// wide as the span, then the suggestion.
    ///
    /// `origin` is `Some((file, first_line))` in a script: the first line is
    /// then prefixed with `FILE:LINE:COLUMN:` (1-based, LINE counted from
    /// `first_line`, the file line on which the statement starts).
    pub fn render(&self, source: &str, origin: Option<(&str, usize)>) -> String {
        let mut out = String::new();
        let place = self.span.map(|span| locate(source, span));
        if let Some((file, first_line)) = origin {
            let (line, column) = place.as_ref().map_or((0, 1), |p| (p.line, p.column));
            out.push_str(&format!("{file}:{}:{column}: ", first_line + line));
        }
        out.push_str(&format!("error[{}]: {}", self.kind, self.message));
        if let Some(p) = place {
            let gutter = "  | ";
            out.push('\n');
            out.push_str(gutter);
            out.push_str(p.text);
            out.push('\n');
            out.push_str(gutter);
            out.push_str(&" ".repeat(p.column - 1));
            out.push_str(&"^".repeat(p.width.max(1)));
        }
        if let Some(s) = &self.suggestion {
            out.push_str(&format!("\n  = did you mean `{s}`?"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.kind, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

struct Place<'a> {
    /// 0-based line within the source.
    line: usize,
    /// 1-based column, in characters.
    column: usize,
    /// Width of the carets, in characters, clipped to the line.
    width: usize,
    /// The text of the line, without its newline.
    text: &'a str,
}

fn locate(source: &str, span: Span) -> Place<'_> {
    let offset = floor_char_boundary(source, span.offset.min(source.len()));
    let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    let text = source[line_start..line_end].trim_end_matches('\r');
    let line = source[..line_start].matches('\n').count();
    let column = source[line_start..offset].chars().count() + 1;
    let end = floor_char_boundary(source, span.end().min(line_end).max(offset));
    let width = source[offset..end].chars().count();
    Place {
        line,
        column,
        width,
        text,
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_carets_under_the_span() {
        let e =
            Error::unknown(Span::new(5, 8), "no entity `contrats`").with_suggestion("contracts");
        assert_eq!(
            e.render("list contrats", None),
            "error[unknown]: no entity `contrats`\n  | list contrats\n  |      ^^^^^^^^\n  = did you mean `contracts`?"
        );
    }

    #[test]
    fn script_prefix_counts_lines_inside_a_continued_statement() {
        let src = "list events \\\n  where size > 3";
        let e = Error::unknown(Span::new(22, 4), "no field `size`");
        let out = e.render(src, Some(("s.oc12", 7)));
        assert!(out.starts_with("s.oc12:8:9: error[unknown]"), "{out}");
        assert!(
            out.contains("\n  |   where size > 3\n  |         ^^^^"),
            "{out}"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "list clients where name = 'Aliénor' and x = 1";
        let off = src.find(" x").unwrap() + 1;
        let e = Error::unknown(Span::new(off, 1), "no field `x`");
        let out = e.render(src, Some(("-", 1)));
        assert!(out.starts_with("-:1:41: "), "{out}");
    }

    #[test]
    fn internal_errors_keep_the_stack_where_they_were_made() {
        #[inline(never)]
        fn somewhere_deep() -> Error {
            Error::internal("boom")
        }
        let e = somewhere_deep();
        let trace = e.trace.as_ref().expect("captured").backtrace().to_string();
        assert!(trace.contains("somewhere_deep"), "{trace}");
        assert!(Error::permission("no").trace.is_none());
        // The trace does not make two errors different.
        assert_eq!(Error::internal("boom"), e);
    }

    #[test]
    fn exit_codes_follow_the_product_contract() {
        assert_eq!(ErrorKind::Parse.exit_code(), 1);
        assert_eq!(ErrorKind::Usage.exit_code(), 2);
        assert_eq!(ErrorKind::Auth.exit_code(), 3);
        assert_eq!(ErrorKind::Connection.exit_code(), 4);
        assert_eq!(ErrorKind::File.exit_code(), 1);
    }
}
