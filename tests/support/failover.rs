//! A Redis primary, its replica and three sentinels (real `redis-server` processes), and a
//! rush of patients through two gateways while the primary is lost: the failover test's
//! (`tests/e2e/failover.rs`) and `just bench failover`'s.

use crate::{Api, demo_clinic, gateway_config, require_tool, start_gateway, start_sandbox};
use registratura::config::Config;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sentinels' `down-after-milliseconds`: how long a silent primary is given.
pub const DOWN_AFTER_MS: u64 = 1_000;
/// What writes may take to resume after the primary is lost: the sentinels' detection, their
/// vote and the promotion (about `DOWN_AFTER_MS` and 1–2 s), the gateways' watch (0.5 s), and
/// a margin for a loaded machine.
pub const RESUME_WITHIN: Duration = Duration::from_secs(12);
/// The rush's clinic (the sandbox's demo clinic under an id of its own).
pub const CLINIC: &str = "failover";
pub const MASTER: &str = "registratura";

fn free_port() -> u16 {
    crate::port_of_listener(&crate::loopback())
}

fn wait_for_port(child: &mut Child, port: u16) {
    for _ in 0..200 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("redis-server stopped ({status}) before it opened port {port}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("redis-server did not open port {port}");
}

/// `redis-cli -p <port> <args>`: its output.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A primary, its replica and three sentinels watching them.
#[derive(Debug)]
pub struct Cluster {
    pub primary: Child,
    pub primary_port: u16,
    pub replica: Child,
    pub replica_port: u16,
    pub sentinels: Vec<(Child, u16)>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub fn start() -> Option<Self> {
        if !require_tool("redis-server", &["--version"], "the failover's Redis nodes")
            || !require_tool("redis-cli", &["--version"], "asks the sentinels")
        {
            return None;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let node = |port: u16, extra: &[String]| {
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .arg("--dir")
                .arg(dir.path())
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            wait_for_port(&mut child, port);
            child
        };
        let primary_port = free_port();
        // Redis 7 waits 5 s before a replica's first sync by default: a primary lost in that
        // window would take everything with it, which is not what this test is about.
        let primary = node(
            primary_port,
            &["--repl-diskless-sync-delay".into(), "0".into()],
        );
        let replica_port = free_port();
        let replica = node(
            replica_port,
            &[
                "--replicaof".into(),
                "127.0.0.1".into(),
                primary_port.to_string(),
            ],
        );
        let mut sentinels = Vec::new();
        for i in 0..3 {
            let port = free_port();
            let conf = dir.path().join(format!("sentinel-{i}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {dir}\n\
                     sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n\
                     sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n\
                     sentinel failover-timeout {MASTER} 10000\n\
                     sentinel parallel-syncs {MASTER} 1\n",
                    dir = dir.path().display()
                ),
            )
            .expect("writable");
            let mut child = Command::new("redis-server")
                .arg(&conf)
                .arg("--sentinel")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("a sentinel starts");
            wait_for_port(&mut child, port);
            sentinels.push((child, port));
        }
        let cluster = Self {
            primary,
            primary_port,
            replica,
            replica_port,
            sentinels,
            _dir: dir,
        };
        // Each sentinel knows the replica and the others before the test begins.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = cluster.sentinels.iter().all(|(_, port)| {
                let master = cli(*port, &["SENTINEL", "master", MASTER]);
                let lines: Vec<&str> = master.lines().collect();
                let field = |name: &str| {
                    lines
                        .iter()
                        .position(|l| *l == name)
                        .and_then(|i| lines.get(i + 1))
                        .and_then(|v| v.parse::<u32>().ok())
                };
                field("num-slaves") == Some(1) && field("num-other-sentinels") == Some(2)
            });
            let synced = cli(cluster.replica_port, &["INFO", "replication"])
                .contains("master_link_status:up");
            if ready && synced {
                return Some(cluster);
            }
            assert!(
                Instant::now() < deadline,
                "the sentinels did not see the replica"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn sentinel_addresses(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|(_, port)| format!("127.0.0.1:{port}"))
            .collect()
    }

    /// The primary the sentinels name now.
    pub fn named_primary(&self) -> Option<u16> {
        let answer = cli(
            self.sentinels[0].1,
            &["SENTINEL", "get-master-addr-by-name", MASTER],
        );
        answer.lines().nth(1)?.trim().parse().ok()
    }

    pub fn signal(&self, child: &Child, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in std::iter::once(&mut self.primary)
            .chain(std::iter::once(&mut self.replica))
            .chain(self.sentinels.iter_mut().map(|(c, _)| c))
        {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn sentinel_config(endpoint: &str, cluster: &Cluster) -> Config {
    // A clinic id of its own: the rush's МИС places are not counted with other tests' "demo"
    // (the metrics are the test process's).
    let mut clinic = demo_clinic(endpoint);
    clinic.id = CLINIC.into();
    let mut config = gateway_config(vec![clinic]);
    config.state.redis_sentinels = cluster.sentinel_addresses();
    config.state.redis_master = MASTER.into();
    config.state.timeout_ms = 300;
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    config
}

/// One patient's rush: what they were told, in order.
#[derive(Debug, Clone)]
pub struct Told {
    /// Each answer: status and code (or the ticket's id for a booking).
    pub answers: Vec<(u16, String)>,
    /// When each answer came.
    pub times: Vec<Instant>,
    /// When the last answer came.
    pub at: Instant,
}

/// Books `slot` for `token` at `api` with one key, retrying as a client is told to (after
/// `Retry-After`, at most a second here), until a final answer or 60 s.
pub async fn book_as_told(api: &Api, token: &str, slot: &str, key: &str) -> Told {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answers = Vec::new();
    let mut times = Vec::new();
    loop {
        let r = api.book(token, slot, Some(key)).await;
        let status = r.status().as_u16();
        let retry = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let what = match status {
            201 => body["id"].as_str().unwrap_or_default().to_owned(),
            _ => body["code"].as_str().unwrap_or_default().to_owned(),
        };
        answers.push((status, what));
        times.push(Instant::now());
        match (status, retry) {
            (503 | 409, Some(seconds)) if Instant::now() < deadline && answers.len() < 200 => {
                tokio::time::sleep(Duration::from_millis((seconds * 1000).clamp(100, 1_000))).await;
            }
            _ => {
                return Told {
                    answers,
                    times,
                    at: Instant::now(),
                };
            }
        }
    }
}

/// What a rush through a failover leaves to check.
#[derive(Debug)]
pub struct Rush {
    pub cluster: Cluster,
    pub sandbox: sandbox_mis::Sandbox,
    pub gateways: [Api; 2],
    pub tokens: Vec<String>,
    /// What each patient was told, in order.
    pub told: Vec<Told>,
    pub started: Instant,
    /// When the primary was lost.
    pub lost_at: Instant,
    /// Whether `/readyz` said `failing_over` while no primary answered.
    pub said_failing_over: bool,
    /// Whether the status page said so then (to an operator).
    pub status_said_failing_over: bool,
    /// What `registratura check` wrote before the rush.
    pub check: String,
}

/// A thousand patients rush a hundred tickets through two gateways on `cluster`, and the
/// primary is lost by `signal` (`-KILL`, or `-STOP` and then `-CONT` once the replica is
/// promoted) 0.3 s in. `None` where Redis is missing (skipped, saying so, outside CI).
pub async fn rush_through(signal: &str) -> Option<Rush> {
    let cluster = Cluster::start()?;
    let (sandbox, sandbox_url) = start_sandbox();
    let config = sentinel_config(&sandbox_url, &cluster);
    let gateways = [
        Api::for_clinic(&start_gateway(config.clone()).await, CLINIC),
        Api::for_clinic(&start_gateway(config).await, CLINIC),
    ];
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a real date");
    let mut tokens = Vec::new();
    for i in 0..1_000 {
        let (document, policy) = (format!("61{i:08}"), format!("56{i:014}"));
        sandbox
            .store()
            .add_patient(&format!("F-{i}"), &document, &policy, birth)
            .expect("added");
        tokens.push(
            gateways[i % 2]
                .login((&document, &policy, "1970-01-01"))
                .await,
        );
    }
    // A hundred free tickets of one doctor's days (one specialty: nobody asks for two).
    let (doctor, _) = gateways[0].free_slot("Терапия").await;
    let mut slots = Vec::new();
    let mut day = crate::clinic_today();
    while slots.len() < 100 {
        day += chrono::Duration::days(1);
        assert!(day < crate::clinic_today() + chrono::Duration::days(60));
        slots.extend(
            gateways[0]
                .slots(&doctor.id, day)
                .await
                .into_iter()
                .map(|s| s.id),
        );
    }
    slots.truncate(100);
    let old_primary = cluster.named_primary();
    assert_eq!(old_primary, Some(cluster.primary_port));
    // The operator's view: the sentinels, the primary and the replica.
    let mut out = Vec::new();
    registratura::check::run(
        Ok(sentinel_config(&sandbox_url, &cluster)),
        registratura::check::Options::default(),
        &mut out,
        &mut std::io::Cursor::new(Vec::new()),
    )
    .await;
    let check = String::from_utf8_lossy(&out).into_owned();

    let started = Instant::now();
    let rush = tokens.iter().enumerate().map(|(i, token)| {
        let (api, slot) = (gateways[i % 2].clone(), slots[i % 100].clone());
        let token = token.clone();
        tokio::spawn(async move { book_as_told(&api, &token, &slot, &format!("rush-{i}")).await })
    });
    let rush: Vec<_> = rush.collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lost_at = Instant::now();
    cluster.signal(&cluster.primary, signal);
    // While no primary answers, the gateways say so.
    let mut said_failing_over = false;
    let mut status_said_failing_over = false;
    let watch_until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < watch_until && !said_failing_over {
        let ready: serde_json::Value = gateways[0]
            .client
            .get(format!("{}/readyz", gateways[0].base))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .unwrap_or_default();
        said_failing_over = ready["state"] == "failing_over";
        if said_failing_over {
            let page = gateways[0]
                .client
                .get(format!("{}/", gateways[0].base))
                .send()
                .await
                .expect("answers")
                .text()
                .await
                .unwrap_or_default();
            status_said_failing_over = page.contains("the state store is failing over");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut told = Vec::new();
    for handle in rush {
        told.push(handle.await.expect("a patient's rush ends"));
    }
    // The sentinels promoted the replica.
    let deadline = Instant::now() + Duration::from_secs(20);
    while cluster.named_primary() != Some(cluster.replica_port) {
        assert!(Instant::now() < deadline, "the replica was not promoted");
        std::thread::sleep(Duration::from_millis(100));
    }
    if signal == "-STOP" {
        // The old primary comes back, and the sentinels make it a replica of the new one.
        cluster.signal(&cluster.primary, "-CONT");
    }
    Some(Rush {
        cluster,
        sandbox,
        gateways,
        tokens,
        told,
        started,
        lost_at,
        said_failing_over,
        status_said_failing_over,
        check,
    })
}
