//! The text log line, written for the cost of one request: the same layout as
//! `tracing-subscriber`'s full format without colours (time, level, the spans with their
//! fields, the target, the message and its fields), with the second's timestamp formatted once
//! and plain values written as they are. A value that could break the line or be misread (a
//! space, a quote, `=`, a control character) is quoted and escaped, so that one event is one
//! line.
//!
//! Requests get no span with this format (their fields are on the line that ends them): a line
//! written while a request runs starts with `request{request_id=…}: `, as a line in the
//! request's span would, so that `grep request_id=…` finds every line of it.

use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event format.
#[derive(Debug, Default, Clone, Copy)]
pub struct Line;

/// The field format (of events and of spans).
#[derive(Debug, Default, Clone, Copy)]
pub struct Fields;

thread_local! {
    /// The last second formatted (`2026-12-02T07:47:34`), and which second it is.
    static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

/// `2026-12-02T07:47:34.656033Z`: UTC to the microsecond, as the full format writes it.
fn write_time(w: &mut Writer<'_>) -> fmt::Result {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != secs {
            text.clear();
            let time =
                chrono::DateTime::<chrono::Utc>::from_timestamp(secs as i64, 0).unwrap_or_default();
            let _ = write!(text, "{}", time.format("%Y-%m-%dT%H:%M:%S"));
            *second = secs;
        }
        w.write_str(text)
    })?;
    let mut micros = now.subsec_micros();
    let mut digits = *b".000000Z";
    for slot in digits[1..7].iter_mut().rev() {
        *slot = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    w.write_str(std::str::from_utf8(&digits).unwrap_or(".000000Z"))
}

/// The level as the full format writes it: right-aligned in five columns, between spaces.
fn level(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::ERROR => " ERROR ",
        tracing::Level::WARN => "  WARN ",
        tracing::Level::INFO => "  INFO ",
        tracing::Level::DEBUG => " DEBUG ",
        tracing::Level::TRACE => " TRACE ",
    }
}

/// Whether a value is written as it is: printable ASCII without a space, a quote, `=` or a
/// backslash (and not empty).
fn plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'=' | b'\\'))
}

thread_local! {
    /// Where a `%`- or `?`-value is formatted before it is written.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The most a scratch buffer keeps between lines (a larger one is let go).
const SCRATCH_KEPT: usize = 4096;

/// A message as it is, but for the control characters (a line end, an escape sequence),
/// written escaped: one event stays one line, and a terminal shows what was sent.
fn write_message(w: &mut Writer<'_>, text: &str) -> fmt::Result {
    let mut rest = text;
    while let Some(i) = rest.find(char::is_control) {
        w.write_str(&rest[..i])?;
        let c = rest[i..].chars().next().unwrap_or_default();
        write!(w, "{}", c.escape_default())?;
        rest = &rest[i + c.len_utf8()..];
    }
    w.write_str(rest)
}

struct Visitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_, '_> {
    fn name(&mut self, field: &Field) {
        if self.result.is_err() {
            return;
        }
        if !self.first {
            self.result = self.writer.write_str(" ");
        }
        self.first = false;
        if self.result.is_ok() && field.name() != "message" {
            self.result = self
                .writer
                .write_str(field.name())
                .and_then(|()| self.writer.write_str("="));
        }
    }
}

impl Visit for Visitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.name(field);
        if self.result.is_ok() {
            self.result = if field.name() == "message" {
                write_message(self.writer, value)
            } else if plain(value) {
                self.writer.write_str(value)
            } else {
                write!(self.writer, "{value:?}")
            };
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        if self.result.is_ok() {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.name(field);
        if self.result.is_ok() {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        if self.result.is_ok() {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.name(field);
        if self.result.is_err() {
            return;
        }
        // A `%`- or `?`-value may carry what came from outside (a МИС's fault code, an
        // error's text): it is formatted first, then written as a string is — plain as it
        // is, else quoted and escaped — so that no value can end the line or forge a field.
        // The message keeps its spaces and quotes; only what would break the line is escaped.
        SCRATCH.with_borrow_mut(|text| {
            text.clear();
            let _ = write!(text, "{value:?}");
            self.result = if field.name() == "message" {
                write_message(self.writer, text)
            } else if plain(text) {
                self.writer.write_str(text)
            } else {
                write!(self.writer, "{:?}", text.as_str())
            };
            if text.capacity() > SCRATCH_KEPT {
                *text = String::new();
            }
        });
    }
}

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = Visitor {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        write_time(&mut writer)?;
        writer.write_str(level(meta.level()))?;
        let mut in_span = false;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                in_span = true;
                writer.write_str(span.name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_str(": ")?;
            }
        }
        if !in_span {
            // Requests have no span here: a line written while one runs names it.
            gateway_domain::context::with_request_id(|id| {
                write!(writer, "request{{request_id={id}}}: ")
            })
            .transpose()?;
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines_of(run: impl FnOnce()) -> String {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .fmt_fields(Fields)
            .event_format(Line)
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        String::from_utf8(sink.0.lock().expect("not poisoned").clone()).expect("UTF-8")
    }

    #[test]
    fn a_request_line_reads_as_the_full_format_s() {
        let text = lines_of(|| {
            let span = tracing::info_span!("request", request_id = "ab-1", http.method = "GET");
            tracing::info!(parent: &span, status = 200u16, elapsed_ms = 3u64, "request done");
        });
        let line = text.trim_end();
        let (time, rest) = line.split_once(' ').expect("a time");
        assert_eq!(time.len(), "2026-12-02T07:47:34.656033Z".len(), "{line}");
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{line}");
        assert_eq!(
            rest,
            " INFO request{request_id=ab-1 http.method=GET}: registratura::telemetry::line::tests: request done status=200 elapsed_ms=3"
        );
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn a_line_written_while_a_request_runs_names_it() {
        let text = lines_of(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime");
            runtime.block_on(gateway_domain::context::scope("ab-2".into(), async {
                tracing::warn!(reason = "x", "МИС slow");
            }));
            tracing::warn!("outside");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with("WARN request{request_id=ab-2}: registratura::telemetry::line::tests: МИС slow reason=x"),
            "{}",
            lines[0]
        );
        assert!(!lines[1].contains("request{"), "{}", lines[1]);
    }

    #[test]
    fn a_value_from_outside_never_ends_the_line_nor_forges_a_field() {
        // A МИС's SOAP fault whose code holds a line end and a forged line, as an error's
        // `Display` and `Debug` carry it.
        let forged = "s:Server\n2026-12-07T00:00:00.000000Z  INFO registratura: booked patient=1";
        let text = lines_of(|| {
            let error = mis::MisError::Unavailable(format!("SOAP fault {forged}"));
            tracing::warn!(error = %error, "МИС call failed");
            tracing::warn!(error = ?error, "МИС call failed");
            tracing::warn!(reason = %"ok x=1", "spaced");
            tracing::warn!("a message with {} inside", "a\u{1b}[31mred\nline");
        });
        assert_eq!(text.lines().count(), 4, "{text}");
        for line in text.lines() {
            assert!(!line.contains('\u{1b}'), "{line}");
        }
        assert!(
            text.contains(r#"error="the МИС is unavailable: SOAP fault s:Server\n2026"#),
            "{text}"
        );
        assert!(text.contains(r#"reason="ok x=1""#), "{text}");
        assert!(
            text.contains(r#"a message with a\u{1b}[31mred\nline inside"#),
            "{text}"
        );
    }

    #[test]
    fn a_value_that_could_break_the_line_is_quoted() {
        let text = lines_of(|| {
            tracing::warn!(
                detail = "two words\nand a line",
                key = "a=b",
                quote = "\"",
                name = "Иванов",
                empty = "",
                "refused"
            );
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        for expected in [
            r#"detail="two words\nand a line""#,
            r#"key="a=b""#,
            r#"quote="\"""#,
            r#"name="Иванов""#,
            r#"empty="""#,
            " WARN ",
            "refused ",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }
}
