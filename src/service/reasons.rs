//! The bot's reasons as the web application shows them: each step of a stored or fresh trace
//! keeps its data and gains a Dutch `text`, with the topics' titles and the departments' names
//! from the flows in force. A decision stored before steps were data holds English sentences;
//! those are shown as they are.

use serde_json::{json, Value};

use crate::engine::{Step, Trace};
use crate::flows::FlowSet;
use crate::store::DecisionRecord;

/// One step for people: `{"step": …, …values, "text": "…"}`.
pub fn step(flows: &FlowSet, raw: &Value) -> Value {
    match serde_json::from_value::<Step>(raw.clone()) {
        Ok(s) => {
            let mut v = raw.clone();
            if let Some(o) = v.as_object_mut() {
                o.insert("text".into(), Value::String(s.dutch(flows)));
            }
            v
        }
        Err(_) => match raw.as_str() {
            Some(sentence) => json!({ "step": "text", "text": sentence }),
            None => json!({ "step": "unknown", "text": "(een stap die deze versie niet kent)" }),
        },
    }
}

/// A trace of [`crate::engine::decide`] for people (the editors' "try a message").
pub fn trace(flows: &FlowSet, t: &Trace) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    with_dutch_steps(flows, &mut v);
    v
}

/// Stored decisions for people: their reasons' steps with Dutch texts.
pub fn decisions(flows: &FlowSet, records: &[DecisionRecord]) -> Value {
    Value::Array(
        records
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(t) = v.get_mut("decision").and_then(|d| d.get_mut("trace")) {
                    with_dutch_steps(flows, t);
                }
                v
            })
            .collect(),
    )
}

fn with_dutch_steps(flows: &FlowSet, trace: &mut Value) {
    if let Some(steps) = trace.get_mut("steps").and_then(Value::as_array_mut) {
        for s in steps.iter_mut() {
            *s = step(flows, s);
        }
    }
}
