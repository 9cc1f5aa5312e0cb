//! Messenger and Instagram from the outside: the real service on port 0 configured for the
//! channel, its Send API stand-in on its own loopback port, the test clock, and signed webhooks
//! as Meta sends them. What the stand-in received and what the store kept are the evidence.

mod common;

use chrono::DateTime;
use common::app::{wait_until, Setup, TestApp, ADMIN, FRIDAY_EVENING};
use serde_json::{json, Value};
use triage::channel::Channel;
use triage::channels::meta::standin::{EchoCallback, Fault, Recorded, Running, StandIn};

const PAGE: &str = "104502848761234";
const IG_ACCOUNT: &str = "17841400000000001";
const APP_SECRET: &str = "meta-app-secret";
const VERIFY_TOKEN: &str = "meta-verify-token";
/// In office hours (Europe/Amsterdam, UTC+1 in November).
const TUESDAY_MORNING: &str = "2026-11-24T10:00:00+01:00";

/// An FAQ question whose answer has buttons (quick replies here).
const FAQ: &str = "ik wil een nieuw paspoort";
/// A question the bot hands over (to the KCC).
const FOR_A_PERSON: &str = "mijn buurman heeft een vraag over iets raars";

/// Milliseconds since the epoch of an RFC 3339 time.
fn ms(at: &str) -> i64 {
    DateTime::parse_from_rfc3339(at).unwrap().timestamp_millis()
}

/// The service with an admin, configured for `channel` on its own stand-in.
struct MetaApp {
    app: TestApp,
    standin: StandIn,
    channel: Channel,
    account: &'static str,
    _running: Running,
}

impl MetaApp {
    async fn start(channel: Channel, clock: &'static str) -> MetaApp {
        let standin = StandIn::new(channel);
        let running = standin.start().await.unwrap();
        let base = running.base_url();
        let account = match channel {
            Channel::Instagram => IG_ACCOUNT,
            _ => PAGE,
        };
        let app = TestApp::start_setup(Setup {
            clock,
            configure: Box::new(move |c| {
                let a = match channel {
                    Channel::Instagram => &mut c.instagram,
                    _ => &mut c.messenger,
                };
                a.app_secret = APP_SECRET.into();
                a.verify_token = VERIFY_TOKEN.into();
                a.access_token = "EAAG-page-token".into();
                a.api_base = base;
                a.account_id = account.into();
            }),
            ..Setup::with_admin()
        })
        .await;
        MetaApp {
            app,
            standin,
            channel,
            account,
            _running: running,
        }
    }

    fn url(&self) -> String {
        format!("{}/webhooks/{}", self.app.base, self.channel.as_str())
    }

    async fn post_raw(&self, body: &[u8], signature: Option<String>) -> reqwest::Response {
        let mut req = self
            .app
            .http
            .post(self.url())
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("x-hub-signature-256", s);
        }
        req.send().await.unwrap()
    }

    /// The webhook of these `messaging[]` events.
    fn hook(&self, events: Value) -> Vec<u8> {
        let object = match self.channel {
            Channel::Instagram => "instagram",
            _ => "page",
        };
        serde_json::to_vec(&json!({
            "object": object,
            "entry": [{ "id": self.account, "time": 1, "messaging": events }]
        }))
        .unwrap()
    }

    /// Posts these events, signed as Meta signs them; the HTTP status.
    async fn post(&self, events: Value) -> u16 {
        let body = self.hook(events);
        let sig = triage::channels::whatsapp::sign(APP_SECRET.as_bytes(), &body);
        self.post_raw(&body, Some(sig)).await.status().as_u16()
    }

    /// An event of `psid` to our account at `at`.
    fn event(&self, psid: &str, at: &str, body: Value) -> Value {
        let mut e = json!({ "sender": { "id": psid }, "recipient": { "id": self.account },
                            "timestamp": ms(at) });
        for (k, v) in body.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    async fn text(&self, psid: &str, mid: &str, at: &str, text: &str) {
        let e = self.event(psid, at, json!({ "message": { "mid": mid, "text": text } }));
        assert_eq!(self.post(json!([e])).await, 200);
    }

    /// What the stand-in received for `psid`.
    fn sent_to(&self, psid: &str) -> Vec<Recorded> {
        self.standin.sent_since(0, Some(psid))
    }

    /// Waits until the stand-in has `n` messages for `psid`.
    async fn sent(&self, psid: &str, n: usize) -> Vec<Recorded> {
        wait_until("the replies at the stand-in", || {
            self.sent_to(psid).len() >= n
        })
        .await;
        self.sent_to(psid)
    }

    /// Everything the store keeps of `psid`'s conversation, as stored.
    fn stored(&self, psid: &str) -> Option<Value> {
        self.app
            .state
            .store
            .resident_export(self.channel.as_str(), psid)
            .unwrap()
            .map(|e| e.conversations[0].clone())
    }

    /// The stored rows of `psid` of one kind (`messages`, `outbox`, `decisions`).
    fn rows(&self, psid: &str, kind: &str) -> Vec<Value> {
        self.stored(psid)
            .map(|c| c[kind].as_array().unwrap().clone())
            .unwrap_or_default()
    }

    async fn stop(self) {
        self.app.stop().await;
    }
}

fn outcomes(decisions: &[Value]) -> Vec<String> {
    decisions
        .iter()
        .map(|d| d["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messenger_handshake_and_signatures_refuse_strangers() {
    let m = MetaApp::start(Channel::Messenger, TUESDAY_MORNING).await;
    let get = |q: String| {
        let url = format!("{}?{q}", m.url());
        let http = m.app.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    let ok = get(format!(
        "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    ))
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    for q in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1".to_string(),
        format!("hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"),
        format!("hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"),
    ] {
        assert_eq!(get(q).await.status(), 403);
    }

    let psid = "2400000000000001";
    let body = m.hook(json!([m.event(
        psid,
        TUESDAY_MORNING,
        json!({ "message": { "mid": "m_forged", "text": FAQ } })
    )]));
    assert_eq!(m.post_raw(&body, None).await.status(), 401);
    let forged = triage::channels::whatsapp::sign(b"not-the-secret", &body);
    assert_eq!(m.post_raw(&body, Some(forged)).await.status(), 403);
    // WhatsApp's secret is not Messenger's.
    let whatsapps = triage::channels::whatsapp::sign(common::app::SECRET.as_bytes(), &body);
    assert_eq!(m.post_raw(&body, Some(whatsapps)).await.status(), 403);
    assert_eq!(
        m.post_raw(&body, Some("sha256=zz".into())).await.status(),
        403
    );
    // Signed but not understood (no JSON, another object): 200, dropped.
    let junk = b"{not json";
    let sig = triage::channels::whatsapp::sign(APP_SECRET.as_bytes(), junk);
    assert_eq!(m.post_raw(junk, Some(sig)).await.status(), 200);
    let other = br#"{"object":"instagram","entry":[]}"#;
    let sig = triage::channels::whatsapp::sign(APP_SECRET.as_bytes(), other);
    assert_eq!(m.post_raw(other, Some(sig)).await.status(), 200);
    // The route has its body limit.
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    let sig = triage::channels::whatsapp::sign(APP_SECRET.as_bytes(), &big);
    assert_eq!(m.post_raw(&big, Some(sig)).await.status(), 413);

    m.app.drain().await;
    assert!(
        m.stored(psid).is_none(),
        "nothing of a refused post is kept"
    );
    let counts = m.app.state.store.counts().unwrap();
    assert_eq!((counts.inbound_pending, counts.outbox_pending), (0, 0));
    assert!(m.standin.messages().is_empty());
    let metrics = m.app.metrics().await;
    assert!(
        metrics.contains("triage_webhooks_rejected_total 6"),
        "{metrics}"
    );
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messenger_messages_buttons_media_receipts_and_echoes() {
    let m = MetaApp::start(Channel::Messenger, TUESDAY_MORNING).await;
    let t = TUESDAY_MORNING;

    // A text: the FAQ answer goes as a RESPONSE with quick replies and our outbox id.
    let alice = "2400000000000011";
    m.text(alice, "m_text1", t, FAQ).await;
    let sent = m.sent(alice, 1).await;
    m.app.drain().await;
    let b = &sent[0].body;
    assert_eq!(sent[0].account_id, PAGE);
    assert_eq!(b["recipient"]["id"], alice);
    assert_eq!(b["messaging_type"], "RESPONSE");
    assert!(b.get("tag").is_none());
    let text = b["message"]["text"].as_str().unwrap();
    assert!(text.contains("paspoort"), "{text}");
    assert!(
        text.contains("https://www.terneuzen.nl/"),
        "links in the text: {text}"
    );
    let quick = b["message"]["quick_replies"].as_array().unwrap();
    assert!(!quick.is_empty() && quick.len() <= 13, "{b}");
    for q in quick {
        assert_eq!(q["content_type"], "text");
        assert!(q["title"].as_str().unwrap().chars().count() <= 20, "{q}");
    }
    let outbox = m.rows(alice, "outbox");
    assert_eq!(
        b["message"]["metadata"],
        format!("outbox:{}", outbox[0]["id"])
    );
    let stored = m.rows(alice, "messages");
    assert_eq!(stored[0]["provider_id"], "messenger:m_text1");
    assert_eq!(stored[0]["kind"], "text");
    assert_eq!(
        outbox[0]["provider_id"],
        format!("messenger:{}", sent[0].message_id)
    );

    // The same message delivered again changes nothing.
    m.text(alice, "m_text1", t, FAQ).await;
    m.app.drain().await;
    assert_eq!(m.sent_to(alice).len(), 1);
    assert_eq!(
        m.rows(alice, "messages").len(),
        2,
        "the question and the answer"
    );

    // A delivery receipt for the answer.
    let delivered = m.event(
        alice,
        t,
        json!({ "delivery": { "mids": [sent[0].message_id], "watermark": ms(t) + 5000 } }),
    );
    assert_eq!(m.post(json!([delivered])).await, 200);
    wait_until("the delivery recorded", || {
        m.rows(alice, "outbox")[0]["delivery"] == "delivered"
    })
    .await;

    // A tapped quick reply: its payload decides.
    let payload = quick
        .iter()
        .map(|q| q["payload"].as_str().unwrap())
        .find(|p| p.starts_with("topic:"))
        .unwrap()
        .to_string();
    let bob = "2400000000000012";
    let tap = m.event(
        bob,
        t,
        json!({ "message": { "mid": "m_tap1", "text": "Afspraak maken",
                             "quick_reply": { "payload": payload } } }),
    );
    assert_eq!(m.post(json!([tap])).await, 200);
    m.sent(bob, 1).await;
    let stored = m.rows(bob, "messages");
    assert_eq!(stored[0]["kind"], "button");
    let decisions = m.rows(bob, "decisions");
    assert_eq!(
        decisions[0]["topic"],
        payload.trim_start_matches("topic:"),
        "{decisions:?}"
    );

    // A postback (a menu or template button).
    let carol = "2400000000000013";
    let postback = m.event(
        carol,
        t,
        json!({ "postback": { "mid": "m_pb1", "title": "Openingstijden",
                              "payload": "topic:openingstijden" } }),
    );
    assert_eq!(m.post(json!([postback])).await, 200);
    m.sent(carol, 1).await;
    assert_eq!(m.rows(carol, "messages")[0]["kind"], "button");
    assert_eq!(m.rows(carol, "decisions")[0]["topic"], "openingstijden");

    // A photo: stored as an image, handed to a person with the media note.
    let dave = "2400000000000014";
    let photo = m.event(
        dave,
        t,
        json!({ "message": { "mid": "m_img1", "attachments": [
            { "type": "image", "payload": { "url": "https://scontent.xx.fbcdn.net/v/1.jpg" } }
        ] } }),
    );
    assert_eq!(m.post(json!([photo])).await, 200);
    let sent = m.sent(dave, 1).await;
    assert!(
        sent.iter()
            .any(|r| r.body["message"]["text"].as_str().unwrap().contains("Foto")),
        "{sent:#?}"
    );
    assert_eq!(m.rows(dave, "messages")[0]["kind"], "image");
    assert_eq!(outcomes(&m.rows(dave, "decisions")), ["handover"]);

    // Echoes: our own answer sent back, a colleague writing from the page's inbox, and a
    // message with our page as the sender: nothing stored, nothing answered.
    // Everything due is sent first (Dave's handover may have a second reply under way).
    m.app.drain().await;
    let before = m.rows(alice, "messages").len();
    let sent_before = m.standin.messages().len();
    let echoes = json!([
        { "sender": { "id": PAGE }, "recipient": { "id": alice }, "timestamp": ms(t) + 1000,
          "message": { "is_echo": true, "app_id": 1, "mid": m.sent_to(alice)[0].message_id,
                       "metadata": format!("outbox:{}", m.rows(alice, "outbox")[0]["id"]),
                       "text": "Een paspoort…" } },
        { "sender": { "id": PAGE }, "recipient": { "id": alice }, "timestamp": ms(t) + 2000,
          "message": { "is_echo": true, "mid": "m_colleague", "text": "ik wil een nieuw paspoort" } },
        { "sender": { "id": PAGE }, "recipient": { "id": alice }, "timestamp": ms(t) + 3000,
          "message": { "mid": "m_self", "text": "ik wil een nieuw paspoort" } },
    ]);
    assert_eq!(m.post(echoes).await, 200);
    m.app.drain().await;
    assert_eq!(m.rows(alice, "messages").len(), before);
    assert_eq!(m.standin.messages().len(), sent_before);
    assert!(m.stored(PAGE).is_none(), "our page is no resident");
    assert_eq!(
        m.rows(alice, "outbox")[0]["delivery"],
        "delivered",
        "the echo does not undo a later status"
    );
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messenger_windows_a_tagged_agent_reply_a_refused_one_and_no_bot_follow_up() {
    let m = MetaApp::start(Channel::Messenger, FRIDAY_EVENING).await;
    let kim = m.app.user("kim", "agent", &["kcc"]).await;
    let erik = "2400000000000021";

    // Friday 19:30: out of hours, handed over; the out-of-hours reply goes at once.
    m.text(erik, "m_fri1", FRIDAY_EVENING, FOR_A_PERSON).await;
    let sent = m.sent(erik, 1).await;
    assert_eq!(sent[0].body["messaging_type"], "RESPONSE");
    assert_eq!(outcomes(&m.rows(erik, "decisions")), ["handover"]);
    let id = m.stored(erik).unwrap()["id"].as_i64().unwrap();

    // Monday 19:30, three days later: the follow-up fell due at 08:30, but the bot may not
    // write on Messenger after 24 hours. Nothing is sent; the conversation is on top.
    m.app.set_clock("2026-11-30T19:30:00+01:00").await;
    m.app.drain().await;
    wait_until("the follow-up decided", || {
        m.rows(erik, "decisions").len() == 2
    })
    .await;
    assert_eq!(
        outcomes(&m.rows(erik, "decisions")),
        ["handover", "follow_up_blocked"]
    );
    m.app.drain().await;
    assert_eq!(m.sent_to(erik).len(), 1, "no follow-up at the Send API");
    let (status, q) = m.app.get_as(ADMIN, "/api/queues/kcc").await;
    assert_eq!(status, 200, "{q}");
    let entry = q["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("not in the queue: {q}"));
    assert_eq!(entry["on_top"], true, "{entry}");
    assert_eq!(entry["channel"], "messenger");

    // The agent's answer goes with the HUMAN_AGENT tag.
    let (status, v) = m
        .app
        .post_as(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "Hallo, ik kijk met je mee." }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let sent = m.sent(erik, 2).await;
    let b = &sent[1].body;
    assert_eq!(b["messaging_type"], "MESSAGE_TAG");
    assert_eq!(b["tag"], "HUMAN_AGENT");
    assert_eq!(b["message"]["text"], "Hallo, ik kijk met je mee.");
    wait_until("the agent's reply sent", || {
        m.rows(erik, "outbox").iter().all(|o| o["status"] == "sent")
    })
    .await;

    // Eight days after the resident wrote: refused by our API, in Dutch; nothing goes out.
    m.app.set_clock("2026-12-05T19:30:00+01:00").await;
    let (status, e) = m
        .app
        .post_as(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "Ben je er nog?" }),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"], "outside_window");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("te lang geleden"), "{message}");
    assert!(message.contains("Messenger"), "{message}");
    // Messenger has no templates: one named is refused too, before anything is stored.
    let (status, e) = m
        .app
        .post_as(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "template": "vraag_nog_open" }),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"], "no_templates");
    m.app.drain().await;
    assert_eq!(m.sent_to(erik).len(), 2);
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messenger_error_classes_retry_give_up_and_never_send_twice() {
    let m = MetaApp::start(Channel::Messenger, TUESDAY_MORNING).await;
    let t = TUESDAY_MORNING;
    // The first reply's outbox row (`Null` until there is one).
    let outbox = |psid: &str| m.rows(psid, "outbox").first().cloned().unwrap_or_default();

    // A rate limit (613): not sent now, retried after its backoff.
    let fiona = "2400000000000031";
    m.standin.inject(Fault::error(613)).unwrap();
    m.text(fiona, "m_rate1", t, FAQ).await;
    m.app.drain().await;
    assert!(m.sent_to(fiona).is_empty());
    let row = outbox(fiona);
    assert_eq!(row["status"], "pending", "{row}");
    assert!(row["last_error"].as_str().unwrap().contains("613"), "{row}");
    m.app.set_clock("2026-11-24T10:00:30+01:00").await;
    let sent = m.sent(fiona, 1).await;
    assert_eq!(sent.len(), 1);
    m.app.drain().await;
    assert_eq!(outbox(fiona)["status"], "sent");
    assert_eq!(outbox(fiona)["attempts"], 2);

    // A 503 from a proxy, without a Graph body: retried.
    let gert = "2400000000000032";
    m.standin.inject(Fault::status(503)).unwrap();
    m.text(gert, "m_5xx1", "2026-11-24T10:00:30+01:00", FAQ)
        .await;
    m.app.drain().await;
    assert!(m.sent_to(gert).is_empty());
    assert_eq!(outbox(gert)["status"], "pending");
    m.app.set_clock("2026-11-24T10:01:00+01:00").await;
    m.sent(gert, 1).await;

    // Outside the window, as the platform says (our clock thought otherwise): given up, and the
    // agent sees why.
    let hanna = "2400000000000033";
    m.standin.inject(Fault::error(10).subcode(2018278)).unwrap();
    m.text(hanna, "m_win1", "2026-11-24T10:01:00+01:00", FAQ)
        .await;
    wait_until("the send given up", || outbox(hanna)["status"] == "failed").await;
    assert_eq!(outbox(hanna)["attempts"], 1, "never retried");
    let id = m.stored(hanna).unwrap()["id"].as_i64().unwrap();
    let (status, view) = m
        .app
        .get_as(ADMIN, &format!("/api/conversations/{id}"))
        .await;
    assert_eq!(status, 200, "{view}");
    let out: Vec<&Value> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["direction"] == "out")
        .collect();
    assert_eq!(out[0]["send_status"], "failed", "{view}");
    let error = out[0]["error"].as_str().unwrap();
    assert!(error.contains("outside of allowed window"), "{error}");
    m.app.drain().await;
    assert!(m.sent_to(hanna).is_empty());

    // A person who cannot be reached (551): given up at once.
    let ivo = "2400000000000034";
    m.standin.inject(Fault::error(551)).unwrap();
    m.text(ivo, "m_551", "2026-11-24T10:01:00+01:00", FAQ).await;
    wait_until("the send given up", || outbox(ivo)["status"] == "failed").await;
    assert_eq!(outbox(ivo)["attempts"], 1);

    // The answer to a send is lost after the platform took it: its echo settles the row, and
    // past the send grace it is not sent again.
    m.standin
        .set_echoes(Some(EchoCallback::new(m.url(), APP_SECRET)));
    let jan = "2400000000000035";
    m.standin.inject(Fault::drop_connection(true)).unwrap();
    m.text(jan, "m_drop1", "2026-11-24T10:01:00+01:00", FAQ)
        .await;
    m.sent(jan, 1).await;
    wait_until("the echo delivered", || {
        m.standin.echo_stats().delivered >= 1
    })
    .await;
    wait_until("the row settled by its echo", || {
        outbox(jan)["status"] == "sent"
    })
    .await;
    assert_eq!(
        outbox(jan)["provider_id"],
        format!("messenger:{}", m.sent_to(jan)[0].message_id)
    );
    m.app.set_clock("2026-11-24T10:05:00+01:00").await;
    m.app.drain().await;
    m.app.drain().await;
    assert_eq!(m.sent_to(jan).len(), 1, "not sent twice");
    m.standin.set_echoes(None);

    // Lost before the platform took it: the sender waits the send grace (it cannot know),
    // then sends it once.
    let kees = "2400000000000036";
    m.standin.inject(Fault::drop_connection(false)).unwrap();
    m.text(kees, "m_drop2", "2026-11-24T10:05:00+01:00", FAQ)
        .await;
    m.app.drain().await;
    assert!(m.sent_to(kees).is_empty());
    assert_eq!(outbox(kees)["status"], "pending");
    m.app.set_clock("2026-11-24T10:05:30+01:00").await;
    m.app.drain().await;
    assert!(m.sent_to(kees).is_empty(), "not before the send grace");
    m.app.set_clock("2026-11-24T10:07:00+01:00").await;
    m.sent(kees, 1).await;
    m.app.drain().await;
    assert_eq!(m.sent_to(kees).len(), 1);
    assert_eq!(m.standin.pending_faults(), 0);
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instagram_direct_messages_end_to_end() {
    let m = MetaApp::start(Channel::Instagram, FRIDAY_EVENING).await;
    let kim = m.app.user("kim", "agent", &["kcc"]).await;
    let ok = m
        .app
        .http
        .get(format!(
            "{}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=77",
            m.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "77");
    let refused = m
        .app
        .http
        .get(format!(
            "{}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=77",
            m.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let igsid = "6180000000000041";
    let body = m.hook(json!([m.event(
        igsid,
        FRIDAY_EVENING,
        json!({ "message": { "mid": "aWdfZAG1", "text": FAQ } })
    )]));
    assert_eq!(m.post_raw(&body, None).await.status(), 401);
    let forged = triage::channels::whatsapp::sign(b"nope", &body);
    assert_eq!(m.post_raw(&body, Some(forged)).await.status(), 403);
    m.app.drain().await;
    assert!(m.stored(igsid).is_none());
    // A Messenger object on the Instagram route is not understood.
    let page = br#"{"object":"page","entry":[]}"#;
    let sig = triage::channels::whatsapp::sign(APP_SECRET.as_bytes(), page);
    assert_eq!(m.post_raw(page, Some(sig)).await.status(), 200);

    // The FAQ answer: a RESPONSE with quick replies, to the Instagram account's endpoint,
    // without the metadata Instagram does not document.
    m.text(igsid, "aWdfZAG1", FRIDAY_EVENING, FAQ).await;
    let sent = m.sent(igsid, 1).await;
    assert_eq!(sent[0].account_id, IG_ACCOUNT);
    let b = &sent[0].body;
    assert_eq!(b["messaging_type"], "RESPONSE");
    assert!(!b["message"]["quick_replies"].as_array().unwrap().is_empty());
    assert!(b["message"].get("metadata").is_none(), "{b}");
    assert!(b["message"]["text"].as_str().unwrap().len() <= 1000);
    assert_eq!(
        m.rows(igsid, "messages")[0]["provider_id"],
        "instagram:aWdfZAG1"
    );

    // Instagram's read receipt names the message read.
    let seen = m.event(
        igsid,
        FRIDAY_EVENING,
        json!({ "read": { "mid": sent[0].message_id } }),
    );
    assert_eq!(m.post(json!([seen])).await, 200);
    wait_until("the read receipt recorded", || {
        m.rows(igsid, "outbox")[0]["delivery"] == "read"
    })
    .await;

    // An echo of our own account: nothing stored, nothing answered.
    let before = m.rows(igsid, "messages").len();
    let echo = json!([{ "sender": { "id": IG_ACCOUNT }, "recipient": { "id": igsid },
        "timestamp": ms(FRIDAY_EVENING) + 1000,
        "message": { "is_echo": true, "mid": "aWdfZAGecho", "text": FAQ } }]);
    assert_eq!(m.post(echo).await, 200);
    m.app.drain().await;
    assert_eq!(m.rows(igsid, "messages").len(), before);
    assert_eq!(m.sent_to(igsid).len(), 1);

    // A question for a person, then Monday evening: no bot follow-up, the agent's reply tagged.
    let other = "6180000000000042";
    m.text(other, "aWdfZAG2", FRIDAY_EVENING, FOR_A_PERSON)
        .await;
    m.sent(other, 1).await;
    let id = m.stored(other).unwrap()["id"].as_i64().unwrap();
    m.app.set_clock("2026-11-30T19:30:00+01:00").await;
    m.app.drain().await;
    wait_until("the follow-up decided", || {
        outcomes(&m.rows(other, "decisions")).contains(&"follow_up_blocked".to_string())
    })
    .await;
    m.app.drain().await;
    assert_eq!(m.sent_to(other).len(), 1);
    // The agent may write up to 1,000 characters; Instagram counts 1,000 bytes, so the adapter
    // cuts a text of two-byte letters on a character boundary rather than have it refused.
    let long = format!("Hallo! {}", "é".repeat(900));
    let (status, v) = m
        .app
        .post_as(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": long }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let sent = m.sent(other, 2).await;
    let b = &sent[1].body;
    assert_eq!(
        (b["messaging_type"].as_str(), b["tag"].as_str()),
        (Some("MESSAGE_TAG"), Some("HUMAN_AGENT"))
    );
    let text = b["message"]["text"].as_str().unwrap();
    assert!(
        text.len() <= 1000 && text.starts_with("Hallo! éé"),
        "{} bytes",
        text.len()
    );

    m.app.set_clock("2026-12-05T19:30:00+01:00").await;
    let (status, e) = m
        .app
        .post_as(
            &kim,
            &format!("/api/conversations/{id}/reply"),
            json!({ "text": "Nog vragen?" }),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    assert!(e["message"].as_str().unwrap().contains("Instagram"), "{e}");
    m.app.drain().await;
    assert_eq!(m.sent_to(other).len(), 2);
    m.stop().await;
}
