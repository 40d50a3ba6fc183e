//! The widget's weight: what a page downloads to run it, as the gateway sends it. The build
//! script builds the WebAssembly with the `wasm-release` profile whatever the gateway's own
//! profile, and the gateway sends the brotli files it embeds, so a debug gateway serves the
//! same bytes as a release one. The budgets are written once
//! (`registratura::pages::widget::budget`); BENCHMARKS.md shows the same numbers.

use registratura::pages::widget::{ASSETS, Build, CLINIC, REGION, budget};
use registratura_e2e::spawn_app;
use std::io::Write as _;

/// A number as BENCHMARKS.md writes it: thousands apart by a space (`137 000`).
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The files a page of `build` names, fetched as a browser that takes brotli does: their
/// bytes on the wire.
async fn fetched(client: &reqwest::Client, base: &str, page: &str, build: Build) -> usize {
    let html = client
        .get(format!("{base}{page}"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    let mut total = 0;
    for name in [build.boot, build.glue, build.wasm] {
        assert!(
            html.contains(&format!("assets/{name}")),
            "{page} names {name}"
        );
        let answer = client
            .get(format!("{base}/widget/assets/{name}"))
            .header("accept-encoding", "br")
            .send()
            .await
            .expect("answers");
        assert_eq!(answer.status(), 200, "{name}");
        assert_eq!(answer.headers()["content-encoding"], "br", "{name}");
        total += answer.bytes().await.expect("a body").len();
    }
    total
}

#[tokio::test]
async fn a_clinic_s_page_downloads_its_build_within_the_budget_and_none_of_the_region_s() {
    let app = spawn_app().await;
    // A client that does not decode brotli: what it counts is what travels.
    let client = reqwest::Client::builder()
        .no_brotli()
        .build()
        .expect("a client");
    let clinic = fetched(&client, &app.base, "/widget/?clinic=demo", CLINIC).await;
    assert_eq!(clinic, CLINIC.served_bytes());
    let html = client
        .get(format!("{}/widget/?clinic=demo", app.base))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    for name in [REGION.boot, REGION.glue, REGION.wasm] {
        assert!(!html.contains(name), "a clinic's page names {name}");
    }
    assert!(
        clinic <= budget::CLINIC_BYTES,
        "a clinic's widget is {clinic} B brotli, over its budget of {} B",
        budget::CLINIC_BYTES
    );
    let region = REGION.served_bytes();
    assert!(
        region <= clinic + budget::REGION_EXTRA_BYTES,
        "a region's screens add {} B, over their budget of {} B",
        region - clinic.min(region),
        budget::REGION_EXTRA_BYTES
    );
}

#[test]
fn the_loader_is_within_its_budget() {
    let loader = ASSETS
        .iter()
        .find(|a| a.name == "widget.js")
        .expect("the loader is embedded");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(loader.raw).expect("compresses");
    let size = gz.finish().expect("compresses").len();
    assert!(
        size <= budget::LOADER_GZIP_BYTES,
        "the loader is {size} B gzip, over its budget of {} B",
        budget::LOADER_GZIP_BYTES
    );
}

#[test]
fn benchmarks_md_shows_the_budgets_the_test_holds() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md"))
        .expect("BENCHMARKS.md");
    for (what, bytes) in [
        ("a clinic's widget", budget::CLINIC_BYTES),
        ("a region's screens", budget::REGION_EXTRA_BYTES),
        ("the loader", budget::LOADER_GZIP_BYTES),
    ] {
        let figure = format!("budget {} B", grouped(bytes));
        assert!(
            text.contains(&figure),
            "BENCHMARKS.md gives {what}'s budget as the test holds it: «{figure}»"
        );
    }
}
