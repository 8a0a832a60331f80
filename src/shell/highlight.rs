//! Syntax highlighting of the line being edited, with ANSI colours. The
//! caller decides whether colours are wanted (`NO_COLOR`, not a terminal);
//! this module only colours. The visible text is never changed: removing
//! the escape sequences gives back the line exactly.

use crate::language::lexer::{Tok, tokenize};
use crate::shell::complete::CompletionSource;
use crate::shell::walker::{Role, Walker};

const RESET: &str = "\x1b[0m";

fn colour(role: Role) -> Option<&'static str> {
    Some(match role {
        Role::Verb | Role::Keyword => "\x1b[1;34m",
        Role::Entity => "\x1b[1;36m",
        Role::Field => "\x1b[33m",
        Role::Op => "\x1b[35m",
        Role::Text => "\x1b[32m",
        Role::Number => "\x1b[36m",
        Role::Value | Role::Constant => "\x1b[32m",
        Role::Comment => "\x1b[90m",
        Role::Unknown => "\x1b[31m",
        Role::Plain => return None,
    })
}

/// `line` with ANSI colours: keywords, entities, fields, operators, values,
/// comments, and in red the first word that does not fit where it stands
/// (unless it is the word being typed at the end of the line and could
/// still become one that fits).
pub fn highlight(line: &str, src: &dyn CompletionSource) -> String {
    let tokens = tokenize(line);
    let mut out = String::with_capacity(line.len() * 2);
    let mut walker = Walker::new(src);
    let mut copied = 0;
    for (i, t) in tokens.iter().enumerate() {
        let role = match t.kind {
            Tok::Comment => Role::Comment,
            Tok::Continuation => Role::Plain,
            Tok::End => {
                walker = Walker::new(src);
                Role::Plain
            }
            Tok::Word if i + 1 == tokens.len() && t.end() == line.len() => {
                let could_be = walker
                    .candidates(t.text, false)
                    .iter()
                    .any(|c| c.len() > t.text.len());
                match walker.step(t) {
                    Role::Unknown if could_be => Role::Plain,
                    role => role,
                }
            }
            _ => walker.step(t),
        };
        out.push_str(&line[copied..t.start]);
        match colour(role) {
            Some(c) => {
                out.push_str(c);
                out.push_str(t.text);
                out.push_str(RESET);
            }
            None => out.push_str(t.text),
        }
        copied = t.end();
    }
    out.push_str(&line[copied..]);
    out
}

#[cfg(test)]
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-byte
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::complete::testing::StaticSource;

    fn hl(line: &str) -> String {
        highlight(line, &StaticSource)
    }

    fn painted(line: &str, word: &str, role: Role) -> bool {
        let c = colour(role).unwrap();
        hl(line).contains(&format!("{c}{word}{RESET}"))
    }

    #[test]
    fn the_visible_text_is_kept_exactly() {
        for line in [
            "",
            " ",
            "list contracts where status = signed and remain > 0",
            "list clients where name ~ 'Zoë Müller 🎉' and email = \"o'hara\"",
            "add client name='unterminated",
            "list events \\\n  where attendees > 50 # comment ✓\nshow event geg2021;",
            "\\",
            "a\\\\",
            "set event geg2021 notes='Wedding starts at 3PM, upstairs.'",
            "列表 客户 ≠ 'é",
            "list\tcontracts\r\n",
            "!!!===<<>>~~ ((,,)) ;; ## \"",
        ] {
            assert_eq!(strip_ansi(&hl(line)), line, "{line:?}");
        }
    }

    #[test]
    fn roles_are_coloured() {
        let line = "list contracts where status = signed and remain > 0 order by total desc # big";
        assert!(painted(line, "list", Role::Verb));
        assert!(painted(line, "contracts", Role::Entity));
        assert!(painted(line, "where", Role::Keyword));
        assert!(painted(line, "status", Role::Field));
        assert!(painted(line, "=", Role::Op));
        assert!(painted(line, "signed", Role::Constant));
        assert!(painted(line, "0", Role::Number));
        assert!(painted(line, "desc", Role::Keyword));
        assert!(painted(line, "# big", Role::Comment));
        assert!(painted("show event geg2021", "geg2021", Role::Value));
        assert!(painted("set client x name='Kevin'", "'Kevin'", Role::Text));
        assert!(painted(
            "list events where start >= 2023-06-04",
            "2023-06-04",
            Role::Number
        ));
    }

    #[test]
    fn mistakes_are_red() {
        assert!(painted("lst clients", "lst", Role::Unknown));
        assert!(painted("list clientz where", "clientz", Role::Unknown));
        assert!(painted(
            "list contracts where status = sined",
            "sined",
            Role::Unknown
        ));
        assert!(painted(
            "list contracts where title = x",
            "title",
            Role::Unknown
        ));
        assert!(painted("show event geg2021 extra", "extra", Role::Unknown));
        assert!(painted(
            "set contract kc555 signed = today",
            "signed",
            Role::Unknown
        ));
        // Only the first mistake: what follows is not judged.
        assert!(!hl("lst clients").contains(colour(Role::Entity).unwrap()));
    }

    #[test]
    fn the_word_being_typed_is_not_red_while_it_can_still_fit() {
        assert!(!hl("lis").contains(colour(Role::Unknown).unwrap()));
        assert!(!hl("list contracts where sta").contains(colour(Role::Unknown).unwrap()));
        assert!(hl("list contracts where stz").contains(colour(Role::Unknown).unwrap()));
        assert!(hl("lis ").contains(colour(Role::Unknown).unwrap()));
    }

    #[test]
    fn each_statement_starts_afresh() {
        let line = "list clients; show event geg2021\ncount contracts";
        assert!(painted(line, "show", Role::Verb));
        assert!(painted(line, "count", Role::Verb));
    }
}
