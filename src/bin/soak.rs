//! `triage-soak`: the release service under a steady load for a long time, with the Graph API
//! failing some sends and the service killed with SIGKILL a few times; then it checks that
//! nothing inbound was lost, no reply was sent twice, every reply went out and memory stayed flat.
//!
//! This process plays both sides the service talks to, so it survives the service's kills:
//! - WhatsApp's webhooks: signed text webhooks at a steady rate from many residents (the load
//!   tools' text mix: FAQ, handover, personal data), each retried until it gets its 200 (as Meta
//!   retries for days), and a share of the acknowledged ones delivered again later (as Meta does).
//! - The Graph API: [`StandIn`] with a realistic latency and a slow tail, its status callback
//!   pointed at the service, and a fault schedule (5xx, timeouts, 130429, 131056, dropped
//!   connections, an outage in which every send fails).
//!
//! The service (`triage serve`, production settings, a SQLite file) is a child process, killed
//! with SIGKILL at set times and restarted on the same database after a few seconds. Every
//! minute a line of figures goes to `soak.csv` (and stdout); RSS is sampled every 5 s to
//! `rss.csv`. At the end the faults stop, everything drains, and the verdict is written to
//! `summary.json`; the exit code is 1 when an invariant failed. See `docs/soak.md`.
//!
//! ```text
//! benches/soak.sh --minutes 60
//! triage-soak --minutes 5 --kills 1 --outage-secs 30 --out /tmp/soak
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::Parser;
use serde_json::json;
use triage::channels::whatsapp::standin::{
    Conditions, Fault, RecordedKind, StandIn, StatusCallback,
};
use triage::load::text_for;

const SECRET: &str = "soak-app-secret-not-for-production-use";
const TOKEN: &str = "soak-access-token";
const PHONE: &str = "soak-phone";

/// Runs the service under load and faults for a while, then checks what it did.
#[derive(Debug, Parser)]
#[command(name = "triage-soak", version)]
struct Args {
    /// How long the load (and the faults) last, in minutes.
    #[arg(long, default_value_t = 60.0)]
    minutes: f64,
    /// Webhooks per second.
    #[arg(long, default_value_t = 30.0)]
    rate: f64,
    /// Distinct residents the messages come from.
    #[arg(long, default_value_t = 2000)]
    residents: u64,
    /// SIGKILLs, every minutes / (kills + 2) (default: one per 15 minutes, at least one).
    #[arg(long)]
    kills: Option<u32>,
    /// Seconds the service stays down after a kill before it is restarted.
    #[arg(long, default_value_t = 3)]
    down_secs: u64,
    /// Length of the outage (every send fails: 503s, then dropped connections), halfway between
    /// the first two kills.
    #[arg(long, default_value_t = 60)]
    outage_secs: u64,
    /// Share of sends (0 to 1) given a fault outside the outage, after the warm-up.
    #[arg(long, default_value_t = 0.05)]
    fault_share: f64,
    /// Share of acknowledged webhooks delivered a second time 15 s later.
    #[arg(long, default_value_t = 0.03)]
    duplicate_share: f64,
    /// The stand-in's median answer time, in milliseconds.
    #[arg(long, default_value_t = 150)]
    latency_ms: u64,
    /// The share of sends in the stand-in's slow tail.
    #[arg(long, default_value_t = 0.01)]
    slow_share: f64,
    /// How long a slow send takes, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    slow_ms: u64,
    /// The stand-in sends no status webhooks: a send whose answer was lost (a kill, a timeout)
    /// is then sent again after the send grace. Only to see that the verdict catches it.
    #[arg(long)]
    without_status_callbacks: bool,
    /// The service's port on 127.0.0.1.
    #[arg(long, default_value_t = 18090)]
    port: u16,
    /// The stand-in's port on 127.0.0.1.
    #[arg(long, default_value_t = 18091)]
    standin_port: u16,
    /// Seconds between the lines of figures.
    #[arg(long, default_value_t = 60)]
    every: u64,
    /// Give up draining after this many seconds once the load ended.
    #[arg(long, default_value_t = 900)]
    drain_timeout: u64,
    /// The `triage` binary (default: next to this one).
    #[arg(long)]
    triage: Option<PathBuf>,
    /// A new or empty directory for the database, the service's logs and the figures.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("triage-soak: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("triage-soak: {e}");
            ExitCode::from(2)
        }
    }
}

/// The service as a child process: started, killed and restarted on the same database.
struct Service {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    standin_port: u16,
    child: Option<Child>,
    /// The running process's id, 0 while it is down (read by the RSS sampler).
    pid: Arc<AtomicU32>,
    /// Lives started so far; the current one's number.
    life: Arc<AtomicU32>,
}

impl Service {
    fn start(&mut self) -> Result<(), String> {
        let life = self.life.fetch_add(1, Ordering::SeqCst) + 1;
        let log = self.dir.join(format!("serve-{life}.log"));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&self.binary)
            .arg("serve")
            .env("TRIAGE_PRODUCTION", "1")
            .env(
                "TRIAGE_DATABASE_URL",
                format!("sqlite:{}", self.dir.join("triage.db").display()),
            )
            .env("TRIAGE_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("WHATSAPP_APP_SECRET", SECRET)
            .env("WHATSAPP_VERIFY_TOKEN", "soak-verify-token")
            .env("WHATSAPP_ACCESS_TOKEN", TOKEN)
            .env(
                "WHATSAPP_API_BASE",
                format!("http://127.0.0.1:{}", self.standin_port),
            )
            .env("WHATSAPP_PHONE_NUMBER_ID", PHONE)
            .env("TRIAGE_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        self.pid.store(child.id(), Ordering::SeqCst);
        self.child = Some(child);
        Ok(())
    }

    async fn ready(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{}/readyz", self.port))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "the service exited with {status}; see {}/serve-{}.log",
                        self.dir.display(),
                        self.life.load(Ordering::SeqCst)
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err("the service did not get ready within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: nothing flushed that was not committed.
    fn kill(&mut self) {
        self.pid.store(0, Ordering::SeqCst);
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and SIGKILL if it has not stopped within 20 s.
    async fn stop(&mut self) -> Option<Duration> {
        let mut child = self.child.take()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = child.try_wait() {
                self.pid.store(0, Ordering::SeqCst);
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        self.pid.store(0, Ordering::SeqCst);
        None
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the webhook side did.
#[derive(Default)]
struct Posting {
    /// Messages whose first post began.
    posted: AtomicU64,
    /// Messages acknowledged with a 200 (each counted once).
    acked: AtomicU64,
    /// Posts that got no 200 (the service down, or refusing) and were tried again.
    retries: AtomicU64,
    /// Second deliveries of acknowledged messages, and how many of them got their 200.
    duplicates: AtomicU64,
    duplicates_acked: AtomicU64,
    /// Post tasks still running (a message or a duplicate not yet acknowledged).
    open: AtomicU64,
    /// Non-200 answers other than while the service was down (5xx, 4xx from a running service).
    refused: AtomicU64,
}

/// The stand-in's record of every message send, kept here because it keeps only the newest
/// 10,000: for each outbox row (`biz_opaque_callback_data`), when it was accepted, each time.
#[derive(Default)]
struct Sends {
    last_seq: u64,
    per_row: HashMap<String, Vec<DateTime<Utc>>>,
    messages: u64,
    /// Records that were forgotten before this process read them (then the verdict is unsure).
    missed: u64,
}

fn collect(standin: &StandIn, sends: &Mutex<Sends>) {
    let mut s = sends.lock().unwrap_or_else(PoisonError::into_inner);
    let new = standin.sent_since(s.last_seq, None);
    if let Some(first) = new.first() {
        if first.seq > s.last_seq + 1 {
            s.missed += first.seq - s.last_seq - 1;
        }
    }
    for r in new {
        s.last_seq = r.seq;
        if r.kind != RecordedKind::Message {
            continue;
        }
        s.messages += 1;
        let key = r.body["biz_opaque_callback_data"]
            .as_str()
            .unwrap_or("(none)")
            .to_string();
        s.per_row.entry(key).or_default().push(r.at);
    }
}

/// The faults, in turn, outside the outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Http500,
    Http503,
    Timeout,
    Throughput130429,
    Pair131056,
    Dropped,
}

const ROTATION: &[Kind] = &[
    Kind::Http500,
    Kind::Throughput130429,
    Kind::Timeout,
    Kind::Http503,
    Kind::Pair131056,
    Kind::Throughput130429,
    Kind::Dropped,
    Kind::Http500,
];

fn fault(kind: Kind) -> Fault {
    match kind {
        Kind::Http500 => Fault::error(1).with_status(500),
        Kind::Http503 => Fault::error(2).with_status(503),
        // Beyond the service's 10 s client timeout; the stand-in still accepts it.
        Kind::Timeout => Fault::delay(12_000),
        Kind::Throughput130429 => Fault::error(130429),
        Kind::Pair131056 => Fault::error(131056),
        Kind::Dropped => Fault::drop_connection(),
    }
}

/// Faults given so far, to tell applied ones from those cleared unused.
#[derive(Default)]
struct FaultBook {
    injected: u64,
    discarded: u64,
    per_kind: BTreeMap<String, u64>,
    /// The outage's fault (one of a million sends), whose unused rest a clear takes back.
    bulk: Option<String>,
}

impl FaultBook {
    fn inject(&mut self, standin: &StandIn, f: Fault, what: &str) {
        let n = u64::from(f.count);
        if standin.inject(f).is_ok() {
            self.injected += n;
            *self.per_kind.entry(what.to_string()).or_default() += n;
        }
    }
    fn inject_bulk(&mut self, standin: &StandIn, f: Fault, what: &str) {
        self.inject(standin, f, what);
        self.bulk = Some(what.to_string());
    }
    fn clear(&mut self, standin: &StandIn) {
        let pending = standin.pending_faults();
        self.discarded += pending;
        standin.clear_faults();
        if let Some(what) = self.bulk.take() {
            if let Some(n) = self.per_kind.get_mut(&what) {
                *n = n.saturating_sub(pending);
            }
        }
    }
    fn applied(&self, standin: &StandIn) -> u64 {
        self.injected - self.discarded - standin.pending_faults()
    }
}

/// The plan of the run, in seconds from its start.
struct Plan {
    load: f64,
    warm_up: f64,
    outage: (f64, f64),
    kills: Vec<f64>,
}

impl Plan {
    fn new(args: &Args) -> Plan {
        let load = args.minutes * 60.0;
        let kills = args
            .kills
            .unwrap_or(((args.minutes / 15.0).round() as u32).max(1));
        // Kills every load / (kills + 2): the last life is twice as long as the others, long
        // enough for SQLite's page cache to fill before memory is judged on it.
        let spacing = load / f64::from(kills + 2);
        let kills: Vec<f64> = (1..=kills)
            .map(|k| (f64::from(k) * spacing).round())
            .collect();
        // The outage halfway between the first two kills (or the first kill and the end).
        let outage_start = ((kills[0] + kills.get(1).copied().unwrap_or(load)) / 2.0
            - args.outage_secs as f64 / 2.0)
            .round();
        Plan {
            load,
            warm_up: (load * 0.1).min(120.0),
            outage: (outage_start, outage_start + args.outage_secs as f64),
            kills,
        }
    }

    fn phase(&self, t: f64) -> &'static str {
        if t >= self.load {
            "drain"
        } else if t >= self.outage.0 && t < self.outage.1 {
            "outage"
        } else if t < self.warm_up {
            "warm-up"
        } else {
            "faults"
        }
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn db_bytes(dir: &Path) -> u64 {
    ["triage.db", "triage.db-wal", "triage.db-shm"]
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
        .sum()
}

fn open_db(dir: &Path) -> Result<rusqlite::Connection, String> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("triage.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| format!("cannot open the database: {e}"))?;
    db.busy_timeout(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    Ok(db)
}

fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
}

/// The backlog as the database has it: undecided inbound messages, unsent and failed replies.
fn backlog(dir: &Path) -> (i64, i64, i64) {
    match open_db(dir) {
        Ok(db) => (
            count(&db, "SELECT COUNT(*) FROM messages WHERE processed = 0"),
            count(
                &db,
                "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')",
            ),
            count(&db, "SELECT COUNT(*) FROM outbox WHERE status = 'failed'"),
        ),
        Err(_) => (-1, -1, -1),
    }
}

fn message_id(tag: &str, i: u64) -> String {
    format!("wamid.SOAK{tag}x{i}")
}

fn resident(i: u64, residents: u64) -> String {
    // Spread over the residents in a scrambled order, so one resident's messages are apart.
    format!("3168{:07}", i.wrapping_mul(7919) % residents)
}

fn is_duplicate(i: u64, share: f64) -> bool {
    share > 0.0 && (i as f64 * share).floor() != ((i + 1) as f64 * share).floor()
}

/// Posts one webhook until it gets its 200 (or the run gives up); true when it did.
async fn deliver(
    http: &reqwest::Client,
    url: &str,
    body: &[u8],
    posting: &Posting,
    service_up: &AtomicBool,
    give_up: &AtomicBool,
) -> bool {
    let signature = triage::channels::whatsapp::sign(SECRET.as_bytes(), body);
    let mut wait = Duration::from_millis(250);
    loop {
        let answer = http
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &signature)
            .body(body.to_vec())
            .send()
            .await;
        match answer {
            Ok(r) if r.status().as_u16() == 200 => {
                let _ = r.bytes().await;
                return true;
            }
            Ok(r) => {
                if service_up.load(Ordering::SeqCst) {
                    posting.refused.fetch_add(1, Ordering::Relaxed);
                    eprintln!("webhook answered {}", r.status());
                }
            }
            Err(_) => {}
        }
        posting.retries.fetch_add(1, Ordering::Relaxed);
        if give_up.load(Ordering::SeqCst) {
            return false;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(4));
    }
}

/// Growth above this over the last life's second half counts as a leak (15 MB an hour).
const MAX_SLOPE_MB_PER_MIN: f64 = 0.25;

/// The least-squares slope of (seconds, kB) samples, in MB per minute.
fn slope_mb_per_min(samples: &[(f64, u64)]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mt = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let mk = samples.iter().map(|s| s.1 as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (t, kb) in samples {
        num += (t - mt) * (*kb as f64 - mk);
        den += (t - mt) * (t - mt);
    }
    if den == 0.0 {
        0.0
    } else {
        num / den * 60.0 / 1024.0
    }
}

fn median(v: &mut [u64]) -> f64 {
    v.sort_unstable();
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2] as f64
}

async fn run(args: Args) -> Result<bool, String> {
    if !(args.rate > 0.0 && args.rate <= 2000.0) {
        return Err("--rate must be above 0 and at most 2,000".into());
    }
    if !(args.minutes > 0.0 && args.minutes <= 24.0 * 60.0) {
        return Err("--minutes must be above 0 and at most a day".into());
    }
    if !(0.0..=1.0).contains(&args.fault_share) || !(0.0..=1.0).contains(&args.duplicate_share) {
        return Err("--fault-share and --duplicate-share are between 0 and 1".into());
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    if args.out.join("triage.db").exists() {
        return Err(format!(
            "{} already holds a database: give a new directory",
            args.out.display()
        ));
    }
    let binary = match &args.triage {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("triage"),
    };
    let plan = Plan::new(&args);
    let dir = args.out.clone();
    let tag = format!("{}", Utc::now().timestamp());

    // The Graph API stand-in, in this process: it outlives every kill of the service.
    let standin = StandIn::requiring_token(TOKEN);
    standin
        .set_conditions(Conditions {
            latency_ms: args.latency_ms,
            slow_share: args.slow_share,
            slow_ms: args.slow_ms,
            close_connections: false,
        })
        .map_err(|e| e.to_string())?;
    if !args.without_status_callbacks {
        standin.set_status_callback(Some(StatusCallback::new(
            format!("http://127.0.0.1:{}/webhook", args.port),
            SECRET,
        )));
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.standin_port))
        .await
        .map_err(|e| format!("the stand-in cannot listen on {}: {e}", args.standin_port))?;
    let (stop_standin, standin_stopped) = tokio::sync::oneshot::channel::<()>();
    {
        let standin = standin.clone();
        tokio::spawn(async move {
            let _ = standin
                .serve(listener, async move {
                    let _ = standin_stopped.await;
                })
                .await;
        });
    }

    let mut service = Service {
        binary,
        dir: dir.clone(),
        port: args.port,
        standin_port: args.standin_port,
        child: None,
        pid: Arc::new(AtomicU32::new(0)),
        life: Arc::new(AtomicU32::new(0)),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| e.to_string())?;
    service.start()?;
    service.ready(&http).await?;
    let service_up = Arc::new(AtomicBool::new(true));

    println!(
        "soak: {} min at {} webhooks/s from {} residents; kills at {:?} s; outage {:.0}–{:.0} s; \
         faults on {:.0} % of sends after {:.0} s; out: {}",
        args.minutes,
        args.rate,
        args.residents,
        plan.kills,
        plan.outage.0,
        plan.outage.1,
        args.fault_share * 100.0,
        plan.warm_up,
        dir.display()
    );

    let started = Instant::now();
    let elapsed = move || started.elapsed().as_secs_f64();
    let posting = Arc::new(Posting::default());
    let give_up = Arc::new(AtomicBool::new(false));
    let capacity = (args.rate * plan.load).ceil() as usize + 16;
    let acked: Arc<Vec<AtomicBool>> =
        Arc::new((0..capacity).map(|_| AtomicBool::new(false)).collect());
    let url = format!("http://127.0.0.1:{}/webhook", args.port);

    // The webhooks: message i is due at i / rate seconds.
    let generator = {
        let (posting, give_up, acked, http, url, tag, service_up) = (
            posting.clone(),
            give_up.clone(),
            acked.clone(),
            http.clone(),
            url.clone(),
            tag.clone(),
            service_up.clone(),
        );
        let (rate, residents, dup_share, load) = (
            args.rate,
            args.residents.max(1),
            args.duplicate_share,
            plan.load,
        );
        tokio::spawn(async move {
            let mut i: u64 = 0;
            loop {
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                if started.elapsed().as_secs_f64() >= load || i as usize >= acked.len() {
                    break;
                }
                let body = Arc::new(triage::load::webhook(
                    PHONE,
                    &message_id(&tag, i),
                    &resident(i, residents),
                    text_for(i),
                ));
                posting.posted.fetch_add(1, Ordering::Relaxed);
                posting.open.fetch_add(1, Ordering::SeqCst);
                let (posting, give_up, acked, http, url, service_up) = (
                    posting.clone(),
                    give_up.clone(),
                    acked.clone(),
                    http.clone(),
                    url.clone(),
                    service_up.clone(),
                );
                tokio::spawn(async move {
                    if deliver(&http, &url, &body, &posting, &service_up, &give_up).await {
                        acked[i as usize].store(true, Ordering::SeqCst);
                        posting.acked.fetch_add(1, Ordering::Relaxed);
                        if is_duplicate(i, dup_share) {
                            // Meta delivers some webhooks twice: the same body, a while later.
                            tokio::time::sleep(Duration::from_secs(15)).await;
                            posting.duplicates.fetch_add(1, Ordering::Relaxed);
                            if deliver(&http, &url, &body, &posting, &service_up, &give_up).await {
                                posting.duplicates_acked.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    posting.open.fetch_sub(1, Ordering::SeqCst);
                });
                i += 1;
            }
        })
    };

    // The stand-in's records, read before it forgets them.
    let sends = Arc::new(Mutex::new(Sends::default()));
    let collector = {
        let (standin, sends) = (standin.clone(), sends.clone());
        tokio::spawn(async move {
            loop {
                collect(&standin, &sends);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    // RSS every 5 s: (seconds, life, kB).
    let rss: Arc<Mutex<Vec<(f64, u32, u64)>>> = Arc::default();
    let sampler = {
        let (rss, pid, life) = (rss.clone(), service.pid.clone(), service.life.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if let Some(kb) = rss_kb(pid.load(Ordering::SeqCst)) {
                    rss.lock().unwrap_or_else(PoisonError::into_inner).push((
                        started.elapsed().as_secs_f64(),
                        life.load(Ordering::SeqCst),
                        kb,
                    ));
                }
            }
        })
    };

    let mut csv = String::from(
        "minute,elapsed_s,phase,posted,acked,webhook_retries,duplicates_posted,replies_sent,\
         faults_applied,inbound_pending,outbox_backlog,outbox_failed,rss_mb,restarts,db_mb\n",
    );
    let mut book = FaultBook::default();
    let mut kills: Vec<(f64, DateTime<Utc>)> = Vec::new();
    let mut next_kill = 0;
    let mut next_line = args.every as f64;
    let mut fault_credit = 0.0;
    let mut turn = 0usize;
    let mut outage_part = 0u8;
    let mut faults_stopped = false;
    let mut drained_at: Option<f64> = None;
    let mut restarts = 0u32;
    let pid = service.pid.clone();
    let line = |t: f64, restarts: u32, book: &FaultBook, csv: &mut String| {
        let (inbound, outbox, failed) = backlog(&dir);
        let rss_mb = rss_kb(pid.load(Ordering::SeqCst))
            .map_or(String::new(), |kb| format!("{:.1}", kb as f64 / 1024.0));
        let replies = sends
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .messages;
        let row = format!(
            "{:.0},{:.0},{},{},{},{},{},{},{},{},{},{},{},{},{:.1}",
            (t / 60.0).round(),
            t,
            plan.phase(t),
            posting.posted.load(Ordering::Relaxed),
            posting.acked.load(Ordering::Relaxed),
            posting.retries.load(Ordering::Relaxed),
            posting.duplicates.load(Ordering::Relaxed),
            replies,
            book.applied(&standin),
            inbound,
            outbox,
            failed,
            rss_mb,
            restarts,
            db_bytes(&dir) as f64 / 1_048_576.0,
        );
        println!("{row}");
        csv.push_str(&row);
        csv.push('\n');
        let _ = std::fs::write(dir.join("soak.csv"), csv.as_bytes());
    };
    println!("{}", csv.trim_end());

    let drain_deadline = plan.load + args.drain_timeout as f64;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t = elapsed();

        // The fault schedule.
        if t >= plan.load {
            if !faults_stopped {
                book.clear(&standin);
                faults_stopped = true;
            }
        } else if t >= plan.outage.0 && t < plan.outage.1 {
            let half = (plan.outage.0 + plan.outage.1) / 2.0;
            if outage_part == 0 {
                book.clear(&standin);
                book.inject_bulk(
                    &standin,
                    Fault::error(2).with_status(503).times(1_000_000),
                    "outage-503",
                );
                outage_part = 1;
            } else if outage_part == 1 && t >= half {
                book.clear(&standin);
                book.inject_bulk(
                    &standin,
                    Fault::drop_connection().times(1_000_000),
                    "outage-dropped",
                );
                outage_part = 2;
            }
        } else {
            if outage_part > 0 && outage_part < 3 {
                book.clear(&standin);
                outage_part = 3;
            }
            if t >= plan.warm_up {
                fault_credit += args.fault_share * args.rate;
                // While the service is down nothing takes them: do not pile them up.
                while fault_credit >= 1.0 {
                    fault_credit -= 1.0;
                    if (standin.pending_faults() as f64) < 2.0 * args.rate {
                        let kind = ROTATION[turn % ROTATION.len()];
                        turn += 1;
                        book.inject(&standin, fault(kind), &format!("{kind:?}"));
                    }
                }
            }
        }

        // The kills.
        if next_kill < plan.kills.len() && t >= plan.kills[next_kill] {
            next_kill += 1;
            service_up.store(false, Ordering::SeqCst);
            service.kill();
            kills.push((t, Utc::now()));
            println!(
                "# {t:.0} s: SIGKILL ({} of {})",
                kills.len(),
                plan.kills.len()
            );
            tokio::time::sleep(Duration::from_secs(args.down_secs)).await;
            service.start()?;
            service.ready(&http).await?;
            service_up.store(true, Ordering::SeqCst);
            restarts += 1;
            println!("# {:.0} s: restarted", elapsed());
        }

        if t >= next_line {
            next_line += args.every as f64;
            line(t, restarts, &book, &mut csv);
        }

        // The end: the load is over, every webhook acknowledged, everything decided and sent,
        // every status callback delivered.
        if t >= plan.load && generator.is_finished() && posting.open.load(Ordering::SeqCst) == 0 {
            let (inbound, outbox, _) = backlog(&dir);
            if inbound == 0 && outbox == 0 && standin.callback_stats().in_flight == 0 {
                drained_at = Some(t);
                break;
            }
        }
        if t >= drain_deadline {
            break;
        }
    }
    give_up.store(true, Ordering::SeqCst);
    // The last status callbacks and records.
    tokio::time::sleep(Duration::from_secs(3)).await;
    collect(&standin, &sends);
    line(elapsed(), restarts, &book, &mut csv);
    let stop_took = service.stop().await;
    collector.abort();
    sampler.abort();
    collect(&standin, &sends);
    let _ = stop_standin.send(());

    // The verdict.
    let db = open_db(&dir)?;
    let mut failures: Vec<String> = Vec::new();
    let posted = posting.posted.load(Ordering::SeqCst);
    let acked_ids: Vec<u64> = (0..posted)
        .filter(|i| acked[*i as usize].load(Ordering::SeqCst))
        .collect();
    let never_acked = posted - acked_ids.len() as u64;
    if never_acked > 0 {
        failures.push(format!("{never_acked} webhooks never got a 200"));
    }
    // Every acknowledged message: stored once, decided once.
    let mut stored: HashMap<String, (i64, i64, i64)> = HashMap::new();
    {
        let mut stmt = db
            .prepare(
                "SELECT m.provider_id, COUNT(DISTINCT m.id), MIN(m.processed), COUNT(d.id)
                 FROM messages m LEFT JOIN decisions d ON d.message_id = m.id
                 WHERE m.direction = 'in' GROUP BY m.provider_id",
            )
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    (r.get(1)?, r.get(2)?, r.get(3)?),
                ))
            })
            .map_err(|e| e.to_string())?;
        for row in rows {
            let (id, v) = row.map_err(|e| e.to_string())?;
            stored.insert(id, v);
        }
    }
    let (mut lost, mut twice_stored, mut undecided) = (Vec::new(), 0u64, Vec::new());
    for i in &acked_ids {
        let id = message_id(&tag, *i);
        match stored.get(&id) {
            None => lost.push(id),
            Some((n, processed, decisions)) => {
                if *n != 1 {
                    twice_stored += 1;
                }
                if *processed != 1 || *decisions != 1 {
                    undecided.push(format!(
                        "{id} (processed {processed}, {decisions} decisions)"
                    ));
                }
            }
        }
    }
    if !lost.is_empty() {
        failures.push(format!(
            "{} acknowledged messages lost: {:?}",
            lost.len(),
            &lost[..lost.len().min(10)]
        ));
    }
    if twice_stored > 0 {
        failures.push(format!("{twice_stored} messages stored more than once"));
    }
    if !undecided.is_empty() {
        failures.push(format!(
            "{} messages without exactly one decision: {:?}",
            undecided.len(),
            &undecided[..undecided.len().min(10)]
        ));
    }
    let unknown_stored = stored
        .keys()
        .filter(|k| !k.starts_with("wamid.SOAK"))
        .count();

    // Every outbox row: sent, and accepted by the API exactly once.
    let mut rows: Vec<(i64, String, i64, Option<String>)> = Vec::new();
    {
        let mut stmt = db
            .prepare("SELECT id, status, attempts, last_error FROM outbox ORDER BY id")
            .map_err(|e| e.to_string())?;
        let it = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| e.to_string())?;
        for row in it {
            rows.push(row.map_err(|e| e.to_string())?);
        }
    }
    let s = sends.lock().unwrap_or_else(PoisonError::into_inner);
    let mut status_count: BTreeMap<String, u64> = BTreeMap::new();
    let (mut never_sent, mut doubles_in_window, mut doubles_outside) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut attempts_hist: BTreeMap<i64, u64> = BTreeMap::new();
    for (id, status, attempts, last_error) in &rows {
        *status_count.entry(status.clone()).or_default() += 1;
        *attempts_hist.entry(*attempts).or_default() += 1;
        let key = format!("outbox:{id}");
        let times = s.per_row.get(&key).cloned().unwrap_or_default();
        if status != "sent" {
            failures.push(format!("outbox:{id} ended {status} ({last_error:?})"));
        }
        if times.is_empty() && status == "sent" {
            never_sent.push(key.clone());
        }
        if times.len() > 1 {
            // Under way at a kill: the stand-in records a send when it answers, after its latency
            // (a slow send 3 s, a timeout fault 12 s), so a send that was under way at a kill is
            // recorded up to that long after it; and one recorded shortly before it may have had
            // its answer lost. The window: recorded from 15 s before a kill to 15 s after it.
            let first = times[0];
            let near_kill = kills.iter().any(|(_, k)| {
                let d = (*k - first).num_milliseconds();
                (-15_000..=15_000).contains(&d)
            });
            let entry = json!({
                "row": key,
                "times": times.iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>(),
                "attempts": attempts,
                "last_error": last_error,
            });
            if near_kill {
                doubles_in_window.push(entry);
            } else {
                doubles_outside.push(entry);
            }
        }
    }
    let rows_known: std::collections::HashSet<String> =
        rows.iter().map(|r| format!("outbox:{}", r.0)).collect();
    let strays = s
        .per_row
        .keys()
        .filter(|k| !rows_known.contains(*k))
        .count();
    if !never_sent.is_empty() {
        failures.push(format!(
            "{} rows marked sent that the API never accepted: {:?}",
            never_sent.len(),
            &never_sent[..never_sent.len().min(10)]
        ));
    }
    if !doubles_outside.is_empty() {
        failures.push(format!(
            "{} replies sent twice outside the crash window: {}",
            doubles_outside.len(),
            serde_json::to_string(&doubles_outside[..doubles_outside.len().min(5)])
                .unwrap_or_default()
        ));
    }
    if strays > 0 {
        failures.push(format!("{strays} sends name no outbox row"));
    }
    if s.missed > 0 {
        failures.push(format!(
            "{} stand-in records were forgotten before they were read: the send counts are incomplete",
            s.missed
        ));
    }
    let callbacks = standin.callback_stats();
    if drained_at.is_none() {
        failures.push(format!(
            "not drained within {} s after the load",
            args.drain_timeout
        ));
    }

    // Memory: per life of the service, after a minute of warm-up (two for the first), the median
    // RSS of the first and the last quarter of its samples.
    let samples = rss.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut rss_csv = String::from("elapsed_s,life,rss_kb\n");
    for (t, life, kb) in &samples {
        rss_csv.push_str(&format!("{t:.0},{life},{kb}\n"));
    }
    let _ = std::fs::write(dir.join("rss.csv"), rss_csv);
    let mut lives: BTreeMap<u32, Vec<(f64, u64)>> = BTreeMap::new();
    for (t, life, kb) in &samples {
        lives.entry(*life).or_default().push((*t, *kb));
    }
    // Per life: the first and last quarter's median RSS, and the slope over its second half.
    // The page cache (64 MiB per connection) fills as the database grows, so a short life grows
    // without leaking; the verdict is on the last (longest) life's second half: a leak goes on
    // growing there, a full cache does not.
    let mut memory = Vec::new();
    let last_life = lives.keys().max().copied();
    for (life, v) in &lives {
        let begin = v.first().map_or(0.0, |x| x.0);
        let warm = if *life == 1 { 120.0 } else { 60.0 };
        let kept: Vec<(f64, u64)> = v
            .iter()
            .filter(|(t, _)| *t >= begin + warm && *t < plan.load)
            .copied()
            .collect();
        let peak = v.iter().map(|x| x.1).max().unwrap_or(0);
        if kept.len() < 8 {
            memory.push(
                json!({ "life": life, "samples": kept.len(), "peak_mb": peak as f64 / 1024.0,
                                "verdict": "too short to judge" }),
            );
            continue;
        }
        let kb: Vec<u64> = kept.iter().map(|x| x.1).collect();
        let q = kb.len() / 4;
        let first = median(&mut kb[..q].to_vec()) / 1024.0;
        let last = median(&mut kb[kb.len() - q..].to_vec()) / 1024.0;
        let slope = slope_mb_per_min(&kept[kept.len() / 2..]);
        let mut entry = json!({ "life": life, "samples": kept.len(),
            "minutes_judged": (kept[kept.len() - 1].0 - kept[0].0) / 60.0,
            "first_quarter_mb": first, "last_quarter_mb": last, "peak_mb": peak as f64 / 1024.0,
            "second_half_slope_mb_per_min": slope });
        if Some(*life) == last_life {
            let flat = slope <= MAX_SLOPE_MB_PER_MIN;
            entry["flat"] = json!(flat);
            if !flat {
                failures.push(format!(
                    "memory still grows at the end: {slope:.2} MB/min over the second half of the last life \
                     ({first:.1} MB → {last:.1} MB, median RSS of its first and last quarter)"
                ));
            }
        }
        memory.push(entry);
    }

    let summary = json!({
        "minutes": args.minutes,
        "rate": args.rate,
        "residents": args.residents,
        "plan": { "warm_up_s": plan.warm_up, "outage_s": [plan.outage.0, plan.outage.1],
                  "kills_s": kills.iter().map(|k| k.0.round()).collect::<Vec<_>>(),
                  "kills_at": kills.iter().map(|k| k.1.to_rfc3339()).collect::<Vec<_>>() },
        "posted": posted,
        "acknowledged": acked_ids.len(),
        "webhook_retries": posting.retries.load(Ordering::SeqCst),
        "webhooks_refused_while_up": posting.refused.load(Ordering::SeqCst),
        "duplicates_posted": posting.duplicates.load(Ordering::SeqCst),
        "duplicates_acknowledged": posting.duplicates_acked.load(Ordering::SeqCst),
        "stored_inbound": stored.len(),
        "stored_not_from_the_soak": unknown_stored,
        "lost": lost.len(),
        "stored_twice": twice_stored,
        "without_one_decision": undecided.len(),
        "outbox_rows": rows.len(),
        "outbox_by_status": status_count,
        "outbox_attempts": attempts_hist,
        "sends_accepted": s.messages,
        "rows_sent_never_accepted": never_sent.len(),
        "sent_twice_in_crash_window": doubles_in_window,
        "sent_twice_outside_it": doubles_outside,
        "stand_in_records_missed": s.missed,
        "status_callbacks": { "delivered": callbacks.delivered, "given_up": callbacks.given_up },
        "faults_applied": book.applied(&standin),
        "faults_per_kind": book.per_kind,
        "drained_after_load_s": drained_at.map(|t| t - plan.load),
        "graceful_stop_s": stop_took.map(|d| d.as_secs_f64()),
        "database_mb": db_bytes(&dir) as f64 / 1_048_576.0,
        "memory": memory,
        "failures": failures,
    });
    drop(s);
    let text = format!("{summary:#}\n");
    std::fs::write(dir.join("summary.json"), &text)
        .map_err(|e| format!("cannot write summary.json: {e}"))?;
    println!("{text}");
    if failures.is_empty() {
        println!("soak: every invariant held");
    } else {
        println!("soak: FAILED\n- {}", failures.join("\n- "));
    }
    Ok(failures.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_spreads_the_kills_and_keeps_the_outage_apart() {
        let args = Args::parse_from(["triage-soak", "--out", "x"]);
        let plan = Plan::new(&args);
        assert_eq!(plan.kills, vec![600.0, 1200.0, 1800.0, 2400.0]);
        assert_eq!(plan.outage, (870.0, 930.0));
        assert_eq!(plan.warm_up, 120.0);
        assert_eq!(plan.phase(10.0), "warm-up");
        assert_eq!(plan.phase(900.0), "outage");
        assert_eq!(plan.phase(2000.0), "faults");
        assert_eq!(plan.phase(3600.0), "drain");
        let short = Args::parse_from([
            "triage-soak",
            "--out",
            "x",
            "--minutes",
            "5",
            "--outage-secs",
            "30",
        ]);
        let plan = Plan::new(&short);
        assert_eq!(plan.kills, vec![100.0]);
        assert_eq!(plan.outage, (185.0, 215.0));
    }

    #[test]
    fn the_slope_is_in_mb_per_minute() {
        let rising: Vec<(f64, u64)> = (0..60)
            .map(|i| (f64::from(i) * 5.0, 1024 * 100 + i as u64 * 512))
            .collect();
        assert!((slope_mb_per_min(&rising) - 6.0).abs() < 1e-9);
        let flat: Vec<(f64, u64)> = (0..60).map(|i| (f64::from(i) * 5.0, 50_000)).collect();
        assert_eq!(slope_mb_per_min(&flat), 0.0);
    }

    #[test]
    fn the_duplicate_share_is_kept() {
        let n = (0..10_000).filter(|i| is_duplicate(*i, 0.03)).count();
        assert_eq!(n, 300);
        assert_eq!((0..100).filter(|i| is_duplicate(*i, 0.0)).count(), 0);
    }
}
