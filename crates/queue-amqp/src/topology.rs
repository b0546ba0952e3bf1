//! How a `QueueSpec` maps onto RabbitMQ quorum-queue arguments and message headers, and how
//! lapin errors map onto `QueueError` (retryable vs permanent).

use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::ErrorKind;
use platefarm_queue::{QueueError, QueueSpec};

/// Header carrying the reason a consumer gave to `reject` (AMQP nack carries no text).
pub const DEATH_REASON_HEADER: &str = "x-platefarm-death-reason";
/// Header carrying the queue a rejected message came from.
pub const SOURCE_QUEUE_HEADER: &str = "x-platefarm-source-queue";

/// `queue.declare` arguments for a spec. Every queue is a durable quorum queue. A queue with a
/// dead-letter queue gets a delivery limit and at-least-once dead-lettering; one without gets
/// no limit at all, because a 3.x quorum queue *drops* a message past its limit when it has
/// nowhere to dead-letter it, and platefarm never drops a message.
pub fn declare_arguments(spec: &QueueSpec) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long_string("quorum"));
    if let Some(dlq) = &spec.dead_letter_queue {
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(broker_delivery_limit(spec.delivery_limit)),
        );
        args.insert("x-dead-letter-exchange".into(), long_string(""));
        args.insert("x-dead-letter-routing-key".into(), long_string(dlq));
        // at-least-once dead-lettering keeps the message in the source queue until the
        // dead-letter queue has confirmed it; RabbitMQ requires reject-publish overflow for it.
        args.insert(
            "x-dead-letter-strategy".into(),
            long_string("at-least-once"),
        );
        args.insert("x-overflow".into(), long_string("reject-publish"));
    }
    args
}

/// Our limit counts deliveries ("dead-letter after N deliveries"); RabbitMQ 3.x counts
/// *returns* and dead-letters once they exceed `x-delivery-limit`, so N deliveries = N − 1.
pub fn broker_delivery_limit(deliveries: u32) -> i32 {
    i32::try_from(deliveries.max(1) - 1).unwrap_or(i32::MAX)
}

pub fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

/// A header's value as text, whatever string type the sender used.
pub fn header_text(headers: &FieldTable, key: &str) -> Option<String> {
    match headers.inner().get(&ShortString::from(key))? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

/// A header's value as an integer, whatever integer type the sender used.
pub fn header_int(headers: &FieldTable, key: &str) -> Option<i64> {
    match headers.inner().get(&ShortString::from(key))? {
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}

/// 1 on the first delivery; the quorum queue's `x-delivery-count` (returns so far) + 1 after.
pub fn delivery_count(headers: Option<&FieldTable>) -> u32 {
    headers
        .and_then(|h| header_int(h, "x-delivery-count"))
        .map(|n| u32::try_from(n.max(0).saturating_add(1)).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// Why a message is in a dead-letter queue: our own header when a consumer rejected it, else
/// the broker's `x-first-death-reason` translated (`limit_of` gives the source queue's
/// delivery limit, when this process declared it). `None` for a message never dead-lettered.
pub fn death_reason(
    headers: Option<&FieldTable>,
    limit_of: impl Fn(&str) -> Option<u32>,
) -> Option<String> {
    let headers = headers?;
    if let Some(reason) = header_text(headers, DEATH_REASON_HEADER) {
        return Some(reason);
    }
    let broker = header_text(headers, "x-first-death-reason")?;
    let queue = header_text(headers, "x-first-death-queue").unwrap_or_default();
    Some(match broker.as_str() {
        "delivery_limit" => match limit_of(&queue) {
            Some(n) => format!("delivery limit {n} reached in {queue:?}"),
            None => format!("delivery limit reached in {queue:?}"),
        },
        "rejected" => format!("rejected in {queue:?} without a reason"),
        "expired" => format!("message TTL expired in {queue:?}"),
        "maxlen" => format!("length limit of {queue:?} exceeded"),
        other => format!("dead-lettered from {queue:?}: {other}"),
    })
}

/// Retryable: the connection or channel is gone or timed out. Permanent: the broker said no.
pub fn map_error(queue: &str, e: &lapin::Error) -> QueueError {
    if let ErrorKind::ProtocolError(amqp) = e.kind() {
        let detail = amqp.get_message().as_str().to_string();
        match amqp.kind() {
            AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED) => {
                return QueueError::Mismatch {
                    queue: queue.to_string(),
                    detail,
                }
            }
            AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND) => {
                return QueueError::NoSuchQueue(queue.to_string())
            }
            AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) => {
                return QueueError::Refused {
                    queue: queue.to_string(),
                    detail,
                }
            }
            _ => {}
        }
    }
    QueueError::Unavailable(format!("{queue:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, AMQPValue)]) -> FieldTable {
        let mut t = FieldTable::default();
        for (k, v) in pairs {
            t.insert((*k).into(), v.clone());
        }
        t
    }

    #[test]
    fn delivery_count_from_header() {
        assert_eq!(delivery_count(None), 1);
        assert_eq!(delivery_count(Some(&FieldTable::default())), 1);
        let h = table(&[("x-delivery-count", AMQPValue::LongLongInt(2))]);
        assert_eq!(delivery_count(Some(&h)), 3);
        let h = table(&[("x-delivery-count", AMQPValue::LongInt(-5))]);
        assert_eq!(delivery_count(Some(&h)), 1, "nonsense never gives 0");
    }

    #[test]
    fn our_reason_wins_over_the_brokers() {
        let h = table(&[
            (DEATH_REASON_HEADER, long_string("bad FDL")),
            ("x-first-death-reason", long_string("rejected")),
        ]);
        assert_eq!(death_reason(Some(&h), |_| None).as_deref(), Some("bad FDL"));
    }

    #[test]
    fn broker_delivery_limit_is_translated() {
        let h = table(&[
            ("x-first-death-reason", long_string("delivery_limit")),
            ("x-first-death-queue", long_string("chunks")),
        ]);
        let r = death_reason(Some(&h), |q| (q == "chunks").then_some(5)).unwrap();
        assert_eq!(r, "delivery limit 5 reached in \"chunks\"");
        assert!(death_reason(Some(&FieldTable::default()), |_| None).is_none());
    }

    #[test]
    fn limits_map_to_returns() {
        assert_eq!(broker_delivery_limit(5), 4);
        assert_eq!(broker_delivery_limit(1), 0);
        assert_eq!(
            broker_delivery_limit(0),
            0,
            "clamped like QueueSpec::delivery_limit"
        );
        assert_eq!(broker_delivery_limit(u32::MAX), i32::MAX);
    }

    #[test]
    fn queues_without_a_dead_letter_queue_have_no_limit() {
        let args = declare_arguments(&QueueSpec::new("dead"));
        assert!(!args.contains_key("x-delivery-limit"));
        let args = declare_arguments(&QueueSpec::new("work").dead_letter_to("dead"));
        assert_eq!(
            header_text(&args, "x-dead-letter-routing-key").as_deref(),
            Some("dead")
        );
        assert_eq!(header_int(&args, "x-delivery-limit"), Some(4));
    }
}
