//! The agents' API from the outside: the real server on port 0 with a temporary database and the
//! Graph API stand-in on loopback, residents as signed webhooks, agents as bearer tokens.

mod common;

use std::ops::Deref;
use std::time::Duration;

use common::app::{body_text, text_message, Setup, TestApp, ADMIN, FRIDAY_EVENING};
use serde_json::{json, Value};

/// Office hours are Monday to Friday 08:30–17:00 (Europe/Amsterdam, UTC+1 in November);
/// [`FRIDAY_EVENING`] is out of them.
const TUESDAY_MORNING: &str = "2026-11-24T10:00:00+01:00";
const FRIDAY_HANDOVER: &str = "2026-11-27T16:30:00+01:00";
const MONDAY_NINE: &str = "2026-11-30T09:00:00+01:00";

/// The shared harness with one admin (token [`ADMIN`]) and the agents' side of the API. A
/// wrapper rather than an extension trait: its `post` (as a user, to a path) would otherwise
/// lose to the harness's own `post` (a signed webhook).
struct ApiApp(TestApp);

impl Deref for ApiApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

impl ApiApp {
    /// The service with the shipped flows and one admin (token [`ADMIN`]).
    async fn start() -> ApiApp {
        ApiApp(TestApp::start_setup(Setup::with_admin()).await)
    }

    async fn stop(self) {
        self.0.stop().await;
    }

    /// A resident's text message, signed as Meta signs it.
    async fn resident(&self, id: &str, from: &str, text: &str) {
        let r = self.0.post(&text_message(id, from, text)).await;
        assert_eq!(r.status(), 200);
    }

    async fn user(&self, name: &str, role: &str, departments: &[&str]) -> String {
        self.0.user(name, role, departments).await
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.0.get_as(token, path).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.0.post_as(token, path, body).await
    }

    /// Waits until the department's queue holds a conversation of `masked`; returns its entry.
    async fn queued(&self, token: &str, department: &str, masked: &str) -> Value {
        for _ in 0..200 {
            let (status, v) = self.get(token, &format!("/api/queues/{department}")).await;
            assert_eq!(status, 200, "{v}");
            if let Some(c) = v["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["resident"] == masked)
            {
                return c.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no conversation of {masked} in the queue of {department}");
    }

    /// Waits until the conversation has `n` decisions of the bot.
    async fn decided(&self, token: &str, id: i64, n: usize) -> Value {
        for _ in 0..200 {
            let (status, v) = self.get(token, &format!("/api/conversations/{id}")).await;
            assert_eq!(status, 200, "{v}");
            if v["decisions"].as_array().unwrap().len() >= n {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("conversation {id} did not get {n} decisions");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_their_queue_in_business_hours_and_nothing_else() {
    let app = ApiApp::start().await;
    let sanne = app.user("sanne", "agent", &["sociaal-domein"]).await;
    let bram = app.user("bram", "agent", &["burgerzaken"]).await;

    // Friday 16:30, in office hours: handed over to Sociaal Domein.
    app.set_clock(FRIDAY_HANDOVER).await;
    app.resident(
        "wamid.Q1",
        "31612345678",
        "ik wil een wmo voorziening aanvragen",
    )
    .await;
    let entry = app.queued(&sanne, "sociaal-domein", "******5678").await;
    let sociaal_id = entry["id"].as_i64().unwrap();
    // Friday 19:30, out of hours: the routing rules put it in Burgerzaken.
    app.set_clock(FRIDAY_EVENING).await;
    app.resident(
        "wamid.Q2",
        "31687654321",
        "ik wil mijn naam wijzigen, naamswijziging",
    )
    .await;
    let entry = app.queued(&bram, "burgerzaken", "******4321").await;
    let burgerzaken_id = entry["id"].as_i64().unwrap();

    // Monday 09:00: Friday 16:30–17:00 and Monday 08:30–09:00 is exactly one business hour.
    app.set_clock(MONDAY_NINE).await;
    let (status, q) = app.get(&sanne, "/api/queues/sociaal-domein").await;
    assert_eq!(status, 200, "{q}");
    let list = q["conversations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{q}");
    let c = &list[0];
    assert_eq!(c["id"], sociaal_id);
    assert_eq!(c["resident"], "******5678");
    assert_eq!(c["resident_name"], "Fatima");
    assert_eq!(c["waiting_business_seconds"], 3600, "{c}");
    assert_eq!(c["goal"], "due_soon", "{c}");
    assert_eq!(c["phase"], "queued");
    assert!(c["last_message"]["text"]
        .as_str()
        .unwrap()
        .contains("wmo voorziening"));
    assert!(!q.to_string().contains("31612345678"), "an unmasked number");
    // Out of hours on Friday evening: only Monday's half hour counts.
    let c = app.queued(&bram, "burgerzaken", "******4321").await;
    assert_eq!(c["waiting_business_seconds"], 1800, "{c}");
    assert_eq!(c["goal"], "on_time");

    // An agent lists only their own departments' queues.
    let (_, queues) = app.get(&sanne, "/api/queues").await;
    let ids: Vec<&str> = queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sociaal-domein"]);
    assert_eq!(queues["queues"][0]["waiting"], 1);
    assert_eq!(queues["queues"][0]["late"], 0);
    // The admin sees them all.
    let (_, all) = app.get(ADMIN, "/api/queues").await;
    assert!(all["queues"].as_array().unwrap().len() >= 6, "{all}");

    // Another department, also by direct URL: 403.
    let (status, e) = app.get(&sanne, "/api/queues/burgerzaken").await;
    assert_eq!(status, 403);
    assert_eq!(e["error"], "forbidden");
    assert!(e["message"].is_string());
    let (status, _) = app
        .get(&sanne, &format!("/api/conversations/{burgerzaken_id}"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post(
            &sanne,
            &format!("/api/conversations/{burgerzaken_id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, e) = app.get(&sanne, "/api/queues/burgerzakne").await;
    assert_eq!(status, 404);
    assert!(
        e["message"].as_str().unwrap().contains("burgerzaken"),
        "{e}"
    );

    // No token, or an unknown one: 401.
    let r = app
        .http
        .get(format!("{}/api/queues", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "unauthorized");
    let (status, _) = app.get("not-a-token", "/api/me").await;
    assert_eq!(status, 401);
    let (status, me) = app.get(&sanne, "/api/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["name"], "sanne");
    assert_eq!(me["role"], "agent");

    // A minute later the hour has passed: late.
    app.set_clock("2026-11-30T09:01:00+01:00").await;
    let c = app.queued(&sanne, "sociaal-domein", "******5678").await;
    assert_eq!(c["goal"], "late");
    let (_, queues) = app.get(&sanne, "/api/queues").await;
    assert_eq!(queues["queues"][0]["late"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_reply_forward_resolve_reopen_all_audited() {
    let app = ApiApp::start().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    let bram = app.user("bram", "agent", &["burgerzaken"]).await;
    app.set_clock(TUESDAY_MORNING).await;
    app.resident(
        "wamid.C1",
        "31600000011",
        "mijn buurman heeft een vraag over iets raars",
    )
    .await;
    let id = app.queued(&kim, "kcc", "******0011").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.sent(1).await.len(), 1, "the handover reply");

    // Claimed: the bot stays quiet, also on a question it could answer.
    let (status, v) = app
        .post(&kim, &format!("/api/conversations/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["phase"], "with_agent");
    assert_eq!(v["agent"], "kim");
    app.resident("wamid.C2", "31600000011", "ik wil een nieuw paspoort")
        .await;
    let view = app.decided(&kim, id, 2).await;
    assert_eq!(view["decisions"][1]["outcome"], "to_agent", "{view}");
    app.drain().await;
    assert_eq!(
        app.graph.messages().len(),
        1,
        "no FAQ answer over the agent's head"
    );
    // Out of the queue while claimed.
    let (_, q) = app.get(&kim, "/api/queues/kcc").await;
    assert!(q["conversations"].as_array().unwrap().is_empty(), "{q}");
    // ... but in the agent's own list, on top: the resident wrote after the claim.
    let (status, mine) = app.get(&kim, "/api/mine").await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["conversations"][0]["id"], id, "{mine}");
    assert_eq!(mine["conversations"][0]["unanswered"], true, "{mine}");

    // The reply reaches the Graph API with the agent's text.
    let (status, v) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "Hallo Fatima, ik help je graag verder." }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, mine) = app.get(&kim, "/api/mine").await;
    assert_eq!(mine["conversations"][0]["unanswered"], false, "{mine}");
    let sent = app.sent(2).await;
    assert_eq!(sent[1].to.as_deref(), Some("31600000011"));
    assert_eq!(
        body_text(&sent[1]),
        "Hallo Fatima, ik help je graag verder."
    );
    let (status, e) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "x".repeat(4097) }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "text_too_long");

    // Forward: an unknown department gets a "did you mean".
    let (status, e) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/forward"),
            json!({ "department": "burgerzakn" }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "unknown_department");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Bedoel je `burgerzaken`?"),
        "{e}"
    );
    let note = "Vraagt naar een paspoort voor haar zoon, graag terugbellen";
    let (status, v) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/forward"),
            json!({ "department": "burgerzaken", "note": note }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["phase"], "queued");
    assert_eq!(v["agent"], Value::Null);
    let entry = app.queued(&bram, "burgerzaken", "******0011").await;
    assert_eq!(entry["id"], id);
    assert_eq!(entry["agent"], Value::Null);
    // Kim's department no longer has it.
    let (status, _) = app.get(&kim, &format!("/api/conversations/{id}")).await;
    assert_eq!(status, 403);
    // The note is in the history for colleagues, and never sent.
    let (_, view) = app.get(&bram, &format!("/api/conversations/{id}")).await;
    let notes: Vec<&Value> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "note")
        .collect();
    assert_eq!(notes.len(), 1, "{view}");
    assert_eq!(notes[0]["text"], note);
    assert_eq!(notes[0]["direction"], "internal");
    assert_eq!(notes[0]["author"], "agent:kim");
    app.drain().await;
    let sent = app.graph.messages();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent
        .iter()
        .all(|m| !m.body.to_string().contains("terugbellen")));

    // Resolve, then reopen: back in its department's queue.
    let (status, v) = app
        .post(
            &bram,
            &format!("/api/conversations/{id}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["phase"], "resolved");
    let (_, q) = app.get(&bram, "/api/queues/burgerzaken").await;
    assert!(q["conversations"].as_array().unwrap().is_empty(), "{q}");
    let (status, _) = app
        .post(
            &bram,
            &format!("/api/conversations/{id}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, v) = app
        .post(&bram, &format!("/api/conversations/{id}/reopen"), json!({}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["phase"], "queued");
    assert_eq!(v["department"], "burgerzaken");
    app.queued(&bram, "burgerzaken", "******0011").await;

    // The audit trail: who did what, when (the service's clock).
    let (_, view) = app.get(&bram, &format!("/api/conversations/{id}")).await;
    let trail: Vec<(String, String)> = view["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap().to_string(),
                a["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("kim", "claim"),
        ("kim", "reply"),
        ("kim", "forward"),
        ("bram", "resolve"),
        ("bram", "reopen"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(trail, want);
    assert!(view["audit"][0]["at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-24T09:00"));
    assert_eq!(
        view["audit"][2]["detail"],
        "from kcc to burgerzaken, with a note"
    );
    // The agent's reply is in the history with its delivery.
    let replies: Vec<&Value> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "agent:kim" && m["direction"] == "out")
        .collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["send_status"], "sent");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_the_window_only_a_template_goes_out() {
    let app = ApiApp::start().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    app.set_clock(FRIDAY_EVENING).await;
    app.resident(
        "wamid.W1",
        "31600000021",
        "mijn buurman heeft een vraag over iets raars",
    )
    .await;
    let id = app.queued(&kim, "kcc", "******0021").await["id"]
        .as_i64()
        .unwrap();
    app.sent(1).await;
    // Monday 10:00: more than 24 hours since the resident wrote (the follow-up went at 08:30).
    app.set_clock("2026-11-30T10:00:00+01:00").await;
    app.sent(2).await;
    let (_, view) = app.get(&kim, &format!("/api/conversations/{id}")).await;
    assert_eq!(view["in_window"], false, "{view}");
    assert_eq!(view["templates"][0]["name"], "vraag_nog_open");

    let (status, e) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "Goedemorgen, wat kan ik voor je doen?" }),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"], "outside_window");
    assert_eq!(
        e["templates"],
        json!([{
            "name": "vraag_nog_open", "language": "nl", "parameters": ["Fatima"],
            "text": "Goedemorgen Fatima! Je stuurde ons buiten kantoortijd een bericht. Heb je nog antwoord nodig?",
        }])
    );
    let (status, e) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "template": "vraag_nog_ope" }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        e["message"].as_str().unwrap().contains("vraag_nog_open"),
        "{e}"
    );
    app.drain().await;
    assert_eq!(
        app.graph.messages().len(),
        2,
        "nothing sent by refused replies"
    );

    let (status, v) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "template": "vraag_nog_open" }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["agent"], "kim");
    let sent = app.sent(3).await;
    assert_eq!(sent[2].body["type"], "template");
    assert_eq!(sent[2].body["template"]["name"], "vraag_nog_open");
    assert_eq!(sent[2].to.as_deref(), Some("31600000021"));
    // The history shows the template as the resident read it, not its name and parameters.
    let (_, view) = app.get(&kim, &format!("/api/conversations/{id}")).await;
    let templates: Vec<&Value> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "template")
        .collect();
    assert!(!templates.is_empty(), "{view}");
    for m in templates {
        assert_eq!(
            m["text"],
            "Goedemorgen Fatima! Je stuurde ons buiten kantoortijd een bericht. Heb je nog antwoord nodig?"
        );
        assert_eq!(m["template"], "[template vraag_nog_open: Fatima]");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_view_shows_context_but_never_a_bsn() {
    let app = ApiApp::start().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    app.set_clock(TUESDAY_MORNING).await;
    app.resident(
        "wamid.B1",
        "31600000031",
        "mijn buurman heeft een vraag over iets raars",
    )
    .await;
    let id = app.queued(&kim, "kcc", "******0031").await["id"]
        .as_i64()
        .unwrap();
    app.resident("wamid.B2", "31600000031", "mijn bsn is 123456782")
        .await;
    let view = app.decided(&kim, id, 2).await;
    let text = view.to_string();
    assert!(!text.contains("123456782"), "an unmasked BSN: {text}");
    assert!(!text.contains("31600000031"), "an unmasked number: {text}");
    assert_eq!(view["resident"], "******0031");
    assert_eq!(view["in_window"], true);
    assert_eq!(view["templates"], json!([]));
    // The history: the resident's messages (masked), the bot's replies with their delivery.
    let messages = view["messages"].as_array().unwrap();
    let inbound: Vec<&Value> = messages.iter().filter(|m| m["direction"] == "in").collect();
    assert_eq!(inbound.len(), 2);
    assert!(inbound[1]["text"].as_str().unwrap().contains("bsn is"));
    assert!(messages
        .iter()
        .any(|m| m["author"] == "bot" && m["kind"] == "text"));
    // The bot's decisions, with their traces.
    assert_eq!(view["decisions"][0]["outcome"], "handover");
    assert_eq!(view["decisions"][1]["outcome"], "privacy_redirect");
    // Each step is stored as data and shown with a Dutch text; a handover names the department.
    let steps = view["decisions"][0]["decision"]["trace"]["steps"]
        .as_array()
        .unwrap();
    assert!(
        steps.iter().any(|s| s["step"] == "route_default"
            || s["step"] == "route_rule" && s["text"].as_str().unwrap().contains("Burgerzaken")),
        "{steps:?}"
    );
    assert!(steps.iter().all(|s| s["text"].is_string()), "{steps:?}");
    // The stored decision keeps no replies, state or text twice.
    let stored = &view["decisions"][0]["decision"];
    assert!(
        stored.get("replies").is_none() && stored.get("state").is_none(),
        "{stored}"
    );
    // An agent's reply with a BSN in it is refused, and nothing of it is stored.
    let (status, body) = app
        .post(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "Klopt het dat uw BSN 111222333 is?" }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "personal_data");
    // The agent reads why in Dutch, with the kind of data the flows name.
    assert_eq!(
        body["message"],
        "Je antwoord bevat een burgerservicenummer (BSN). Dat hoort niet in een chat: verwijs de inwoner naar de beveiligde pagina.",
    );
    let view = app.decided(&kim, id, 2).await;
    assert!(!view.to_string().contains("111222333"));
    let (status, _) = app.get(&kim, "/api/conversations/9999").await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&kim, "/api/conversations/abc").await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_managed_by_admins_and_guard_the_admin_endpoints() {
    let app = ApiApp::start().await;
    let kim = app.user("kim", "agent", &["kcc"]).await;
    let eva = app.user("eva", "editor", &[]).await;
    assert_eq!(kim.len(), 64);

    let (status, e) = app
        .post(
            ADMIN,
            "/api/users",
            json!({ "name": "kim", "role": "agent", "departments": ["kcc"] }),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    let (status, e) = app
        .post(
            ADMIN,
            "/api/users",
            json!({ "name": "piet", "role": "agnet", "departments": ["kcc"] }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `agent`"),
        "{e}"
    );
    let (status, _) = app
        .post(&kim, "/api/users", json!({ "name": "x", "role": "admin" }))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get(&eva, "/api/users").await;
    assert_eq!(status, 403);
    let (status, list) = app.get(ADMIN, "/api/users").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beheer", "eva", "kim"]);
    assert!(!list.to_string().contains(&kim), "tokens are never listed");
    // An editor sees every queue.
    let (status, q) = app.get(&eva, "/api/queues/burgerzaken").await;
    assert_eq!(status, 200, "{q}");

    // Once users exist, reload and the test clock need an editor's or admin's token.
    let reload = |token: Option<&str>| {
        let mut r = app.http.post(format!("{}/admin/reload", app.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(reload(None).await.unwrap().status(), 401);
    assert_eq!(reload(Some(&kim)).await.unwrap().status(), 403);
    assert_eq!(reload(Some(&eva)).await.unwrap().status(), 200);
    let r = app
        .http
        .post(format!("{}/admin/clock", app.base))
        .json(&json!({ "at": TUESDAY_MORNING }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Removed: the token no longer works.
    let r = app
        .http
        .delete(format!("{}/api/users/kim", app.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _) = app.get(&kim, "/api/me").await;
    assert_eq!(status, 401);
    let users = app.state.store.users().unwrap();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u.name != "kim"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_names_every_route() {
    let app = ApiApp::start().await;
    let r = app
        .http
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, doc) = app.get(ADMIN, "/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = [
        ("get", "/api/openapi.json"),
        ("get", "/api/me"),
        ("get", "/api/queues"),
        ("get", "/api/queues/{department}"),
        ("post", "/api/queues/{department}/next"),
        ("get", "/api/conversations/{id}"),
        ("post", "/api/conversations/{id}/number"),
        ("get", "/api/mine"),
        ("post", "/api/conversations/{id}/claim"),
        ("post", "/api/conversations/{id}/reply"),
        ("post", "/api/conversations/{id}/forward"),
        ("post", "/api/conversations/{id}/resolve"),
        ("post", "/api/conversations/{id}/reopen"),
        ("get", "/api/topics"),
        ("put", "/api/conversations/{id}/messages/{message}/label"),
        ("delete", "/api/conversations/{id}/messages/{message}/label"),
        ("get", "/api/editor/labels"),
        ("post", "/api/editor/labels/{message}/test"),
        ("get", "/api/users"),
        ("post", "/api/users"),
        ("delete", "/api/users/{name}"),
        ("get", "/api/residents/{channel}/{id}"),
        ("delete", "/api/residents/{channel}/{id}"),
        ("get", "/api/canned"),
        ("get", "/api/events"),
        ("post", "/auth/login"),
        ("post", "/auth/logout"),
        ("get", "/auth/status"),
        ("get", "/api/reports"),
        ("get", "/api/reports/{table}"),
        ("get", "/api/editor/status"),
        ("get", "/api/editor/diff"),
        ("post", "/api/editor/reload"),
        ("post", "/api/editor/try"),
        ("get", "/api/editor/unmatched"),
        ("post", "/api/editor/check"),
        ("get", "/api/editor/schema/{name}"),
        ("get", "/api/editor/files"),
        ("get", "/api/editor/draft"),
        ("put", "/api/editor/draft"),
        ("delete", "/api/editor/draft"),
        ("post", "/api/editor/draft/try"),
        ("post", "/api/editor/draft/test"),
        ("get", "/api/editor/draft/diff"),
        ("post", "/api/editor/publish"),
        ("get", "/api/editor/requests"),
        ("post", "/api/editor/requests/{id}/approve"),
        ("post", "/api/editor/requests/{id}/reject"),
        ("get", "/api/editor/versions"),
        ("get", "/api/editor/versions/{id}"),
        ("post", "/api/editor/rollback"),
    ];
    for (method, path) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not described");
        assert!(
            op["responses"].is_object(),
            "{method} {path} has no responses"
        );
    }
    let described: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        described,
        routes.len(),
        "a described route the test does not know"
    );
    // Every reference points at something that exists.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/").skip(1) {
        let target = &part[..part.find('"').unwrap()];
        let (kind, name) = target.split_once('/').unwrap();
        assert!(
            doc["components"][kind][name].is_object(),
            "dangling reference {target}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_audited_and_only_admins_export_or_erase_a_resident() {
    let app = ApiApp::start().await;
    let sanne = app.user("sanne", "agent", &["sociaal-domein"]).await;
    let eva = app.user("eva", "editor", &[]).await;
    app.set_clock(TUESDAY_MORNING).await;
    app.resident(
        "wamid.R1",
        "31612345678",
        "ik wil een wmo voorziening aanvragen",
    )
    .await;
    let entry = app.queued(&sanne, "sociaal-domein", "******5678").await;
    let id = entry["id"].as_i64().unwrap();
    app.decided(&sanne, id, 1).await;
    let (status, _) = app
        .post(&sanne, &format!("/api/conversations/{id}/claim"), json!({}))
        .await;
    assert_eq!(status, 200);

    // Who looked: every read is in the audit table, but the view lists only what was done.
    let (status, view) = app.get(&eva, &format!("/api/conversations/{id}")).await;
    assert_eq!(status, 200, "{view}");
    let actions: Vec<&str> = view["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["claim"]);
    let export = app
        .state
        .store
        .resident_export("whatsapp", "31612345678")
        .unwrap()
        .unwrap();
    let reads: Vec<&str> = export.conversations[0]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "conversation_read")
        .map(|a| a["actor"].as_str().unwrap())
        .collect();
    assert!(
        reads.contains(&"sanne") && reads.contains(&"eva"),
        "{reads:?}"
    );
    assert!(reads.len() >= 2);

    // The inbox reads an open conversation again at every live update: within 15 minutes that
    // is the same look, one line; a read after that is a new one.
    let eva_reads = |app: &ApiApp| {
        let export = app
            .state
            .store
            .resident_export("whatsapp", "31612345678")
            .unwrap()
            .unwrap();
        export.conversations[0]["audit"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "conversation_read" && a["actor"] == "eva")
            .count()
    };
    for _ in 0..3 {
        let (status, _) = app.get(&eva, &format!("/api/conversations/{id}")).await;
        assert_eq!(status, 200);
    }
    assert_eq!(eva_reads(&app), 1);
    app.set_clock("2026-11-24T10:16:00+01:00").await;
    let (status, _) = app.get(&eva, &format!("/api/conversations/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(eva_reads(&app), 2);

    // Agents and editors may neither export nor erase.
    let path = "/api/residents/whatsapp/31612345678";
    let delete = |token: &str| {
        app.http
            .delete(format!("{}{path}", app.base))
            .bearer_auth(token.to_string())
            .send()
    };
    for token in [&sanne, &eva] {
        let (status, e) = app.get(token, path).await;
        assert_eq!(status, 403, "{e}");
        assert!(!e.to_string().contains("wmo"));
        assert_eq!(delete(token).await.unwrap().status(), 403);
    }
    let (status, _) = app.get(ADMIN, "/api/residents/whatsapp/31600000000").await;
    assert_eq!(status, 404);

    // The admin exports (unmasked: the resident's own data) and erases, both audited.
    let (status, export) = app.get(ADMIN, path).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["resident"], "31612345678");
    assert_eq!(export["counts"]["conversations"], 1);
    assert!(export.to_string().contains("wmo voorziening"));
    let r = delete(ADMIN).await.unwrap();
    assert_eq!(r.status(), 200);
    let erased: Value = r.json().await.unwrap();
    assert_eq!(erased["erased"]["conversations"], 1, "{erased}");
    assert!(
        erased["erased"]["messages"].as_u64().unwrap() >= 2,
        "{erased}"
    );
    assert_eq!(delete(ADMIN).await.unwrap().status(), 404);
    let (status, _) = app.get(ADMIN, &format!("/api/conversations/{id}")).await;
    assert_eq!(status, 404);
    assert!(app
        .state
        .store
        .resident_export("whatsapp", "31612345678")
        .unwrap()
        .is_none());
    app.stop().await;
}
