//! The audit trail of bookings and cancellations: one JSON object per line, appended to
//! `audit.path`.
//!
//! Each line holds the time, the clinic, the ticket's public id, the operation, its outcome,
//! the request's id and a pseudonymous patient reference: an HMAC-SHA-256 of the МИС patient
//! id under `audit.secret`, so that one patient's repeated bookings (or abuse) can be seen
//! without any personal data. The file is reopened on `SIGHUP`, so `logrotate` can move it.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One line of the trail.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    pub clinic: &'a str,
    /// The ticket's public id (as the API shows it).
    pub ticket: &'a str,
    /// For a reschedule, the ticket it replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<&'a str>,
    /// `book`, `reschedule` or `cancel`.
    pub operation: &'static str,
    /// `booked`, `rescheduled`, `cancelled`, `replayed` or the problem code.
    pub outcome: &'a str,
    pub request_id: Option<String>,
    /// The patient's pseudonym.
    pub patient: String,
}

/// The trail's file and the key of its pseudonyms.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    key: Vec<u8>,
    file: Mutex<File>,
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Whether the gateway will be able to open the trail at `path`, found without creating it
/// (`check` may run as another user than the gateway): an existing file must open for
/// appending, a new one needs its directory.
pub fn probe(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return OpenOptions::new().append(true).open(path).map(drop);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if std::fs::metadata(dir)?.is_dir() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir.display()),
        ))
    }
}

impl Audit {
    /// Opens (or creates) the trail at `path` for appending.
    pub fn open(path: &Path, secret: &str) -> std::io::Result<Self> {
        Ok(Self {
            file: Mutex::new(open(path)?),
            path: path.to_owned(),
            key: secret.as_bytes().to_vec(),
        })
    }

    /// Reopens the file at its path (after `logrotate` moved the old one).
    pub fn reopen(&self) -> std::io::Result<()> {
        let file = open(&self.path)?;
        *self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = file;
        Ok(())
    }

    /// The pseudonym of a МИС patient id: the first 128 bits of its HMAC, in hex.
    pub fn pseudonym(&self, patient: &mis::PatientId) -> String {
        // HMAC takes a key of any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(patient.as_str().as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Appends a write of `patient`'s at `clinic`: `operation` of `ticket` (for a move,
    /// replacing `previous`) and its `outcome`, now, under the current request's id.
    pub fn write(
        &self,
        clinic: &str,
        (ticket, previous): (&str, Option<&str>),
        (operation, outcome): (&'static str, &str),
        patient: &mis::PatientId,
    ) {
        self.record(&Entry {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            clinic,
            ticket,
            previous,
            operation,
            outcome,
            request_id: crate::context::request_id(),
            patient: self.pseudonym(patient),
        });
    }

    /// Appends one line; a failure to write is logged, never passed to the patient.
    pub fn record(&self, entry: &Entry<'_>) {
        let Ok(mut line) = serde_json::to_vec(entry) else {
            return;
        };
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // One write per line, to a file opened for appending: lines never interleave.
        if let Err(e) = file.write_all(&line) {
            tracing::error!(error = %e, path = %self.path.display(), "cannot write the audit trail");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_secret_and_reveal_nothing() {
        let dir = tempfile_dir();
        let a = Audit::open(&dir.join("a.jsonl"), "secret one").expect("opens");
        let b = Audit::open(&dir.join("b.jsonl"), "secret two").expect("opens");
        let p = mis::PatientId::parse("P-1").expect("an id");
        assert_eq!(a.pseudonym(&p), a.pseudonym(&p));
        assert_ne!(a.pseudonym(&p), b.pseudonym(&p));
        assert_eq!(a.pseudonym(&p).len(), 32);
        assert!(!a.pseudonym(&p).contains("P-1"));
    }

    #[test]
    fn lines_are_appended_and_a_moved_file_is_replaced_on_reopen() {
        let dir = tempfile_dir();
        let path = dir.join("audit.jsonl");
        let audit = Audit::open(&path, "k").expect("opens");
        let entry = |outcome| Entry {
            time: "2026-11-27T10:00:00Z".into(),
            clinic: "demo",
            ticket: "T",
            previous: None,
            operation: "book",
            outcome,
            request_id: None,
            patient: "p".into(),
        };
        audit.record(&entry("booked"));
        std::fs::rename(&path, dir.join("audit.jsonl.1")).expect("rotates");
        audit.record(&entry("still the old file"));
        audit.reopen().expect("reopens");
        audit.record(&entry("cancelled"));
        let old = std::fs::read_to_string(dir.join("audit.jsonl.1")).expect("reads");
        let new = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(old.lines().count(), 2);
        assert_eq!(new.lines().count(), 1);
        assert!(new.contains("\"outcome\":\"cancelled\""));
    }

    fn tempfile_dir() -> PathBuf {
        tempfile::tempdir().expect("a temp dir").keep()
    }
}
