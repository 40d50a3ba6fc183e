//! Mail relays for the tests: the real one (aiosmtpd, with STARTTLS and AUTH, started by
//! [`SmtpServer::start`]) and a relay that misbehaves on purpose ([`start_fake_relay`]: it
//! hangs, drops the connection in the middle of a message, or quotes the recipient in its
//! refusal), which no real server does on demand.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The login the real server takes.
pub const USER: &str = "registratura";
pub const PASSWORD: &str = "relay-secret-1";

/// A real SMTP server (Python's aiosmtpd): STARTTLS required, AUTH required over TLS, each
/// message written to its folder.
#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    /// The server's certificate (PEM): the CA a gateway must trust to reach it.
    pub ca_file: PathBuf,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

/// One message the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope's recipients.
    pub recipients: Vec<String>,
    /// The message as sent.
    pub raw: Vec<u8>,
}

impl SmtpServer {
    /// Starts the server, or says it is skipped (fails in CI) when Python or aiosmtpd is missing.
    /// `refuse_login`: every login is refused.
    pub fn start(refuse_login: bool) -> Option<Self> {
        if !crate::require_tool(
            "python3",
            &["-c", "import aiosmtpd"],
            "the real SMTP server of the mail tests (pip install aiosmtpd)",
        ) {
            return None;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let cert =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a certificate");
        let ca_file = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&ca_file, cert.cert.pem()).expect("writable");
        std::fs::write(&key, cert.signing_key.serialize_pem()).expect("writable");
        let out = dir.path().join("received");
        std::fs::create_dir(&out).expect("writable");
        let port = crate::port_of_listener(&crate::loopback());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_server.py");
        let mut command = std::process::Command::new("python3");
        command
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .arg(&ca_file)
            .arg(&key)
            .args([USER, PASSWORD])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        if refuse_login {
            command.arg("refuse-login");
        }
        let mut child = command.spawn().expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the server says it is ready");
        assert_eq!(line.trim(), "READY", "the SMTP server did not start");
        Some(Self {
            port,
            ca_file,
            dir,
            child,
        })
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let out = self.dir.path().join("received");
        let mut all = Vec::new();
        for n in 1.. {
            let base = out.join(n.to_string());
            let Ok(raw) = std::fs::read(base.with_extension("eml")) else {
                break;
            };
            let recipients = std::fs::read_to_string(base.with_extension("rcpt"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            all.push(Received { recipients, raw });
        }
        all
    }

    /// Waits (at most 10 s) until `count` messages have arrived; all of them.
    pub fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the fake relay does with one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Takes the connection and never says a word.
    Hang,
    /// Speaks SMTP, takes `DATA`, reads a little of the message and closes the connection.
    DropInData,
    /// Refuses the recipient, quoting the address (as relays do).
    RejectRecipient,
    /// Takes the message.
    Accept,
}

/// A relay that misbehaves as told (without TLS or login: `tls = "none"`).
#[derive(Debug, Clone)]
pub struct FakeRelay {
    pub port: u16,
    /// The messages it took.
    pub taken: Arc<Mutex<Vec<Vec<u8>>>>,
    /// The connections it was opened.
    pub connections: Arc<AtomicUsize>,
}

/// Starts a fake relay whose `n`-th connection (from 0) does what `behaviour(n)` says.
pub async fn start_fake_relay(behaviour: fn(usize) -> Behaviour) -> FakeRelay {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let relay = FakeRelay {
        port: listener.local_addr().expect("bound").port(),
        taken: Arc::default(),
        connections: Arc::default(),
    };
    let (taken, connections) = (relay.taken.clone(), relay.connections.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let n = connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(converse(socket, behaviour(n), taken.clone()));
        }
    });
    relay
}

async fn converse(
    socket: tokio::net::TcpStream,
    behaviour: Behaviour,
    taken: Arc<Mutex<Vec<Vec<u8>>>>,
) {
    if behaviour == Behaviour::Hang {
        let _held = socket;
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    let _ = write.write_all(b"220 fake.relay ESMTP\r\n").await;
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer: String = if command.starts_with("EHLO") || command.starts_with("HELO") {
            "250-fake.relay\r\n250 8BITMIME\r\n".into()
        } else if command.starts_with("RCPT") {
            let recipient = line
                .trim_end()
                .get(8..)
                .unwrap_or_default()
                .trim()
                .to_owned();
            if behaviour == Behaviour::RejectRecipient {
                format!(
                    "550 5.1.1 {recipient}: Recipient address rejected: {recipient} unknown\r\n"
                )
            } else {
                "250 2.1.5 Ok\r\n".into()
            }
        } else if command == "DATA" {
            let _ = write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await;
            if behaviour == Behaviour::DropInData {
                let mut some = [0u8; 256];
                let _ = read.read(&mut some).await;
                return;
            }
            let mut message = Vec::new();
            loop {
                let mut l = Vec::new();
                if read.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                    return;
                }
                if l == b".\r\n" {
                    break;
                }
                message.extend_from_slice(&l);
            }
            taken.lock().expect("not poisoned").push(message);
            "250 2.0.0 Ok: queued\r\n".into()
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
            return;
        } else {
            "250 2.0.0 Ok\r\n".into()
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The message's text parts and its calendar file, parsed.
#[derive(Debug)]
pub struct Parsed {
    pub subject: String,
    pub from: String,
    pub text: String,
    pub html: String,
    pub calendar: ical::parser::ical::component::IcalCalendar,
}

/// The message `raw`, parsed by a real MIME parser (mail-parser) and its `talon.ics` by a real
/// iCalendar parser (ical).
pub fn parse(raw: &[u8]) -> Parsed {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message");
    let ics = message
        .attachments()
        .find(|a| a.attachment_name() == Some("talon.ics"))
        .expect("the calendar file is attached");
    let content_type = ics.content_type().expect("typed");
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("text", Some("calendar"))
    );
    let calendar = ical::IcalParser::new(std::io::BufReader::new(ics.contents()))
        .next()
        .expect("one calendar")
        .expect("a valid iCalendar file");
    Parsed {
        subject: message.subject().unwrap_or_default().to_owned(),
        from: message
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned(),
        text: message
            .body_text(0)
            .expect("a plain-text part")
            .into_owned(),
        html: message.body_html(0).expect("an HTML part").into_owned(),
        calendar,
    }
}

/// The property `name` of a component's `props`.
pub fn property<'a>(
    props: &'a [ical::property::Property],
    name: &str,
) -> &'a ical::property::Property {
    props
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is set"))
}
