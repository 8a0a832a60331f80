//! The offline transport: each event as one JSON object on one line of
//! `$OC12_HOME/events.jsonl`, appended, never truncated.
//!
//! Several shells may write at once. Each line is written with a single
//! `write(2)` on a file opened with `O_APPEND`, under an exclusive lock,
//! so lines never interleave.

use std::io::{self, Write};
use std::path::PathBuf;

use sentry::protocol::{EnvelopeItem, Event};
use sentry::{Envelope, Transport};

/// Appends the events of the envelopes it is given to a JSON Lines file.
/// Other envelope items (client reports, sessions) are not written: the file
/// is for people reading events.
#[derive(Debug, Clone)]
pub struct JsonLinesTransport {
    path: PathBuf,
}

impl JsonLinesTransport {
    pub fn new(path: impl Into<PathBuf>) -> JsonLinesTransport {
        JsonLinesTransport { path: path.into() }
    }

    /// Appends one event as one line.
    pub fn append(&self, event: &Event<'_>) -> io::Result<()> {
        self.append_with_note(event, None)
    }

    /// Appends one event as one line, with a `not_delivered` note when it
    /// is here because Sentry did not take it.
    pub fn append_with_note(&self, event: &Event<'_>, note: Option<&str>) -> io::Result<()> {
        let mut value = with_level(event)?;
        if let (Some(map), Some(note)) = (value.as_object_mut(), note) {
            map.insert("not_delivered".into(), note.into());
        }
        let mut line = serde_json::to_vec(&value).map_err(io::Error::other)?;
        line.push(b'\n');
        if let Some(dir) = self.path.parent() {
            crate::fs::create_private_dir(dir)?;
        }
        // Never through a link: events only go to a file of our own.
        let file = crate::fs::open_private_append(&self.path)?;
        // Released when the file closes, at the end of this call.
        file.lock()?;
        (&file).write_all(&line)
    }
}

/// The event as JSON, with its level written out: Sentry's serialization
/// leaves out the default (`error`), and neither a person reading the file
/// with `jq` nor a server should have to know that.
pub(super) fn with_level(event: &Event<'_>) -> io::Result<serde_json::Value> {
    let mut value = serde_json::to_value(event).map_err(io::Error::other)?;
    if let Some(map) = value.as_object_mut() {
        map.entry("level")
            .or_insert_with(|| event.level.to_string().into());
    }
    Ok(value)
}

impl Transport for JsonLinesTransport {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.items() {
            if let EnvelopeItem::Event(event) = item {
                // Monitoring never breaks the shell: a file that cannot be
                // written loses the event, nothing else.
                let _ = self.append(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_a_private_file_in_a_private_directory_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home").join("events.jsonl");
        let t = JsonLinesTransport::new(&path);
        let event = Event {
            message: Some("one".into()),
            ..Default::default()
        };
        t.append(&event).unwrap();
        t.append(&event).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["message"], "one");
        }
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
    }

    #[test]
    fn events_are_never_appended_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let path = dir.path().join("events.jsonl");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let event = Event {
            message: Some("password authentication failed".into()),
            ..Default::default()
        };
        assert!(JsonLinesTransport::new(&path).append(&event).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    }
}
