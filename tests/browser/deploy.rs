//! The deployment examples, run for real: the gateway behind Debian's nginx as its TLS front
//! end (`examples/deploy/nginx-root.conf`) and as a location of the clinic's own site under a
//! path prefix, the seed's topology (`examples/deploy/nginx-prefix.conf`), each driven through
//! the booking flow in headless Chromium; and the systemd unit verified by systemd itself.

use crate::harness::{Browser, serve_page};
use registratura_e2e::{
    demo_clinic, gateway_config, loopback, port_of_listener, require_tool, start_gateway,
    start_sandbox,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PATIENT: (&str, &str, &str) = ("4510 123456", "7700000000000001", "17.05.1980");

fn example(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// nginx running one of the examples, on loopback ports, from a folder of its own.
struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        registratura_e2e::stop_with_workers(&mut self.child);
    }
}

impl Nginx {
    /// Runs `site` (an example) on `port` with its upstream, certificate and root made local.
    async fn start(
        site: &str,
        reserved: std::net::TcpListener,
        gateway_port: u16,
        www: &[(&str, String)],
    ) -> Nginx {
        let reserved_80 = loopback();
        let (port, port80) = (port_of_listener(&reserved), port_of_listener(&reserved_80));
        let dir = tempfile::tempdir().expect("a temp dir");
        let d = dir.path();
        // nginx's workers may run as another user: everything they read must be readable.
        set_mode(d, 0o755);
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("a certificate");
        for (name, text) in [
            ("fullchain.pem", cert.cert.pem()),
            ("privkey.pem", cert.signing_key.serialize_pem()),
        ] {
            std::fs::write(d.join(name), text).expect("writable");
            set_mode(&d.join(name), 0o644);
        }
        std::fs::create_dir_all(d.join("www")).expect("writable");
        set_mode(&d.join("www"), 0o755);
        for (name, body) in www {
            std::fs::write(d.join("www").join(name), body).expect("writable");
            set_mode(&d.join("www").join(name), 0o644);
        }
        for t in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(d.join("tmp").join(t)).expect("writable");
            set_mode(&d.join("tmp").join(t), 0o777);
        }
        set_mode(&d.join("tmp"), 0o755);
        let site = site
            .replace("listen [::]:443 ssl http2;", "")
            .replace("listen [::]:80;", "")
            .replace(
                "listen 443 ssl http2;",
                &format!("listen 127.0.0.1:{port} ssl http2;"),
            )
            .replace("listen 80;", &format!("listen 127.0.0.1:{port80};"))
            .replace(
                "server 127.0.0.1:8080;",
                &format!("server 127.0.0.1:{gateway_port};"),
            )
            .replace("/etc/ssl/registratura/", &format!("{}/", d.display()))
            .replace("/etc/ssl/clinic/", &format!("{}/", d.display()))
            .replace(
                "root /var/www/clinic;",
                &format!("root {}/www;", d.display()),
            );
        std::fs::write(d.join("site.conf"), site).expect("writable");
        let t = d.join("tmp");
        let main = format!(
            "worker_processes 1;\npid {pid};\nerror_log {log} warn;\nevents {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n  types {{ text/html html; text/javascript js; }}\n  default_type application/octet-stream;\n\
             client_body_temp_path {t}/body;\n  proxy_temp_path {t}/proxy;\n  fastcgi_temp_path {t}/fastcgi;\n\
             uwsgi_temp_path {t}/uwsgi;\n  scgi_temp_path {t}/scgi;\n  include {site};\n}}\n",
            pid = d.join("nginx.pid").display(),
            log = d.join("error.log").display(),
            t = t.display(),
            site = d.join("site.conf").display(),
        );
        std::fs::write(d.join("nginx.conf"), main).expect("writable");
        drop((reserved, reserved_80));
        let mut child = Command::new("nginx")
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        // nginx writes its pid file once its ports are open; an nginx that could not open
        // them exits, and says why in its log.
        for _ in 0..400 {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(d.join("error.log")).unwrap_or_default();
                panic!("nginx stopped ({status}): {log}");
            }
            if d.join("nginx.pid").exists()
                && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                return Nginx { child, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nginx did not open port {port} in 10 s");
    }
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    let _ = (path, mode);
}

fn port_of(base: &str) -> u16 {
    base.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("a port")
}

fn insecure_client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("a client")
}

/// The clinic's home page, embedding the widget from `src`.
fn host_page(src: &str) -> String {
    format!(
        r#"<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ГП 1</title></head>
<body><h1>Запись к врачу</h1><script src="{src}" data-clinic="demo" async></script>
<script>window.registraturaEvents = [];
document.addEventListener("registratura:booked", function (e) {{ window.registraturaEvents.push({{ type: e.type, detail: e.detail }}); }});</script>
</body></html>"#
    )
}

fn tools() -> bool {
    require_tool("nginx", &["-v"], "runs the deployment examples")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_forwarding_host_under_a_path_prefix_a_patient_books_through_nginx() {
    if !tools() {
        return;
    }
    let Some(browser) = Browser::start_with(&["--ignore-certificate-errors"]).await else {
        return;
    };
    let (_sandbox, sandbox_url) = start_sandbox();
    let nginx = loopback();
    let nginx_port = port_of_listener(&nginx);
    // The gateway as the example's comment configures it.
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    config.server.api_allow = Some(vec!["127.0.0.1".into()]);
    config.server.hsts = Some(true);
    let public = format!("https://127.0.0.1:{nginx_port}/registratura");
    config.server.public_url = Some(public.clone());
    let gateway_port = port_of(&start_gateway(config).await);
    let _nginx = Nginx::start(
        &example("nginx-prefix.conf"),
        nginx,
        gateway_port,
        &[("index.html", host_page("/registratura/widget.js"))],
    )
    .await;
    let origin = format!("https://127.0.0.1:{nginx_port}");

    // The status page, the spec and the docs, under the prefix.
    let client = insecure_client();
    let status = client
        .get(format!("{public}/"))
        .send()
        .await
        .expect("answers through nginx")
        .text()
        .await
        .expect("html");
    assert!(
        status.contains(&format!("{public}/widget.js")),
        "the snippet names the public address: {status}"
    );
    let spec: serde_json::Value = client
        .get(format!("{public}/openapi.json"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("the spec");
    assert_eq!(spec["servers"][0]["url"], public.as_str());

    let d = &browser.driver;
    d.goto(&format!("{origin}/")).await.expect("navigates");
    browser.enter_widget().await;
    browser.wait_css(".rg-choice").await;
    let ticket = browser.book_a_ticket("Кардиология", PATIENT).await;
    assert!(ticket.contains("Кардиология"), "{ticket}");
    d.enter_default_frame().await.expect("the host page");
    let events = browser.host_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    browser.shot("20-behind-nginx-prefix").await;

    d.goto(&format!("{public}/docs/")).await.expect("navigates");
    browser.wait_css(".opblock").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_as_its_tls_front_end_a_patient_books_from_the_clinic_s_site() {
    if !tools() {
        return;
    }
    let Some(browser) = Browser::start_with(&["--ignore-certificate-errors"]).await else {
        return;
    };
    let (_sandbox, sandbox_url) = start_sandbox();
    let nginx = loopback();
    let nginx_port = port_of_listener(&nginx);
    let host = serve_page(host_page(&format!(
        "https://127.0.0.1:{nginx_port}/widget.js"
    )))
    .await;
    let host_origin = host.trim_end_matches('/').to_owned();
    let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    config.server.hsts = Some(true);
    config.server.public_url = Some(format!("https://127.0.0.1:{nginx_port}"));
    config.server.cors_origins = vec![host_origin];
    let gateway_port = port_of(&start_gateway(config).await);
    let _nginx = Nginx::start(&example("nginx-root.conf"), nginx, gateway_port, &[]).await;

    let r = insecure_client()
        .get(format!("https://127.0.0.1:{nginx_port}/healthz"))
        .send()
        .await
        .expect("answers through nginx");
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("strict-transport-security"));
    assert!(
        r.headers().contains_key("x-request-id"),
        "nginx's request id passes"
    );

    let d = &browser.driver;
    d.goto(&host).await.expect("navigates");
    browser.enter_widget().await;
    browser.wait_css(".rg-choice").await;
    let ticket = browser.book_a_ticket("Неврология", PATIENT).await;
    assert!(ticket.contains("Неврология"), "{ticket}");
    d.enter_default_frame().await.expect("the host page");
    assert_eq!(browser.host_events().await.len(), 1);
    browser.shot("21-behind-nginx-root").await;
    browser.quit().await;
}

#[test]
fn the_systemd_unit_is_one_systemd_accepts() {
    if !require_tool(
        "systemd-analyze",
        &["--version"],
        "verifies the systemd unit",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // systemd checks that the program exists: point the unit at a real one.
    let unit = example("registratura.service").replace("/usr/local/bin/registratura", "/bin/true");
    let path = dir.path().join("registratura.service");
    std::fs::write(&path, unit).expect("writable");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("registratura.service:"), "warnings: {text}");
}
