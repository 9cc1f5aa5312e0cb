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
