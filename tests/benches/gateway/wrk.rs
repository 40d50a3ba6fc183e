//! `wrk`, the load generator: runs it and reads its figures. Only successful answers count:
//! a run with any non-2xx answer or socket error fails loudly.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Run {
    /// Requests answered in the run.
    pub requests: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Whether wrk is installed.
pub fn available() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// Runs wrk against `url` with `connections` (on `threads` threads) for `secs` seconds, with
/// the Lua `script` if any.
pub fn run(url: &str, connections: u32, threads: u32, secs: u32, script: Option<&Path>) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.args([
        &format!("-t{threads}"),
        &format!("-c{connections}"),
        &format!("-d{secs}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {text}");
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses"))
    {
        panic!(
            "a benchmark counts only successful answers, and wrk saw some others ({}): raise the limits in the benchmark's configuration\n{text}",
            line.trim()
        );
    }
    if let Some(line) = text.lines().find(|l| l.contains("Socket errors")) {
        panic!("wrk saw socket errors ({}):\n{text}", line.trim());
    }
    if let Some(line) = text
        .lines()
        .find(|l| l.starts_with("SOAP faults: ") && l.trim() != "SOAP faults: 0")
    {
        panic!(
            "a SOAP call failed, which counts as no answer ({}):\n{text}",
            line.trim()
        );
    }
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.trim_start()[prefix.len()..].split_whitespace().next())
            .unwrap_or_default()
            .to_owned()
    };
    // "  123456 requests in 5.00s, 12.34MB read"
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    let per_second = field("Requests/sec:").parse().ok();
    let (Some(requests), Some(per_second), Some(p50), Some(p99)) = (
        requests,
        per_second,
        duration(&field("50%")),
        duration(&field("99%")),
    ) else {
        panic!("wrk's output is not what this benchmark reads:\n{text}");
    };
    Run {
        requests,
        per_second,
        p50,
        p99,
    }
}

/// Runs wrk as [`run`] does, and the CPU time `cpu` reports used meanwhile, per request.
pub fn run_costed(
    url: &str,
    connections: u32,
    threads: u32,
    secs: u32,
    script: Option<&Path>,
    cpu: impl Fn() -> Duration,
) -> (Run, Duration) {
    let before = cpu();
    let run = run(url, connections, threads, secs, script);
    let used = cpu().saturating_sub(before);
    let per_request = used.div_f64(run.requests.max(1) as f64);
    (run, per_request)
}

/// The `POST` of `body` with `headers`, as a wrk script. Every answer is read: one that is a
/// SOAP fault, or says `Success` false, is counted and reported as `SOAP faults: N`, which
/// [`run`] fails on, as it fails on a non-2xx answer.
pub fn post_script(dir: &Path, body: &str, headers: &[(&str, &str)]) -> std::path::PathBuf {
    let mut lua = String::from(
        "local threads = {}\n\
         function setup(thread) table.insert(threads, thread) end\n\
         function init(args) faults = 0 end\n\
         function response(status, headers, body)\n\
           if body:find(\"Fault>\", 1, true) or body:find(\"Success>false<\", 1, true) then faults = faults + 1 end\n\
         end\n\
         function done(summary, latency, requests)\n\
           local n = 0\n\
           for _, t in ipairs(threads) do n = n + t:get(\"faults\") end\n\
           io.write(\"SOAP faults: \" .. n .. \"\\n\")\n\
         end\n",
    );
    lua.push_str("wrk.method = \"POST\"\n");
    lua.push_str(&format!("wrk.body = [==[{body}]==]\n"));
    for (k, v) in headers {
        lua.push_str(&format!("wrk.headers[\"{k}\"] = [==[{v}]==]\n"));
    }
    let path = dir.join("post.lua");
    std::fs::write(&path, lua).expect("writable");
    path
}
