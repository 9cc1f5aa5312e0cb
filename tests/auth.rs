//! Signing in to the web application from the outside: passwords, session cookies, CSRF, the
//! limit on attempts, the pages' security headers and the live events.

mod common;

use std::time::Duration;

use common::app::{text_message, Setup, TestApp, ADMIN};
use serde_json::{json, Value};

const PASSWORD: &str = "een lang wachtwoord";

/// Creates an agent with a password through the API; returns nothing (they sign in).
async fn agent(app: &TestApp, name: &str, departments: &[&str]) {
    let r = app
        .http
        .post(format!("{}/api/users", app.base))
        .bearer_auth(ADMIN)
        .json(&json!({ "name": name, "role": "agent", "departments": departments, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert!(
        v.get("password").is_none(),
        "a given password is not echoed"
    );
}

/// Signs in; returns the response.
async fn login(app: &TestApp, name: &str, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/auth/login", app.base))
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Signs in and returns the cookie (`name=value`) and the CSRF token.
async fn session(app: &TestApp, name: &str) -> (String, String) {
    let r = login(app, name, PASSWORD).await;
    assert_eq!(r.status(), 200);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    (cookie, v["csrf"].as_str().unwrap().to_string())
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, Value) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signs_in_and_state_changes_need_its_csrf_token() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    agent(&app, "bram", &["burgerzaken"]).await;

    assert_eq!(login(&app, "bram", "wrong password").await.status(), 401);
    assert_eq!(login(&app, "nobody", PASSWORD).await.status(), 401);
    let (cookie, csrf) = session(&app, "bram").await;

    let (status, me) = get(&app, &cookie, "/api/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "bram");
    assert_eq!(
        me["csrf"],
        csrf.as_str(),
        "a reloaded page learns its token again"
    );
    assert!(me["all_departments"].as_array().unwrap().len() >= 6);

    // A resident's question lands in Burgerzaken's queue (the clock is out of office hours).
    let r = app
        .post(&text_message(
            "wamid.A1",
            "31612345678",
            "ik wil mijn naam wijzigen",
        ))
        .await;
    assert_eq!(r.status(), 200);
    let mut id = None;
    for _ in 0..200 {
        let (_, q) = get(&app, &cookie, "/api/queues/burgerzaken").await;
        if let Some(c) = q["conversations"].as_array().and_then(|l| l.first()) {
            id = c["id"].as_i64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = id.expect("the conversation reaches the queue");
    let claim = format!("{}/api/conversations/{id}/claim", app.base);

    // Without the token, with a wrong one, or from another site: refused, and nothing changed.
    for (token, origin) in [
        (None, None),
        (Some("0".repeat(64)), None),
        (Some(csrf.clone()), Some("https://evil.example")),
    ] {
        let mut req = app.http.post(&claim).header("cookie", &cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "csrf");
    }
    let (_, c) = get(&app, &cookie, &format!("/api/conversations/{id}")).await;
    assert_eq!(c["agent"], Value::Null, "{c}");

    let r = app
        .http
        .post(&claim)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("origin", app.base.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Signing out ends the session on the server, not only in the browser.
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(&app, &cookie, "/api/me").await.0, 401);
    // Signing out again (another tab) only clears the cookie.
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_and_need_json_from_this_site() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    agent(&app, "sanne", &["sociaal-domein"]).await;

    // A form post (not JSON) or another site's origin cannot sign anyone in.
    let r = app
        .http
        .post(format!("{}/auth/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=sanne&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .post(format!("{}/auth/login", app.base))
        .header("origin", "https://evil.example")
        .json(&json!({ "name": "sanne", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    for _ in 0..5 {
        assert_eq!(login(&app, "sanne", "guess").await.status(), 401);
    }
    // Now even the right password waits: the limit is per name.
    let r = login(&app, "Sanne", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert!(app
        .metrics()
        .await
        .contains("triage_logins_refused_total 6"));
    app.stop().await;
}

/// Signs in as a client behind the reverse proxy (the test's own loopback address) at `from`.
async fn login_from(app: &TestApp, from: &str, name: &str, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/auth/login", app.base))
        .header("x-forwarded-for", format!("{from}, 127.0.0.1"))
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_is_small_and_a_long_name_is_refused_before_anything_is_kept() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    assert_eq!(
        common::app::oversized_post(&app.base, "/auth/login", "").await,
        "HTTP/1.1 413",
        "a sign-in body is a few hundred bytes"
    );
    let long = "x".repeat(65);
    for _ in 0..10 {
        assert_eq!(login(&app, &long, "guess").await.status(), 401);
    }
    assert!(
        app.state.logins.is_empty(),
        "no user has a name that long: nothing to count"
    );
    // An ordinary failure keeps three fixed-size keys (name, address, both), whatever the name.
    assert_eq!(login(&app, "nobody", "guess").await.status(), 401);
    assert_eq!(app.state.logins.len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_guesses_at_once_gets_no_more_of_them_verified() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    agent(&app, "sanne", &["sociaal-domein"]).await;
    let mut all = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (http, base) = (app.http.clone(), app.base.clone());
        all.spawn(async move {
            http.post(format!("{base}/auth/login"))
                .json(&json!({ "name": "sanne", "password": format!("guess {i}") }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = all.join_next().await {
        statuses.push(s.unwrap());
    }
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (verified, refused),
        (5, 55),
        "as many guesses as one by one: {statuses:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_an_attacker_is_slowed_and_locks_no_agent_out() {
    let app = TestApp::start_setup(Setup {
        admin: true,
        configure: Box::new(|c| {
            c.trusted_proxies = vec![triage::service::config::IpRange::parse("127.0.0.1").unwrap()]
        }),
        ..Setup::default()
    })
    .await;
    agent(&app, "bram", &["burgerzaken"]).await;
    agent(&app, "sanne", &["sociaal-domein"]).await;
    // One address tries names: after its free attempts it must wait, and only it.
    let mut statuses = Vec::new();
    for i in 0..25 {
        let r = login_from(&app, "203.0.113.9", &format!("naam{i}"), "guess").await;
        statuses.push(r.status().as_u16());
    }
    assert!(
        statuses[..20].iter().all(|s| *s == 401) && statuses.contains(&429),
        "the attacker's address is slowed down: {statuses:?}"
    );
    assert_eq!(
        login_from(&app, "198.51.100.7", "sanne", PASSWORD)
            .await
            .status(),
        200,
        "an agent at another address signs in as ever"
    );
    // Guesses at bram's password from many addresses: bram is slowed a little, never locked out.
    for i in 0..10 {
        let from = format!("192.0.2.{}", i + 1);
        let r = login_from(&app, &from, "bram", "guess").await;
        assert!(matches!(r.status().as_u16(), 401 | 429), "{}", r.status());
    }
    let r = login_from(&app, "198.51.100.8", "bram", PASSWORD).await;
    if r.status() != 200 {
        assert_eq!(r.status(), 429);
        let wait: i64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=60).contains(&wait),
            "a short wait, not a lock-out: {wait} s"
        );
        let now = app.state.clock.now() + chrono::Duration::seconds(wait);
        app.set_clock(&now.to_rfc3339()).await;
        assert_eq!(
            login_from(&app, "198.51.100.8", "bram", PASSWORD)
                .await
                .status(),
            200,
            "after the wait bram is in"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_strict_policy_and_events_reach_the_right_agents() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    for path in ["/login", "/inbox", "/editor", "/reports", "/assets/app.js"] {
        let r = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(r.headers()["x-frame-options"], "DENY");
    }
    assert_eq!(
        app.http
            .get(format!("{}/assets/nothing.js", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Events need a session or a token.
    assert_eq!(
        app.http
            .get(format!("{}/api/events", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    agent(&app, "bram", &["burgerzaken"]).await;
    agent(&app, "sanne", &["sociaal-domein"]).await;
    let (bram, _) = session(&app, "bram").await;
    let (sanne, _) = session(&app, "sanne").await;
    let open = |cookie: String| {
        let http = app.http.clone();
        let url = format!("{}/api/events", app.base);
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream"));
            r
        }
    };
    let mut bram_events = open(bram).await;
    let mut sanne_events = open(sanne).await;

    let r = app
        .post(&text_message(
            "wamid.E1",
            "31612345678",
            "ik wil mijn naam wijzigen",
        ))
        .await;
    assert_eq!(r.status(), 200);
    // Bram (Burgerzaken) hears of it, without text or number in the event.
    let mut seen = String::new();
    while !seen.contains("\"what\":\"decision\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), bram_events.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("event: change") && seen.contains("burgerzaken"),
        "{seen}"
    );
    assert!(!seen.contains("5678") && !seen.contains("naam"), "{seen}");
    // Sanne (Sociaal Domein) does not: at most keep-alives, none within a second.
    let quiet = tokio::time::timeout(Duration::from_secs(1), sanne_events.chunk()).await;
    if let Ok(Ok(Some(chunk))) = quiet {
        assert!(!String::from_utf8_lossy(&chunk).contains("decision"));
    }
    app.stop().await;
}

/// Reads an event stream until `until` shows up in it; everything read so far.
async fn read_until(stream: &mut reqwest::Response, until: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(until) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no `{until}` within 10 s in {seen}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the stream ended before `{until}`: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_stay_in_their_departments_and_end_with_the_account() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    app.set_clock("2026-11-24T10:00:00+01:00").await;
    agent(&app, "bram", &["burgerzaken"]).await;
    agent(&app, "sanne", &["sociaal-domein"]).await;
    let (bram, _) = session(&app, "bram").await;
    let events = |cookie: &str| {
        app.http
            .get(format!("{}/api/events", app.base))
            .header("cookie", cookie.to_string())
            .send()
    };
    let mut stream = events(&bram).await.unwrap();
    assert_eq!(stream.status(), 200);

    // A KCC question, answered and sent; then one of Burgerzaken's. Events come in order: what
    // Bram hears before his own department's decision is all he heard of the KCC one.
    let kcc = text_message(
        "wamid.K1",
        "31600000051",
        "ik heb een klacht over mijn buurman",
    );
    assert_eq!(app.post(&kcc).await.status(), 200);
    app.sent(1).await;
    app.drain().await;
    let mine = text_message("wamid.K2", "31600000052", "ik wil mijn naam wijzigen");
    assert_eq!(app.post(&mine).await.status(), 200);
    let seen = read_until(&mut stream, "burgerzaken").await;
    let foreign: Vec<&str> = seen
        .lines()
        .filter(|l| l.starts_with("data:") && !l.contains("burgerzaken"))
        .collect();
    assert!(
        foreign.is_empty(),
        "events of another department: {foreign:?}"
    );
    // The reply to his own department's resident reaches him as it is sent.
    let seen = read_until(&mut stream, "\"what\":\"sent\"").await;
    assert!(seen.contains("burgerzaken"), "{seen}");

    // At most a few streams per user.
    let (sanne, _) = session(&app, "sanne").await;
    let mut open = Vec::new();
    for _ in 0..triage::service::events::MAX_STREAMS_PER_USER {
        let r = events(&sanne).await.unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    assert_eq!(events(&sanne).await.unwrap().status(), 429);
    open.pop();
    let again = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let r = events(&sanne).await.unwrap();
            if r.status() == 200 {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a closed stream frees its place");
    drop(again);

    // Bram is removed: his open stream ends at once.
    let r = app
        .http
        .delete(format!("{}/api/users/bram", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if !matches!(stream.chunk().await, Ok(Some(_))) {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the removed user's stream ends");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_editors_and_admins() {
    let app = TestApp::start_setup(Setup::with_admin()).await;
    agent(&app, "bram", &["burgerzaken"]).await;
    let anonymous = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "queue sizes are not public");
    let (bram, _) = session(&app, "bram").await;
    assert_eq!(get(&app, &bram, "/metrics").await.0, 403);
    // What the API answers is never cached.
    let me = app
        .http
        .get(format!("{}/api/me", app.base))
        .header("cookie", &bram)
        .send()
        .await
        .unwrap();
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert!(app.metrics().await.contains("triage_queue_size"));
    app.stop().await;
}
