//! Starting the stack and a driven headless Chromium, and the steps a patient takes.

use registratura::config::Config;
use registratura_e2e::{
    FaultProxy, Switch, demo_clinic, gateway_config, require_tool, start_fault_proxy,
    start_gateway, start_sandbox, start_switch,
};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use thirtyfour::prelude::*;

/// The gateway (with the sandbox) and where to open it.
pub struct Stack {
    pub gateway: String,
    pub demo_url: String,
    /// With `Stack::start(Some(()))`: the switch that takes the МИС down.
    pub switch: Option<Switch>,
    /// With `Stack::behind_faults()`: the proxy that loses the МИС's answers.
    pub faults: Option<FaultProxy>,
    /// With `Stack::with_mail()`: the sandbox МИС, to read what it holds.
    pub sandbox: Option<sandbox_mis::Sandbox>,
}

impl Stack {
    /// `None`: the sandbox default as `cargo run` starts it (sandbox, gateway, demo site).
    /// `Some(())`: a gateway whose МИС sits behind a switch that can take it down.
    pub async fn start(with_switch: Option<()>) -> Self {
        match with_switch {
            None => {
                let mut config = Config::sandbox_default();
                config.server.listen = "127.0.0.1:0".into();
                config.server.workers = 2;
                config.sandbox.listen = "127.0.0.1:0".into();
                config.sandbox.database = ":memory:".into();
                config.demo.listen = "127.0.0.1:0".into();
                // The tests' own host pages (`serve_page`) are on loopback ports of their own:
                // the operator's setting that lets them frame the widget.
                config.server.frame_ancestors = Some(vec!["http://127.0.0.1:*".into()]);
                let app = registratura::Application::build(config)
                    .await
                    .expect("the stack starts");
                let gateway = format!("http://{}", app.addr());
                let demo_url = format!("http://{}/", app.demo_addr().expect("the demo site runs"));
                tokio::spawn(app.run_until_stopped());
                Self {
                    gateway,
                    demo_url,
                    switch: None,
                    faults: None,
                    sandbox: None,
                }
            }
            Some(()) => {
                let (_sandbox, sandbox_url) = start_sandbox();
                let switch = start_switch(sandbox_url);
                let mut clinic = demo_clinic(&switch.url);
                clinic.mis.probe_interval_ms = 100;
                let gateway = start_gateway(gateway_config(vec![clinic])).await;
                Self {
                    demo_url: format!("{gateway}/widget/?clinic=demo"),
                    gateway,
                    switch: Some(switch),
                    faults: None,
                    sandbox: None,
                }
            }
        }
    }

    /// A gateway whose МИС takes one call at a time (`max_in_flight = 1`, nobody waits for
    /// the place) and reads a patient's history slowly (600 ms): a request that finds the
    /// place held is told `503 overloaded` at once.
    pub async fn one_at_a_time() -> Self {
        let (_sandbox, sandbox_url) = start_sandbox();
        let (slow, _) = registratura_e2e::start_delaying_proxy(
            sandbox_url,
            "GetPatientHistory",
            Duration::from_millis(600),
        );
        let mut clinic = demo_clinic(&slow);
        clinic.mis.max_in_flight = 1;
        let mut config = gateway_config(vec![clinic]);
        config.server.max_queued = Some(0);
        let gateway = start_gateway(config).await;
        Self {
            demo_url: format!("{gateway}/widget/?clinic=demo"),
            gateway,
            switch: None,
            faults: None,
            sandbox: None,
        }
    }

    /// A gateway for the demo clinic that e-mails tickets through `mail`.
    pub async fn with_mail(mail: registratura::config::MailConfig) -> Self {
        let (sandbox, sandbox_url) = start_sandbox();
        let mut config = gateway_config(vec![demo_clinic(&sandbox_url)]);
        config.mail = Some(mail);
        let gateway = start_gateway(config).await;
        Self {
            demo_url: format!("{gateway}/widget/?clinic=demo"),
            gateway,
            switch: None,
            faults: None,
            sandbox: Some(sandbox),
        }
    }

    /// A gateway whose МИС sits behind a proxy that can lose its answers.
    pub async fn behind_faults() -> Self {
        let (_sandbox, sandbox_url) = start_sandbox();
        let proxy = start_fault_proxy(sandbox_url).await;
        let mut clinic = demo_clinic(&proxy.url);
        clinic.mis.attempt_timeout_ms = 800;
        clinic.mis.deadline_ms = 1_600;
        clinic.mis.breaker_threshold = 100;
        let gateway = start_gateway(gateway_config(vec![clinic])).await;
        Self {
            demo_url: format!("{gateway}/widget/?clinic=demo"),
            gateway,
            switch: None,
            faults: Some(proxy),
            sandbox: None,
        }
    }
}

/// chromedriver and the session it drives.
pub struct Browser {
    pub driver: WebDriver,
    chromedriver: Child,
    _profile: tempfile::TempDir,
    axe: Option<String>,
}

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts")
}

fn axe_source() -> Option<String> {
    let path = std::env::var_os("REGISTRATURA_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            assert!(
                !registratura_e2e::in_ci(),
                "axe-core is required when REGISTRATURA_CI=1 ({})",
                path.display()
            );
            eprintln!(
                "SKIPPED the accessibility checks: no axe-core at {} (npm install --prefix tests axe-core)",
                path.display()
            );
            None
        }
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `None` (the test is skipped) where they
    /// are missing, unless in CI.
    pub async fn start() -> Option<Self> {
        Self::start_with(&[]).await
    }

    /// As [`Browser::start`], with more Chromium arguments.
    pub async fn start_with(extra: &[&str]) -> Option<Self> {
        if !require_tool(
            "chromium",
            &["--version"],
            "runs the widget in a real browser",
        ) || !require_tool("chromedriver", &["--version"], "drives Chromium")
        {
            return None;
        }
        let reserved = registratura_e2e::loopback();
        let port = registratura_e2e::port_of_listener(&reserved);
        drop(reserved);
        let mut chromedriver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(Some(status)) = chromedriver.try_wait() {
                panic!("chromedriver stopped ({status}) before it answered on port {port}");
            }
            if reqwest::get(format!("{url}/status"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("a profile dir");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary("/usr/bin/chromium").expect("a capability");
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ] {
            caps.add_arg(arg).expect("a capability");
        }
        for arg in extra {
            caps.add_arg(arg).expect("a capability");
        }
        let driver = WebDriver::new(&url, caps).await.expect("a browser session");
        std::fs::create_dir_all(artifacts()).expect("an artifacts dir");
        Some(Self {
            driver,
            chromedriver,
            _profile: profile,
            axe: axe_source(),
        })
    }

    pub async fn quit(mut self) {
        let _ = self.driver.clone().quit().await;
        let _ = self.chromedriver.kill();
    }

    pub async fn enter_widget(&self) {
        let frame = self
            .driver
            .query(By::Css("iframe"))
            .wait(Duration::from_secs(10), Duration::from_millis(20))
            .first()
            .await
            .expect("the widget's iframe");
        frame.enter_frame().await.expect("enters the iframe");
    }

    pub async fn wait_css(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(Duration::from_secs(15), Duration::from_millis(20))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    /// Waits for the first element matching `css` and clicks it.
    pub async fn click_css(&self, css: &str) {
        self.wait_css(css).await.click().await.expect("clicks");
    }

    pub async fn wait_xpath(&self, xpath: &str) -> WebElement {
        self.driver
            .query(By::XPath(xpath))
            .wait(Duration::from_secs(15), Duration::from_millis(20))
            .and_displayed()
            .first()
            .await
            .unwrap_or_else(|e| panic!("no {xpath}: {e}"))
    }

    pub async fn click_text(&self, tag: &str, text: &str) {
        let el = self
            .wait_xpath(&format!("//{tag}[contains(normalize-space(.), '{text}')]"))
            .await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {text}: {e}"));
    }

    pub async fn wait_heading(&self, text: &str) {
        let h = self
            .wait_xpath(&format!("//h2[contains(., '{text}')]"))
            .await;
        // Focus moves to the new step's heading.
        let active = self
            .driver
            .active_element()
            .await
            .expect("an active element");
        assert_eq!(
            active.id().await.ok().flatten().as_deref(),
            h.id().await.ok().flatten().as_deref(),
            "focus is on «{text}»"
        );
    }

    /// From the first step to the confirmation: `specialty`, its first doctor, the first
    /// free day and time, `patient` identified.
    pub async fn to_confirmation(&self, specialty: &str, patient: (&str, &str, &str)) {
        self.click_text("button", specialty).await;
        self.wait_heading("Выберите врача").await;
        self.click_css(".rg-choice").await;
        self.click_css(".rg-day.rg-free").await;
        self.wait_heading("Выберите время приёма").await;
        self.click_css(".rg-time").await;
        self.identify(patient).await;
        self.wait_heading("Проверьте и подтвердите запись").await;
    }

    pub async fn wait_text(&self, text: &str) {
        self.wait_xpath(&format!("//*[contains(text(), '{text}')]"))
            .await;
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.wait_css(css).await;
        input.send_keys(Key::Control + "a").await.expect("types");
        input.send_keys(Key::Backspace).await.expect("types");
        input.send_keys(value).await.expect("types");
    }

    pub async fn identify(&self, p: (&str, &str, &str)) {
        self.fill("#rg-document", p.0).await;
        self.fill("#rg-policy", p.1).await;
        self.fill("#rg-birth", p.2).await;
        self.click_text("button", "Войти").await;
    }

    /// From the widget's first step: books the first free time of the first doctor of
    /// `specialty` for `patient`; the ticket's text.
    pub async fn book_a_ticket(&self, specialty: &str, patient: (&str, &str, &str)) -> String {
        self.click_text("button", specialty).await;
        self.wait_heading("Выберите врача").await;
        self.click_css(".rg-choice").await;
        self.wait_heading("Выберите дату приёма").await;
        self.click_css(".rg-day.rg-free").await;
        self.wait_heading("Выберите время приёма").await;
        self.click_css(".rg-time").await;
        self.wait_heading("Войдите, чтобы записаться").await;
        self.identify(patient).await;
        self.wait_heading("Проверьте и подтвердите запись").await;
        self.click_text("button", "Подтвердить").await;
        self.wait_heading("Вы записаны на приём").await;
        self.wait_css(".rg-ticket")
            .await
            .text()
            .await
            .expect("text")
    }

    /// Loads `url` under a phone's network as Lighthouse's mobile preset has it (150 ms round
    /// trip, 1.6 Mbit/s down, 750 kbit/s up; Chrome's network emulation), `cold` with the
    /// browser's cache emptied first. Answers the time from the navigation to the first step's
    /// choices (written into the page by the gateway) and to the widget running (its
    /// WebAssembly started and rendered). The emulation is lifted afterwards.
    pub async fn load_on_a_phone_network(&self, url: &str, cold: bool) -> (Duration, Duration) {
        use thirtyfour::extensions::cdp::ChromeDevTools;
        let dev = ChromeDevTools::new(self.driver.handle.clone());
        dev.execute_cdp("Network.enable").await.expect("CDP");
        if cold {
            dev.execute_cdp("Network.clearBrowserCache")
                .await
                .expect("CDP");
        }
        dev.execute_cdp_with_params(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": false,
                "latency": 150,
                "downloadThroughput": 1_638_400 / 8,
                "uploadThroughput": 768_000 / 8,
            }),
        )
        .await
        .expect("CDP");
        self.driver.goto(url).await.expect("navigates");
        let host_origin = self
            .driver
            .execute("return performance.timeOrigin;", Vec::new())
            .await
            .expect("runs")
            .json()
            .as_f64()
            .expect("a number");
        self.enter_widget().await;
        self.wait_css(".rg[data-ready] .rg-choice").await;
        // The page's own clocks: the frame's first paint (the first step the gateway wrote)
        // and the widget's mark, from the host page's navigation.
        let frame = self
            .driver
            .execute(
                "var fcp = performance.getEntriesByName('first-contentful-paint')[0];\
                 var ready = performance.getEntriesByName('registratura:ready')[0];\
                 return [performance.timeOrigin, fcp ? fcp.startTime : -1, ready ? ready.startTime : -1];",
                Vec::new(),
            )
            .await
            .expect("runs");
        let times: Vec<f64> = serde_json::from_value(frame.json().clone()).expect("three numbers");
        let offset = times[0] - host_origin;
        assert!(
            times[1] >= 0.0 && times[2] >= 0.0,
            "the frame painted and the widget marked: {times:?}"
        );
        let ms = |t: f64| Duration::from_micros(((offset + t) * 1000.0) as u64);
        let (shown, live) = (ms(times[1]), ms(times[2]));
        self.driver
            .enter_default_frame()
            .await
            .expect("back to the page");
        dev.execute_cdp_with_params(
            "Network.emulateNetworkConditions",
            serde_json::json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await
        .expect("CDP");
        (shown, live)
    }

    pub async fn shot(&self, name: &str) {
        let path = artifacts().join(format!("{name}.png"));
        self.driver.screenshot(&path).await.expect("a screenshot");
    }

    /// Runs axe-core in the current frame; fails on serious or critical violations.
    pub async fn axe(&self, step: &str) {
        let Some(axe) = &self.axe else { return };
        let script = format!(
            "{axe}\nvar done = arguments[arguments.length - 1];\
             axe.run(document, {{ resultTypes: ['violations'] }}).then(function (r) {{\
               done(JSON.stringify(r.violations.map(function (v) {{\
                 return {{ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {{ return n.target.join(' '); }}) }};\
               }})));\
             }}).catch(function (e) {{ done('error: ' + e); }});"
        );
        let result = self
            .driver
            .execute_async(&script, Vec::new())
            .await
            .expect("axe runs");
        let text = result.json().as_str().unwrap_or_default().to_owned();
        let violations: Vec<serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("axe failed on {step}: {text}"));
        let bad: Vec<&serde_json::Value> = violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            bad.is_empty(),
            "accessibility violations on {step}: {bad:#?}"
        );
        if !violations.is_empty() {
            eprintln!("axe on {step}: minor findings {violations:?}");
        }
    }

    pub async fn host_events(&self) -> Vec<serde_json::Value> {
        let r = self
            .driver
            .execute(
                "return JSON.stringify(window.registraturaEvents || []);",
                Vec::new(),
            )
            .await
            .expect("runs");
        serde_json::from_str(r.json().as_str().unwrap_or("[]")).expect("events")
    }

    /// What the current frame keeps in storage and cookies, and its URL, as JSON text.
    pub async fn kept(&self) -> String {
        let r = self
            .driver
            .execute(
                "var s = []; for (var i = 0; i < localStorage.length; i++) { var k = localStorage.key(i); s.push(k + '=' + localStorage.getItem(k)); }\
                 for (var j = 0; j < sessionStorage.length; j++) { var k2 = sessionStorage.key(j); s.push(k2 + '=' + sessionStorage.getItem(k2)); }\
                 return JSON.stringify({ storage: s, cookie: document.cookie, url: location.href });",
                Vec::new(),
            )
            .await
            .expect("runs");
        r.json().as_str().unwrap_or_default().to_owned()
    }

    /// No personal data in the widget's storage, cookies or URL.
    pub async fn check_storage_is_clean(&self, stack: &Stack) {
        self.driver.goto(&stack.demo_url).await.expect("navigates");
        self.enter_widget().await;
        self.wait_css(".rg-choice").await;
        let text = self.kept().await;
        for secret in [
            "4510",
            "123456",
            "7700000000000001",
            "1980",
            "916",
            "123-45-67",
            "1234567",
            "9161234567",
            "79161234567",
            "89161234567",
        ] {
            // As a number of its own: the URL's port may hold "916" by chance.
            assert!(
                !registratura_e2e::contains_number(&text, secret),
                "{secret} is in the widget's storage, cookies or URL: {text}"
            );
        }
    }
}

/// Serves `html` at `/` of a fresh loopback origin (a host page of the test's own).
pub async fn serve_page(html: String) -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback");
    let url = format!("http://{}/", listener.local_addr().expect("bound"));
    let server = HttpServer::new(move || {
        let html = html.clone();
        App::new().default_service(web::to(move || {
            let html = html.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(html)
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listens")
    .run();
    tokio::spawn(server);
    url
}
