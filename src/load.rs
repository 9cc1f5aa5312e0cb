//! What the load tools (`triage-loadgen`, `triage-soak`) share: the residents' text mix, the
//! signed text webhook they post, and the check that keeps them on loopback.

use std::net::IpAddr;

/// What residents write that the bot answers itself.
pub const FAQ: &[&str] = &[
    "ik wil een paspoort aanvragen",
    "wanneer wordt het afval opgehaald",
    "hoe vraag ik een id kaart aan?",
    "wanneer komt de gft bak",
    "Mijn paspoort is verlopen wat nu",
    "afvalkalender??",
    "waar kan ik grofvuil kwijt",
    "hoe geef ik een verhuizing door",
    "ik wil mijn rijbewijs verlengen",
    "hoeveel kost een parkeervergunning",
];
/// What residents write that goes to a person.
pub const HANDOVER: &[&str] = &[
    "ik heb een klacht over mijn buurman",
    "er ligt al een week een kapotte lantaarnpaal in mijn straat",
    "kan iemand mij bellen over mijn aanvraag",
    "ik heb een vraag over mijn uitkering",
    "de stoep voor mijn huis is kapot en gevaarlijk",
    "wie kan mij helpen met een bezwaar",
];
/// What residents write with personal data in it (a privacy redirect).
pub const PRIVATE: &[&str] = &[
    "mijn bsn is 111222333 ik ga verhuizen",
    "hier mijn bsn 123456782 voor de aanvraag",
    "bsn: 111.222.333 kan iemand kijken",
];

/// The text of message `i`: of every 20 messages, 13 FAQ, 5 for a person, 2 with a BSN.
pub fn text_for(i: u64) -> &'static str {
    let slot = i % 20;
    let k = (i / 20) as usize;
    match slot {
        0..=12 => FAQ[(k + slot as usize) % FAQ.len()],
        13..=17 => HANDOVER[(k + slot as usize) % HANDOVER.len()],
        _ => PRIVATE[(k + slot as usize) % PRIVATE.len()],
    }
}

/// A WhatsApp text webhook (unsigned) from `from` to `phone_number_id`, timestamped now.
pub fn webhook(phone_number_id: &str, id: &str, from: &str, text: &str) -> Vec<u8> {
    crate::channels::whatsapp::text_webhook(
        phone_number_id,
        id,
        from,
        "Load",
        text,
        chrono::Utc::now(),
    )
    .to_string()
    .into_bytes()
}

/// Refuses anything but a loopback address: the load tools never send traffic off the machine.
pub fn loopback_base(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: only plain http:// on loopback is supported"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let ok = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !ok {
        return Err(format!(
            "`{host}` is not a loopback address: the load tools only target 127.0.0.0/8, ::1 or localhost"
        ));
    }
    Ok(format!("http://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://127.3.4.5",
            "http://[::1]:9000",
        ] {
            assert!(loopback_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://192.168.1.2",
            "http://example.org",
            "https://127.0.0.1",
            "http://[2001:db8::1]:80",
        ] {
            assert!(loopback_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_mix_has_faq_handover_and_personal_data() {
        let texts: Vec<&str> = (0..200).map(text_for).collect();
        let count = |set: &[&str]| texts.iter().filter(|t| set.contains(t)).count();
        assert_eq!(count(FAQ), 130);
        assert_eq!(count(HANDOVER), 50);
        assert_eq!(count(PRIVATE), 20);
    }
}
