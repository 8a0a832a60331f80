//! Tokens → syntax tree, with nom over the token slice of the lexer (`lexer.rs`).
//!
//! One function per production of `grammar/GRAMMAR.md`, named after it. A
//! keyword that commits to a branch is followed by `cut`, so an error points
//! at the real mistake (`list contracts where = 3` points at `=`), never at
//! the start of the line after backtracking.

use nom::branch::alt;
use nom::combinator::{cut, opt};
use nom::error::{ErrorKind as NomKind, ParseError};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Input, Needed, Parser};

use crate::error::Error;
use crate::language::ast::{
    Assignment, Comparison, Filter, List, Name, Op, Ordering, Statement, StatementKind, Target,
    Value, ValueKind,
};
use crate::language::catalog;
use crate::language::help;
use crate::language::lexer::{Token, TokenKind, lex};
use crate::language::suggest::suggest;

/// How deep parentheses may nest: deeper is a parse error rather than a
/// stack overflow.
pub const MAX_DEPTH: usize = 64;

/// Parses one logical line (or a whole script: a bare newline separates
/// statements like `;`). An empty or comment-only line gives no statement.
pub fn parse(src: &str) -> Result<Vec<Statement>, Error> {
    let tokens = lex(src)?;
    check_nesting(&tokens)?;
    match line(Tokens(&tokens)) {
        Ok((_, statements)) => Ok(statements),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.0),
        Err(nom::Err::Incomplete(_)) => Err(Error::internal("the parser asked for more input")),
    }
}

/// `text` as a quoted value that reads back as exactly `text` (for a shell
/// that builds a statement from what it prompted for). A newline cannot be
/// typed in a statement, so it has no quoted form either.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

fn check_nesting(tokens: &[Token]) -> Result<(), Error> {
    let mut depth = 0usize;
    for t in tokens {
        match t.kind {
            TokenKind::LParen => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::parse(
                        t.span,
                        format!("too deeply nested: at most {MAX_DEPTH} levels of parentheses"),
                    ));
                }
            }
            TokenKind::RParen => depth = depth.saturating_sub(1),
            TokenKind::Separator => depth = 0,
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The input and error types nom works with.

/// The token slice as a nom input. It always ends with the `Eof` token,
/// which no production consumes, so `first()` always has a span to point at.
#[derive(Debug, Clone, Copy)]
struct Tokens<'a>(&'a [Token]);

impl<'a> Tokens<'a> {
    fn first(&self) -> &'a Token {
        self.0.first().expect("the token stream ends with Eof")
    }

    fn advance(self) -> Tokens<'a> {
        Tokens(&self.0[1..])
    }
}

impl<'a> Input for Tokens<'a> {
    type Item = &'a Token;
    type Iter = std::slice::Iter<'a, Token>;
    type IterIndices = std::iter::Enumerate<Self::Iter>;

    fn input_len(&self) -> usize {
        self.0.len()
    }
    fn take(&self, index: usize) -> Self {
        Tokens(&self.0[..index])
    }
    fn take_from(&self, index: usize) -> Self {
        Tokens(&self.0[index..])
    }
    fn take_split(&self, index: usize) -> (Self, Self) {
        let (prefix, suffix) = self.0.split_at(index);
        (Tokens(suffix), Tokens(prefix))
    }
    fn position<P: Fn(Self::Item) -> bool>(&self, predicate: P) -> Option<usize> {
        self.0.iter().position(predicate)
    }
    fn iter_elements(&self) -> Self::Iter {
        self.0.iter()
    }
    fn iter_indices(&self) -> Self::IterIndices {
        self.0.iter().enumerate()
    }
    fn slice_index(&self, count: usize) -> Result<usize, Needed> {
        if self.0.len() >= count {
            Ok(count)
        } else {
            Err(Needed::new(count - self.0.len()))
        }
    }
}

/// The project's error, carried through nom.
#[derive(Debug)]
struct PError(Error);

impl PError {
    fn at(token: &Token, message: String) -> PError {
        PError(Error::parse(token.span, message))
    }

    fn offset(&self) -> usize {
        self.0.span.map_or(0, |s| s.offset)
    }
}

impl ParseError<Tokens<'_>> for PError {
    fn from_error_kind(input: Tokens<'_>, _: NomKind) -> Self {
        let token = input.first();
        PError::at(token, format!("unexpected {}", token.describe()))
    }

    fn append(_: Tokens<'_>, _: NomKind, other: Self) -> Self {
        other
    }

    /// Of two failed alternatives, the one that got further explains more.
    fn or(self, other: Self) -> Self {
        if other.offset() >= self.offset() {
            other
        } else {
            self
        }
    }
}

type PResult<'a, O> = IResult<Tokens<'a>, O, PError>;

// ---------------------------------------------------------------------------
// Small parsers over single tokens, and the error helpers.

fn token_if<'a>(input: Tokens<'a>, accept: impl Fn(&Token) -> bool) -> PResult<'a, &'a Token> {
    let token = input.first();
    if token.kind != TokenKind::Eof && accept(token) {
        Ok((input.advance(), token))
    } else {
        Err(nom::Err::Error(PError::from_error_kind(
            input,
            NomKind::Tag,
        )))
    }
}

/// A keyword, ignoring case.
fn kw<'a>(keyword: &'static str) -> impl Parser<Tokens<'a>, Output = &'a Token, Error = PError> {
    move |input| token_if(input, |t| t.is_keyword(keyword))
}

fn kind<'a>(kind: TokenKind) -> impl Parser<Tokens<'a>, Output = &'a Token, Error = PError> {
    move |input| token_if(input, |t| t.kind == kind)
}

/// Replaces a plain failure of `parser` with "expected WHAT" at the token
/// where it failed, and commits (`cut`): once a keyword has chosen the
/// branch, backtracking would only hide the real mistake.
fn must<'a, O>(
    what: impl Fn() -> String,
    mut parser: impl Parser<Tokens<'a>, Output = O, Error = PError>,
) -> impl Parser<Tokens<'a>, Output = O, Error = PError> {
    cut(move |input: Tokens<'a>| match parser.parse(input) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Error(PError::at(
            input.first(),
            format!("expected {}", what()),
        ))),
        other => other,
    })
}

/// The end of a statement: `;`, a newline or the end of the line. `more`
/// names what could still have come, for the message; a word close to one
/// of them is suggested.
fn end<'a>(input: Tokens<'a>, more: &[&str]) -> PResult<'a, ()> {
    let token = input.first();
    if matches!(token.kind, TokenKind::Separator | TokenKind::Eof) {
        return Ok((input, ()));
    }
    let mut expected: Vec<String> = more.iter().map(|m| format!("`{m}`")).collect();
    expected.push("the end of the statement".into());
    let mut error = Error::parse(
        token.span,
        format!("expected {}, found {}", one_of(&expected), token.describe()),
    );
    if token.kind == TokenKind::Word {
        let keywords = more.iter().map(|m| m.split(' ').next().unwrap_or(m));
        if let Some(s) = suggest(&token.text, keywords) {
            error = error.with_suggestion(s);
        } else if more.contains(&"where")
            && input
                .0
                .get(1)
                .is_some_and(|next| matches!(next.kind, TokenKind::Op(_)))
        {
            // `list clients name = Kevin`: a filter without its `where`.
            error = error.with_suggestion(format!("where {}", token.text));
        }
    }
    Err(nom::Err::Failure(PError(error)))
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------------------
// Productions.

/// line := [statement] { separator [statement] } EOF
fn line(input: Tokens<'_>) -> PResult<'_, Vec<Statement>> {
    let (rest, items) = many0(alt((
        statement.map(Some),
        kind(TokenKind::Separator).map(|_| None),
    )))
    .parse(input)?;
    let token = rest.first();
    if token.kind == TokenKind::Eof {
        return Ok((rest, items.into_iter().flatten().collect()));
    }
    let mut error = Error::parse(
        token.span,
        format!("expected a statement ({}, ...)", help::STATEMENT_EXAMPLES),
    );
    if token.kind == TokenKind::Word
        && let Some(s) = suggest(&token.text, help::statement_keywords())
    {
        error = error.with_suggestion(s);
    }
    Err(nom::Err::Failure(PError(error)))
}

/// statement := list | count | show | add | set | delete | sign | pay
///            | history | lookup | login | logout | whoami | passwd | help
///            | format | quit
fn statement(input: Tokens<'_>) -> PResult<'_, Statement> {
    let (rest, kind) = alt((
        list, count, show, add, set, delete, sign, pay, history, lookup, login, logout, whoami,
        passwd, help, format, quit,
    ))
    .parse(input)?;
    let used = input.0.len() - rest.0.len();
    let span = input.0[0].span.to(input.0[used - 1].span);
    Ok((rest, Statement { kind, span }))
}

/// list := 'list' entity [where] [order] [limit] [offset]
fn list(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, (_, entity)) = (kw("list"), entity_after("list")).parse(input)?;
    let (input, filter) = opt(where_clause).parse(input)?;
    let (input, order) = opt(order_clause).parse(input)?;
    let (input, limit) = opt(limit_clause).parse(input)?;
    let (input, offset) = opt(offset_clause).parse(input)?;
    let mut more = Vec::new();
    if filter.is_some() {
        more.extend(["and", "or"]);
    }
    // Only the clauses that may still follow: they come in this order.
    let given = [
        filter.is_some(),
        order.is_some(),
        limit.is_some(),
        offset.is_some(),
    ];
    let first_free = given.iter().rposition(|g| *g).map_or(0, |i| i + 1);
    more.extend(&catalog::LIST_CLAUSES[first_free..]);
    let (input, ()) = end(input, &more)?;
    let list = List {
        entity,
        filter,
        order: order.unwrap_or_default(),
        limit,
        offset,
    };
    Ok((input, StatementKind::List(list)))
}

/// count := 'count' entity [where]
fn count(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, (_, entity, filter)) =
        (kw("count"), entity_after("count"), opt(where_clause)).parse(input)?;
    let more: &[&str] = if filter.is_some() {
        &["and", "or"]
    } else {
        &["where"]
    };
    let (input, ()) = end(input, more)?;
    Ok((input, StatementKind::Count { entity, filter }))
}

/// show := 'show' target
fn show(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, target) = preceded(kw("show"), target_after("show")).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Show(target)))
}

/// add := 'add' entity { assignment }
fn add(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, (_, entity)) = (kw("add"), entity_after("add")).parse(input)?;
    let (input, assignments) = assignments(input)?;
    let (input, ()) = end(input, &[])?;
    let add = StatementKind::Add {
        entity,
        assignments,
    };
    Ok((input, add))
}

/// set := 'set' target assignment { assignment }
fn set(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, target) = preceded(kw("set"), target_after("set")).parse(input)?;
    let (input, assignments) = assignments(input)?;
    if assignments.is_empty() {
        let token = input.first();
        let message = format!("expected `FIELD = VALUE` after `{}`", target.id.text);
        return Err(nom::Err::Failure(PError::at(token, message)));
    }
    let (input, ()) = end(input, &[])?;
    let set = StatementKind::Set {
        target,
        assignments,
    };
    Ok((input, set))
}

/// delete := 'delete' target
fn delete(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, target) = preceded(kw("delete"), target_after("delete")).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Delete(target)))
}

/// sign := 'sign' target
fn sign(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, target) = preceded(kw("sign"), target_after("sign")).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Sign(target)))
}

/// pay := 'pay' target value
fn pay(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, target) = preceded(kw("pay"), target_after("pay")).parse(input)?;
    let (input, amount) = must(|| "an amount to pay".into(), value).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Pay { target, amount }))
}

/// history := 'history' target
fn history(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, target) = preceded(kw("history"), target_after("history")).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::History(target)))
}

/// lookup := 'lookup' identifier value { value }
fn lookup(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let what_is = || "`company` or `location` after `lookup`".to_string();
    let (input, what) = preceded(kw("lookup"), must(what_is, identifier)).parse(input)?;
    let text = what.text.to_ascii_lowercase();
    let expected = move || match text.as_str() {
        "company" | "companies" => format!("a SIREN or a company name after `lookup {text}`"),
        "location" | "locations" => format!("a postcode or a city after `lookup {text}`"),
        _ => format!("what to look up after `lookup {text}`"),
    };
    let (input, first) = must(expected, value).parse(input)?;
    let (input, more) = many0(value).parse(input)?;
    let (input, ()) = end(input, &[])?;
    let mut query = vec![first];
    query.extend(more);
    Ok((input, StatementKind::Lookup { what, query }))
}

/// login := 'login' [value]
fn login(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, who) = preceded(kw("login"), opt(value)).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Login(who)))
}

/// logout := 'logout'
fn logout(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, _) = kw("logout").parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Logout))
}

/// whoami := 'whoami'
fn whoami(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, _) = kw("whoami").parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Whoami))
}

/// passwd := 'passwd' [value]
fn passwd(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, who) = preceded(kw("passwd"), opt(value)).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Passwd(who)))
}

/// help := 'help' [name]
fn help(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, topic) = preceded(kw("help"), opt(word_name)).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Help(topic)))
}

/// format := 'format' name
fn format(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let what = || "`table`, `vertical`, `csv` or `json` after `format`".to_string();
    let (input, name) = preceded(kw("format"), must(what, word_name)).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Format(name)))
}

/// quit := 'quit' | 'exit'
fn quit(input: Tokens<'_>) -> PResult<'_, StatementKind> {
    let (input, _) = alt((kw("quit"), kw("exit"))).parse(input)?;
    let (input, ()) = end(input, &[])?;
    Ok((input, StatementKind::Quit))
}

/// entity := name
fn entity_after<'a>(verb: &'static str) -> impl Parser<Tokens<'a>, Output = Name, Error = PError> {
    must(
        move || format!("an entity after `{verb}` (clients, contracts, events, ...)"),
        identifier,
    )
}

/// target := entity id
fn target_after<'a>(
    verb: &'static str,
) -> impl Parser<Tokens<'a>, Output = Target, Error = PError> {
    move |input| {
        let (input, entity) = entity_after(verb).parse(input)?;
        // `set events where ...`: these statements name one record.
        if input.first().is_keyword("where") {
            let word = input.first();
            return Err(nom::Err::Failure(PError(Error::parse(word.span, {
                let (one, many) = catalog::entity(&entity.text)
                    .map_or((entity.text.as_str(), entity.text.as_str()), |e| {
                        (e.name, e.plural)
                    });
                format!(
                    "`{verb}` works on one record, named by its id: `{verb} {one} ID ...`; \
                         `list {many} where ...` finds the ids"
                )
            }))));
        }
        let what = || format!("the id of the {} after `{}`", entity.text, entity.text);
        let (input, id) = must(what, value).parse(input)?;
        Ok((input, Target { entity, id }))
    }
}

/// where := 'where' filter
fn where_clause(input: Tokens<'_>) -> PResult<'_, Filter> {
    preceded(
        kw("where"),
        must(|| "a field name after `where`".into(), filter),
    )
    .parse(input)
}

/// order := 'order' 'by' ordering { ',' ordering }
fn order_clause(input: Tokens<'_>) -> PResult<'_, Vec<Ordering>> {
    let (input, _) = (kw("order"), must(|| "`by` after `order`".into(), kw("by"))).parse(input)?;
    let (input, first) = must(|| "a field name after `order by`".into(), ordering).parse(input)?;
    let (input, rest) = many0(preceded(
        kind(TokenKind::Comma),
        must(|| "a field name after `,`".into(), ordering),
    ))
    .parse(input)?;
    let mut all = vec![first];
    all.extend(rest);
    Ok((input, all))
}

/// ordering := field ['asc' | 'desc']
fn ordering(input: Tokens<'_>) -> PResult<'_, Ordering> {
    let (input, field) = identifier(input)?;
    let (input, direction) = opt(alt((kw("asc"), kw("desc")))).parse(input)?;
    let descending = direction.is_some_and(|t| t.is_keyword("desc"));
    Ok((input, Ordering { field, descending }))
}

/// limit := 'limit' value
fn limit_clause(input: Tokens<'_>) -> PResult<'_, Value> {
    preceded(kw("limit"), must(|| "a number after `limit`".into(), value)).parse(input)
}

/// offset := 'offset' value
fn offset_clause(input: Tokens<'_>) -> PResult<'_, Value> {
    preceded(
        kw("offset"),
        must(|| "a number after `offset`".into(), value),
    )
    .parse(input)
}

/// filter := disjunct { ('or' | 'ou') disjunct }
fn filter(input: Tokens<'_>) -> PResult<'_, Filter> {
    let (input, first) = disjunct(input)?;
    let (input, rest) = many0(preceded(
        alt((kw("or"), kw("ou"))),
        must(|| "a condition after `or`".into(), disjunct),
    ))
    .parse(input)?;
    Ok((input, flatten(first, rest, Filter::Or)))
}

/// disjunct := conjunct { ('and' | 'et') conjunct }
fn disjunct(input: Tokens<'_>) -> PResult<'_, Filter> {
    let (input, first) = conjunct(input)?;
    let (input, rest) = many0(preceded(
        alt((kw("and"), kw("et"))),
        must(|| "a condition after `and`".into(), conjunct),
    ))
    .parse(input)?;
    Ok((input, flatten(first, rest, Filter::And)))
}

/// One item stays itself; more become one n-ary node.
fn flatten(first: Filter, rest: Vec<Filter>, node: fn(Vec<Filter>) -> Filter) -> Filter {
    if rest.is_empty() {
        first
    } else {
        let mut all = Vec::with_capacity(rest.len() + 1);
        all.push(first);
        all.extend(rest);
        node(all)
    }
}

/// conjunct := ['not'] atom
fn conjunct(input: Tokens<'_>) -> PResult<'_, Filter> {
    let (input, not) = opt(kw("not")).parse(input)?;
    match not {
        Some(_) => must(|| "a condition after `not`".into(), atom)
            .map(|f| Filter::Not(Box::new(f)))
            .parse(input),
        None => atom(input),
    }
}

/// atom := '(' filter ')' | comparison
fn atom(input: Tokens<'_>) -> PResult<'_, Filter> {
    alt((group, comparison.map(Filter::Compare))).parse(input)
}

fn group(input: Tokens<'_>) -> PResult<'_, Filter> {
    let (input, _) = kind(TokenKind::LParen).parse(input)?;
    let (input, inner) = must(|| "a condition after `(`".into(), filter).parse(input)?;
    let close = || "`)`, `and` or `or`".to_string();
    let (input, _) = must(close, kind(TokenKind::RParen)).parse(input)?;
    Ok((input, Filter::Paren(Box::new(inner))))
}

/// comparison := field op value
fn comparison(input: Tokens<'_>) -> PResult<'_, Comparison> {
    let (input, field) = identifier(input)?;
    let what = || {
        format!(
            "an operator after `{}` (=, !=, <, <=, >, >=, ~)",
            field.text
        )
    };
    let (input, op_token) = must(what, operator).parse(input)?;
    let TokenKind::Op(op) = op_token.kind else {
        unreachable!("operator() only accepts operators")
    };
    let what = || format!("a value after `{}`", op_token.text);
    let (input, value) = must(what, value).parse(input)?;
    let comparison = Comparison {
        field,
        op,
        op_span: op_token.span,
        value,
    };
    Ok((input, comparison))
}

fn operator(input: Tokens<'_>) -> PResult<'_, &Token> {
    token_if(input, |t| matches!(t.kind, TokenKind::Op(_)))
}

/// assignments := { [','] assignment }
fn assignments(input: Tokens<'_>) -> PResult<'_, Vec<Assignment>> {
    many0(preceded(opt(kind(TokenKind::Comma)), assignment)).parse(input)
}

/// assignment := field '=' value
fn assignment(input: Tokens<'_>) -> PResult<'_, Assignment> {
    let (input, field) = identifier(input)?;
    let what = || format!("`=` after `{}`", field.text);
    let (input, _) = must(what, kind(TokenKind::Op(Op::Eq))).parse(input)?;
    let what = || format!("a value for `{}`", field.text);
    let (input, value) = must(what, value).parse(input)?;
    Ok((input, Assignment { field, value }))
}

/// A name of the language (entity, field): a bare word made of letters,
/// digits and `_`, not starting with a digit.
fn identifier(input: Tokens<'_>) -> PResult<'_, Name> {
    let is_identifier = |t: &Token| {
        t.kind == TokenKind::Word
            && t.text
                .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && t.text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    token_if(input, is_identifier).map(|(rest, t)| (rest, name(t)))
}

/// Any bare word, for help topics and format names.
fn word_name(input: Tokens<'_>) -> PResult<'_, Name> {
    token_if(input, |t| t.kind == TokenKind::Word).map(|(rest, t)| (rest, name(t)))
}

fn name(token: &Token) -> Name {
    Name {
        text: token.text.clone(),
        span: token.span,
    }
}

/// value := word | quoted
fn value(input: Tokens<'_>) -> PResult<'_, Value> {
    let (rest, token) = token_if(input, |t| {
        matches!(t.kind, TokenKind::Word | TokenKind::Quoted)
    })?;
    let kind = match token.kind {
        TokenKind::Word => classify_word(&token.text),
        _ if is_datetime(&token.text) => ValueKind::DateTime,
        _ => ValueKind::Text,
    };
    let value = Value {
        kind,
        text: token.text.clone(),
        span: token.span,
    };
    Ok((rest, value))
}

fn classify_word(word: &str) -> ValueKind {
    match word.to_ascii_lowercase().as_str() {
        "none" => ValueKind::None,
        "me" => ValueKind::Me,
        "today" => ValueKind::Today,
        _ if is_number(word) => ValueKind::Number,
        _ if is_date(word) => ValueKind::Date,
        _ if is_datetime(word) => ValueKind::DateTime,
        _ => ValueKind::Word,
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, "1"));
    [int, frac]
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `YYYY-MM-DD` or `DD-MM-YYYY`, by shape.
pub(crate) fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    match parts.as_slice() {
        [a, b, c] => {
            digits(b, 2) && ((digits(a, 4) && digits(c, 2)) || (digits(a, 2) && digits(c, 4)))
        }
        _ => false,
    }
}

/// A date, then `T` or one space, then `HH:MM` or `HH:MM:SS`.
pub(crate) fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't', ' ']) else {
        return false;
    };
    let parts: Vec<&str> = time.split(':').collect();
    is_date(date) && matches!(parts.len(), 2 | 3) && parts.iter().all(|p| digits(p, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_shapes() {
        assert_eq!(classify_word("999.99"), ValueKind::Number);
        assert_eq!(classify_word("-3"), ValueKind::Number);
        assert_eq!(classify_word("+33612345678"), ValueKind::Word);
        assert_eq!(classify_word("2023-06-04"), ValueKind::Date);
        assert_eq!(classify_word("04-06-2023"), ValueKind::Date);
        assert_eq!(classify_word("2023-06-04T13:00"), ValueKind::DateTime);
        assert_eq!(classify_word("None"), ValueKind::None);
        assert_eq!(classify_word("62.01Z"), ValueKind::Word);
        assert_eq!(classify_word("1."), ValueKind::Word);
        assert!(is_datetime("2023-06-04 13:00:59"));
        assert!(!is_datetime("2023-06-04 13"));
    }
}
