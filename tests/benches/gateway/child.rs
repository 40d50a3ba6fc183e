//! Servers in processes of their own, so that their memory can be read and their cores are
//! not the load generator's: the gateway (this benchmark's own binary, started again with
//! `REGISTRATURA_BENCH_GATEWAY`) and nginx.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The variable that makes this binary run a gateway with the configuration it names.
pub const GATEWAY_ENV: &str = "REGISTRATURA_BENCH_GATEWAY";

/// Runs the gateway of the configuration in `GATEWAY_ENV`, if set; whether it did.
pub fn serve_if_asked() -> bool {
    let Some(config) = std::env::var_os(GATEWAY_ENV) else {
        return false;
    };
    let _logging = registratura::telemetry::init("warn", registratura::telemetry::LogFormat::Text);
    let config = registratura::config::Config::load(Some(Path::new(&config)))
        .expect("a valid configuration");
    let result = actix_web::rt::System::new().block_on(async move {
        registratura::Application::build(config)
            .await?
            .run_with_signals()
            .await
    });
    if let Err(e) = result {
        eprintln!("the gateway stopped: {e}");
    }
    true
}

/// A gateway in a child process.
pub struct Gateway {
    pub child: Child,
    pub base: String,
}

/// The variable naming another gateway binary to measure (an older build, for a before and
/// after measured in one run).
pub const BINARY_ENV: &str = "REGISTRATURA_BENCH_BINARY";

/// The binary named by `BINARY_ENV`, or the release binary beside this benchmark (`just bench`
/// builds it first), if there is one.
fn release_binary() -> Option<std::path::PathBuf> {
    if let Some(bin) = std::env::var_os(BINARY_ENV) {
        return Some(bin.into());
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("registratura");
    bin.is_file().then_some(bin)
}

impl Gateway {
    /// Starts a gateway with the TOML `config` (written to `dir`; its `listen` is replaced by
    /// a free loopback port), logging at `warn` to nowhere: the release binary where it is
    /// built, else this binary.
    pub fn start(dir: &Path, config: &str) -> Gateway {
        Self::start_logging(dir, config, "warn", None)
    }

    /// The same, logging at `level` in text to the file `log` (as stderr redirected to a file
    /// or the journal is: no terminal).
    pub fn start_logging(dir: &Path, config: &str, level: &str, log: Option<&Path>) -> Gateway {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = config.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
        let path = dir.join(format!("gateway-{}.toml", rand_suffix()));
        std::fs::write(&path, config).expect("writable");
        let mut cmd = match release_binary() {
            Some(bin) => {
                let mut cmd = Command::new(bin);
                cmd.arg("--config").arg(&path).arg("serve");
                cmd
            }
            None => {
                eprintln!(
                    "(the release binary is not built: the gateway runs as this benchmark's binary, whose memory is larger)"
                );
                let mut cmd = Command::new(std::env::current_exe().expect("this binary"));
                cmd.env(GATEWAY_ENV, &path);
                cmd
            }
        };
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("writable")),
            None => Stdio::null(),
        };
        let child = cmd
            .env("REGISTRATURA_LOG", level)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the gateway starts");
        // Dropping the gateway kills and reaps its process, whatever happens next.
        let gateway = Gateway {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return gateway;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the gateway did not start");
    }

    pub fn rss(&self) -> Memory {
        memory_of(&[self.child.id()])
    }

    /// The CPU time the gateway has used so far.
    pub fn cpu(&self) -> Duration {
        cpu_of(&[self.child.id()])
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Resident memory of some processes: now, and at their peak.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kb: u64,
    /// Of `rss_kb`, the process's own memory (heap, stacks); the rest is pages of files
    /// mapped in, mostly the executable's code, which the page cache shares.
    pub anon_kb: u64,
    pub peak_kb: u64,
}

fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn memory_of(pids: &[u32]) -> Memory {
    pids.iter().fold(Memory::default(), |m, pid| Memory {
        rss_kb: m.rss_kb + status_field(*pid, "VmRSS:"),
        anon_kb: m.anon_kb + status_field(*pid, "RssAnon:"),
        peak_kb: m.peak_kb + status_field(*pid, "VmHWM:"),
    })
}

/// Clock ticks per second, the unit of `/proc/PID/stat`'s times.
fn ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The CPU time (user and system, all threads) some processes have used so far.
pub fn cpu_of(pids: &[u32]) -> Duration {
    let ticks: u64 = pids
        .iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command's name: state is field 3, utime 14 and stime 15.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    Duration::from_secs_f64(ticks as f64 / ticks_per_second())
}

/// nginx serving `root` on a loopback port, as a static file server.
pub struct Nginx {
    pub child: Child,
    pub port: u16,
}

impl Nginx {
    /// nginx serving `root`, with its access log off, or on to the file `access_log`.
    pub fn start(dir: &Path, root: &Path, access_log: Option<&Path>) -> Option<Nginx> {
        let access_log = access_log.map_or("off".to_owned(), |p| p.display().to_string());
        Self::start_with(dir, &access_log, &|_| format!("root {};", root.display()))
    }

    /// nginx in front of the gateway at `upstream` under `/registratura/`, configured as
    /// `examples/deploy/nginx-prefix.conf` is (plain HTTP on loopback: no certificate here).
    pub fn in_front_of(dir: &Path, upstream: &str) -> Option<Nginx> {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        Self::start_with(dir, "off", &|_| {
            format!(
                "location = /registratura {{ return 301 /registratura/; }}\n\
                 location /registratura/ {{ client_max_body_size 64k; proxy_pass http://{upstream}/;\n\
                 proxy_http_version 1.1; proxy_set_header Connection \"\";\n\
                 proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                 proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Request-Id $request_id;\n\
                 proxy_read_timeout 60s; }}"
            )
        })
    }

    /// nginx with one server on a loopback port, `body` (given the port) inside it.
    fn start_with(dir: &Path, access_log: &str, body: &dyn Fn(u16) -> String) -> Option<Nginx> {
        Command::new("nginx").arg("-v").output().ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let t = dir.join("nginx-tmp");
        for sub in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(t.join(sub)).ok()?;
        }
        // Two workers, as the gateway has two; an access log when the gateway logs requests;
        // room for a surge's connections (each proxied one holds two).
        let conf = format!(
            "worker_processes 2;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\n\
             worker_rlimit_nofile 40000;\n\
             events {{ worker_connections 16384; }}\nhttp {{ access_log {access_log}; keepalive_requests 100000;\n\
             client_body_temp_path {t}/body; proxy_temp_path {t}/proxy; fastcgi_temp_path {t}/fastcgi;\n\
             uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;\n\
             types {{ application/json json; }}\n\
             server {{ listen 127.0.0.1:{port} backlog=16384; {body} }} }}\n",
            d = dir.display(),
            t = t.display(),
            body = body(port),
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).ok()?;
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Nginx { child, port });
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    pub fn rss(&self) -> Memory {
        let mut pids = vec![self.child.id()];
        pids.extend(registratura_e2e::children_of(self.child.id()));
        memory_of(&pids)
    }

    /// The CPU time nginx (master and workers) has used so far.
    pub fn cpu(&self) -> Duration {
        let mut pids = vec![self.child.id()];
        pids.extend(registratura_e2e::children_of(self.child.id()));
        cpu_of(&pids)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        registratura_e2e::stop_with_workers(&mut self.child);
    }
}
