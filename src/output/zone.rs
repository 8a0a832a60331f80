//! The one time zone every time is shown in.
//!
//! The CRM is an events company's in Paris: event times are Paris
//! wall-clock times, and every database session's `TimeZone` is set to
//! Europe/Paris (sql/007), so filters typed as `start >= '2023-06-04 13:00'`
//! mean Paris time. Showing times in the zone of whichever machine runs the
//! shell would make the same event start at two different hours for two
//! collaborators; so every time a person sees is a Paris time, and says so
//! once (a table's footer, `(Europe/Paris)` after a lone time), and every
//! time a program reads carries its offset (RFC 3339), which is exact
//! whatever zone the reader is in.
//!
//! The database hands over instants (timestamptz, read as UTC); they are
//! put in the zone here, by the IANA rules chrono-tz embeds, so that the
//! shell does not depend on the machine's zoneinfo nor on the session's
//! `TimeZone` to show the right hour and offset.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The CRM's time zone.
pub const ZONE: Tz = chrono_tz::Europe::Paris;

/// How a time's zone is named to people: the IANA name, which is also what
/// `TZ=` and PostgreSQL's `SET TimeZone` take.
pub const ZONE_NAME: &str = "Europe/Paris";

/// `2023-06-04 13:00`: what table and vertical show, to the minute.
pub fn time_human(t: DateTime<Utc>) -> String {
    t.with_timezone(&ZONE).format("%Y-%m-%d %H:%M").to_string()
}

/// `2023-06-04 13:00 (Europe/Paris)`: a time on its own in a message, where
/// no footer says the zone.
pub fn time_labelled(t: DateTime<Utc>) -> String {
    format!("{} ({ZONE_NAME})", time_human(t))
}

/// `2023-06-04T13:00:00+02:00`: RFC 3339 with the zone's offset at that
/// instant, and a fraction of a second only when there is one.
pub fn time_machine(t: DateTime<Utc>) -> String {
    t.with_timezone(&ZONE)
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
