//! `registratura.exe`, cross-built for Windows, run under Wine over loopback: `check`, the
//! booking flow through the JSON API, and the native service's life (install, start, a
//! booking, a graceful stop, uninstall) through Wine's Service Control Manager.
//!
//! Needs `wine` and `x86_64-w64-mingw32-gcc` (to build the `ProcessPrng` stand-in Debian's
//! Wine 8 lacks: `process_prng.c`, kept here, never shipped), and the .exe built first:
//! `cargo build --release --target x86_64-pc-windows-gnu --bin registratura` (`.ci/run` does),
//! or named by `REGISTRATURA_WINDOWS_EXE`. Skips with a message where one is missing, fails
//! in CI.

use registratura_e2e::{Api, PATIENT_FOUND, in_ci, loopback, port_of_listener, require_tool};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The cross-built .exe, if it is there.
fn exe() -> Option<PathBuf> {
    let path = std::env::var_os("REGISTRATURA_WINDOWS_EXE").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/x86_64-pc-windows-gnu/release/registratura.exe")
        },
        PathBuf::from,
    );
    if path.is_file() {
        return Some(path);
    }
    let build = "cargo build --release --target x86_64-pc-windows-gnu --bin registratura";
    assert!(
        !in_ci(),
        "{} is required when REGISTRATURA_CI=1 (build it first: {build})",
        path.display()
    );
    eprintln!(
        "SKIPPED: {} is not built (to run this test: {build})",
        path.display()
    );
    None
}

/// A Wine prefix of its own with the .exe and the stand-in DLL beside it; everything it ran
/// is ended when it is dropped.
struct Wine {
    dir: tempfile::TempDir,
    exe: PathBuf,
    server: Option<Killed>,
}

impl Wine {
    fn new(exe: &Path) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let copy = dir.path().join("registratura.exe");
        std::fs::copy(exe, &copy).expect("the .exe copied");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("wine/process_prng.c");
        let built = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(dir.path().join("bcryptprimitives.dll"))
            .arg(&source)
            .arg("-ladvapi32")
            .output()
            .expect("mingw runs");
        assert!(built.status.success(), "the stand-in DLL builds: {built:?}");
        Self {
            dir,
            exe: copy,
            server: None,
        }
    }

    /// Keeps the prefix's wineserver running after the last program ends, as a Windows
    /// machine keeps its services (else Wine ends them with the command that started them).
    /// It runs in the foreground: a child of the test, ended with the prefix.
    fn persist(&mut self) {
        let server = self
            .command("wineserver")
            .args(["-p", "-f"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wineserver runs");
        self.server = Some(Killed(server));
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(self.dir.path())
            .env("WINEPREFIX", self.dir.path().join("prefix"))
            .env("WINEDEBUG", "-all")
            .env(
                "WINEDLLOVERRIDES",
                "bcryptprimitives=n;winemenubuilder.exe=d",
            )
            .env("NO_COLOR", "1");
        c
    }

    /// `registratura.exe` with `args`.
    fn registratura(&self, args: &[&str]) -> Command {
        let mut c = self.command("wine");
        c.arg(&self.exe).args(args);
        c
    }

    /// Runs `registratura.exe args` to its end: its status and its output (Wine's own
    /// complaints about a missing 32-bit part left out). The output goes through files, not
    /// pipes: the wineserver and the device processes Wine starts inherit them and would keep
    /// a pipe open long after the program ended.
    fn run(&self, args: &[&str]) -> (ExitStatus, String) {
        let (out, err) = (
            self.dir.path().join("out.txt"),
            self.dir.path().join("err.txt"),
        );
        let file = |p: &Path| std::fs::File::create(p).expect("writable");
        let status = self
            .registratura(args)
            .stdin(Stdio::null())
            .stdout(file(&out))
            .stderr(file(&err))
            .status()
            .expect("wine runs");
        let read = |p: &Path| std::fs::read_to_string(p).expect("readable");
        let text: String = read(&out)
            .lines()
            .chain(read(&err).lines())
            .filter(|l| !l.contains("wine32") && !l.contains("multiarch") && !l.contains("i386"))
            .map(|l| format!("{l}\n"))
            .collect();
        (status, text)
    }

    /// The Windows name of a file of the prefix's folder (Wine maps `/` to `Z:`).
    fn windows_path(&self, name: &str) -> String {
        format!("Z:{}", self.dir.path().join(name).display()).replace('/', "\\")
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let _ = self.command("wineserver").arg("-k").status();
        drop(self.server.take());
    }
}

/// A process that is killed when dropped, on every path.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_healthy(api: &Api, what: &str) {
    let started = Instant::now();
    loop {
        let up = api
            .client
            .get(format!("{}/healthz", api.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if up {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{what}: the gateway under Wine never answered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A patient books, sees the ticket, cancels it, and no longer sees it.
async fn booking_flow(api: &Api, specialty: &str) {
    let specialties = api.specialties().await;
    assert!(specialties.len() > 5, "{specialties:?}");
    let (_, slot) = api.free_slot(specialty).await;
    let token = api.login(PATIENT_FOUND).await;
    let r = api.book(&token, &slot.id, Some("wine-1")).await;
    assert_eq!(r.status(), 201);
    let ticket: api_types::Ticket = r.json().await.expect("a ticket");
    assert_eq!(ticket.start, slot.start);
    let replay = api.book(&token, &slot.id, Some("wine-1")).await;
    assert_eq!(replay.status(), 201, "the same key answers the same ticket");
    let mine = api.my_tickets(&token).await;
    assert!(mine.iter().any(|t| t.id == ticket.id), "{mine:?}");
    assert_eq!(api.cancel(&token, &ticket.id).await.status(), 204);
    let mine = api.my_tickets(&token).await;
    assert!(mine.iter().all(|t| t.id != ticket.id), "{mine:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_windows_exe_checks_serves_a_booking_and_runs_as_a_service_under_wine() {
    if !require_tool("wine", &["--version"], "runs registratura.exe")
        || !require_tool(
            "x86_64-w64-mingw32-gcc",
            &["--version"],
            "builds the ProcessPrng stand-in for Wine",
        )
    {
        return;
    }
    let Some(exe) = exe() else { return };
    let mut wine = Wine::new(&exe);
    let (gateway, sandbox) = (loopback(), loopback());
    let (port, sandbox_port) = (port_of_listener(&gateway), port_of_listener(&sandbox));
    let log = wine.windows_path("service.log");
    std::fs::write(
        wine.dir.path().join("registratura.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace_secs = 5\n\
             [sandbox]\nlisten = \"127.0.0.1:{sandbox_port}\"\ndatabase = ':memory:'\n\
             [demo]\nenabled = false\n[service]\nlog_file = '{log}'\n"
        ),
    )
    .expect("writable");
    drop((gateway, sandbox));
    let api = Api::at(&format!("http://127.0.0.1:{port}"));

    let (out, text) = wine.run(&["--version"]);
    assert!(out.success(), "the .exe starts under Wine: {text}");
    assert!(text.contains("registratura "), "{text}");
    // The prefix exists now.
    wine.persist();

    let (out, text) = wine.run(&["--config", "registratura.toml", "check"]);
    assert!(out.success(), "check: {text}");
    assert!(text.contains("OK   config"), "{text}");
    assert!(text.contains("Summary: 0 failures"), "{text}");

    // As a console program.
    {
        let _gateway = Killed(
            wine.registratura(&["--config", "registratura.toml", "serve"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("wine runs"),
        );
        wait_until_healthy(&api, "serve").await;
        booking_flow(&api, "Неврология").await;
    }
    // The console gateway is gone before the service takes its port.
    let started = Instant::now();
    while api
        .client
        .get(format!("{}/healthz", api.base))
        .send()
        .await
        .is_ok()
    {
        assert!(started.elapsed() < Duration::from_secs(30), "killed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // As a service of Wine's Service Control Manager.
    let name = "RegistraturaTest";
    let (out, text) = wine.run(&[
        "--config",
        "registratura.toml",
        "service",
        "install",
        "--name",
        name,
    ]);
    assert!(out.success(), "install: {text}");
    assert!(
        text.contains(&format!("service «{name}» installed")),
        "{text}"
    );
    assert!(text.contains("registratura.toml"), "{text}");
    let (out, text) = wine.run(&["service", "start", "--name", name]);
    assert!(out.success(), "start: {text}");
    assert!(text.contains("running"), "{text}");
    wait_until_healthy(&api, "service").await;
    booking_flow(&api, "Кардиология").await;
    let (out, text) = wine.run(&["service", "stop", "--name", name]);
    assert!(out.success(), "stop: {text}");
    assert!(text.contains("stopped"), "{text}");
    assert!(
        api.client
            .get(format!("{}/healthz", api.base))
            .send()
            .await
            .is_err(),
        "no longer listening"
    );
    // The service wrote its log to the configured file, and stopped gracefully.
    let written = std::fs::read_to_string(wine.dir.path().join("service.log")).expect("a log");
    assert!(
        written.contains("running as a Windows service"),
        "{written}"
    );
    assert!(written.contains("stop requested"), "{written}");
    assert!(written.trim_end().ends_with("stopped"), "{written}");
    let (out, text) = wine.run(&["service", "uninstall", "--name", name]);
    assert!(out.success(), "uninstall: {text}");
    assert!(text.contains("removed"), "{text}");
    let (out, text) = wine.run(&["service", "start", "--name", name]);
    assert!(!out.success(), "gone: {text}");
}
