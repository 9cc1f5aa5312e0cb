//! The real `triage` binary as a child process, for the crash tests: started on a database and a
//! port with its test clock reading a given time from its first moment on, killed with SIGKILL,
//! its workers' progress read from `/metrics` (polled, never waited for by the clock).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use serde_json::json;

use super::app::metrics_text;

/// A free loopback port (for a server that must come back on the same one).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Polls `ok` every 5 ms until it holds; fails after `secs` seconds.
pub async fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One run of the binary.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// The binary on `dir`'s database at `port`, its test clock reading `at` from its first
    /// moment on, configured by `env` (the channels' settings) beside the database, the address,
    /// JSON logs and `RUST_LOG=warn`. Its output goes to `dir/server-<run>.log`.
    pub fn start(
        dir: &Path,
        port: u16,
        run: usize,
        at: DateTime<FixedOffset>,
        env: &[(&str, String)],
    ) -> Server {
        let log = dir.join(format!("server-{run}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_triage"));
        cmd.args(["serve", "--test-clock", &at.to_rfc3339()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env(
                "TRIAGE_DATABASE_URL",
                format!("sqlite:{}", dir.join("triage.db").display()),
            )
            .env("TRIAGE_LISTEN", format!("127.0.0.1:{port}"))
            .env("TRIAGE_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (name, value) in env {
            cmd.env(name, value);
        }
        Server {
            child: cmd.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Waits until `/readyz` answers 2xx; fails if the server exits or takes over 20 s.
    pub async fn ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited with {status}:\n{}", self.log_text());
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the server wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no graceful shutdown, nothing flushed that was not committed.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sets the test clock.
    pub async fn set_clock(&self, http: &reqwest::Client, at: DateTime<FixedOffset>) {
        let r = http
            .post(format!("{}/admin/clock", self.base))
            .json(&json!({ "at": at.to_rfc3339() }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }

    /// One unlabelled value of `/metrics`.
    pub async fn metric(&self, http: &reqwest::Client, name: &str) -> f64 {
        let text = metrics_text(http, &self.base).await;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics"))
    }

    /// Waits until the workers have done all there is to do now: a processing round that began
    /// after this call, then a sending round that began after that one ended (a sending round
    /// ends only when no send is under way).
    pub async fn rounds(&self, http: &reqwest::Client) {
        for (name, what) in [
            ("triage_processor_rounds_total", "a processing round"),
            ("triage_sender_rounds_total", "a sending round"),
        ] {
            let start = self.metric(http, name).await;
            let deadline = Instant::now() + Duration::from_secs(20);
            while self.metric(http, name).await < start + 2.0 {
                assert!(Instant::now() < deadline, "no {what}:\n{}", self.log_text());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Waits until every stored message is decided and no outbox row is pending or sending.
    pub async fn drained(&self, http: &reqwest::Client, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            let inbound = self.metric(http, "triage_inbound_pending").await;
            let outbox = self.metric(http, "triage_outbox_pending").await;
            if inbound == 0.0 && outbox == 0.0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not drained (inbound {inbound}, outbox {outbox}):\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A failing assertion must not leave the server running (it would hold the port).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
