//! A panic's message, left where the host can read it after the trap.
//!
//! Panics abort in wasm (the guest traps with `unreachable`), so their message cannot travel back
//! with a result, and a plugin has no import to send it through. Instead the hook that every
//! export installs writes the message into one static record in the plugin's linear memory: a
//! 16-byte marker, the message length (u32, little endian) and the UTF-8 message, truncated at a
//! character boundary to [`CAPACITY`] bytes. The host finds the record by its marker in the
//! trapped instance's memory and reports the message with the trap.
//!
//! The marker is stored masked and unmasked only into the record, so its plain bytes exist
//! nowhere in memory until a panic writes them.

// Natively the hook is not installed (panics unwind there), so only the tests use the record.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use std::fmt::{self, Write};

/// Most bytes of a panic message that reach the host.
pub(crate) const CAPACITY: usize = 1024;

/// The record's marker; the host searches linear memory for these bytes.
pub(crate) const MARKER: [u8; 16] = *b"subnetkit:panic\0";

const MASK: u8 = 0xA5;

/// [`MARKER`] with every byte xor [`MASK`]: what the module's data holds.
const MASKED_MARKER: [u8; 16] = {
    let mut masked = MARKER;
    let mut i = 0;
    while i < masked.len() {
        masked[i] ^= MASK;
        i += 1;
    }
    masked
};

/// Marker, length, message.
const RECORD_LEN: usize = MARKER.len() + 4 + CAPACITY;

/// Writes the record for `message` into `record`.
fn write_record(record: &mut [u8; RECORD_LEN], message: &dyn fmt::Display) {
    let (header, body) = record.split_at_mut(MARKER.len() + 4);
    let mut writer = Truncating { buf: body, len: 0 };
    // A `Display` that fails leaves what it wrote so far, which is still worth reporting.
    let _ = write!(writer, "{message}");
    let len = writer.len as u32;
    header[MARKER.len()..].copy_from_slice(&len.to_le_bytes());
    // Unmask straight into the record (no temporary that could leave a copy on the stack), last,
    // so the marker marks a complete record.
    let masked = std::hint::black_box(&MASKED_MARKER);
    for (byte, masked) in header[..MARKER.len()].iter_mut().zip(masked) {
        *byte = masked ^ MASK;
    }
}

/// A `fmt::Write` into a fixed buffer that keeps what fits, cutting at a character boundary.
struct Truncating<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for Truncating<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() { Err(fmt::Error) } else { Ok(()) }
    }
}

/// Installs the panic hook that writes the record (once per instance; a no-op natively, where
/// panics unwind and test harnesses print them).
pub(crate) fn install_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        use std::sync::{Mutex, Once, PoisonError};

        static RECORD: Mutex<[u8; RECORD_LEN]> = Mutex::new([0; RECORD_LEN]);
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let mut record = RECORD.lock().unwrap_or_else(PoisonError::into_inner);
                write_record(&mut record, info);
            }));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_of(message: &dyn fmt::Display) -> (Vec<u8>, String) {
        let mut record = [0u8; RECORD_LEN];
        write_record(&mut record, message);
        let len = u32::from_le_bytes(record[16..20].try_into().unwrap()) as usize;
        (record[..16].to_vec(), String::from_utf8(record[20..20 + len].to_vec()).unwrap())
    }

    #[test]
    fn a_record_holds_the_marker_and_the_message() {
        let (marker, message) = record_of(&"index out of bounds: the len is 3 but the index is 7");
        assert_eq!(marker, MARKER);
        assert_eq!(message, "index out of bounds: the len is 3 but the index is 7");
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        // 'é' is two bytes, so CAPACITY (even) bytes of "aé…" cannot end inside one only if the
        // cut steps back.
        let long = format!("a{}", "é".repeat(CAPACITY));
        let (_, message) = record_of(&long);
        assert_eq!(message.len(), CAPACITY - 1);
        assert!(long.starts_with(&message));
    }

    #[test]
    fn the_plain_marker_is_not_in_the_masked_constant() {
        assert_ne!(MASKED_MARKER, MARKER);
        assert!(MASKED_MARKER.iter().zip(MARKER).all(|(m, p)| m ^ MASK == p));
    }
}
