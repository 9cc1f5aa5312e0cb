//! `triage-loadgen`: posts signed WhatsApp text webhooks to a running triage service on loopback
//! and measures the webhook latency, the achieved rate and, with `--drain`, the end-to-end
//! throughput (messages decided and every reply accepted by the Graph API).
//!
//! It only ever talks to loopback addresses and always stops by itself (`--messages` or
//! `--duration`, and `--drain-timeout`). See `docs/load.md` for the method and the figures.
//!
//! ```text
//! triage-loadgen --messages 20000 --connections 32 --drain
//! triage-loadgen --rate 1000 --duration 30 --connections 64 --json out.json
//! triage-loadgen --standin 127.0.0.1:18081 --latency-ms 150 --slow-share 0.01 --close-connections --drain
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use triage::load::{loopback_base, text_for};

/// Posts signed text webhooks to a triage service on loopback and measures it.
#[derive(Debug, Parser)]
#[command(name = "triage-loadgen", version)]
struct Args {
    /// The service's base URL (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The app secret that signs the webhooks.
    #[arg(long, default_value = "demo-app-secret")]
    secret: String,
    /// An editor's or admin's API token, to read /metrics (the demo admin's by default).
    #[arg(long, default_value = "demo-admin-token")]
    metrics_token: String,
    /// Keep-alive connections, each posting one webhook at a time.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Messages per second in total; as fast as possible when absent.
    #[arg(long)]
    rate: Option<f64>,
    /// Stop after this many seconds of posting.
    #[arg(long)]
    duration: Option<f64>,
    /// Stop after this many messages (10,000 when neither this nor --duration is given).
    #[arg(long)]
    messages: Option<u64>,
    /// Distinct residents (phone numbers) the messages come from; one per message when absent.
    #[arg(long)]
    residents: Option<u64>,
    /// Afterwards, wait until every message is decided and every reply sent (from /metrics).
    #[arg(long)]
    drain: bool,
    /// Give up draining after this many seconds.
    #[arg(long, default_value_t = 600.0)]
    drain_timeout: f64,
    /// The service's SQLite file: its size (with -wal and -shm) is reported before and after.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Serve a Graph API stand-in at this loopback address while running (point the service's
    /// WHATSAPP_API_BASE at it, with any WHATSAPP_ACCESS_TOKEN), instead of the demo's own.
    #[arg(long)]
    standin: Option<SocketAddr>,
    /// With --standin: the median answer time of a send, in milliseconds (a real API takes
    /// 100–500 ms).
    #[arg(long, default_value_t = 0, requires = "standin")]
    latency_ms: u64,
    /// With --standin: the share of sends (0 to 1) that take --slow-ms instead.
    #[arg(long, default_value_t = 0.0, requires = "standin")]
    slow_share: f64,
    /// With --standin: how long a slow send takes, in milliseconds.
    #[arg(long, default_value_t = 5000, requires = "standin")]
    slow_ms: u64,
    /// With --standin: close the connection after every answer (`Connection: close`).
    #[arg(long, requires = "standin")]
    close_connections: bool,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Prefix of the message ids (unique per run by default).
    #[arg(long)]
    id_prefix: Option<String>,
}

/// The numbers of `/metrics` the drain watches.
#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    messages_in: f64,
    messages_out: f64,
    failures: f64,
    retries: f64,
    inbound_pending: f64,
    outbox_pending: f64,
}

async fn snapshot(http: &reqwest::Client, base: &str, token: &str) -> Result<Snapshot, String> {
    let text = http
        .get(format!("{base}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("cannot read {base}/metrics: {e}"))?
        .error_for_status()
        .map_err(|e| format!("cannot read {base}/metrics: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let get = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    Ok(Snapshot {
        messages_in: get("triage_messages_in_total"),
        messages_out: get("triage_messages_out_total"),
        failures: get("triage_outbox_failures_total"),
        retries: get("triage_outbox_retries_total"),
        inbound_pending: get("triage_inbound_pending"),
        outbox_pending: get("triage_outbox_pending"),
    })
}

fn db_bytes(db: &Option<PathBuf>) -> Option<u64> {
    let db = db.as_ref()?;
    let mut total = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        total += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    }
    Some(total)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

/// One connection's results.
#[derive(Default)]
struct Part {
    latencies_us: Vec<u32>,
    ok: u64,
    refused: u64,
    errors: u64,
    /// The largest delay between a message's scheduled time and its post, in microseconds.
    max_lag_us: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("triage-loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("triage-loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let base = loopback_base(&args.url)?;
    if args.connections == 0 || args.connections > 1024 {
        return Err("--connections must be between 1 and 1024".into());
    }
    if let Some(r) = args.rate {
        if !(r > 0.0 && r <= 1_000_000.0) {
            return Err("--rate must be above 0 and at most 1,000,000".into());
        }
    }
    let limit = match (args.messages, args.duration) {
        (None, None) => Some(10_000),
        (m, _) => m,
    };
    let duration = args
        .duration
        .map(|d| {
            if d > 0.0 && d <= 3600.0 {
                Ok(Duration::from_secs_f64(d))
            } else {
                Err("--duration must be between 0 and 3600 seconds".to_string())
            }
        })
        .transpose()?
        .unwrap_or(Duration::from_secs(3600));
    let _standin = match args.standin {
        Some(addr) if !addr.ip().is_loopback() => {
            return Err(format!("--standin {addr} is not a loopback address"))
        }
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let standin = triage::channels::whatsapp::standin::StandIn::new();
            standin
                .set_conditions(triage::channels::whatsapp::standin::Conditions {
                    latency_ms: args.latency_ms,
                    slow_share: args.slow_share,
                    slow_ms: args.slow_ms,
                    close_connections: args.close_connections,
                })
                .map_err(|e| format!("the stand-in's conditions: {e}"))?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let served = standin.clone();
            tokio::spawn(async move {
                let _ = served
                    .serve(listener, async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
            eprintln!(
                "graph api stand-in on http://{addr} ({} ms median, {:.1} % at {} ms{})",
                args.latency_ms,
                args.slow_share * 100.0,
                args.slow_ms,
                if args.close_connections {
                    ", connections closed after each answer"
                } else {
                    ""
                }
            );
            Some(stop)
        }
        None => None,
    };
    let residents = args.residents.unwrap_or(u64::MAX).max(1);
    let prefix = args.id_prefix.clone().unwrap_or_else(|| {
        format!(
            "wamid.LOAD{}x",
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        )
    });
    let probe = reqwest::Client::new();
    let before = snapshot(&probe, &base, &args.metrics_token).await?;
    let db_before = db_bytes(&args.db);

    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.connections {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let (next, stop, base, prefix, secret) = (
            next.clone(),
            stop.clone(),
            base.clone(),
            prefix.clone(),
            args.secret.clone(),
        );
        let rate = args.rate;
        tasks.spawn(async move {
            let mut part = Part::default();
            let url = format!("{base}/webhook");
            loop {
                if stop.load(Ordering::Relaxed) || started.elapsed() >= duration {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if limit.is_some_and(|l| i >= l) {
                    break;
                }
                if let Some(rate) = rate {
                    let due = started + Duration::from_secs_f64(i as f64 / rate);
                    let now = Instant::now();
                    if due > now {
                        tokio::time::sleep_until(due.into()).await;
                    } else {
                        part.max_lag_us = part.max_lag_us.max((now - due).as_micros() as u64);
                    }
                    if started.elapsed() >= duration {
                        break;
                    }
                }
                let from = format!("3169{:07}", (i % residents) % 10_000_000);
                let id = format!("{prefix}{i}");
                let body = triage::load::webhook("demo-phone-number-id", &id, &from, text_for(i));
                let signature = triage::channels::whatsapp::sign(secret.as_bytes(), &body);
                let t = Instant::now();
                let answer = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body)
                    .send()
                    .await;
                let status = match answer {
                    Ok(r) => {
                        let s = r.status();
                        let _ = r.bytes().await;
                        Some(s)
                    }
                    Err(_) => None,
                };
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                match status {
                    Some(s) if s.is_success() => {
                        part.ok += 1;
                        part.latencies_us.push(us);
                    }
                    Some(_) => part.refused += 1,
                    None => part.errors += 1,
                }
                if part.errors > 100 {
                    // The service is gone: stop everyone rather than spin.
                    stop.store(true, Ordering::Relaxed);
                }
            }
            part
        });
    }
    let mut all = Part::default();
    while let Some(p) = tasks.join_next().await {
        let p = p.map_err(|e| e.to_string())?;
        all.ok += p.ok;
        all.refused += p.refused;
        all.errors += p.errors;
        all.max_lag_us = all.max_lag_us.max(p.max_lag_us);
        all.latencies_us.extend(p.latencies_us);
    }
    let posting = started.elapsed().as_secs_f64();
    let sent = all.ok + all.refused + all.errors;
    all.latencies_us.sort_unstable();
    let lat = &all.latencies_us;

    let mut drained = None;
    let mut after = None;
    if args.drain {
        let deadline = Instant::now() + Duration::from_secs_f64(args.drain_timeout.max(1.0));
        loop {
            // A service that is gone (stopping, restarting) is asked again until the deadline;
            // meanwhile a --standin stays up.
            let s = match snapshot(&probe, &base, &args.metrics_token).await {
                Ok(s) => s,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let done = s.messages_in - before.messages_in >= all.ok as f64
                && s.inbound_pending == 0.0
                && s.outbox_pending == 0.0;
            if done {
                drained = Some(started.elapsed().as_secs_f64());
                after = Some(s);
                break;
            }
            if Instant::now() > deadline {
                after = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let db_after = db_bytes(&args.db);

    let achieved = sent as f64 / posting;
    let mut table = vec![
        ("webhooks posted".to_string(), format!("{sent}")),
        ("answered 200".into(), format!("{}", all.ok)),
        ("refused (non-2xx)".into(), format!("{}", all.refused)),
        ("transport errors".into(), format!("{}", all.errors)),
        ("connections".into(), format!("{}", args.connections)),
        (
            "target rate".into(),
            args.rate
                .map_or("as fast as possible".into(), |r| format!("{r:.0} msg/s")),
        ),
        ("posting time".into(), format!("{posting:.2} s")),
        ("achieved rate".into(), format!("{achieved:.0} msg/s")),
        (
            "latency p50".into(),
            format!("{:.2} ms", percentile(lat, 50.0)),
        ),
        (
            "latency p90".into(),
            format!("{:.2} ms", percentile(lat, 90.0)),
        ),
        (
            "latency p99".into(),
            format!("{:.2} ms", percentile(lat, 99.0)),
        ),
        (
            "latency max".into(),
            format!("{:.2} ms", percentile(lat, 100.0)),
        ),
    ];
    if args.rate.is_some() {
        table.push((
            "max schedule lag".into(),
            format!("{:.2} ms", all.max_lag_us as f64 / 1000.0),
        ));
    }
    let replies = after.map(|a| a.messages_out - before.messages_out);
    if args.drain {
        match drained {
            Some(t) => {
                table.push(("drained after".into(), format!("{t:.2} s")));
                table.push((
                    "end-to-end".into(),
                    format!("{:.0} msg/s fully answered", all.ok as f64 / t),
                ));
                if let Some(r) = replies {
                    table.push(("reply rate".into(), format!("{:.0} replies/s", r / t)));
                }
            }
            None => table.push(("drained".into(), "NO (timed out)".into())),
        }
        if let (Some(a), Some(r)) = (after, replies) {
            table.push(("replies accepted by the API".into(), format!("{r:.0}")));
            table.push((
                "send failures / retries".into(),
                format!(
                    "{:.0} / {:.0}",
                    a.failures - before.failures,
                    a.retries - before.retries
                ),
            ));
        }
    }
    if let (Some(b), Some(a)) = (db_before, db_after) {
        table.push(("database before / after".into(), format!("{b} / {a} bytes")));
        if all.ok > 0 {
            table.push((
                "database growth per message".into(),
                format!("{:.0} bytes", (a as f64 - b as f64) / all.ok as f64),
            ));
        }
    }
    let width = table.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &table {
        println!("{k:<width$}  {v}");
    }
    if let Some(path) = &args.json {
        let out = json!({
            "url": base,
            "connections": args.connections,
            "rate": args.rate,
            "residents": args.residents,
            "posted": sent,
            "ok": all.ok,
            "refused": all.refused,
            "errors": all.errors,
            "posting_seconds": posting,
            "achieved_rate": achieved,
            "latency_ms": {
                "p50": percentile(lat, 50.0), "p90": percentile(lat, 90.0),
                "p99": percentile(lat, 99.0), "max": percentile(lat, 100.0),
            },
            "max_schedule_lag_ms": all.max_lag_us as f64 / 1000.0,
            "drained_seconds": drained,
            "end_to_end_rate": drained.map(|t| all.ok as f64 / t),
            "reply_rate": drained.zip(replies).map(|(t, r)| r / t),
            "replies": replies,
            "send_failures": after.map(|a| a.failures - before.failures),
            "db_bytes_before": db_before,
            "db_bytes_after": db_after,
        });
        std::fs::write(path, format!("{out:#}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let clean = all.refused == 0 && all.errors == 0 && (!args.drain || drained.is_some());
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
    }
}
