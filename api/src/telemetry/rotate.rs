//! A log file rotated by size, for where no `logrotate` or journal takes the lines (a Windows
//! service): `registratura.log` is written until it would pass `max_bytes`, then renamed to
//! `registratura.log.1` (the older ones moved up to `.2`, …), and the oldest beyond `keep`
//! removed. At most `keep + 1` files, each at most `max_bytes` (but for one line longer than
//! that, written whole), ever exist.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The log file and its rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: File,
    written: u64,
}

impl RotatingFile {
    /// Opens `path` for appending (creating its folder), rotating at `max_bytes` and keeping
    /// `keep` older files.
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = Self::append(path)?;
        let written = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            max_bytes: max_bytes.max(1),
            keep,
            file,
            written,
        })
    }

    fn append(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }

    /// The name of the `n`th older file.
    pub fn older(path: &Path, n: usize) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            // Nothing kept: the file starts again empty.
            self.file = File::create(&self.path)?;
        } else {
            let _ = std::fs::remove_file(Self::older(&self.path, self.keep));
            for n in (1..self.keep).rev() {
                let from = Self::older(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, Self::older(&self.path, n + 1))?;
                }
            }
            // The open file may be renamed: std opens files on Windows with FILE_SHARE_DELETE.
            std::fs::rename(&self.path, Self::older(&self.path, 1))?;
            self.file = Self::append(&self.path)?;
        }
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    /// Writes `buf` whole (the writer thread hands over whole lines), rotating first when it
    /// would take the file past its size.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = buf.len() as u64;
        if self.written > 0 && self.written + len > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(buf)?;
        self.written += len;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = std::fs::read_dir(dir)
            .expect("readable")
            .map(|e| {
                let e = e.expect("an entry");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().expect("metadata").len(),
                )
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_flood_of_lines_leaves_at_most_keep_older_files_each_under_the_size() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("logs").join("registratura.log");
        let mut log = RotatingFile::open(&path, 1_000, 3).expect("opens");
        for i in 0..10_000 {
            writeln!(log, "line {i:05} of the flood").expect("written");
        }
        log.flush().expect("flushed");
        let all = files(path.parent().expect("a folder"));
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "registratura.log",
                "registratura.log.1",
                "registratura.log.2",
                "registratura.log.3"
            ]
        );
        assert!(all.iter().all(|(_, len)| *len <= 1_000), "{all:?}");
        // The newest lines are in the current file, the ones before them in `.1`, whole.
        let current = std::fs::read_to_string(&path).expect("readable");
        assert!(current.ends_with("line 09999 of the flood\n"), "{current}");
        let first_now: u32 = current[5..10].parse().expect("a number");
        let previous = std::fs::read_to_string(RotatingFile::older(&path, 1)).expect("readable");
        let last_before: u32 = previous.lines().last().expect("a line")[5..10]
            .parse()
            .expect("a number");
        assert_eq!(last_before + 1, first_now);
        assert!(previous.lines().all(|l| l.ends_with(" of the flood")));
    }

    #[test]
    fn a_restart_appends_and_counts_what_the_file_already_holds() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("registratura.log");
        std::fs::write(&path, "x".repeat(900)).expect("written");
        let mut log = RotatingFile::open(&path, 1_000, 2).expect("opens");
        log.write_all(&[b'y'; 50]).expect("written");
        assert_eq!(std::fs::metadata(&path).expect("exists").len(), 950);
        log.write_all(&[b'z'; 100]).expect("written");
        assert_eq!(std::fs::metadata(&path).expect("exists").len(), 100);
        assert_eq!(
            std::fs::metadata(RotatingFile::older(&path, 1))
                .expect("rotated")
                .len(),
            950
        );
    }

    #[test]
    fn with_nothing_kept_the_file_starts_again_and_a_long_line_is_written_whole() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("registratura.log");
        let mut log = RotatingFile::open(&path, 100, 0).expect("opens");
        log.write_all(&[b'a'; 60]).expect("written");
        log.write_all(&[b'b'; 250]).expect("written");
        assert_eq!(files(dir.path()), [("registratura.log".to_owned(), 250)]);
    }
}
