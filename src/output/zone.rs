//! The one time zone every time is shown in: the user's.
//!
//! It is `TZ` when set (an IANA name such as `Europe/Paris`, as libc reads
//! it), otherwise the system's (`/etc/localtime`, `/etc/timezone`), and UTC
//! when neither names a zone, as libc does. Every time a person sees is in
//! it and says so once (a table's footer, `(Europe/Paris)` after a lone
//! time); every time a program reads carries its offset (RFC 3339), exact
//! whatever zone the reader is in. Times the user types mean the same zone:
//! the database session's `TimeZone` is set to it (`use_user_zone` in `db/pool.rs`), so
//! that `start >= 2023-06-04 13:00` is the 13:00 the tables show.
//!
//! The database hands over instants (timestamptz, read as UTC); they are
//! put in the zone here, by the IANA rules chrono-tz embeds, so that the
//! shell does not depend on the machine's zoneinfo files to show the right
//! hour and offset. The CRM's own data is written in Europe/Paris, the
//! database's default zone.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The zone the database uses when a session does not choose one (the
/// session roles' and the local cluster's setting).
pub const DATABASE_ZONE: Tz = chrono_tz::Europe::Paris;

/// The user's zone, found once.
pub fn zone() -> Tz {
    static ZONE: OnceLock<Tz> = OnceLock::new();
    *ZONE.get_or_init(|| detect(std::env::var("TZ").ok().as_deref(), system_zone))
}

/// How the zone is named to people: the IANA name, which is also what
/// `TZ=` and PostgreSQL's `SET TimeZone` take.
pub fn zone_name() -> &'static str {
    zone().name()
}

/// `TZ` (without libc's leading `:`, or a path into a zoneinfo folder),
/// else what `system` finds, else UTC. Unit tests pin Europe/Paris, the zone
/// the demo data is written in, whatever the machine's.
fn detect(tz: Option<&str>, system: fn() -> Option<String>) -> Tz {
    if cfg!(test) {
        return DATABASE_ZONE;
    }
    parse_zone(tz, system)
}

fn parse_zone(tz: Option<&str>, system: fn() -> Option<String>) -> Tz {
    let named = match tz.map(str::trim) {
        Some(tz) if !tz.is_empty() => Some(tz.trim_start_matches(':').to_owned()),
        _ => system(),
    };
    named
        .map(|name| match name.rfind("zoneinfo/") {
            Some(at) => name[at + "zoneinfo/".len()..].to_owned(),
            None => name,
        })
        .and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or(chrono_tz::UTC)
}

/// The system's zone: where `/etc/localtime` points, or `/etc/timezone`.
fn system_zone() -> Option<String> {
    if let Ok(target) = std::fs::read_link("/etc/localtime") {
        return Some(target.to_string_lossy().into_owned());
    }
    std::fs::read_to_string("/etc/timezone")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `2023-06-04 13:00`: what table and vertical show, to the minute.
pub fn time_human(t: DateTime<Utc>) -> String {
    t.with_timezone(&zone())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `2023-06-04 13:00 (Europe/Paris)`: a time on its own in a message, where
/// no footer says the zone.
pub fn time_labelled(t: DateTime<Utc>) -> String {
    format!("{} ({})", time_human(t), zone_name())
}

/// `2023-06-04T13:00:00+02:00`: RFC 3339 with the zone's offset at that
/// instant, and a fraction of a second only when there is one.
pub fn time_machine(t: DateTime<Utc>) -> String {
    t.with_timezone(&zone())
        .format("%Y-%m-%dT%H:%M:%S%.f%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn summer_and_winter_offsets() {
        let summer = utc(2023, 6, 4, 11, 0, 0);
        assert_eq!(time_human(summer), "2023-06-04 13:00");
        assert_eq!(time_machine(summer), "2023-06-04T13:00:00+02:00");
        let winter = utc(2026, 12, 4, 5, 38, 24) + chrono::Duration::microseconds(293_858);
        assert_eq!(time_human(winter), "2026-12-04 06:38");
        assert_eq!(time_machine(winter), "2026-12-04T06:38:24.293858+01:00");
        assert_eq!(time_labelled(winter), "2026-12-04 06:38 (Europe/Paris)");
    }

    #[test]
    fn the_zone_is_tz_else_the_system_s_else_utc() {
        let none = || None;
        let debian = || Some("/usr/share/zoneinfo/America/New_York".to_owned());
        assert_eq!(
            parse_zone(Some("Asia/Tokyo"), debian),
            chrono_tz::Asia::Tokyo
        );
        assert_eq!(
            parse_zone(Some(":Europe/Paris"), none),
            chrono_tz::Europe::Paris
        );
        assert_eq!(
            parse_zone(Some("/usr/share/zoneinfo/Europe/Berlin"), none),
            chrono_tz::Europe::Berlin
        );
        assert_eq!(parse_zone(None, debian), chrono_tz::America::New_York);
        assert_eq!(parse_zone(Some(""), debian), chrono_tz::America::New_York);
        // What libc does with a zone it does not know.
        assert_eq!(parse_zone(Some("Mars/Olympus"), debian), chrono_tz::UTC);
        assert_eq!(parse_zone(None, none), chrono_tz::UTC);
    }

    #[test]
    fn the_hour_that_happens_twice_keeps_its_offset() {
        // 2023-10-29: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
        assert_eq!(
            time_machine(utc(2023, 10, 29, 0, 30, 0)),
            "2023-10-29T02:30:00+02:00"
        );
        assert_eq!(
            time_machine(utc(2023, 10, 29, 1, 30, 0)),
            "2023-10-29T02:30:00+01:00"
        );
    }
}
