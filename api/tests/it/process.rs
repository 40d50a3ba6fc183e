//! Running the binary: a configuration in a temporary folder, the process, its log.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_registratura")
}

/// A configuration for the binary: everything on loopback port 0, the sandbox's data in
/// `dir`, and `extra` TOML appended (its own tables).
pub fn config(dir: &Path, server_extra: &str, extra: &str) -> PathBuf {
    let path = dir.join("registratura.toml");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
workers = 2
identify_min_ms = 0
{server_extra}

[sandbox]
listen = "127.0.0.1:0"
database = "{db}"

[demo]
enabled = false

[rate_limit]
identify_per_minute = 60000
identify_burst = 1000
write_per_minute = 60000
write_burst = 1000
read_per_minute = 600000
read_burst = 10000

{extra}
"#,
        db = dir.join("sandbox.db").display()
    );
    std::fs::write(&path, text).expect("a writable temp dir");
    path
}

/// A running `registratura serve`, with its log lines as they come.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Served {
    /// Starts `registratura serve` with `config` and waits until it listens.
    pub fn start(config: &Path, args: &[&str]) -> Served {
        let mut child = Command::new(bin())
            .arg("--config")
            .arg(config)
            .args(args)
            .arg("serve")
            .env("REGISTRATURA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut served = Served {
            child,
            base: String::new(),
            lines,
            seen: Vec::new(),
        };
        let line = served.wait_for("gateway listening on ");
        let at = line.find("http://").expect("an address in the line");
        let base: String = line[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\\')
            .collect();
        served.base = base;
        served
    }

    /// Waits (up to a generous minute) for a log line containing `text`.
    pub fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(line.clone());
                if line.contains(text) {
                    return line;
                }
            }
        }
        panic!("no log line with {text:?}; seen:\n{}", self.seen.join("\n"));
    }

    /// A log line containing `text`, seen already or waited for.
    pub fn line_with(&mut self, text: &str) -> String {
        match self.seen.iter().find(|l| l.contains(text)) {
            Some(line) => line.clone(),
            None => self.wait_for(text),
        }
    }

    /// Every log line so far.
    pub fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Sends a signal by name (`TERM`, `HUP`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the gateway did not exit within {within:?}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `registratura check` with `args`, `input` on its standard input; its exit code and
/// output.
pub fn check(config: Option<&Path>, args: &[&str], input: &str) -> (i32, String) {
    let mut cmd = Command::new(bin());
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let mut child = cmd
        .arg("check")
        .args(args)
        .env("REGISTRATURA_SANDBOX_DATABASE", ":memory:")
        .env_remove("REGISTRATURA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("writes");
    let out = child.wait_with_output().expect("it ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The test patients of the sandbox (the README's table).
pub const PATIENT: (&str, &str, &str) = ("4510 123456", "7700000000000001", "1980-05-17");
pub const PATIENT_2: (&str, &str, &str) = ("4511 654321", "7700000000000002", "1955-01-09");
pub const DUPLICATE: (&str, &str, &str) = ("4512 111111", "7700000000000003", "1990-03-03");
