//! The sandbox's outbox: each message written as a `.eml` file a newcomer can open (any mail
//! program reads one), the newest [`KEPT`] kept. For the sandbox's test patients only: a
//! gateway with clinics of its own sends through a relay or not at all.

use crate::letter;
use gateway_domain::mail::{Letter, MailError, Mailer};
use lettre::message::Mailbox;
use std::path::{Path, PathBuf};

/// The most messages the outbox keeps; the oldest go first.
pub const KEPT: usize = 200;

/// A folder messages are written to.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    from: Mailbox,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            from: Mailbox::new(
                Some("Registratura (sandbox)".into()),
                lettre::Address::new("noreply", "registratura.invalid").expect("a valid address"),
            ),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Drops the oldest messages beyond [`KEPT`] (names sort by time).
    async fn trim(&self) -> std::io::Result<()> {
        let mut names = Vec::new();
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".eml") {
                names.push(name);
            }
        }
        names.sort();
        let excess = names.len().saturating_sub(KEPT);
        for name in &names[..excess] {
            tokio::fs::remove_file(self.dir.join(name)).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        let now = chrono::Utc::now();
        let message = letter::message(letter, (&self.from, None), now)
            .map_err(|e| MailError::Failed(e.to_string()))?;
        let failed = |e: std::io::Error| MailError::Failed(format!("the outbox: {e}"));
        tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
        let ticket: String = letter
            .ticket
            .id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        let name = format!(
            "{}-{ticket}-{}.eml",
            now.format("%Y%m%dT%H%M%S%.6fZ"),
            letter.kind.as_str()
        );
        tokio::fs::write(self.dir.join(name), message.formatted())
            .await
            .map_err(failed)?;
        self.trim().await.map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::mail::{Kind, Language};

    #[tokio::test]
    async fn the_outbox_keeps_the_newest_messages_only() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let outbox = Outbox::new(dir.path().join("outbox"));
        let letter = crate::letter::tests::letter(Kind::Booked, Language::Ru);
        for _ in 0..KEPT + 5 {
            outbox.send(&letter).await.expect("written");
        }
        let count = std::fs::read_dir(outbox.dir()).expect("listed").count();
        assert_eq!(count, KEPT);
    }
}
