//! Check digits: the elfproef of a BSN and the mod-97 check of an IBAN, with the IBAN length
//! of every country in the SWIFT IBAN registry.

/// Whether `s` is a valid BSN: 9 digits (or 8, a BSN whose leading zero was dropped) passing
/// the elfproef, and not all zeros.
pub fn is_valid_bsn(s: &str) -> bool {
    let bytes = s.as_bytes();
    if !(bytes.len() == 8 || bytes.len() == 9) || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut digits = [0u8; 9];
    let offset = 9 - bytes.len();
    for (slot, b) in digits[offset..].iter_mut().zip(bytes) {
        *slot = b - b'0';
    }
    elfproef(&digits)
}

/// The 11-test over nine digits: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11), not all zeros.
pub(crate) fn elfproef(digits: &[u8; 9]) -> bool {
    if digits.iter().all(|&d| d == 0) {
        return false;
    }
    let mut sum: i32 = 0;
    for (i, &d) in digits[..8].iter().enumerate() {
        sum += (9 - i as i32) * i32::from(d);
    }
    sum -= i32::from(digits[8]);
    sum.rem_euclid(11) == 0
}

/// Whether `s` is a valid IBAN: known country, right length, mod-97 remainder 1. Spaces
/// and case do not matter.
pub fn is_valid_iban(s: &str) -> bool {
    let compact: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 4 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    if !compact[..2].iter().all(u8::is_ascii_uppercase)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    iban_length(compact[0], compact[1]) == Some(compact.len()) && iban_mod97(&compact) == 1
}

/// The mod-97 remainder of an IBAN (upper-case ASCII letters and digits, no spaces): the first
/// four characters moved to the end, letters counting as 10..=35.
pub(crate) fn iban_mod97(compact: &[u8]) -> u32 {
    let (head, tail) = compact.split_at(compact.len().min(4));
    let mut rem: u32 = 0;
    for &b in tail.iter().chain(head) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            _ => return u32::MAX,
        };
        rem = if v < 10 {
            (rem * 10 + v) % 97
        } else {
            (rem * 100 + v) % 97
        };
    }
    rem
}

/// The length of an IBAN of the country with this (upper-case) code, if the country uses IBANs.
pub(crate) fn iban_length(a: u8, b: u8) -> Option<usize> {
    IBAN_LENGTHS
        .binary_search_by(|(code, _)| code.cmp(&[a, b]))
        .ok()
        .and_then(|i| IBAN_LENGTHS.get(i))
        .map(|&(_, len)| usize::from(len))
}

/// Country code and IBAN length, sorted by code (SWIFT IBAN registry).
const IBAN_LENGTHS: &[([u8; 2], u8)] = &[
    (*b"AD", 24),
    (*b"AE", 23),
    (*b"AL", 28),
    (*b"AT", 20),
    (*b"AZ", 28),
    (*b"BA", 20),
    (*b"BE", 16),
    (*b"BG", 22),
    (*b"BH", 22),
    (*b"BI", 27),
    (*b"BR", 29),
    (*b"BY", 28),
    (*b"CH", 21),
    (*b"CR", 22),
    (*b"CY", 28),
    (*b"CZ", 24),
    (*b"DE", 22),
    (*b"DJ", 27),
    (*b"DK", 18),
    (*b"DO", 28),
    (*b"EE", 20),
    (*b"EG", 29),
    (*b"ES", 24),
    (*b"FI", 18),
    (*b"FK", 18),
    (*b"FO", 18),
    (*b"FR", 27),
    (*b"GB", 22),
    (*b"GE", 22),
    (*b"GI", 23),
    (*b"GL", 18),
    (*b"GR", 27),
    (*b"GT", 28),
    (*b"HN", 28),
    (*b"HR", 21),
    (*b"HU", 28),
    (*b"IE", 22),
    (*b"IL", 23),
    (*b"IQ", 23),
    (*b"IS", 26),
    (*b"IT", 27),
    (*b"JO", 30),
    (*b"KW", 30),
    (*b"KZ", 20),
    (*b"LB", 28),
    (*b"LC", 32),
    (*b"LI", 21),
    (*b"LT", 20),
    (*b"LU", 20),
    (*b"LV", 21),
    (*b"LY", 25),
    (*b"MC", 27),
    (*b"MD", 24),
    (*b"ME", 22),
    (*b"MK", 19),
    (*b"MN", 20),
    (*b"MR", 27),
    (*b"MT", 31),
    (*b"MU", 30),
    (*b"NI", 28),
    (*b"NL", 18),
    (*b"NO", 15),
    (*b"OM", 23),
    (*b"PK", 24),
    (*b"PL", 28),
    (*b"PS", 29),
    (*b"PT", 25),
    (*b"QA", 29),
    (*b"RO", 24),
    (*b"RS", 22),
    (*b"RU", 33),
    (*b"SA", 24),
    (*b"SC", 31),
    (*b"SD", 18),
    (*b"SE", 24),
    (*b"SI", 19),
    (*b"SK", 24),
    (*b"SM", 27),
    (*b"SO", 23),
    (*b"ST", 25),
    (*b"SV", 28),
    (*b"TL", 23),
    (*b"TN", 24),
    (*b"TR", 26),
    (*b"UA", 29),
    (*b"VA", 22),
    (*b"VG", 24),
    (*b"XK", 20),
    (*b"YE", 30),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(IBAN_LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn elfproef_accepts_known_good_and_rejects_neighbours() {
        assert!(is_valid_bsn("123456782"));
        assert!(is_valid_bsn("111222333"));
        assert!(!is_valid_bsn("123456781"));
        assert!(!is_valid_bsn("000000000"));
        assert!(!is_valid_bsn("1234567820"));
        assert!(!is_valid_bsn("12345678a"));
        // 8 digits are checked as 0 + 8 digits: 012345672 passes (8·1+7·2+…+2·6−2 = 110).
        assert!(is_valid_bsn("12345672"));
        assert!(is_valid_bsn("012345672"));
        assert!(!is_valid_bsn("12345678"));
    }

    #[test]
    fn iban_check_accepts_spacing_and_case() {
        assert!(is_valid_iban("NL91ABNA0417164300"));
        assert!(is_valid_iban("nl91 abna 0417 1643 00"));
        assert!(is_valid_iban("DE89 3704 0044 0532 0130 00"));
        assert!(is_valid_iban("GB82 WEST 1234 5698 7654 32"));
        assert!(is_valid_iban("BE68 5390 0754 7034"));
        assert!(is_valid_iban("NO93 8601 1117 947"));
        assert!(!is_valid_iban("NL92ABNA0417164300"));
        assert!(!is_valid_iban("NL91ABNA041716430"));
        assert!(!is_valid_iban("XX91ABNA0417164300"));
        assert!(!is_valid_iban(""));
        assert!(!is_valid_iban("NL91-ABNA-0417-1643-00"));
    }
}
