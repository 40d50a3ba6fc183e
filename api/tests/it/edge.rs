//! Nothing a client sends is expanded before it is bounded: a compressed body of any coding,
//! whole or cut short, on every route with a body of every listener the binary opens, is
//! refused at once, and the process's peak memory does not move.

use crate::process::{Served, config};
use std::io::Write;
use std::time::{Duration, Instant};

/// The process's peak resident memory so far (`VmHWM`), in KB.
fn peak_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// `size` zero bytes compressed with `coding`.
fn bomb(coding: &str, size: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    match coding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            for _ in 0..size >> 20 {
                e.write_all(&zeros).expect("in memory");
            }
            e.finish().expect("in memory")
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            for _ in 0..size >> 20 {
                e.write_all(&zeros).expect("in memory");
            }
            e.finish().expect("in memory")
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                for _ in 0..size >> 20 {
                    e.write_all(&zeros).expect("in memory");
                }
            }
            out
        }
        // No encoder here: the header alone must be enough.
        _ => b"\x28\xb5\x2f\xfd junk".to_vec(),
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_body_is_refused_before_it_is_read_on_every_listener() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = config(dir.path(), "", "");
    let text = std::fs::read_to_string(&path).expect("written").replace(
        "[demo]\nenabled = false",
        "[demo]\nenabled = true\nlisten = \"127.0.0.1:0\"",
    );
    std::fs::write(&path, text).expect("writable");
    let mut served = Served::start(&path, &[]);
    let sandbox = served.line_with("SANDBOX МИС at http://");
    let sandbox = sandbox[sandbox.find("http://").expect("a URL")..]
        .split_whitespace()
        .next()
        .expect("a URL")
        .to_owned();
    let demo = served.line_with("demo clinic site with the widget at http://");
    let demo = demo[demo.find("http://").expect("a URL")..]
        .split_whitespace()
        .next()
        .expect("a URL")
        .trim_end_matches('/')
        .to_owned();
    let api = format!("{}/api/v1/clinics/demo", served.base);
    let client = reqwest::Client::new();
    // Warm up: the process's ordinary memory is in place before the peak is read.
    for _ in 0..20 {
        let r = client
            .get(format!("{api}/specialties"))
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), 200);
    }
    let pid = served.child.id();
    let before = peak_kb(pid);
    let targets = [
        format!("{api}/sessions"),
        format!("{api}/tickets"),
        format!("{api}/tickets/MQ/reschedule"),
        format!("{api}/waiting-list"),
        sandbox,
        format!("{demo}/"),
    ];
    let mut refused = 0;
    for coding in [
        "gzip",
        "deflate",
        "br",
        "zstd",
        "x-gzip",
        "identity, gzip",
        "BR",
    ] {
        let whole = bomb(
            coding
                .rsplit(' ')
                .next()
                .unwrap_or(coding)
                .to_ascii_lowercase()
                .as_str(),
            64 << 20,
        );
        let cut = whole[..whole.len() / 2].to_vec();
        for body in [whole, cut] {
            for target in &targets {
                let started = Instant::now();
                let r = client
                    .post(target)
                    .header("content-type", "application/json")
                    .header("content-encoding", coding)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("answers");
                assert_eq!(r.status(), 415, "{coding} to {target}");
                assert!(
                    started.elapsed() < Duration::from_secs(1),
                    "{coding} to {target} took {:?}",
                    started.elapsed()
                );
                refused += 1;
            }
        }
    }
    let grown = peak_kb(pid).saturating_sub(before);
    assert!(
        grown < 16 * 1024,
        "peak memory grew by {grown} KB over {refused} compressed bodies"
    );
    // The gateway's refusals are problem documents; the process still answers at once.
    let r = client
        .post(format!("{api}/sessions"))
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body(bomb("br", 1 << 20))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let health = client
        .get(format!("{}/healthz", served.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status(), 200);
}
