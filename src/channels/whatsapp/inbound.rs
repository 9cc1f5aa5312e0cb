//! Webhook payloads turned into channel-neutral types: [`parse_webhook`] reads the envelope
//! (`entry[].changes[].value`) and returns every [`InboundMessage`] and [`StatusUpdate`] in it.
//!
//! Parsing is lenient inside the envelope: unknown fields are ignored, unknown message types
//! become [`InboundKind::Unsupported`], and a message or status that lacks a required field is
//! skipped and counted in [`Webhook::skipped`] rather than failing the batch. Only a body that
//! is not JSON, or not a `whatsapp_business_account` envelope, is a [`ParseError`].
//!
//! The service logs these types, so their `Debug` output never shows message text, captions,
//! file names, places, phone numbers or profile names: only lengths and `<redacted>`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::error::{api_errors, ApiError};

/// The `object` of every Cloud API webhook.
pub const OBJECT: &str = "whatsapp_business_account";

/// Why a webhook body could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The body is empty or only whitespace.
    Empty,
    /// The body is not valid JSON, or the envelope has the wrong shape.
    Json(String),
    /// The envelope's `object` is not `whatsapp_business_account` (the value, shortened).
    UnexpectedObject(String),
    /// A field the caller needs is absent.
    MissingField(&'static str),
}

impl ParseError {
    /// The kind of error and where, never its text: serde's message quotes the offending value,
    /// which can be a resident's message.
    pub(crate) fn json(e: serde_json::Error) -> Self {
        ParseError::Json(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("empty body"),
            ParseError::Json(e) => write!(f, "invalid json: {e}"),
            ParseError::UnexpectedObject(o) => {
                write!(f, "unexpected object `{o}`, expected `{OBJECT}`")
            }
            ParseError::MissingField(name) => write!(f, "missing field `{name}`"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Everything one webhook POST carried.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Webhook {
    /// Messages from residents, in payload order.
    pub messages: Vec<InboundMessage>,
    /// Delivery statuses of messages we sent, in payload order (not necessarily event order).
    pub statuses: Vec<StatusUpdate>,
    /// Account-level errors (`value.errors[]`), e.g. a throughput problem reported by Meta.
    pub errors: Vec<ApiError>,
    /// Messages and statuses left out because a required field was missing or invalid.
    pub skipped: usize,
}

/// One message from a resident, independent of how WhatsApp encodes it.
#[derive(Clone, PartialEq)]
pub struct InboundMessage {
    /// The provider message id (`wamid.…`): the deduplication key.
    pub id: String,
    /// The business phone number that received it (`metadata.phone_number_id`).
    pub phone_number_id: String,
    /// The resident's WhatsApp id (`wa_id`, their phone number in international form).
    pub from: String,
    /// The resident's WhatsApp profile name, when the payload gave one.
    pub profile_name: Option<String>,
    /// When WhatsApp received the message.
    pub timestamp: DateTime<Utc>,
    /// The message this one replies to or reacts on (`context.id`).
    pub context_id: Option<String>,
    /// What the message holds.
    pub kind: InboundKind,
}

/// The kind of media in [`InboundKind::Media`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Audio,
    /// An audio message recorded in WhatsApp (`audio` with `voice: true`).
    Voice,
    Video,
    Document,
    Sticker,
}

/// One product line of an [`InboundKind::Order`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub product_retailer_id: String,
    pub quantity: u64,
    pub item_price: Option<f64>,
    pub currency: Option<String>,
}

/// What a resident sent.
#[derive(Clone, PartialEq)]
pub enum InboundKind {
    /// A plain text message.
    Text { body: String },
    /// A photo, audio file, voice note, video, document or sticker.
    Media {
        media: MediaKind,
        caption: Option<String>,
        mime_type: Option<String>,
        /// The id to download the media with (`GET /{media_id}`).
        media_id: String,
        filename: Option<String>,
    },
    /// A shared location.
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    /// One or more contact cards (their content is not kept).
    Contacts { count: usize },
    /// A tap on a reply button we sent (`interactive.button_reply`).
    ButtonReply { id: String, title: String },
    /// A choice from a list we sent (`interactive.list_reply`).
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A tap on a quick-reply button of a template (`type: "button"`).
    QuickReply { payload: String, text: String },
    /// An emoji reaction on a message; `emoji` is `None` when a reaction was removed.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    /// An order from a catalogue.
    Order {
        catalog_id: String,
        items: Vec<OrderItem>,
    },
    /// A system notice, e.g. the resident changed their number.
    System { body: String },
    /// A type the Cloud API does not support, or one this module does not know.
    Unsupported {
        type_name: String,
        errors: Vec<ApiError>,
    },
}

impl InboundKind {
    /// The words the engine should read: the text, a caption, a button or list title, a
    /// quick-reply text, a location's name (or its address). Empty for everything else.
    pub fn text(&self) -> &str {
        match self {
            InboundKind::Text { body } => body,
            InboundKind::Media { caption, .. } => caption.as_deref().unwrap_or(""),
            InboundKind::ButtonReply { title, .. } | InboundKind::ListReply { title, .. } => title,
            InboundKind::QuickReply { text, .. } => text,
            InboundKind::Location { name, address, .. } => {
                name.as_deref().or(address.as_deref()).unwrap_or("")
            }
            InboundKind::Contacts { .. }
            | InboundKind::Reaction { .. }
            | InboundKind::Order { .. }
            | InboundKind::System { .. }
            | InboundKind::Unsupported { .. } => "",
        }
    }

    /// The id of the button or list row the resident chose, or a quick reply's payload.
    pub fn button_payload(&self) -> Option<&str> {
        match self {
            InboundKind::ButtonReply { id, .. } | InboundKind::ListReply { id, .. } => Some(id),
            InboundKind::QuickReply { payload, .. } => Some(payload),
            _ => None,
        }
    }

    /// A Dutch label for agents for anything that is not plain text or a reply to our buttons,
    /// e.g. "spraakbericht" for a voice note.
    pub fn media_label(&self) -> Option<&'static str> {
        match self {
            InboundKind::Text { .. }
            | InboundKind::ButtonReply { .. }
            | InboundKind::ListReply { .. }
            | InboundKind::QuickReply { .. }
            | InboundKind::System { .. } => None,
            InboundKind::Media { media, .. } => Some(match media {
                MediaKind::Image => "foto",
                MediaKind::Audio => "audio",
                MediaKind::Voice => "spraakbericht",
                MediaKind::Video => "video",
                MediaKind::Document => "document",
                MediaKind::Sticker => "sticker",
            }),
            InboundKind::Location { .. } => Some("locatie"),
            InboundKind::Contacts { .. } => Some("contactkaart"),
            InboundKind::Order { .. } => Some("bestelling"),
            InboundKind::Reaction { .. } => Some("reactie"),
            InboundKind::Unsupported { .. } => Some("niet-ondersteund bericht"),
        }
    }
}

/// The delivery state of a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
    Deleted,
    /// A status this module does not know (e.g. `played` for voice messages).
    Other(String),
}

impl DeliveryStatus {
    /// Reads the webhook's `status` string.
    pub fn parse(s: &str) -> Self {
        match s {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            "deleted" => DeliveryStatus::Deleted,
            other => DeliveryStatus::Other(other.to_owned()),
        }
    }

    /// The webhook's `status` string.
    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Deleted => "deleted",
            DeliveryStatus::Other(s) => s,
        }
    }

    /// The order in which statuses supersede each other: unknown < sent < delivered < read <
    /// deleted < failed. Failed is final.
    pub fn rank(&self) -> u8 {
        match self {
            DeliveryStatus::Other(_) => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read => 3,
            DeliveryStatus::Deleted => 4,
            DeliveryStatus::Failed => 5,
        }
    }

    /// Whether this status, arriving after `current`, should replace it. Statuses arrive out
    /// of order: a late `delivered` never overwrites `read`, and nothing overwrites `failed`.
    pub fn supersedes(&self, current: &DeliveryStatus) -> bool {
        self.rank() > current.rank()
    }
}

/// A delivery status of a message we sent.
#[derive(Clone, PartialEq)]
pub struct StatusUpdate {
    /// The id (`wamid`) of our message, as returned by the send.
    pub id: String,
    /// The resident's WhatsApp id.
    pub recipient_id: String,
    pub status: DeliveryStatus,
    pub timestamp: DateTime<Utc>,
    /// Why it failed, for [`DeliveryStatus::Failed`].
    pub errors: Vec<ApiError>,
    /// What we put in `biz_opaque_callback_data` when sending (the outbox id).
    pub biz_opaque_callback_data: Option<String>,
}

/// Shows the length of a personal value, never the value.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} chars>", self.0)
    }
}

fn redact(s: &str) -> Redacted {
    Redacted(s.chars().count())
}

fn redact_opt(s: &Option<String>) -> Option<Redacted> {
    s.as_deref().map(redact)
}

/// A message id for logs: a `wamid` encodes the resident's phone number near its start, so
/// only its last 16 characters (the random part) are shown.
struct IdTail<'a>(&'a str);

impl fmt::Debug for IdTail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.chars().count();
        if n <= 16 {
            write!(f, "{:?}", self.0)
        } else {
            let tail: String = self.0.chars().skip(n - 16).collect();
            write!(f, "\"…{tail}\"")
        }
    }
}

impl fmt::Debug for InboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundMessage")
            .field("id", &IdTail(&self.id))
            .field("phone_number_id", &self.phone_number_id)
            .field("from", &"<redacted>")
            .field(
                "profile_name",
                &self.profile_name.as_ref().map(|_| "<redacted>"),
            )
            .field("timestamp", &self.timestamp)
            .field("context_id", &self.context_id.as_deref().map(IdTail))
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Debug for InboundKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InboundKind::Text { body } => {
                f.debug_struct("Text").field("body", &redact(body)).finish()
            }
            InboundKind::Media {
                media,
                caption,
                mime_type,
                media_id,
                filename,
            } => f
                .debug_struct("Media")
                .field("media", media)
                .field("caption", &redact_opt(caption))
                .field("mime_type", mime_type)
                .field("media_id", media_id)
                .field("filename", &redact_opt(filename))
                .finish(),
            InboundKind::Location { name, address, .. } => f
                .debug_struct("Location")
                .field("latitude", &"<redacted>")
                .field("longitude", &"<redacted>")
                .field("name", &redact_opt(name))
                .field("address", &redact_opt(address))
                .finish(),
            InboundKind::Contacts { count } => {
                f.debug_struct("Contacts").field("count", count).finish()
            }
            InboundKind::ButtonReply { id, title } => f
                .debug_struct("ButtonReply")
                .field("id", id)
                .field("title", title)
                .finish(),
            InboundKind::ListReply {
                id,
                title,
                description,
            } => f
                .debug_struct("ListReply")
                .field("id", id)
                .field("title", title)
                .field("description", description)
                .finish(),
            InboundKind::QuickReply { payload, text } => f
                .debug_struct("QuickReply")
                .field("payload", payload)
                .field("text", text)
                .finish(),
            InboundKind::Reaction { message_id, emoji } => f
                .debug_struct("Reaction")
                .field("message_id", &IdTail(message_id))
                .field("emoji", emoji)
                .finish(),
            InboundKind::Order { catalog_id, items } => f
                .debug_struct("Order")
                .field("catalog_id", catalog_id)
                .field("items", items)
                .finish(),
            InboundKind::System { body } => f
                .debug_struct("System")
                .field("body", &redact(body))
                .finish(),
            InboundKind::Unsupported { type_name, errors } => f
                .debug_struct("Unsupported")
                .field("type_name", type_name)
                .field("errors", errors)
                .finish(),
        }
    }
}

impl fmt::Debug for StatusUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusUpdate")
            .field("id", &IdTail(&self.id))
            .field("recipient_id", &"<redacted>")
            .field("status", &self.status)
            .field("timestamp", &self.timestamp)
            .field("errors", &self.errors)
            .field("biz_opaque_callback_data", &self.biz_opaque_callback_data)
            .finish()
    }
}

// ---- the raw payload -------------------------------------------------------------------

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    entry: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    changes: Option<Vec<RawChange>>,
}

#[derive(Deserialize)]
struct RawChange {
    #[serde(default)]
    value: Option<RawValue>,
}

/// Items stay as JSON values so that one bad item is skipped, not fatal to the batch.
#[derive(Deserialize)]
struct RawValue {
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    contacts: Option<Vec<Value>>,
    #[serde(default)]
    messages: Option<Vec<Value>>,
    #[serde(default)]
    statuses: Option<Vec<Value>>,
    #[serde(default)]
    errors: Option<Value>,
}

/// Unix seconds, as a string (what Meta sends) or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTimestamp {
    Text(String),
    Number(i64),
}

impl RawTimestamp {
    fn to_utc(&self) -> Option<DateTime<Utc>> {
        let secs = match self {
            RawTimestamp::Text(s) => s.trim().parse::<i64>().ok()?,
            RawTimestamp::Number(n) => *n,
        };
        DateTime::from_timestamp(secs, 0)
    }
}

#[derive(Deserialize)]
struct RawMessage {
    id: String,
    from: String,
    timestamp: RawTimestamp,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    context: Option<RawContext>,
    #[serde(default)]
    text: Option<RawText>,
    #[serde(default)]
    image: Option<RawMedia>,
    #[serde(default)]
    audio: Option<RawMedia>,
    #[serde(default)]
    video: Option<RawMedia>,
    #[serde(default)]
    document: Option<RawMedia>,
    #[serde(default)]
    sticker: Option<RawMedia>,
    #[serde(default)]
    location: Option<RawLocation>,
    #[serde(default)]
    contacts: Option<Vec<Value>>,
    #[serde(default)]
    interactive: Option<RawInteractive>,
    #[serde(default)]
    button: Option<RawButton>,
    #[serde(default)]
    reaction: Option<RawReaction>,
    #[serde(default)]
    order: Option<RawOrder>,
    #[serde(default)]
    system: Option<RawSystem>,
    #[serde(default)]
    unsupported: Option<RawUnsupported>,
    #[serde(default)]
    errors: Option<Value>,
}

#[derive(Deserialize)]
struct RawContext {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct RawText {
    body: String,
}

#[derive(Deserialize)]
struct RawMedia {
    id: String,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    voice: Option<bool>,
}

#[derive(Deserialize)]
struct RawLocation {
    latitude: f64,
    longitude: f64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Deserialize)]
struct RawInteractive {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    button_reply: Option<RawReply>,
    #[serde(default)]
    list_reply: Option<RawReply>,
}

#[derive(Deserialize)]
struct RawReply {
    id: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawButton {
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawReaction {
    message_id: String,
    #[serde(default)]
    emoji: Option<String>,
}

#[derive(Deserialize)]
struct RawOrder {
    #[serde(default)]
    catalog_id: Option<String>,
    #[serde(default)]
    product_items: Option<Vec<RawOrderItem>>,
}

#[derive(Deserialize)]
struct RawOrderItem {
    product_retailer_id: String,
    #[serde(default)]
    quantity: Option<RawNumber>,
    #[serde(default)]
    item_price: Option<RawNumber>,
    #[serde(default)]
    currency: Option<String>,
}

/// A number that may come as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawNumber {
    Number(f64),
    Text(String),
}

impl RawNumber {
    fn value(&self) -> Option<f64> {
        match self {
            RawNumber::Number(n) => Some(*n),
            RawNumber::Text(s) => s.trim().parse().ok(),
        }
        .filter(|n: &f64| n.is_finite())
    }
}

#[derive(Deserialize)]
struct RawSystem {
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct RawUnsupported {
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct RawStatus {
    id: String,
    status: String,
    timestamp: RawTimestamp,
    recipient_id: String,
    #[serde(default)]
    errors: Option<Value>,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
}

#[derive(Deserialize)]
struct RawContact {
    #[serde(default)]
    wa_id: Option<String>,
    #[serde(default)]
    profile: Option<RawProfile>,
}

#[derive(Deserialize)]
struct RawProfile {
    #[serde(default)]
    name: Option<String>,
}

fn media(raw: Option<RawMedia>, kind: MediaKind) -> Option<InboundKind> {
    let m = raw?;
    let media = match (kind, m.voice) {
        (MediaKind::Audio, Some(true)) => MediaKind::Voice,
        (kind, _) => kind,
    };
    Some(InboundKind::Media {
        media,
        caption: m.caption,
        mime_type: m.mime_type,
        media_id: m.id,
        filename: m.filename,
    })
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// The kind of a message; `None` when the part its type names is missing or invalid.
fn kind(m: RawMessage) -> Option<InboundKind> {
    let errors = api_errors(m.errors.as_ref());
    Some(match m.kind.as_str() {
        "text" => InboundKind::Text { body: m.text?.body },
        "image" => media(m.image, MediaKind::Image)?,
        "audio" => media(m.audio, MediaKind::Audio)?,
        "video" => media(m.video, MediaKind::Video)?,
        "document" => media(m.document, MediaKind::Document)?,
        "sticker" => media(m.sticker, MediaKind::Sticker)?,
        "location" => {
            let l = m.location?;
            InboundKind::Location {
                latitude: l.latitude,
                longitude: l.longitude,
                name: non_empty(l.name),
                address: non_empty(l.address),
            }
        }
        "contacts" => InboundKind::Contacts {
            count: m.contacts?.len(),
        },
        "interactive" => {
            let i = m.interactive?;
            match i.kind.as_str() {
                "button_reply" => {
                    let r = i.button_reply?;
                    InboundKind::ButtonReply {
                        id: r.id,
                        title: r.title,
                    }
                }
                "list_reply" => {
                    let r = i.list_reply?;
                    InboundKind::ListReply {
                        id: r.id,
                        title: r.title,
                        description: non_empty(r.description),
                    }
                }
                other => InboundKind::Unsupported {
                    type_name: format!("interactive.{other}"),
                    errors,
                },
            }
        }
        "button" => {
            let b = m.button?;
            if b.payload.is_none() && b.text.is_none() {
                return None;
            }
            InboundKind::QuickReply {
                payload: b.payload.unwrap_or_default(),
                text: b.text.unwrap_or_default(),
            }
        }
        "reaction" => {
            let r = m.reaction?;
            InboundKind::Reaction {
                message_id: r.message_id,
                emoji: non_empty(r.emoji),
            }
        }
        "order" => {
            let o = m.order?;
            InboundKind::Order {
                catalog_id: o.catalog_id.unwrap_or_default(),
                items: o
                    .product_items
                    .unwrap_or_default()
                    .into_iter()
                    .map(|i| OrderItem {
                        product_retailer_id: i.product_retailer_id,
                        quantity: i
                            .quantity
                            .and_then(|q| q.value())
                            .filter(|q| *q >= 0.0)
                            .map_or(1, |q| q as u64),
                        item_price: i.item_price.and_then(|p| p.value()),
                        currency: i.currency,
                    })
                    .collect(),
            }
        }
        "system" => InboundKind::System {
            body: m.system?.body.unwrap_or_default(),
        },
        "unsupported" => InboundKind::Unsupported {
            type_name: m
                .unsupported
                .and_then(|u| non_empty(u.kind))
                .unwrap_or_else(|| "unsupported".to_owned()),
            errors,
        },
        other => InboundKind::Unsupported {
            type_name: other.to_owned(),
            errors,
        },
    })
}

fn message(v: &Value, phone_number_id: &str, contacts: &[RawContact]) -> Option<InboundMessage> {
    let m = RawMessage::deserialize(v).ok()?;
    if m.id.is_empty() || m.from.is_empty() {
        return None;
    }
    let timestamp = m.timestamp.to_utc()?;
    let id = m.id.clone();
    let from = m.from.clone();
    let context_id = m.context.as_ref().and_then(|c| non_empty(c.id.clone()));
    // The contact whose wa_id matches; a lone contact without wa_id belongs to the message.
    let profile_name = contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(from.as_str()))
        .or(match contacts {
            [only] if only.wa_id.is_none() => Some(only),
            _ => None,
        })
        .and_then(|c| c.profile.as_ref())
        .and_then(|p| non_empty(p.name.clone()));
    Some(InboundMessage {
        id,
        phone_number_id: phone_number_id.to_owned(),
        from,
        profile_name,
        timestamp,
        context_id,
        kind: kind(m)?,
    })
}

fn status(v: &Value) -> Option<StatusUpdate> {
    let s = RawStatus::deserialize(v).ok()?;
    if s.id.is_empty() || s.status.is_empty() {
        return None;
    }
    Some(StatusUpdate {
        timestamp: s.timestamp.to_utc()?,
        status: DeliveryStatus::parse(&s.status),
        errors: api_errors(s.errors.as_ref()),
        id: s.id,
        recipient_id: s.recipient_id,
        biz_opaque_callback_data: non_empty(s.biz_opaque_callback_data),
    })
}

/// A webhook as the Cloud API sends it for one text message from `from` (with profile name
/// `name`) to our number `phone_number_id`, sent at `at`: what the command line's `triage say`
/// and the load tools post (they sign it themselves).
pub fn text_webhook(
    phone_number_id: &str,
    id: &str,
    from: &str,
    name: &str,
    text: &str,
    at: DateTime<Utc>,
) -> Value {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "0", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "0000", "phone_number_id": phone_number_id },
            "contacts": [{ "profile": { "name": name }, "wa_id": from }],
            "messages": [{ "from": from, "id": id, "timestamp": at.timestamp().to_string(),
                           "type": "text", "text": { "body": text } }]
        }}]}]
    })
}

/// Reads one webhook POST body. Never panics, whatever the bytes.
pub fn parse_webhook(raw: &[u8]) -> Result<Webhook, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let envelope: RawEnvelope = serde_json::from_slice(raw).map_err(ParseError::json)?;
    match envelope.object.as_deref() {
        Some(OBJECT) => {}
        Some(other) => {
            // Named only when it looks like an object type (`page`, `instagram`), never quoted.
            let shown = if other.len() <= 40
                && other.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                other.to_string()
            } else {
                "<other>".to_string()
            };
            return Err(ParseError::UnexpectedObject(shown));
        }
        None => return Err(ParseError::MissingField("object")),
    }
    let mut webhook = Webhook::default();
    let values = envelope
        .entry
        .unwrap_or_default()
        .into_iter()
        .flat_map(|e| e.changes.unwrap_or_default())
        .filter_map(|c| c.value);
    for value in values {
        let phone_number_id = value
            .metadata
            .as_ref()
            .and_then(|m| m.get("phone_number_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let contacts: Vec<RawContact> = value
            .contacts
            .unwrap_or_default()
            .iter()
            .filter_map(|c| RawContact::deserialize(c).ok())
            .collect();
        for v in value.messages.unwrap_or_default() {
            match message(&v, &phone_number_id, &contacts) {
                Some(m) if !phone_number_id.is_empty() => webhook.messages.push(m),
                _ => webhook.skipped += 1,
            }
        }
        for v in value.statuses.unwrap_or_default() {
            match status(&v) {
                Some(s) => webhook.statuses.push(s),
                None => webhook.skipped += 1,
            }
        }
        webhook.errors.extend(api_errors(value.errors.as_ref()));
    }
    Ok(webhook)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_tail_hides_the_phone_number_part() {
        let id = "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUI0RjAwRDdCMzlCMEQxQkU01A";
        assert_eq!(format!("{:?}", IdTail(id)), "\"…dCMzlCMEQxQkU01A\"");
        assert_eq!(format!("{:?}", IdTail("wamid.short")), "\"wamid.short\"");
    }

    #[test]
    fn timestamps_as_strings_or_numbers() {
        let t = |v: Value| RawTimestamp::deserialize(&v).ok().and_then(|t| t.to_utc());
        let want = DateTime::from_timestamp(1_764_264_600, 0);
        assert_eq!(t(Value::from("1764264600")), want);
        assert_eq!(t(Value::from(1_764_264_600_i64)), want);
        assert_eq!(t(Value::from("gisteren")), None);
        assert_eq!(t(Value::from(i64::MAX)), None);
        assert_eq!(t(Value::Null), None);
    }

    #[test]
    fn redacted_shows_only_the_length() {
        assert_eq!(
            format!("{:?}", redact("hallo wereld")),
            "<redacted 12 chars>"
        );
    }
}
