//! The WhatsApp Cloud API module from the outside: webhook payloads in `fixtures/whatsapp/`
//! for every message type and status, signatures, the subscription handshake, request bodies,
//! error classification, and that nothing personal leaks through `Debug`.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::json;
use triage::channels::whatsapp::{
    buttons_body, classify, mark_read_body, parse_api_error, parse_send_response, parse_webhook,
    sign, template_body, text_body, verify_signature, verify_subscription, ApiError,
    DeliveryStatus, ErrorAction, InboundKind, InboundMessage, MediaKind, ParseError,
    SignatureError, Webhook,
};

const PNID: &str = "106540352242922";
const RESIDENT: &str = "31612345678";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/fixtures/whatsapp/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn parse(name: &str) -> Webhook {
    parse_webhook(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The only message of a fixture, with the envelope fields every single-message fixture shares.
fn single(name: &str) -> InboundMessage {
    let w = parse(name);
    assert_eq!(w.skipped, 0, "{name}");
    assert!(w.statuses.is_empty(), "{name}");
    let [m] = <[InboundMessage; 1]>::try_from(w.messages)
        .unwrap_or_else(|v| panic!("{name}: expected one message, got {}", v.len()));
    assert_eq!(m.phone_number_id, PNID, "{name}");
    assert_eq!(m.from, RESIDENT, "{name}");
    assert!(m.id.starts_with("wamid."), "{name}");
    m
}

fn utc(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

// ---- inbound messages ------------------------------------------------------------------

#[test]
fn text_message() {
    let m = single("text");
    assert_eq!(m.profile_name.as_deref(), Some("Fatima de Vries"));
    assert_eq!(m.timestamp, utc(1_764_264_600));
    assert_eq!(m.context_id, None);
    assert_eq!(
        m.kind,
        InboundKind::Text {
            body: "hoi, wanneer wordt het grofvuil opgehaald? mijn bsn is 111222333".into()
        }
    );
    assert_eq!(
        m.kind.text(),
        "hoi, wanneer wordt het grofvuil opgehaald? mijn bsn is 111222333"
    );
    assert_eq!(m.kind.media_label(), None);
    assert_eq!(m.kind.button_payload(), None);
}

#[test]
fn image_with_caption() {
    let m = single("image_caption");
    assert_eq!(
        m.kind,
        InboundKind::Media {
            media: MediaKind::Image,
            caption: Some("losliggende stoeptegel bij de Noordstraat".into()),
            mime_type: Some("image/jpeg".into()),
            media_id: "1003383421387256".into(),
            filename: None,
        }
    );
    assert_eq!(m.kind.text(), "losliggende stoeptegel bij de Noordstraat");
    assert_eq!(m.kind.media_label(), Some("foto"));
}

#[test]
fn voice_note_and_audio_file() {
    let voice = single("audio_voice");
    let InboundKind::Media {
        media,
        caption,
        media_id,
        mime_type,
        ..
    } = &voice.kind
    else {
        panic!("{:?}", voice.kind)
    };
    assert_eq!(*media, MediaKind::Voice);
    assert_eq!(*caption, None);
    assert_eq!(media_id, "1134905364217011");
    assert_eq!(mime_type.as_deref(), Some("audio/ogg; codecs=opus"));
    assert_eq!(voice.kind.media_label(), Some("spraakbericht"));
    assert_eq!(voice.kind.text(), "");

    let audio = single("audio_file");
    assert!(matches!(
        audio.kind,
        InboundKind::Media {
            media: MediaKind::Audio,
            ..
        }
    ));
    assert_eq!(audio.kind.media_label(), Some("audio"));
}

#[test]
fn video_document_sticker() {
    let video = single("video");
    assert!(matches!(
        video.kind,
        InboundKind::Media {
            media: MediaKind::Video,
            ..
        }
    ));
    assert_eq!(video.kind.text(), "lekkage in de portiek");
    assert_eq!(video.kind.media_label(), Some("video"));

    let doc = single("document");
    assert_eq!(
        doc.kind,
        InboundKind::Media {
            media: MediaKind::Document,
            caption: Some("mijn bezwaarschrift".into()),
            mime_type: Some("application/pdf".into()),
            media_id: "1529471281302456".into(),
            filename: Some("bezwaar WOZ 2026.pdf".into()),
        }
    );
    assert_eq!(doc.kind.media_label(), Some("document"));

    let sticker = single("sticker");
    assert!(matches!(
        sticker.kind,
        InboundKind::Media {
            media: MediaKind::Sticker,
            ..
        }
    ));
    assert_eq!(sticker.kind.media_label(), Some("sticker"));
    assert_eq!(sticker.kind.text(), "");
}

#[test]
fn location() {
    let m = single("location");
    assert_eq!(
        m.kind,
        InboundKind::Location {
            latitude: 51.3353,
            longitude: 3.8277,
            name: Some("Stadhuis Terneuzen".into()),
            address: Some("Markt 1, 4531 EP Terneuzen".into()),
        }
    );
    assert_eq!(m.kind.text(), "Stadhuis Terneuzen");
    assert_eq!(m.kind.media_label(), Some("locatie"));
    let unnamed = InboundKind::Location {
        latitude: 0.0,
        longitude: 0.0,
        name: None,
        address: Some("Markt 1".into()),
    };
    assert_eq!(unnamed.text(), "Markt 1");
}

#[test]
fn contact_cards() {
    let m = single("contacts");
    assert_eq!(m.kind, InboundKind::Contacts { count: 2 });
    assert_eq!(m.kind.media_label(), Some("contactkaart"));
    assert_eq!(m.kind.text(), "");
    // the resident's own profile, not the shared cards' names
    assert_eq!(m.profile_name.as_deref(), Some("Fatima de Vries"));
}

#[test]
fn interactive_replies_and_quick_reply() {
    let b = single("interactive_button_reply");
    assert_eq!(
        b.kind,
        InboundKind::ButtonReply {
            id: "follow_up_yes".into(),
            title: "Ja".into()
        }
    );
    assert_eq!(b.kind.button_payload(), Some("follow_up_yes"));
    assert_eq!(b.kind.text(), "Ja");
    assert_eq!(b.kind.media_label(), None);
    assert_eq!(
        b.context_id.as_deref(),
        Some("wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA")
    );

    let l = single("interactive_list_reply");
    assert_eq!(
        l.kind,
        InboundKind::ListReply {
            id: "afval".into(),
            title: "Afval en grofvuil".into(),
            description: Some("Ophaaldagen, milieustraat, containers".into()),
        }
    );
    assert_eq!(l.kind.button_payload(), Some("afval"));
    assert_eq!(l.kind.text(), "Afval en grofvuil");

    let q = single("button_quick_reply");
    assert_eq!(
        q.kind,
        InboundKind::QuickReply {
            payload: "follow_up_no".into(),
            text: "Nee, niet meer nodig".into()
        }
    );
    assert_eq!(q.kind.button_payload(), Some("follow_up_no"));
    assert_eq!(q.kind.text(), "Nee, niet meer nodig");
    assert!(q.context_id.is_some());
}

#[test]
fn reactions_added_and_removed() {
    let added = single("reaction");
    assert_eq!(
        added.kind,
        InboundKind::Reaction {
            message_id: "wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into(),
            emoji: Some("\u{1F44D}".into()),
        }
    );
    assert_eq!(added.kind.media_label(), Some("reactie"));
    assert_eq!(added.kind.text(), "");

    let removed = single("reaction_removed");
    assert!(matches!(
        removed.kind,
        InboundKind::Reaction { emoji: None, .. }
    ));
}

#[test]
fn order() {
    let m = single("order");
    let InboundKind::Order { catalog_id, items } = &m.kind else {
        panic!("{:?}", m.kind)
    };
    assert_eq!(catalog_id, "1287339152153940");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].product_retailer_id, "grofvuil-1m3");
    assert_eq!(items[0].quantity, 2);
    assert_eq!(items[0].item_price, Some(12.5));
    assert_eq!(items[0].currency.as_deref(), Some("EUR"));
    assert_eq!(items[1].quantity, 1);
    assert_eq!(items[1].item_price, Some(45.0));
    assert_eq!(m.kind.media_label(), Some("bestelling"));
}

#[test]
fn system_message_without_contacts() {
    let m = single("system");
    assert_eq!(m.profile_name, None);
    assert_eq!(
        m.kind,
        InboundKind::System {
            body: "User A changed from 31612345678 to 31687654321".into()
        }
    );
    assert_eq!(m.kind.text(), "");
    assert_eq!(m.kind.media_label(), None);
}

#[test]
fn unsupported_and_unknown_types() {
    let m = single("unsupported");
    assert_eq!(
        m.kind,
        InboundKind::Unsupported {
            type_name: "poll_creation".into(),
            errors: vec![ApiError {
                code: 131051,
                title: "Message type unknown".into(),
                message: "Message type unknown".into(),
                details: Some("Message type is currently not supported.".into()),
            }],
        }
    );
    assert_eq!(m.kind.media_label(), Some("niet-ondersteund bericht"));
    assert_eq!(m.kind.text(), "");

    let unknown = single("unknown_type");
    assert_eq!(
        unknown.kind,
        InboundKind::Unsupported {
            type_name: "hologram".into(),
            errors: vec![]
        }
    );
}

#[test]
fn batch_with_two_entries() {
    let w = parse("batch");
    assert_eq!(w.skipped, 0);
    let summary: Vec<(&str, &str, Option<&str>, &str)> = w
        .messages
        .iter()
        .map(|m| {
            (
                m.phone_number_id.as_str(),
                m.from.as_str(),
                m.profile_name.as_deref(),
                m.kind.text(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (PNID, RESIDENT, Some("Fatima de Vries"), "eerste bericht"),
            (PNID, "31687654321", Some("Piet"), "hallo van piet"),
            (PNID, RESIDENT, Some("Fatima de Vries"), ""),
            (
                "106540352299999",
                "31611111111",
                Some("Anna"),
                "tweede entry"
            ),
        ]
    );
    assert_eq!(w.messages[3].timestamp, utc(1_764_264_660));
    let ids: std::collections::HashSet<&str> = w.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(w.statuses.len(), 1);
    assert_eq!(w.statuses[0].status, DeliveryStatus::Delivered);
    assert_eq!(
        w.statuses[0].biz_opaque_callback_data.as_deref(),
        Some("outbox-41")
    );
}

#[test]
fn unknown_fields_everywhere_are_ignored() {
    let w = parse("unknown_fields");
    assert_eq!(w.skipped, 0);
    assert_eq!(w.messages.len(), 1);
    assert_eq!(w.messages[0].kind.text(), "met extra velden");
    assert_eq!(
        w.messages[0].profile_name.as_deref(),
        Some("Fatima de Vries")
    );
    assert_eq!(w.statuses.len(), 1);
    assert_eq!(w.statuses[0].status, DeliveryStatus::Sent);
}

#[test]
fn invalid_items_are_skipped_and_counted() {
    let w = parse("partly_invalid");
    // no `from`, a timestamp that is not a number, a text without `text`, a string instead of
    // a message, a latitude that is not a number; a status without timestamp and recipient
    assert_eq!(w.skipped, 6);
    assert_eq!(w.messages.len(), 1);
    assert_eq!(w.messages[0].kind.text(), "goed");
    assert_eq!(w.statuses.len(), 1);
}

#[test]
fn every_fixture_parses_without_skips_except_the_invalid_one() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/whatsapp");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let w = parse_webhook(&std::fs::read(&path).unwrap()).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy();
        assert_eq!(w.skipped > 0, name == "partly_invalid", "{name}");
        assert!(!w.messages.is_empty() || !w.statuses.is_empty(), "{name}");
        count += 1;
    }
    assert!(count >= 20, "only {count} fixtures");
}

// ---- statuses --------------------------------------------------------------------------

#[test]
fn statuses_out_of_order() {
    let w = parse("statuses");
    assert!(w.messages.is_empty());
    let got: Vec<(DeliveryStatus, DateTime<Utc>)> = w
        .statuses
        .iter()
        .map(|s| (s.status.clone(), s.timestamp))
        .collect();
    assert_eq!(
        got,
        vec![
            (DeliveryStatus::Read, utc(1_764_264_700)),
            (DeliveryStatus::Sent, utc(1_764_264_640)),
            (DeliveryStatus::Delivered, utc(1_764_264_650)),
        ]
    );
    for s in &w.statuses {
        assert_eq!(s.recipient_id, RESIDENT);
        assert_eq!(s.biz_opaque_callback_data.as_deref(), Some("outbox-42"));
        assert!(s.errors.is_empty());
    }
    // merging in arrival order keeps the furthest state
    let mut current = DeliveryStatus::Other("accepted".into());
    for s in &w.statuses {
        if s.status.supersedes(&current) {
            current = s.status.clone();
        }
    }
    assert_eq!(current, DeliveryStatus::Read);
}

#[test]
fn status_ranks() {
    use DeliveryStatus::*;
    assert!(Delivered.supersedes(&Sent));
    assert!(Read.supersedes(&Delivered));
    assert!(Read.supersedes(&Sent));
    assert!(!Sent.supersedes(&Read));
    assert!(!Delivered.supersedes(&Read));
    assert!(!Read.supersedes(&Read));
    assert!(Failed.supersedes(&Sent));
    for s in [
        Sent,
        Delivered,
        Read,
        Deleted,
        Other("played".into()),
        Failed,
    ] {
        assert!(!s.supersedes(&Failed), "{s:?} overwrote failed");
        assert_eq!(DeliveryStatus::parse(s.as_str()), s);
    }
}

#[test]
fn failed_status_with_errors() {
    let w = parse("status_failed");
    let [s] = <[_; 1]>::try_from(w.statuses).unwrap();
    assert_eq!(s.status, DeliveryStatus::Failed);
    assert_eq!(s.biz_opaque_callback_data.as_deref(), Some("outbox-77"));
    assert_eq!(s.errors.len(), 1);
    assert_eq!(s.errors[0].code, 131047);
    assert_eq!(s.errors[0].title, "Re-engagement message");
    assert!(s.errors[0].details.as_deref().unwrap().contains("24 hours"));
    assert_eq!(classify(s.errors[0].code, 200), ErrorAction::OutsideWindow);
}

// ---- privacy in Debug -------------------------------------------------------------------

#[test]
fn debug_hides_personal_data() {
    let w = parse("text");
    let out = format!("{:?} {:#?}", w, w.messages[0]);
    for secret in ["grofvuil", "111222333", RESIDENT, "Fatima", "Vries"] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
    assert!(out.contains("redacted"), "{out}");
    // the wamid of the message encodes the phone number in base64 near its start
    assert!(!out.contains("HBgLMzE2MTIzNDU2Nzg"), "{out}");

    for (name, secrets) in [
        ("image_caption", &["stoeptegel"][..]),
        ("document", &["bezwaar"][..]),
        (
            "location",
            &["Markt 1", "Stadhuis", "51.3353", "3.8277"][..],
        ),
        ("system", &["31687654321"][..]),
        ("statuses", &[][..]),
    ] {
        let w = parse(name);
        let out = format!("{w:?}");
        for secret in secrets.iter().chain(&[RESIDENT, "Fatima"]) {
            assert!(!out.contains(secret), "{name}: {secret} leaked: {out}");
        }
    }
}

// ---- parse errors ----------------------------------------------------------------------

#[test]
fn a_parse_error_never_quotes_what_was_sent() {
    // The error goes to the log: serde's own message would quote the resident's words.
    for body in [
        br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":"mijn bsn 111222333"}]}"#.as_slice(),
        br#"{"object":"mijn bsn 111222333","entry":[]}"#.as_slice(),
    ] {
        let e = parse_webhook(body).unwrap_err().to_string();
        assert!(!e.contains("111222333"), "{e}");
    }
}

#[test]
fn bodies_that_are_not_webhooks() {
    assert_eq!(parse_webhook(b""), Err(ParseError::Empty));
    assert_eq!(parse_webhook(b"  \n"), Err(ParseError::Empty));
    assert!(matches!(
        parse_webhook(b"{\"object\": "),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        parse_webhook(b"[1,2,3]"),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        parse_webhook(b"\xff\xfe"),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        parse_webhook(br#"{"object": "whatsapp_business_account", "entry": 5}"#),
        Err(ParseError::Json(_))
    ));
    assert_eq!(
        parse_webhook(br#"{"object": "page", "entry": []}"#),
        Err(ParseError::UnexpectedObject("page".into()))
    );
    assert_eq!(
        parse_webhook(br#"{"entry": []}"#),
        Err(ParseError::MissingField("object"))
    );
    let e = parse_webhook(br#"{"object": "instagram"}"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "unexpected object `instagram`, expected `whatsapp_business_account`"
    );
    // an envelope without anything in it is fine
    let empty = parse_webhook(br#"{"object": "whatsapp_business_account", "entry": []}"#).unwrap();
    assert_eq!(empty, Webhook::default());
}

#[test]
fn account_level_errors_are_reported() {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "31115123456", "phone_number_id": PNID},
            "errors": [{"code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
                        "error_data": {"details": "Cloud API message throughput has been reached."}}]
        }}]}]
    });
    let w = parse_webhook(body.to_string().as_bytes()).unwrap();
    assert_eq!(w.errors.len(), 1);
    assert_eq!(w.errors[0].code, 130429);
    assert_eq!(w.errors[0].title, "Rate limit hit");
}

proptest! {
    #[test]
    fn parse_webhook_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_webhook(&bytes);
    }

    #[test]
    fn mangled_fixtures_never_panic(cut in 0usize..4000, byte in any::<u8>(), at in 0usize..4000) {
        for name in ["batch", "order", "unknown_fields", "status_failed"] {
            let mut raw = fixture(name);
            let at = at % raw.len();
            raw[at] = byte;
            raw.truncate(cut.max(1));
            let _ = parse_webhook(&raw);
        }
    }
}

// ---- signatures and subscription -------------------------------------------------------

#[test]
fn signature_checks() {
    let secret = b"app-secret-terneuzen";
    let body = fixture("text");
    let header = sign(secret, &body);
    assert!(header.starts_with("sha256="));
    assert_eq!(header.len(), 7 + 64);
    assert_eq!(verify_signature(secret, &body, Some(&header)), Ok(()));
    assert_eq!(
        verify_signature(
            secret,
            &body,
            Some(&header.to_uppercase().replace("SHA256=", "sha256="))
        ),
        Ok(())
    );

    assert_eq!(
        verify_signature(secret, &body, None),
        Err(SignatureError::Missing)
    );
    for malformed in [
        "",
        "sha256=",
        "sha1=0123",
        &header[7..],
        &header[..header.len() - 2],
        &format!("{}zz", &header[..header.len() - 2]),
        &format!("{header}00"),
    ] {
        assert_eq!(
            verify_signature(secret, &body, Some(malformed)),
            Err(SignatureError::Malformed),
            "{malformed}"
        );
    }
    // well-formed but wrong hex
    let mut wrong = header.clone().into_bytes();
    let last = wrong.len() - 1;
    wrong[last] = if wrong[last] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(
        verify_signature(secret, &body, Some(&wrong)),
        Err(SignatureError::Mismatch)
    );
    // wrong secret
    assert_eq!(
        verify_signature(b"another-secret", &body, Some(&header)),
        Err(SignatureError::Mismatch)
    );
    // one flipped bit in the body
    for i in [0, body.len() / 2, body.len() - 1] {
        let mut tampered = body.clone();
        tampered[i] ^= 0x01;
        assert_eq!(
            verify_signature(secret, &tampered, Some(&header)),
            Err(SignatureError::Mismatch),
            "byte {i}"
        );
    }
}

#[test]
fn signature_is_hmac_sha256() {
    // RFC 4231 test case 2
    assert_eq!(
        sign(b"Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn subscription_handshake() {
    let ok = verify_subscription(
        Some("subscribe"),
        Some("geheim-123"),
        Some("1158201444"),
        "geheim-123",
    );
    assert_eq!(ok.as_deref(), Some("1158201444"));
    assert_eq!(
        verify_subscription(
            Some("subscribe"),
            Some("geheim-124"),
            Some("1"),
            "geheim-123"
        ),
        None
    );
    assert_eq!(
        verify_subscription(
            Some("subscribe"),
            Some("geheim-12"),
            Some("1"),
            "geheim-123"
        ),
        None
    );
    assert_eq!(
        verify_subscription(Some("subscribe"), None, Some("1"), "geheim-123"),
        None
    );
    assert_eq!(
        verify_subscription(
            Some("unsubscribe"),
            Some("geheim-123"),
            Some("1"),
            "geheim-123"
        ),
        None
    );
    assert_eq!(
        verify_subscription(None, Some("geheim-123"), Some("1"), "geheim-123"),
        None
    );
    assert_eq!(
        verify_subscription(Some("subscribe"), Some("geheim-123"), None, "geheim-123"),
        None
    );
    // no configured token: nobody subscribes
    assert_eq!(
        verify_subscription(Some("subscribe"), Some(""), Some("1"), ""),
        None
    );
}

// ---- outbound bodies -------------------------------------------------------------------

#[test]
fn text_bodies() {
    assert_eq!(
        text_body(RESIDENT, "Het grofvuil wordt op dinsdag opgehaald.", None),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RESIDENT,
            "type": "text",
            "text": {"preview_url": false, "body": "Het grofvuil wordt op dinsdag opgehaald."}
        })
    );
    assert_eq!(
        text_body(
            RESIDENT,
            "Kijk op https://www.terneuzen.nl/afval 🗑️",
            Some("outbox-9")
        ),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RESIDENT,
            "biz_opaque_callback_data": "outbox-9",
            "type": "text",
            "text": {"preview_url": true, "body": "Kijk op https://www.terneuzen.nl/afval 🗑️"}
        })
    );
}

#[test]
fn text_body_is_cut_at_4096_characters_on_a_char_boundary() {
    // 4095 ASCII characters, then multi-byte characters straddling the limit
    let long = format!("{}é€😀tail", "a".repeat(4095));
    let v = text_body(RESIDENT, &long, None);
    let body = v["text"]["body"].as_str().unwrap();
    assert_eq!(body.chars().count(), 4096);
    assert!(body.ends_with("aé"), "{}", &body[body.len() - 8..]);
    let emoji = "😀".repeat(5000);
    let v = text_body(RESIDENT, &emoji, None);
    assert_eq!(v["text"]["body"].as_str().unwrap(), "😀".repeat(4096));
    let exact = "ë".repeat(4096);
    assert_eq!(
        text_body(RESIDENT, &exact, None)["text"]["body"],
        json!(exact)
    );
}

#[test]
fn button_bodies() {
    let buttons = [
        ("follow_up_yes", "Ja"),
        ("follow_up_no", "Nee"),
        ("later", "Herinner me later aan dit bericht"),
        ("fourth", "Vier"),
    ];
    assert_eq!(
        buttons_body(
            RESIDENT,
            "Heeft u nog een antwoord nodig?",
            &buttons,
            Some("outbox-1")
        ),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RESIDENT,
            "biz_opaque_callback_data": "outbox-1",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Heeft u nog een antwoord nodig?"},
                "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "follow_up_yes", "title": "Ja"}},
                    {"type": "reply", "reply": {"id": "follow_up_no", "title": "Nee"}},
                    {"type": "reply", "reply": {"id": "later", "title": "Herinner me later aa"}},
                ]}
            }
        })
    );
    // multi-byte titles and long ids, with owned strings
    let owned = vec![("x".repeat(300), "Ééééééééééééééééééééé👍".to_string())];
    let v = buttons_body(RESIDENT, "kies", &owned, None);
    let reply = &v["interactive"]["action"]["buttons"][0]["reply"];
    assert_eq!(reply["title"], json!("Éééééééééééééééééééé"));
    assert_eq!(reply["id"].as_str().unwrap().len(), 256);
    // no buttons: a text message
    let none: [(&str, &str); 0] = [];
    assert_eq!(
        buttons_body(RESIDENT, "hoi", &none, None),
        text_body(RESIDENT, "hoi", None)
    );
}

#[test]
fn template_bodies() {
    assert_eq!(
        template_body(
            RESIDENT,
            "follow_up_vraag",
            "nl",
            &["Fatima".to_string(), "maandag 08:30".to_string()],
            Some("outbox-5")
        ),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RESIDENT,
            "biz_opaque_callback_data": "outbox-5",
            "type": "template",
            "template": {
                "name": "follow_up_vraag",
                "language": {"code": "nl"},
                "components": [{"type": "body", "parameters": [
                    {"type": "text", "text": "Fatima"},
                    {"type": "text", "text": "maandag 08:30"},
                ]}]
            }
        })
    );
    let none: [&str; 0] = [];
    assert_eq!(
        template_body(RESIDENT, "hello_world", "en_US", &none, None),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RESIDENT,
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}}
        })
    );
}

#[test]
fn mark_read() {
    assert_eq!(
        mark_read_body("wamid.ABC"),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.ABC"})
    );
}

// ---- errors ----------------------------------------------------------------------------

#[test]
fn classification() {
    use ErrorAction::*;
    let cases = [
        (130429, 400, RetryLater),
        (131056, 400, RetryLater),
        (80007, 400, RetryLater),
        (4, 400, RetryLater),
        (0, 429, RetryLater),
        (131000, 500, Retry),
        (131000, 400, Retry),
        (131016, 503, Retry),
        (1, 400, Retry),
        (2, 400, Retry),
        (0, 500, Retry),
        (0, 502, Retry),
        (0, 599, Retry),
        (131047, 400, OutsideWindow),
        (131047, 500, OutsideWindow),
        (131026, 400, Undeliverable),
        (100, 400, Permanent),
        (131051, 400, Permanent),
        (132000, 400, Permanent),
        (190, 401, Permanent),
        (0, 400, Permanent),
        (0, 404, Permanent),
    ];
    for (code, status, want) in cases {
        assert_eq!(classify(code, status), want, "code {code}, http {status}");
    }
    assert!(RetryLater.is_retryable() && Retry.is_retryable());
    assert!(
        !OutsideWindow.is_retryable() && !Undeliverable.is_retryable() && !Permanent.is_retryable()
    );
}

#[test]
fn graph_error_responses() {
    let body = br#"{"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException",
        "code": 131047, "error_subcode": 2655007,
        "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
        "fbtrace_id": "AbCdEf123"}}"#;
    let e = parse_api_error(body).unwrap();
    assert_eq!(e.code, 131047);
    assert_eq!(e.title, "OAuthException");
    assert_eq!(e.message, "(#131047) Re-engagement message");
    assert!(e
        .details
        .as_deref()
        .unwrap()
        .starts_with("Message failed to send"));
    assert!(e
        .to_string()
        .starts_with("whatsapp error 131047: (#131047) Re-engagement message ("));

    let minimal =
        parse_api_error(br#"{"error": {"message": "Invalid OAuth access token.", "code": 190}}"#)
            .unwrap();
    assert_eq!(
        minimal,
        ApiError {
            code: 190,
            title: String::new(),
            message: "Invalid OAuth access token.".into(),
            details: None
        }
    );
    assert_eq!(parse_api_error(b"<html>502 Bad Gateway</html>"), None);
    assert_eq!(parse_api_error(br#"{"messages": []}"#), None);
}

#[test]
fn send_responses() {
    let ok = br#"{"messaging_product": "whatsapp", "contacts": [{"input": "+31612345678", "wa_id": "31612345678"}],
        "messages": [{"id": "wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "message_status": "accepted"}]}"#;
    assert_eq!(
        parse_send_response(ok).as_deref(),
        Ok("wamid.HBgLMzE2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA")
    );
    let no_status = br#"{"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]}"#;
    assert_eq!(parse_send_response(no_status).as_deref(), Ok("wamid.X"));
    assert_eq!(
        parse_send_response(br#"{"messaging_product": "whatsapp", "messages": []}"#),
        Err(ParseError::MissingField("messages[].id"))
    );
    assert_eq!(parse_send_response(b""), Err(ParseError::Empty));
    assert!(matches!(
        parse_send_response(b"not json"),
        Err(ParseError::Json(_))
    ));
}
