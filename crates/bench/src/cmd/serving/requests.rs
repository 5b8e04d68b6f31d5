//! The JSON-lines inputs of `specgr recommend` and `specgr items add`, checked field
//! by field: every refusal names the field (`history[2]`, `k`, `embedding`) and says
//! what was wrong, and nothing a user writes can panic the reader.

use serde::Serialize;
use serde_json::{Map, Value};

use recdata::ItemId;

/// A refused input: the field that was wrong (empty when the line is not a JSON object
/// at all) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadInput {
    /// The field, as a path into the object: `history`, `history[2]`, `k`.
    pub field: String,
    /// What was wrong with it.
    pub message: String,
}

impl BadInput {
    /// A refusal of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field.is_empty() {
            true => f.write_str(&self.message),
            false => write!(f, "field `{}`: {}", self.field, self.message),
        }
    }
}

/// One recommendation request.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendRequest {
    /// The caller's id of the request, echoed in the answer.
    pub id: Option<Value>,
    /// The history, oldest first, as item numbers (truncated to the split's `max_history`).
    pub history: Vec<ItemId>,
    /// How many items to return.
    pub k: usize,
}

/// Parses a JSON object line into its fields, refusing anything but an object.
pub fn object(line: &str) -> Result<Map<String, Value>, BadInput> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(BadInput::new("", format!("expected a JSON object, found {}", kind(&other)))),
        Err(e) => Err(BadInput::new("", format!("malformed JSON: {e}"))),
    }
}

/// Refuses fields other than `allowed`, naming the first unknown one.
pub fn only(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), BadInput> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(BadInput::new(k.as_str(), format!("unknown field (expected {})", allowed.join(", ")))),
        None => Ok(()),
    }
}

/// An item id: a JSON string, or a whole number written without quotes.
fn item_id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// Parses a recommendation request: `{"history": [ids...], "id": any, "k": n}`.
/// `lookup` turns an item id into an item number; `max_k` is the largest K served;
/// `max_history` how many of the last history items are kept.
pub fn recommend(
    line: &str,
    lookup: impl Fn(&str) -> Option<ItemId>,
    default_k: usize,
    max_k: usize,
    max_history: usize,
) -> Result<RecommendRequest, BadInput> {
    let map = object(line)?;
    only(&map, &["history", "id", "k"])?;
    let id = map.get("id").cloned();
    let k = match map.get("k") {
        None => default_k,
        Some(v) => match v.as_u64() {
            Some(k) if (1..=max_k as u64).contains(&k) => k as usize,
            _ => return Err(BadInput::new("k", format!("{v} is out of range: expected a whole number from 1 to {max_k}"))),
        },
    };
    let history = match map.get("history") {
        None => return Err(BadInput::new("history", "missing: expected an array of item ids")),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(BadInput::new("history", format!("expected an array of item ids, found {}", kind(other)))),
    };
    if history.is_empty() {
        return Err(BadInput::new("history", "empty: a recommendation needs at least one item"));
    }
    let mut out = Vec::with_capacity(history.len());
    for (i, v) in history.iter().enumerate() {
        let field = format!("history[{i}]");
        let key = item_id(v).ok_or_else(|| BadInput::new(&field, format!("expected an item id (a string), found {}", kind(v))))?;
        let item = lookup(&key).ok_or_else(|| BadInput::new(&field, format!("unknown item id {}", Value::String(key.clone()))))?;
        out.push(item);
    }
    let keep = out.len().saturating_sub(max_history.max(1));
    out.drain(..keep);
    Ok(RecommendRequest { id, history: out, k })
}

/// Parses an item to add: `{"id": "...", "text": "...", "embedding": [numbers]}`;
/// `embedding` is optional (the text is then embedded with the run's encoder) and,
/// when given, must have `dim` finite numbers.
pub fn new_item(line: &str, dim: usize) -> Result<(String, String, Option<Vec<f32>>), BadInput> {
    let map = object(line)?;
    only(&map, &["id", "text", "embedding"])?;
    let id = match map.get("id") {
        None => return Err(BadInput::new("id", "missing: expected the new item's id")),
        Some(v) => item_id(v).ok_or_else(|| BadInput::new("id", format!("expected a string, found {}", kind(v))))?,
    };
    if id.trim().is_empty() {
        return Err(BadInput::new("id", "empty"));
    }
    let text = match map.get("text") {
        None => return Err(BadInput::new("text", "missing: expected the item's text (title, features, ...)")),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(BadInput::new("text", "empty")),
        Some(v) => return Err(BadInput::new("text", format!("expected a string, found {}", kind(v)))),
    };
    let embedding = match map.get("embedding") {
        None | Some(Value::Null) => None,
        Some(Value::Array(values)) => {
            if values.len() != dim {
                return Err(BadInput::new("embedding", format!("{} values, but the run's embeddings are {dim}-wide", values.len())));
            }
            let mut v = Vec::with_capacity(dim);
            for (i, x) in values.iter().enumerate() {
                match x.as_f64().map(|x| x as f32).filter(|x| x.is_finite()) {
                    Some(x) => v.push(x),
                    None => return Err(BadInput::new(format!("embedding[{i}]"), format!("expected a finite number, found {x}"))),
                }
            }
            Some(v)
        }
        Some(v) => return Err(BadInput::new("embedding", format!("expected an array of numbers, found {}", kind(v)))),
    };
    Ok((id, text, embedding))
}

/// What a JSON value is, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(key: &str) -> Option<ItemId> {
        ["a", "b", "c", "7"].iter().position(|k| *k == key).map(|i| ItemId(i as u32))
    }

    fn check(line: &str, expected: Result<(Vec<u32>, usize), (&str, &str)>) {
        let got = recommend(line, lookup, 5, 10, 2);
        match (got, expected) {
            (Ok(r), Ok((history, k))) => {
                assert_eq!(r.history, history.into_iter().map(ItemId).collect::<Vec<_>>(), "{line}");
                assert_eq!(r.k, k, "{line}");
            }
            (Err(e), Err((field, fragment))) => {
                assert_eq!(e.field, field, "{line}: {e}");
                assert!(e.message.contains(fragment), "{line}: `{e}` should say `{fragment}`");
            }
            (got, expected) => panic!("{line}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn requests_are_parsed_and_bad_ones_name_the_field() {
        check(r#"{"history": ["a", "b"]}"#, Ok((vec![0, 1], 5)));
        check(r#"{"history": ["a", "b", "c"], "k": 10, "id": 3}"#, Ok((vec![1, 2], 10)));
        check(r#"{"history": [7]}"#, Ok((vec![3], 5)));
        check(r#"{"history": ["a", "zz"]}"#, Err(("history[1]", "unknown item id \"zz\"")));
        check(r#"{"history": []}"#, Err(("history", "empty")));
        check(r#"{"history": "a"}"#, Err(("history", "expected an array")));
        check(r#"{"id": 1}"#, Err(("history", "missing")));
        check(r#"{"history": [null]}"#, Err(("history[0]", "found null")));
        check(r#"{"history": ["a"], "k": 0}"#, Err(("k", "from 1 to 10")));
        check(r#"{"history": ["a"], "k": 11}"#, Err(("k", "out of range")));
        check(r#"{"history": ["a"], "k": 2.5}"#, Err(("k", "out of range")));
        check(r#"{"history": ["a"], "user": 1}"#, Err(("user", "unknown field")));
        check(r#"{"history": ["a"]"#, Err(("", "malformed JSON")));
        check(r#"[1, 2]"#, Err(("", "expected a JSON object, found an array")));
        check("", Err(("", "malformed JSON")));
    }

    #[test]
    fn new_items_need_an_id_a_text_and_a_finite_embedding_of_the_run_width() {
        let ok = new_item(r#"{"id": "n1", "text": "A lamp.", "embedding": [0.5, -1]}"#, 2).unwrap();
        assert_eq!(ok, ("n1".into(), "A lamp.".into(), Some(vec![0.5, -1.0])));
        assert_eq!(new_item(r#"{"id": "n1", "text": "A lamp."}"#, 2).unwrap().2, None);
        for (line, field) in [
            (r#"{"text": "A lamp."}"#, "id"),
            (r#"{"id": "", "text": "A lamp."}"#, "id"),
            (r#"{"id": "n1"}"#, "text"),
            (r#"{"id": "n1", "text": " "}"#, "text"),
            (r#"{"id": "n1", "text": "x", "embedding": [1]}"#, "embedding"),
            (r#"{"id": "n1", "text": "x", "embedding": [1, "a"]}"#, "embedding[1]"),
            (r#"{"id": "n1", "text": "x", "embedding": 3}"#, "embedding"),
            (r#"{"id": "n1", "text": "x", "price": 3}"#, "price"),
        ] {
            assert_eq!(new_item(line, 2).unwrap_err().field, field, "{line}");
        }
    }
}
