//! The reports from the outside: residents' messages as signed webhooks, an agent's answer,
//! then the figures as JSON and CSV, and what an agent of another department sees.

mod common;

use std::time::Duration;

use common::app::{text_message, Setup, TestApp, ADMIN};
use serde_json::{json, Value};

/// Tuesday 24 November 2026, 10:00 in Terneuzen: open.
const TUESDAY_MORNING: &str = "2026-11-24T10:00:00+01:00";
const PERIOD: &str = "from=2026-11-23&to=2026-11-29";

async fn wait_for_decisions(app: &TestApp, n: u64) -> Value {
    for _ in 0..200 {
        let (status, r) = app.get_as(ADMIN, &format!("/api/reports?{PERIOD}")).await;
        assert_eq!(status, 200, "{r}");
        let decided: u64 = r["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_u64().unwrap())
            .sum();
        if decided >= n {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} decisions in the report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_what_residents_sent_and_how_fast_people_answered() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    let bram = app.user("bram", "agent", &["burgerzaken"]).await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    app.set_clock(TUESDAY_MORNING).await;
    for (id, from, text) in [
        ("wamid.R1", "31600000001", "ik wil een nieuw paspoort"),
        (
            "wamid.R2",
            "31600000002",
            "mijn bsn is 111222333, ik ben verhuisd",
        ),
        ("wamid.R3", "31600000003", "ik wil mijn naam wijzigen"),
    ] {
        assert_eq!(app.post(&text_message(id, from, text)).await.status(), 200);
    }
    let r = wait_for_decisions(&app, 3).await;
    // The handover is answered 20 minutes later.
    let (_, q) = app.get_as(&bram, "/api/queues/burgerzaken").await;
    let id = q["conversations"][0]["id"].as_i64().unwrap();
    app.set_clock("2026-11-24T10:20:00+01:00").await;
    for action in ["claim", "reply"] {
        let (status, v) = app
            .post_as(
                &bram,
                &format!("/api/conversations/{id}/{action}"),
                json!({ "text": "Hoi! Dat regelen we." }),
            )
            .await;
        assert_eq!(status, 200, "{action}: {v}");
    }
    assert_eq!(r["totals"]["inbound"], 3, "{r}");

    let (status, r) = app.get_as(ADMIN, &format!("/api/reports?{PERIOD}")).await;
    assert_eq!(status, 200, "{r}");
    let t = &r["totals"];
    assert_eq!(t["inbound"], 3, "{r}");
    assert_eq!(
        (
            t["faq"].as_u64(),
            t["privacy_redirect"].as_u64(),
            t["handover"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(t["outside_hours"], 0);
    assert_eq!(t["first_answer_median_seconds"], 1200, "{r}");
    assert_eq!(t["within_goal_percent"], 100.0);
    assert_eq!(r["per_day"][1]["date"], "2026-11-24");
    assert_eq!(r["per_day"][1]["inbound"], 3);
    assert_eq!(r["hour_of_week"][1][10], 3, "Tuesday 10:00 local");
    assert_eq!(r["departments"][0]["department"], "burgerzaken");
    assert_eq!(r["departments"][0]["within_goal"], 1);
    assert_eq!(r["topics"].as_array().unwrap().len(), 1, "{r}");
    // Each topic with its title from the flows, for the page.
    let topic = r["topics"][0]["key"].as_str().unwrap();
    assert!(r["topic_titles"][topic].is_string(), "{r}");

    // CSV: a header, one row per day, as an attachment.
    let res = app
        .http
        .get(format!("{}/api/reports/per_day.csv?{PERIOD}", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("triage-per_day-2026-11-23-2026-11-29.csv"));
    // By default in the form a Dutch spreadsheet opens: a byte order mark, `;`, Dutch headers.
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "\u{feff}datum;berichten;buiten kantoortijd");
    assert_eq!(lines[2], "2026-11-24;3;0");
    assert_eq!(lines.len(), 8);
    let csv = |table: &str, query: &str| {
        let url = format!("{}/api/reports/{table}.csv?{PERIOD}{query}", app.base);
        let http = app.http.clone();
        async move {
            let res = http.get(url).bearer_auth(ADMIN).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    // The department's share within the goal with a decimal comma, its name from the flows.
    let (status, body) = csv("departments", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body.lines().nth(1),
        Some("burgerzaken;Burgerzaken;1;1;0;0;0;100;1200;1200"),
        "{body}"
    );
    // The FAQ topic with its title from the flows.
    let (_, body) = csv("topics", "").await;
    assert!(
        body.starts_with("\u{feff}onderwerp;titel;aantal\r\n"),
        "{body}"
    );
    assert_eq!(body.lines().count(), 2, "{body}");
    // `format=en`: the international form for scripts.
    let (status, body) = csv("per_day", "&format=en").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("date,inbound,outside_hours\r\n"), "{body}");
    assert!(body.contains("\r\n2026-11-24,3,0\r\n"), "{body}");
    let (status, body) = csv("per_day", "&format=xls").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bad_format"), "{body}");
    let (status, e) = app.get_as(ADMIN, "/api/reports/nothing.csv").await;
    assert_eq!(status, 404);
    assert!(
        e["message"].as_str().unwrap().contains("per_day.csv"),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Tabel `nothing.csv` bestaat niet."),
        "{e}"
    );
    let (status, e) = app
        .get_as(ADMIN, "/api/reports?from=2026-11-30&to=2026-11-01")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        e["message"],
        "De begindatum (2026-11-30) ligt na de einddatum (2026-11-01).",
    );
    let (status, e) = app.get_as(ADMIN, "/api/reports?from=gisteren").await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "bad_period");
    assert!(e["message"].as_str().unwrap().contains("begindatum"), "{e}");

    // Bram sees Burgerzaken's handover; Kim (KCC) sees none of it.
    let (_, r) = app.get_as(&bram, &format!("/api/reports?{PERIOD}")).await;
    assert_eq!(r["totals"]["handover"], 1, "{r}");
    let (status, r) = app.get_as(&kim, &format!("/api/reports?{PERIOD}")).await;
    assert_eq!(status, 200);
    assert_eq!(r["totals"]["handover"], 0, "{r}");
    assert!(r["departments"].as_array().unwrap().is_empty(), "{r}");
    app.stop().await;
}
