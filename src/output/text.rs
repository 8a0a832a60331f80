//! How one cell reads: for people (table, vertical) and for programs (csv,
//! json). Both are pure functions of the value, so every format agrees.

use std::borrow::Cow;

use rust_decimal::{Decimal, RoundingStrategy};

use super::zone::{time_human, time_machine};
use crate::language::value::{Cell, Change};

/// How money is shown to people, given as what 1234.50 looks like
/// (`OC12_MONEY`): the default, `1 234.50 €`, separates thousands with a
/// plain space, so that what is shown can be copied and searched for.
/// Programs (csv, json) always read `1234.50`; statements take `1234.50`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyStyle {
    prefix: String,
    thousands: String,
    decimal: String,
    suffix: String,
}

impl Default for MoneyStyle {
    fn default() -> MoneyStyle {
        MoneyStyle {
            prefix: String::new(),
            thousands: " ".into(),
            decimal: ".".into(),
            suffix: " €".into(),
        }
    }
}

impl MoneyStyle {
    /// The style of an example of 1234.50: `1 234.50 €`, `€1,234.50`,
    /// `1.234,50 EUR`, `1234.50`.
    pub fn from_example(example: &str) -> Result<MoneyStyle, String> {
        let wrong = || {
            format!(
                "`{example}` does not show 1234.50: write how 1234.50 should look, \
                 e.g. `1 234.50 €`, `€1,234.50` or `1.234,50 EUR`"
            )
        };
        let start = example.find('1').ok_or_else(wrong)?;
        let (prefix, rest) = example.split_at(start);
        let rest = &rest[1..];
        let at = rest.find("234").ok_or_else(wrong)?;
        let (thousands, rest) = (&rest[..at], &rest[at + 3..]);
        let at = rest.find("50").ok_or_else(wrong)?;
        let (decimal, suffix) = (&rest[..at], &rest[at + 2..]);
        let digitless = |s: &str| !s.chars().any(|c| c.is_ascii_digit() || c.is_control());
        if decimal.is_empty()
            || thousands == decimal
            || ![prefix, thousands, decimal, suffix]
                .into_iter()
                .all(digitless)
        {
            return Err(wrong());
        }
        Ok(MoneyStyle {
            prefix: prefix.into(),
            thousands: thousands.into(),
            decimal: decimal.into(),
            suffix: suffix.into(),
        })
    }

    /// `d` in this style.
    pub fn show(&self, d: Decimal) -> String {
        let plain = money_plain(d);
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
        let mut out = String::with_capacity(plain.len() + int.len() / 3 * self.thousands.len() + 8);
        out.push_str(sign);
        out.push_str(&self.prefix);
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push_str(&self.thousands);
            }
            out.push(c);
        }
        out.push_str(&self.decimal);
        out.push_str(frac);
        out.push_str(&self.suffix);
        out
    }
}

static MONEY_STYLE: std::sync::OnceLock<MoneyStyle> = std::sync::OnceLock::new();

/// Chooses how money is shown, once, before anything is printed (the
/// default otherwise).
pub fn set_money_style(style: MoneyStyle) {
    let _ = MONEY_STYLE.set(style);
}

/// A cell as a person reads it: money `1 234.50 €`,
/// date-times `2023-06-04 13:00` in the user's zone, NULL as nothing. Control characters in text
/// are shown escaped (`\u{1b}`) so that data can never drive the terminal or
/// break the table's alignment; newlines are kept (multi-line cells).
pub fn human(cell: &Cell) -> Cow<'_, str> {
    match cell {
        Cell::Null => Cow::Borrowed(""),
        Cell::Text(s) => visible(s),
        Cell::Integer(i) => Cow::Owned(i.to_string()),
        Cell::Money(d) => Cow::Owned(money_human(*d)),
        Cell::DateTime(t) => Cow::Owned(time_human(*t)),
        Cell::Changes(changes) => Cow::Owned(describe(changes, |c| human(c).into_owned())),
    }
}

/// A cell as a program reads it, or None for NULL: money `1234.50`,
/// date-times RFC 3339 in the user's zone with its offset,
/// `2023-06-04T13:00:00+02:00` (with the fraction of a second only when
/// there is one), text as it is.
pub fn machine(cell: &Cell) -> Option<Cow<'_, str>> {
    Some(match cell {
        Cell::Null => return None,
        Cell::Text(s) => Cow::Borrowed(s.as_str()),
        Cell::Integer(i) => Cow::Owned(i.to_string()),
        Cell::Money(d) => Cow::Owned(money_plain(*d)),
        Cell::DateTime(t) => Cow::Owned(time_machine(*t)),
        Cell::Changes(changes) => Cow::Owned(describe(changes, |c| {
            machine(c).map_or_else(String::new, Cow::into_owned)
        })),
    })
}

/// `remain: 999.99 € → 900.00 €; status: unsigned → signed`, each value as
/// `show` renders it, `none` for no value.
fn describe(changes: &[Change], show: impl Fn(&Cell) -> String) -> String {
    let value = |c: &Cell| match c {
        Cell::Null => "none".to_owned(),
        other => show(other),
    };
    changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, value(&c.old), value(&c.new)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `1234.5` → `1234.50`; always two places, no thousands separator.
pub fn money_plain(d: Decimal) -> String {
    let mut d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    if d.is_zero() {
        // -0.00 would be a surprise on a bill.
        d.set_sign_positive(true);
    }
    d.to_string()
}

/// `1234.5` → `1 234.50 €`, or as `OC12_MONEY` says ([`MoneyStyle`]).
pub fn money_human(d: Decimal) -> String {
    MONEY_STYLE.get_or_init(MoneyStyle::default).show(d)
}

/// `shown` (a cell as [`human`] gives it) on one line of at most `width`
/// columns: a longer line, or the first of several, ends with `…`. What a
/// table on a terminal draws; the whole value is in `show`, vertical, csv
/// and json. Columns are counted as prettytable counts them.
pub fn cut(shown: &str, width: usize) -> Cow<'_, str> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let (first, more) = match shown.split_once('\n') {
        Some((first, _)) => (first, true),
        None => (shown, false),
    };
    if !more && first.width() <= width {
        return Cow::Borrowed(shown);
    }
    // Room for the `…`, which is one column wide.
    let room = width.saturating_sub(1);
    let mut used = 0;
    let mut end = 0;
    for (at, c) in first.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        end = at + c.len_utf8();
    }
    let kept = if more && first.width() <= room {
        first
    } else {
        &first[..end]
    };
    Cow::Owned(format!("{}…", kept.trim_end()))
}

/// Text with its control characters escaped, except the newline; `\r\n`
/// counts as a newline. What table and vertical show.
pub fn visible(s: &str) -> Cow<'_, str> {
    escaped(s, false)
}

/// [`visible`], but tabs are kept as they are: what csv writes.
pub fn visible_keeping_tabs(s: &str) -> Cow<'_, str> {
    escaped(s, true)
}

/// Whether a character can drive a terminal or reorder what it shows: a
/// control character (C0, DEL, C1), or an explicit bidirectional
/// embedding, override or isolate (U+202A..U+202E, U+2066..U+2069, the
/// "Trojan Source" ones). The marks (LRM, RLM) only nudge neutral
/// characters and are kept.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Every [`is_unsafe`] character written as its Rust escape (`\u{1b}`,
/// `\t`, `\u{202e}`), except newlines and, with `keep_tab`, tabs.
fn escaped(s: &str, keep_tab: bool) -> Cow<'_, str> {
    let kept = |c: char| c == '\n' || (keep_tab && c == '\t');
    if !s.chars().any(|c| is_unsafe(c) && !kept(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            c if kept(c) => out.push(c),
            c if is_unsafe(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_for_people_groups_thousands_with_a_space() {
        assert_eq!(money_human(dec("1234.5")), "1 234.50 €");
        assert_eq!(money_human(dec("999.99")), "999.99 €");
        assert_eq!(money_human(dec("0")), "0.00 €");
        assert_eq!(money_human(dec("1000")), "1 000.00 €");
        assert_eq!(money_human(dec("9999999999.99")), "9 999 999 999.99 €");
        assert_eq!(money_human(dec("-123456.7")), "-123 456.70 €");
        assert_eq!(money_human(dec("100000")), "100 000.00 €");
    }

    #[test]
    fn money_styles_are_given_by_an_example() {
        let style = |e: &str| MoneyStyle::from_example(e).unwrap();
        assert_eq!(style("1 234.50 €"), MoneyStyle::default());
        assert_eq!(style("€1,234.50").show(dec("-1234567.5")), "-€1,234,567.50");
        assert_eq!(style("1.234,50 EUR").show(dec("999.99")), "999,99 EUR");
        assert_eq!(style("1234.50").show(dec("1234567")), "1234567.00");
        assert_eq!(
            style("1\u{202f}234,50\u{a0}€").show(dec("1000")),
            "1\u{202f}000,00\u{a0}€"
        );
        for wrong in [
            "",
            "€",
            "1234",
            "12.34",
            "1 234 €",
            "1 2345.50",
            "1 234.5x0",
        ] {
            let e = MoneyStyle::from_example(wrong).unwrap_err();
            assert!(e.contains("write how 1234.50 should look"), "{wrong}: {e}");
        }
    }

    #[test]
    fn money_for_programs_has_two_places() {
        assert_eq!(money_plain(dec("999.99")), "999.99");
        assert_eq!(money_plain(dec("0")), "0.00");
        assert_eq!(money_plain(dec("-0.00")), "0.00");
        assert_eq!(money_plain(dec("12.345")), "12.35");
        assert_eq!(money_plain(dec("1234.5")), "1234.50");
    }

    #[test]
    fn dates_and_times() {
        let d = NaiveDate::from_ymd_opt(2023, 6, 4).unwrap();
        // 11:00 UTC is 13:00 in Paris in June.
        let t = d.and_hms_opt(11, 0, 0).unwrap().and_utc();
        assert_eq!(human(&Cell::DateTime(t)), "2023-06-04 13:00");
        assert_eq!(
            machine(&Cell::DateTime(t)).unwrap(),
            "2023-06-04T13:00:00+02:00"
        );
        let t = d.and_hms_micro_opt(11, 0, 5, 120_000).unwrap().and_utc();
        assert_eq!(
            machine(&Cell::DateTime(t)).unwrap(),
            "2023-06-04T13:00:05.120+02:00"
        );
        assert_eq!(machine(&Cell::Null), None);
    }

    #[test]
    fn long_or_several_lines_are_cut_to_one_with_an_ellipsis() {
        assert_eq!(cut("Penser au catering.", 40), "Penser au catering.");
        assert!(matches!(cut("short", 5), Cow::Borrowed(_)));
        assert_eq!(cut("abcdef", 5), "abcd…");
        assert_eq!(cut("abcd ef", 6), "abcd…");
        assert_eq!(cut("first\nsecond", 40), "first…");
        assert_eq!(cut("a very long first line\nsecond", 10), "a very lo…");
        assert_eq!(cut("\nsecond", 10), "…");
        // Wide characters count twice, as on the screen.
        assert_eq!(cut("日本語のテキスト", 7), "日本語…");
        assert_eq!(cut("Aliénor", 7), "Aliénor");
        let long = "x".repeat(2500);
        assert_eq!(cut(&long, 40).chars().count(), 40);
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(visible("a\tb"), "a\\tb");
        assert_eq!(visible("one\r\ntwo\nthree"), "one\ntwo\nthree");
        assert_eq!(visible("lone\rcr"), "lone\\rcr");
        assert!(matches!(visible("Aliénor"), Cow::Borrowed(_)));
    }

    #[test]
    fn delete_c1_and_bidirectional_overrides_are_shown_not_obeyed() {
        assert_eq!(visible("a\x7fb\u{9b}2J"), "a\\u{7f}b\\u{9b}2J");
        // "Trojan Source": an override and an isolate, not the marks.
        assert_eq!(
            visible("x\u{202E}gnp.exe\u{2066}y\u{200F}z"),
            "x\\u{202e}gnp.exe\\u{2066}y\u{200F}z"
        );
        assert_eq!(visible_keeping_tabs("a\tb\x1bc\r\nd"), "a\tb\\u{1b}c\nd");
        assert_eq!(visible_keeping_tabs("lone\rcr"), "lone\\rcr");
    }
}
