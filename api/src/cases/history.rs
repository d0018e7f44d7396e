//! The case history as a hash chain: each event's hash covers the previous hash and the event's
//! stored text, so changing or removing any stored event breaks every later link.

use crate::store::entities::case_event;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a case's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 of `v`'s compact JSON text, written straight into the hash: a saved plan's text
/// need not be built as a string first.
pub fn digest_json(v: &Value) -> String {
    let mut hasher = Sha256::new();
    // Writing into a hash cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut hasher, v);
    hex::encode(hasher.finalize())
}

/// The hash of one event: length-prefixed fields so no two field lists hash alike.
pub fn event_hash(
    prev_hash: &str,
    case_id: &str,
    seq: i64,
    comment: Option<&str>,
    body: &str,
) -> String {
    let mut h = Sha256::new();
    for field in [
        prev_hash,
        case_id,
        &seq.to_string(),
        comment.unwrap_or("\u{0}"),
        body,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where a case's stored chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks that events (in `seq` order) form an unbroken chain ending at `head_hash`.
pub fn verify_chain(
    case_id: &str,
    events: &[case_event::Model],
    head_hash: &str,
) -> Result<(), ChainBreak> {
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!("event {expected_seq} is missing"),
            });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "prev_hash does not match the previous event's hash".to_owned(),
            });
        }
        let h = event_hash(&prev, case_id, e.seq, e.comment.as_deref(), &e.body);
        if h != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "the stored event does not match its hash".to_owned(),
            });
        }
        prev = h;
    }
    if prev != head_hash {
        return Err(ChainBreak {
            seq: events.len() as i64,
            reason:
                "the case's head hash does not match its last event (events missing at the end?)"
                    .to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::digest_json;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    /// Stored events carry digests made from the input's compact text; hashing while writing
    /// it out must give the same digest for the same input.
    #[test]
    fn an_input_digest_is_the_sha256_of_its_compact_json_text() {
        assert_eq!(
            digest_json(&json!({"a": 1, "b": "试点\n"})),
            // sha256 of the bytes {"a":1,"b":"试点\n"} (a backslash and an n), as stored.
            "04ff5038d7ecd4202ae0bdf1cb2af6f6d5558ec77d8281354e8df5222e565e1e"
        );
        let form = json!({"sections": [{"title": "总体思路", "body": "「试点」\u{3000}内容"}],
                          "budget": 1.5e6, "none": null});
        assert_eq!(
            digest_json(&form),
            hex::encode(Sha256::digest(form.to_string().as_bytes()))
        );
    }
}
