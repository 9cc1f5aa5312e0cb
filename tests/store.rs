//! The embedded store: deduplication, one transaction per batch, the outbox's life cycle, delivery
//! statuses out of order, follow-ups, and recovery after a crash.

use chrono::{DateTime, Duration, Utc};
use triage::engine::{ConversationState, Phase, Reply};
use triage::store::sqlite::SqliteStore;
use triage::store::{
    Applied, Conversation, DeliveryUpdate, Inserted, NewInbound, OutboundText, OutboxItem,
    SendResult, Store,
};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn inbound(id: &str, from: &str, text: &str, when: &str) -> NewInbound {
    NewInbound {
        provider_id: id.into(),
        channel: triage::channel::Channel::WhatsApp,
        resident: from.into(),
        resident_name: Some("Fatima".into()),
        kind: "text".into(),
        text: text.into(),
        button: None,
        media: None,
        findings: Vec::new(),
        sent_at: at(when),
        received_at: at(when),
    }
}

fn text(t: &str) -> OutboundText {
    OutboundText {
        fallback: None,
        reply: Reply::Text {
            text: t.into(),
            buttons: Vec::new(),
        },
        author: "bot".into(),
    }
}

fn applied(
    conversation: &Conversation,
    message_id: Option<i64>,
    state: ConversationState,
    replies: Vec<OutboundText>,
    when: &str,
) -> Applied {
    Applied {
        conversation_id: conversation.id,
        version: conversation.version,
        message_id,
        state,
        outcome: "handover".into(),
        topic: None,
        decision: serde_json::json!({"outcome": "handover"}),
        replies,
        at: at(when),
    }
}

const T0: &str = "2026-11-27T18:30:00Z";

/// One resident message decided with one reply, and that reply taken for sending.
fn one_reply_taken(s: &SqliteStore) -> OutboxItem {
    s.insert_inbound(&[inbound("wamid.1", "31600000001", "x", T0)])
        .unwrap();
    let p = s.pending_inbound(1).unwrap().remove(0);
    s.apply(&[applied(
        &p.conversation,
        Some(p.message_id),
        ConversationState::default(),
        vec![text("a")],
        T0,
    )])
    .unwrap();
    s.take_due_outbox(at(T0), 10).unwrap().remove(0)
}

#[test]
fn duplicates_are_ignored_within_and_across_batches() {
    let s = SqliteStore::in_memory().unwrap();
    let r = s
        .insert_inbound(&[
            inbound("wamid.1", "31612345678", "hoi", T0),
            inbound("wamid.1", "31612345678", "hoi", T0),
            inbound("wamid.2", "31612345678", "nog iets", T0),
        ])
        .unwrap();
    assert!(matches!(r[0], Inserted::New { .. }));
    assert_eq!(r[1], Inserted::Duplicate);
    assert!(matches!(r[2], Inserted::New { .. }));
    assert_eq!(
        s.insert_inbound(&[inbound("wamid.2", "31612345678", "x", T0)])
            .unwrap(),
        vec![Inserted::Duplicate]
    );
    let pending = s.pending_inbound(10).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        pending[0].conversation.id, pending[1].conversation.id,
        "one conversation per resident"
    );
    assert_eq!(
        pending[0].conversation.state.resident_name.as_deref(),
        Some("Fatima")
    );
    assert_eq!(pending[0].text, "hoi");
}

#[test]
fn a_decision_becomes_messages_outbox_rows_and_a_follow_up_in_one_go() {
    let s = SqliteStore::in_memory().unwrap();
    s.insert_inbound(&[inbound("wamid.1", "31612345678", "lantaarnpaal kapot", T0)])
        .unwrap();
    let p = s.pending_inbound(10).unwrap().remove(0);
    let follow_up_at = at("2026-11-30T07:30:00Z");
    let state = ConversationState {
        phase: Phase::Queued,
        department: Some("openbare-ruimte".into()),
        last_inbound_at: Some(at(T0)),
        follow_up_at: Some(follow_up_at),
        ..Default::default()
    };
    s.apply(&[applied(
        &p.conversation,
        Some(p.message_id),
        state,
        vec![text("eerste"), text("tweede")],
        T0,
    )])
    .unwrap();
    assert!(s.pending_inbound(10).unwrap().is_empty(), "processed");
    let counts = s.counts().unwrap();
    assert_eq!(counts.outbox_pending, 2);
    assert_eq!(counts.follow_ups_scheduled, 1);
    assert_eq!(counts.queued, vec![("openbare-ruimte".to_string(), 1)]);

    // Replies of one conversation go out in order: one at a time.
    let due = s.take_due_outbox(at(T0), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].to, "31612345678");
    assert_eq!(due[0].attempts, 1);
    assert!(matches!(&due[0].reply, Reply::Text { text, .. } if text == "eerste"));
    assert!(
        s.take_due_outbox(at(T0), 10).unwrap().is_empty(),
        "the first is being sent"
    );
    s.record_sends(&[SendResult::Sent {
        id: due[0].id,
        provider_id: "wamid.out1".into(),
        at: at(T0),
    }])
    .unwrap();
    let next = s.take_due_outbox(at(T0), 10).unwrap();
    assert!(matches!(&next[0].reply, Reply::Text { text, .. } if text == "tweede"));

    // The follow-up is due at its time, not before.
    assert!(s
        .due_follow_ups(follow_up_at - Duration::seconds(1), 10)
        .unwrap()
        .is_empty());
    let due = s.due_follow_ups(follow_up_at, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].state.phase, Phase::Queued);
    // Firing it clears the schedule in the same transaction as its message.
    let mut fired = due[0].state.clone();
    fired.phase = Phase::AwaitingFollowUp;
    fired.follow_up_at = None;
    s.apply(&[applied(
        &due[0],
        None,
        fired,
        vec![text("nog nodig?")],
        "2026-11-30T07:30:00Z",
    )])
    .unwrap();
    assert!(
        s.due_follow_ups(follow_up_at + Duration::days(1), 10)
            .unwrap()
            .is_empty(),
        "never twice"
    );
}

#[test]
fn retries_wait_their_turn_and_failures_stay_failed() {
    let s = SqliteStore::in_memory().unwrap();
    let item = one_reply_taken(&s);
    let later = at(T0) + Duration::seconds(30);
    s.record_sends(&[SendResult::Retry {
        id: item.id,
        next_at: later,
        error: "131056".into(),
    }])
    .unwrap();
    assert!(s
        .take_due_outbox(at(T0) + Duration::seconds(29), 10)
        .unwrap()
        .is_empty());
    let again = s.take_due_outbox(later, 10).unwrap();
    assert_eq!(again[0].attempts, 2);
    s.record_sends(&[SendResult::Failed {
        id: again[0].id,
        error: "131026".into(),
        at: later,
    }])
    .unwrap();
    assert!(s
        .take_due_outbox(later + Duration::days(1), 10)
        .unwrap()
        .is_empty());
    assert_eq!(s.counts().unwrap().outbox_failed, 1);
}

#[test]
fn delivery_statuses_never_go_backwards() {
    let s = SqliteStore::in_memory().unwrap();
    let item = one_reply_taken(&s);
    s.record_sends(&[SendResult::Sent {
        id: item.id,
        provider_id: "wamid.o".into(),
        at: at(T0),
    }])
    .unwrap();
    let status = |st: &str, secs: i64| DeliveryUpdate {
        channel: triage::channel::Channel::WhatsApp,
        provider_id: "wamid.o".into(),
        status: triage::channel::Delivery::parse(st).unwrap(),
        at: at(T0) + Duration::seconds(secs),
        error: None,
        outbox_id: None,
    };
    // Read arrives before delivered and sent.
    s.record_statuses(&[status("read", 3), status("delivered", 2), status("sent", 1)])
        .unwrap();
    assert_eq!(s.delivery_of(item.id).unwrap().as_deref(), Some("read"));
}

#[test]
fn a_crash_between_sending_and_recording_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/triage.db");
    let (first, second) = {
        let s = SqliteStore::open(&path).unwrap();
        s.insert_inbound(&[
            inbound("wamid.1", "31600000001", "x", T0),
            inbound("wamid.2", "31600000002", "y", T0),
        ])
        .unwrap();
        for p in s.pending_inbound(10).unwrap() {
            s.apply(&[applied(
                &p.conversation,
                Some(p.message_id),
                ConversationState::default(),
                vec![text("a")],
                T0,
            )])
            .unwrap();
        }
        let taken = s.take_due_outbox(at(T0), 10).unwrap();
        assert_eq!(taken.len(), 2);
        (taken[0].id, taken[1].id)
        // The process dies here: both rows are "being sent", no result recorded.
    };
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(
        s.counts().unwrap().outbox_pending,
        2,
        "nothing lost across the restart"
    );
    // Another channel's receipt naming the same outbox id (anyone who can send through that
    // channel can write the reference) settles nothing here.
    s.record_statuses(&[DeliveryUpdate {
        channel: triage::channel::Channel::Messenger,
        provider_id: "messenger:m_1".into(),
        status: triage::channel::Delivery::Sent,
        at: at(T0),
        error: None,
        outbox_id: Some(first),
    }])
    .unwrap();
    assert_eq!(s.counts().unwrap().outbox_pending, 2);
    // The provider's status for the first names our outbox id: it was sent, do not send again.
    s.record_statuses(&[DeliveryUpdate {
        channel: triage::channel::Channel::WhatsApp,
        provider_id: "wamid.o1".into(),
        status: triage::channel::Delivery::Sent,
        at: at(T0),
        error: None,
        outbox_id: Some(first),
    }])
    .unwrap();
    // Within the grace period nothing is resent; after it, only the unconfirmed one, and not
    // while the caller says its own send of it is still under way.
    assert_eq!(
        s.recover_sending(at(T0) + Duration::seconds(10), Duration::seconds(60), &[])
            .unwrap(),
        0
    );
    assert_eq!(
        s.recover_sending(
            at(T0) + Duration::seconds(61),
            Duration::seconds(60),
            &[second]
        )
        .unwrap(),
        0
    );
    assert_eq!(
        s.recover_sending(at(T0) + Duration::seconds(61), Duration::seconds(60), &[])
            .unwrap(),
        1
    );
    let again = s
        .take_due_outbox(at(T0) + Duration::seconds(61), 10)
        .unwrap();
    assert_eq!(again.iter().map(|i| i.id).collect::<Vec<_>>(), vec![second]);
}

#[test]
fn a_decision_made_before_an_agent_claimed_is_not_applied() {
    use triage::store::{AgentChange, AuditRecord, ChangeOutcome};
    let s = SqliteStore::in_memory().unwrap();
    s.insert_inbound(&[inbound("wamid.1", "31600000001", "paspoort", T0)])
        .unwrap();
    // The processor reads the message and its conversation ...
    let p = s.pending_inbound(1).unwrap().remove(0);
    // ... an agent claims the conversation meanwhile ...
    let view = s.conversation_view(p.conversation.id).unwrap().unwrap();
    let claimed = ConversationState {
        phase: Phase::WithAgent,
        ..view.conversation.state.clone()
    };
    let outcome = s
        .agent_change(&AgentChange {
            conversation_id: p.conversation.id,
            version: view.version.clone(),
            state: claimed,
            agent: Some("anna".into()),
            messages: Vec::new(),
            audit: AuditRecord {
                at: at(T0),
                actor: "anna".into(),
                action: "claim".into(),
                conversation_id: Some(p.conversation.id),
                detail: None,
            },
            at: at(T0),
        })
        .unwrap();
    assert!(matches!(outcome, ChangeOutcome::Done { .. }));
    // ... so the bot's answer, decided on the old state, is not applied and not sent.
    let n = s
        .apply(&[applied(
            &p.conversation,
            Some(p.message_id),
            ConversationState::default(),
            vec![text("het FAQ-antwoord")],
            T0,
        )])
        .unwrap();
    assert_eq!(n, 0);
    assert!(s.take_due_outbox(at(T0), 10).unwrap().is_empty());
    // The message is decided again, on the state with the agent.
    let again = s.pending_inbound(1).unwrap().remove(0);
    assert_eq!(again.message_id, p.message_id);
    assert_eq!(again.conversation.state.phase, Phase::WithAgent);
}

#[test]
fn concurrent_webhooks_share_commits_and_still_deduplicate() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    // Eight "webhooks" at once, each delivering 50 messages, half of them also sent by another.
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                let batch: Vec<NewInbound> = (0..50)
                    .map(|i| {
                        let id = (t / 2) * 50 + i; // threads 2k and 2k+1 send the same ids
                        inbound(&format!("wamid.{id}"), &format!("316{id:08}"), "x", T0)
                    })
                    .collect();
                s.insert_inbound(&batch).unwrap()
            })
        })
        .collect();
    let results: Vec<Vec<Inserted>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let new = results
        .iter()
        .flatten()
        .filter(|r| matches!(r, Inserted::New { .. }))
        .count();
    assert_eq!(new, 200, "each of the 200 distinct ids stored once");
    assert_eq!(results.iter().map(Vec::len).sum::<usize>(), 400);
    assert_eq!(s.pending_inbound(1000).unwrap().len(), 200);
}

#[test]
fn a_failed_status_fails_the_row_for_the_agents_to_see() {
    let s = SqliteStore::in_memory().unwrap();
    let item = one_reply_taken(&s);
    s.record_sends(&[SendResult::Sent {
        id: item.id,
        provider_id: "wamid.o".into(),
        at: at(T0),
    }])
    .unwrap();
    s.record_statuses(&[DeliveryUpdate {
        channel: triage::channel::Channel::WhatsApp,
        provider_id: "wamid.o".into(),
        status: triage::channel::Delivery::Failed,
        at: at(T0),
        error: Some("whatsapp error 131026: message undeliverable".into()),
        outbox_id: Some(item.id),
    }])
    .unwrap();
    assert_eq!(s.counts().unwrap().outbox_failed, 1);
    assert_eq!(s.delivery_of(item.id).unwrap().as_deref(), Some("failed"));
}

#[test]
fn after_a_restart_the_send_grace_counts_from_the_restart() {
    let s = SqliteStore::in_memory().unwrap();
    s.insert_inbound(&[inbound("wamid.1", "31600000001", "x", T0)])
        .unwrap();
    let p = s.pending_inbound(1).unwrap().remove(0);
    s.apply(&[applied(
        &p.conversation,
        Some(p.message_id),
        ConversationState::default(),
        vec![text("a")],
        T0,
    )])
    .unwrap();
    assert_eq!(s.take_due_outbox(at(T0), 10).unwrap().len(), 1);
    // Down for an hour; back at T0 + 1h.
    let back = at(T0) + Duration::hours(1);
    assert_eq!(s.restart_sending(back).unwrap(), 1);
    let grace = Duration::seconds(60);
    // A clock behind the take (a test clock not yet set) does not shorten the grace.
    assert_eq!(s.restart_sending(at(T0) - Duration::days(3)).unwrap(), 1);
    assert_eq!(
        s.recover_sending(back + Duration::seconds(30), grace, &[])
            .unwrap(),
        0
    );
    assert_eq!(
        s.recover_sending(back + Duration::seconds(61), grace, &[])
            .unwrap(),
        1
    );
}

#[test]
fn a_text_past_its_window_is_replaced_by_its_template() {
    let s = SqliteStore::in_memory().unwrap();
    s.insert_inbound(&[inbound("wamid.1", "31600000001", "x", T0)])
        .unwrap();
    let p = s.pending_inbound(1).unwrap().remove(0);
    let template = Reply::Template {
        name: "vraag_nog_open".into(),
        language: "nl".into(),
        parameters: vec![],
    };
    let mut follow_up = text("Heb je nog antwoord nodig?");
    follow_up.fallback = Some(template.clone());
    s.apply(&[applied(
        &p.conversation,
        Some(p.message_id),
        ConversationState::default(),
        vec![follow_up],
        T0,
    )])
    .unwrap();
    let item = s.take_due_outbox(at(T0), 10).unwrap().remove(0);
    assert_eq!(item.fallback, Some(template.clone()));
    s.record_sends(&[SendResult::UseFallback {
        id: item.id,
        error: "131047".into(),
        at: at(T0),
    }])
    .unwrap();
    let again = s.take_due_outbox(at(T0), 10).unwrap().remove(0);
    assert_eq!(again.id, item.id);
    assert_eq!(again.reply, template);
    assert_eq!(again.fallback, None);
}

#[test]
fn handed_over_questions_come_newest_first_within_the_period_and_the_limit() {
    let s = SqliteStore::in_memory().unwrap();
    // Four residents; the second is answered by an FAQ, the fourth sends only a photo.
    let sent = [
        (
            "wamid.h1",
            "31600000001",
            "zwembad open?",
            "2026-11-20T09:00:00Z",
            "handover",
        ),
        (
            "wamid.h2",
            "31600000002",
            "nieuw paspoort",
            "2026-11-25T09:00:00Z",
            "faq",
        ),
        (
            "wamid.h3",
            "31600000003",
            "bieb dicht?",
            "2026-11-26T09:00:00Z",
            "handover",
        ),
        (
            "wamid.h4",
            "31600000004",
            "",
            "2026-11-27T09:00:00Z",
            "handover",
        ),
        (
            "wamid.h5",
            "31600000005",
            "zwembad kerst",
            "2026-11-27T10:00:00Z",
            "handover",
        ),
    ];
    for (id, from, body, when, outcome) in sent {
        s.insert_inbound(&[inbound(id, from, body, when)]).unwrap();
        let p = s.pending_inbound(1).unwrap().remove(0);
        let mut a = applied(
            &p.conversation,
            Some(p.message_id),
            ConversationState::default(),
            Vec::new(),
            when,
        );
        a.outcome = outcome.into();
        a.state.department = Some("kcc".into());
        s.apply(&[a]).unwrap();
    }
    let texts = |since: &str, limit: usize| -> Vec<String> {
        s.handed_over_since(at(since), limit)
            .unwrap()
            .into_iter()
            .map(|h| h.text)
            .collect()
    };
    assert_eq!(
        texts("2026-11-01T00:00:00Z", 10),
        ["zwembad kerst", "bieb dicht?", "zwembad open?"]
    );
    assert_eq!(
        texts("2026-11-21T00:00:00Z", 10),
        ["zwembad kerst", "bieb dicht?"]
    );
    assert_eq!(texts("2026-11-01T00:00:00Z", 1), ["zwembad kerst"]);
    let newest = s
        .handed_over_since(at("2026-11-27T00:00:00Z"), 10)
        .unwrap()
        .remove(0);
    assert_eq!(newest.at, at("2026-11-27T10:00:00Z"));
    assert!(newest.conversation_id > 0 && newest.message_id > 0);
    assert_eq!(newest.department.as_deref(), Some("kcc"));
}

#[test]
fn the_messages_of_a_period_come_newest_first_with_their_decisions_and_what_the_limit_left_out() {
    use triage::engine::{FindingSummary, Outcome, Reasons, Trace};
    use triage::store::RetentionCutoffs;
    let s = SqliteStore::in_memory().unwrap();
    let reasons = Reasons {
        open: true,
        findings: Vec::new(),
        follow_up_at: None,
        trace: Trace::default(),
    };
    // Oldest first: one before the period, an FAQ, a handover with a finding, a tapped button.
    let sent = [
        ("wamid.w1", "31600000001", "oud", "2026-11-10T09:00:00Z"),
        (
            "wamid.w2",
            "31600000002",
            "kliko vol",
            "2026-11-20T09:00:00Z",
        ),
        (
            "wamid.w3",
            "31600000003",
            "mijn bsn [BSN]",
            "2026-11-21T09:00:00Z",
        ),
        (
            "wamid.w4",
            "31600000002",
            "Grofvuil",
            "2026-11-22T09:00:00Z",
        ),
    ];
    for (i, (id, from, body, when)) in sent.into_iter().enumerate() {
        let mut m = inbound(id, from, body, when);
        if i == 2 {
            m.findings = vec![FindingSummary {
                detector: "bsn".into(),
                label: "BSN".into(),
                masked: "[BSN]".into(),
            }];
        }
        if i == 3 {
            m.kind = "button".into();
            m.button = Some("topic:grofvuil".into());
        }
        s.insert_inbound(&[m]).unwrap();
        let p = s.pending_inbound(1).unwrap().remove(0);
        let mut a = applied(
            &p.conversation,
            Some(p.message_id),
            ConversationState::default(),
            Vec::new(),
            when,
        );
        a.outcome = if i == 2 { "handover" } else { "faq" }.into();
        a.topic = (i != 2).then(|| "afvalkalender".to_string());
        a.state.department = (i == 2).then(|| "kcc".to_string());
        a.decision = serde_json::to_value(&reasons).unwrap();
        s.apply(&[a]).unwrap();
    }
    // One still waiting to be decided, and a photo without words.
    s.insert_inbound(&[inbound(
        "wamid.w5",
        "31600000004",
        "nog niet beslist",
        "2026-11-23T09:00:00Z",
    )])
    .unwrap();
    let mut photo = inbound("wamid.w6", "31600000005", "", "2026-11-23T10:00:00Z");
    photo.media = Some("foto".into());
    s.insert_inbound(&[photo]).unwrap();

    let w = s.inbound_since(at("2026-11-15T00:00:00Z"), 100).unwrap();
    let texts: Vec<&str> = w.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "",
            "nog niet beslist",
            "Grofvuil",
            "mijn bsn [BSN]",
            "kliko vol"
        ]
    );
    assert_eq!(w.left_out, 0);
    let [photo, pending, button, bsn, faq] = &w.messages[..] else {
        panic!("five messages");
    };
    assert_eq!(photo.media.as_deref(), Some("foto"));
    assert_eq!(
        (pending.decision.as_ref(), photo.decision.as_ref()),
        (None, None)
    );
    assert_eq!(button.button.as_deref(), Some("topic:grofvuil"));
    assert_eq!(bsn.findings[0].masked, "[BSN]");
    let d = bsn.decision.as_ref().unwrap();
    assert_eq!(
        (
            d.outcome.as_str(),
            d.topic.as_deref(),
            d.department.as_deref()
        ),
        ("handover", None, Some("kcc"))
    );
    assert_eq!(Outcome::parse(&d.outcome), Some(Outcome::Handover));
    assert_eq!(d.reasons.as_ref(), Some(&reasons));
    assert_eq!(
        faq.decision.as_ref().unwrap().topic.as_deref(),
        Some("afvalkalender")
    );
    assert_eq!(faq.at, at("2026-11-20T09:00:00Z"));
    assert_eq!(faq.sent_at, Some(at("2026-11-20T09:00:00Z")));
    assert_eq!(faq.channel, triage::channel::Channel::WhatsApp);
    assert!(faq.conversation_id > 0 && faq.message_id > 0);
    // The same conversation's two messages name it.
    assert_eq!(faq.conversation_id, button.conversation_id);

    // The limit keeps the newest and counts the rest.
    let w = s.inbound_since(at("2026-11-15T00:00:00Z"), 2).unwrap();
    assert_eq!(w.messages.len(), 2);
    assert_eq!(w.messages[1].text, "nog niet beslist");
    assert_eq!(w.left_out, 3);
    // The period's start counts itself in.
    let w = s.inbound_since(at("2026-11-22T09:00:00Z"), 100).unwrap();
    assert_eq!(w.messages.len(), 3);

    // After the retention terms: the reasons gone, the columns kept; removed texts left out.
    s.apply_retention(
        &RetentionCutoffs {
            traces: Some(at("2026-11-22T00:00:00Z")),
            ..RetentionCutoffs::default()
        },
        at("2026-11-24T00:00:00Z"),
    )
    .unwrap();
    let w = s.inbound_since(at("2026-11-15T00:00:00Z"), 100).unwrap();
    let d = w.messages[4].decision.as_ref().unwrap();
    assert_eq!((d.outcome.as_str(), d.reasons.as_ref()), ("faq", None));
    assert!(w.messages[2].decision.as_ref().unwrap().reasons.is_some());
    s.apply_retention(
        &RetentionCutoffs {
            message_texts: Some(at("2026-11-21T00:00:00Z")),
            ..RetentionCutoffs::default()
        },
        at("2026-11-24T00:00:00Z"),
    )
    .unwrap();
    let w = s.inbound_since(at("2026-11-01T00:00:00Z"), 100).unwrap();
    let texts: Vec<&str> = w.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        ["", "nog niet beslist", "Grofvuil", "mijn bsn [BSN]"]
    );
    assert_eq!(w.left_out, 0);
}

/// Every byte of every file in `dir` (the database, its WAL and shared memory).
fn files_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A resident with a bit of everything: messages in and out, a decision, a sent reply with a
/// delivery status, a follow-up, an agent's reply and note, and audit lines.
fn fill_resident(s: &SqliteStore, number: &str, secret: &str, name: &str, prefix: &str) -> i64 {
    use triage::store::{AgentChange, AgentMessage, AuditRecord};
    let mut m = inbound(&format!("{prefix}.1"), number, secret, T0);
    m.resident_name = Some(name.into());
    s.insert_inbound(&[m]).unwrap();
    let p = s
        .pending_inbound(10)
        .unwrap()
        .into_iter()
        .find(|p| p.conversation.resident == number)
        .unwrap();
    let state = ConversationState {
        phase: Phase::Queued,
        department: Some("burgerzaken".into()),
        last_inbound_at: Some(at(T0)),
        follow_up_at: Some(at("2026-11-30T07:30:00Z")),
        resident_name: Some(name.into()),
        ..Default::default()
    };
    s.apply(&[applied(
        &p.conversation,
        Some(p.message_id),
        state.clone(),
        vec![text(&format!("antwoord aan {name}"))],
        T0,
    )])
    .unwrap();
    let item = s
        .take_due_outbox(at(T0), 10)
        .unwrap()
        .into_iter()
        .find(|i| i.to == number)
        .unwrap();
    s.record_sends(&[SendResult::Sent {
        id: item.id,
        provider_id: format!("{prefix}.out"),
        at: at(T0),
    }])
    .unwrap();
    s.record_statuses(&[DeliveryUpdate {
        channel: triage::channel::Channel::WhatsApp,
        provider_id: format!("{prefix}.out"),
        status: triage::channel::Delivery::Read,
        at: at(T0),
        error: None,
        outbox_id: None,
    }])
    .unwrap();
    let id = p.conversation.id;
    let view = s.conversation_view(id).unwrap().unwrap();
    let mut claimed = state;
    claimed.phase = Phase::WithAgent;
    let change = AgentChange {
        conversation_id: id,
        version: view.version,
        state: claimed,
        agent: Some("anna".into()),
        messages: vec![
            AgentMessage::Reply(OutboundText {
                author: "agent:anna".into(),
                ..text(&format!("dag {name}, ik kijk ernaar"))
            }),
            AgentMessage::Note {
                author: "agent:anna".into(),
                text: format!("notitie over {secret}"),
            },
        ],
        audit: AuditRecord {
            at: at(T0),
            actor: "anna".into(),
            action: "reply".into(),
            conversation_id: Some(id),
            detail: Some("text, 20 characters".into()),
        },
        at: at(T0),
    };
    assert!(matches!(
        s.agent_change(&change).unwrap(),
        triage::store::ChangeOutcome::Done { .. }
    ));
    s.audit(&AuditRecord {
        at: at(T0),
        actor: "anna".into(),
        action: "conversation_read".into(),
        conversation_id: Some(id),
        detail: None,
    })
    .unwrap();
    id
}

#[test]
fn an_erased_resident_is_gone_from_every_table_and_from_the_files() {
    use triage::store::{resident_reference, AuditRecord};
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("triage.db")).unwrap();
    let gone = fill_resident(
        &s,
        "31611112222",
        "vraag-over-kwijtschelding-7q",
        "Wilhelmina",
        "wamid.a",
    );
    let kept = fill_resident(
        &s,
        "31633334444",
        "vraag-over-parkeren-3z",
        "Bartholomeus",
        "wamid.b",
    );
    let before = files_bytes(dir.path());
    assert!(holds(&before, "31611112222") && holds(&before, "vraag-over-kwijtschelding-7q"));

    // The export holds everything of the one resident and nothing of the other.
    let export = s
        .resident_export("whatsapp", "31611112222")
        .unwrap()
        .unwrap();
    let c = export.counts();
    assert_eq!(
        (
            c.conversations,
            c.messages,
            c.decisions,
            c.outbox,
            c.follow_ups,
            c.audit
        ),
        (1, 4, 1, 2, 1, 2)
    );
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("vraag-over-kwijtschelding-7q") && json.contains("Wilhelmina"));
    assert!(json.contains("notitie over") && json.contains("\"delivery\":\"read\""));
    assert!(!json.contains("31633334444") && !json.contains("parkeren"));
    assert_eq!(s.resident_export("whatsapp", "31699999999").unwrap(), None);
    assert_eq!(s.resident_export("messenger", "31611112222").unwrap(), None);

    let reference = resident_reference("whatsapp", "31611112222");
    let erased = s
        .resident_erase(
            "whatsapp",
            "31611112222",
            &AuditRecord {
                at: at(T0),
                actor: "cli".into(),
                action: "resident_erase".into(),
                conversation_id: None,
                detail: Some(format!("resident sha256:{reference}")),
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        erased, c,
        "every row that was exported is erased (audit lines: stripped)"
    );
    assert_eq!(s.resident_export("whatsapp", "31611112222").unwrap(), None);
    assert!(s.conversation_view(gone).unwrap().is_none());
    assert!(s.pending_inbound(10).unwrap().is_empty());
    assert!(s
        .take_due_outbox(at(T0), 10)
        .unwrap()
        .iter()
        .all(|i| i.to != "31611112222"));
    // Erasing again finds nobody and changes nothing.
    let again = AuditRecord {
        at: at(T0),
        actor: "cli".into(),
        action: "resident_erase".into(),
        conversation_id: None,
        detail: None,
    };
    assert_eq!(
        s.resident_erase("whatsapp", "31611112222", &again).unwrap(),
        None
    );

    // The other resident is untouched.
    let other = s.conversation_view(kept).unwrap().unwrap();
    assert_eq!(other.messages.len(), 4);
    assert_eq!(other.audit.len(), 1, "reads are not listed in the view");

    // Not a byte of the erased resident is left in the files (the database, WAL, shm).
    let after = files_bytes(dir.path());
    for needle in [
        "31611112222",
        "vraag-over-kwijtschelding-7q",
        "Wilhelmina",
        "wamid.a",
    ] {
        assert!(
            !holds(&after, needle),
            "`{needle}` is still in the database files"
        );
    }
    assert!(holds(&after, "31633334444") && holds(&after, "Bartholomeus"));

    // The audit trail keeps who did what, without the detail, and the erasure's own line.
    drop(s);
    let db = rusqlite::Connection::open(dir.path().join("triage.db")).unwrap();
    let lines: Vec<(String, String, Option<String>)> = db
        .prepare("SELECT actor, action, detail FROM audit WHERE conversation_id = ?1 OR conversation_id IS NULL ORDER BY id")
        .unwrap()
        .query_map([gone], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        lines,
        vec![
            ("anna".into(), "reply".into(), None),
            ("anna".into(), "conversation_read".into(), None),
            (
                "cli".into(),
                "resident_erase".into(),
                Some(format!("resident sha256:{reference}"))
            ),
        ]
    );
}

#[test]
fn the_conversations_language_is_kept_for_the_follow_up_and_shown_in_the_queue() {
    let s = SqliteStore::in_memory().unwrap();
    s.insert_inbound(&[inbound("wamid.pl", "31612345678", "dzień dobry", T0)])
        .unwrap();
    let p = s.pending_inbound(10).unwrap().remove(0);
    assert_eq!(p.conversation.state.language, None, "NULL: Dutch");
    let follow_up_at = at("2026-11-30T07:30:00Z");
    let state = ConversationState {
        phase: Phase::Queued,
        department: Some("kcc".into()),
        last_inbound_at: Some(at(T0)),
        follow_up_at: Some(follow_up_at),
        language: Some(triage::language::Language::Pl),
        ..Default::default()
    };
    s.apply(&[applied(
        &p.conversation,
        Some(p.message_id),
        state,
        vec![text("Twoje pytanie trafiło do pracownika")],
        T0,
    )])
    .unwrap();
    let due = s.due_follow_ups(follow_up_at, 10).unwrap();
    assert_eq!(due[0].state.language, Some(triage::language::Language::Pl));
    let waiting = s.waiting().unwrap();
    assert_eq!(waiting[0].language, Some(triage::language::Language::Pl));
    assert_eq!(
        waiting[0].last_message.as_ref().map(|(t, _)| t.as_str()),
        Some("dzień dobry")
    );
}

// ---------------------------------------------------------------------------------------------
// Versions of the flow files, drafts and publish requests

const WHEN: &str = "2026-11-25T10:00:00Z";

fn version(
    parent: Option<i64>,
    kind: triage::store::VersionKind,
    files: &[(&str, &str)],
    when: &str,
) -> triage::store::NewVersion {
    triage::store::NewVersion {
        parent,
        author: "eva".into(),
        at: at(when),
        message: "iets".into(),
        kind,
        approved_by: None,
        files: files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
        request: None,
        audit: triage::store::AuditRecord {
            at: at(when),
            actor: "eva".into(),
            action: kind.as_str().into(),
            conversation_id: None,
            detail: Some("iets".into()),
        },
    }
}

fn audit_details(dir: &std::path::Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("t.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT action || ' ' || COALESCE(detail, '') FROM audit ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn versions_keep_every_file_once_per_content_and_refuse_a_stale_parent() {
    use triage::store::{Recorded, VersionKind};
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    assert_eq!(s.newest_version().unwrap(), None);
    let first = match s
        .record_version(&version(
            None,
            VersionKind::Disk,
            &[("flows/a.yaml", "a"), ("rules/privacy.yaml", "p")],
            WHEN,
        ))
        .unwrap()
    {
        Recorded::Done(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!((first.parent, first.files_changed), (None, 2));
    // Made on no version, while one exists now: stale, nothing stored.
    let again = s
        .record_version(&version(
            None,
            VersionKind::Publish,
            &[("flows/a.yaml", "x")],
            WHEN,
        ))
        .unwrap();
    assert_eq!(
        again,
        Recorded::Stale {
            newest: Some(first.clone())
        }
    );
    let second = match s
        .record_version(&version(
            Some(first.id),
            VersionKind::Publish,
            &[
                ("flows/a.yaml", "a2"),
                ("flows/b.yaml", "p"),
                ("rules/privacy.yaml", "p"),
            ],
            "2026-11-25T11:00:00Z",
        ))
        .unwrap()
    {
        Recorded::Done(v) => v,
        other => panic!("{other:?}"),
    };
    assert!(second.id > first.id);
    // a changed, b added; privacy the same.
    assert_eq!(second.files_changed, 2);
    let stale = s
        .record_version(&version(Some(first.id), VersionKind::Publish, &[], WHEN))
        .unwrap();
    assert!(matches!(stale, Recorded::Stale { newest: Some(n) } if n.id == second.id));

    let (v, files) = s.version(first.id).unwrap().unwrap();
    assert_eq!(v, first);
    assert_eq!(files.len(), 2);
    assert_eq!(files["flows/a.yaml"], "a");
    let (_, files) = s.version(second.id).unwrap().unwrap();
    assert_eq!(files["flows/b.yaml"], "p");
    assert_eq!(s.version(999).unwrap(), None);
    let list = s.versions(None, 10).unwrap();
    assert_eq!(
        list.iter().map(|v| v.id).collect::<Vec<_>>(),
        [second.id, first.id]
    );
    assert_eq!(
        s.versions(Some(second.id), 10).unwrap(),
        vec![first.clone()]
    );
    assert_eq!(s.newest_version().unwrap(), Some(second.clone()));
    // The same text is stored once.
    let db = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
    let blobs: i64 = db
        .query_row("SELECT COUNT(*) FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(blobs, 3, "a, p, a2");
    let lines = audit_details(dir.path());
    assert_eq!(
        lines,
        [
            format!("disk versie {}: iets", first.id),
            format!("publish versie {}: iets", second.id)
        ]
    );
}

#[test]
fn one_draft_per_user_and_requests_are_approved_or_rejected_once() {
    use triage::store::{
        AuditRecord, Draft, FileChange, NewRequest, Recorded, RequestStatus, VersionKind,
    };
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    assert_eq!(s.draft("eva").unwrap(), None);
    let mut draft = Draft {
        user: "eva".into(),
        base_version: Some(1),
        files: vec![
            FileChange {
                path: "flows/a.yaml".into(),
                text: Some("nieuw".into()),
            },
            FileChange {
                path: "flows/b.yaml".into(),
                text: None,
            },
        ],
        updated_at: at(WHEN),
    };
    s.save_draft(&draft).unwrap();
    assert_eq!(s.draft("eva").unwrap().as_ref(), Some(&draft));
    draft.files.pop();
    s.save_draft(&draft).unwrap();
    assert_eq!(s.draft("eva").unwrap().unwrap().files.len(), 1);
    assert_eq!(s.draft("bram").unwrap(), None);
    assert!(s.delete_draft("eva").unwrap());
    assert!(!s.delete_draft("eva").unwrap());

    let Recorded::Done(base) = s
        .record_version(&version(
            None,
            VersionKind::Disk,
            &[("flows/a.yaml", "a")],
            WHEN,
        ))
        .unwrap()
    else {
        panic!()
    };
    let audit = |action: &str| AuditRecord {
        at: at(WHEN),
        actor: "eva".into(),
        action: action.into(),
        conversation_id: None,
        detail: Some("Afval".into()),
    };
    let request = |message: &str| NewRequest {
        author: "eva".into(),
        at: at(WHEN),
        message: message.into(),
        kind: VersionKind::Publish,
        base_version: Some(base.id),
        rollback_to: None,
        files: draft.files.clone(),
        audit: audit("publish_requested"),
    };
    let r1 = s.create_request(&request("Afval")).unwrap();
    let r2 = s.create_request(&request("Nog iets")).unwrap();
    assert_eq!(r1.status, RequestStatus::Pending);
    assert_eq!(r1.files, draft.files);
    assert_eq!(s.requests(true, 10).unwrap(), [r2.clone(), r1.clone()]);
    // Approving publishes the version and settles the request in one transaction.
    let mut v = version(
        Some(base.id),
        VersionKind::Publish,
        &[("flows/a.yaml", "nieuw")],
        WHEN,
    );
    v.request = Some(r1.id);
    v.approved_by = Some("bram".into());
    let Recorded::Done(published) = s.record_version(&v).unwrap() else {
        panic!()
    };
    assert_eq!(published.approved_by.as_deref(), Some("bram"));
    let settled = s.request(r1.id).unwrap().unwrap();
    assert_eq!(settled.status, RequestStatus::Approved);
    assert_eq!(settled.decided_by.as_deref(), Some("bram"));
    assert_eq!(settled.version, Some(published.id));
    // Once only.
    v.parent = Some(published.id);
    assert_eq!(s.record_version(&v).unwrap(), Recorded::RequestSettled);
    assert!(s
        .reject_request(r2.id, "bram", Some("nee"), &audit("publish_rejected"))
        .unwrap());
    assert!(!s
        .reject_request(r2.id, "bram", None, &audit("publish_rejected"))
        .unwrap());
    let rejected = s.request(r2.id).unwrap().unwrap();
    assert_eq!(rejected.status, RequestStatus::Rejected);
    assert_eq!(rejected.reason.as_deref(), Some("nee"));
    assert!(s.requests(true, 10).unwrap().is_empty());
    assert_eq!(s.requests(false, 10).unwrap().len(), 2);
    assert_eq!(s.request(999).unwrap(), None);
    let lines = audit_details(dir.path());
    assert!(lines.contains(&format!("publish_requested verzoek {}: Afval", r1.id)));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("publish_rejected"))
            .count(),
        1
    );
}
