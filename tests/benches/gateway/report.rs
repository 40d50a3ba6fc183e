//! The benchmark's table: each row a measure of the gateway beside its reference, measured in
//! the same run, and their ratio.

use std::fmt::Write as _;

#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<[String; 4]>,
    notes: Vec<String>,
    /// Each judged aim: its row, and whether it was met (`None`: the aim is not for this row's
    /// setting, said so in the row).
    verdicts: Vec<(String, Option<bool>)>,
}

impl Report {
    /// A row; one that names an aim must have judged it first with [`Report::aim`].
    pub fn row(&mut self, what: &str, gateway: &str, reference: &str, ratio: &str) {
        println!("{what}: {gateway} | {reference} | {ratio}");
        assert!(
            !ratio.contains("aim") || self.verdicts.iter().any(|(w, _)| w == what),
            "the row «{what}» names an aim it did not judge"
        );
        self.rows
            .push([what.into(), gateway.into(), reference.into(), ratio.into()]);
    }

    /// Judges the aim `aim` of the row `what` (to be written next): `met`, or `None` where the
    /// aim is not for this row's setting. The words for the row.
    pub fn aim(&mut self, what: &str, aim: &str, met: Option<bool>) -> String {
        self.verdicts.push((what.to_owned(), met));
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "not judged at this setting",
        };
        format!("aim {aim}: {verdict}")
    }

    /// The aims judged, met and missed, by their rows.
    pub fn aims(&self) -> (Vec<&str>, Vec<&str>) {
        let (mut met, mut missed) = (Vec::new(), Vec::new());
        for (what, verdict) in &self.verdicts {
            match verdict {
                Some(true) => met.push(what.as_str()),
                Some(false) => missed.push(what.as_str()),
                None => {}
            }
        }
        (met, missed)
    }

    pub fn note(&mut self, text: &str) {
        println!("{text}");
        self.notes.push(text.to_owned());
    }

    /// The table in Markdown, for `BENCHMARKS.md`.
    pub fn markdown(&self, machine: &str) -> String {
        let mut out = format!(
            "Machine: {machine}\n\n| what | the gateway | side by side | ratio |\n| --- | --- | --- | --- |\n"
        );
        for [a, b, c, d] in &self.rows {
            let _ = writeln!(out, "| {a} | {b} | {c} | {d} |");
        }
        out.push('\n');
        for n in &self.notes {
            let _ = writeln!(out, "- {n}");
        }
        out
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn first_line_of(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines().next().unwrap_or_default().trim().to_owned()
        })
        .unwrap_or_else(|_| "not found".into())
}

/// What machine this is: CPU, cores, memory, kernel, compiler and the tools compared with.
pub fn machine() -> String {
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    let mem_gib = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1_048_576.0);
    format!(
        "{cpu}, {cores} cores, {mem_gib:.0} GiB, Linux {}, {}, {}, {}",
        read("/proc/sys/kernel/osrelease").trim(),
        first_line_of("rustc", &["--version"]),
        first_line_of("wrk", &["--version"]),
        first_line_of("nginx", &["-v"]),
    )
}
