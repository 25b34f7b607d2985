//! Turning what went wrong into a `ScenarioError`: ron's parse errors, the scanner's syntax
//! errors, and validation's rule violations, all with `file:line:col`, a lowercase message with
//! values in backticks, and a hint.
//!
//! ron's own messages name Rust types (`in NetworkSpec`); here they are reworded around the
//! field path of the value at the error's position, taken from the outline (`locate.rs`).

use ron::error::{Error as RonError, SpannedError};
use sim_core::time::parse_duration;

use crate::locate::{shown_char, shown_text, Outline, Pos, SyntaxError};
use crate::{Registry, ScenarioError};

/// Everything an error needs to say where it is, and the registry that names protocols.
pub struct Ctx<'t> {
    pub file: &'t str,
    pub outline: Outline<'t>,
    pub registry: &'t Registry,
}

impl Ctx<'_> {
    /// An error at the value `path` (or the nearest enclosing value the text has).
    pub fn error(
        &self,
        path: &str,
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> ScenarioError {
        at(
            self.file,
            self.outline.locate(path),
            message.into(),
            hint.into(),
        )
    }
}

/// An error at `pos`. Control characters the text quoted into it (a NUL inside a string) are
/// written as escapes, so that nothing in an error is invisible.
pub fn at(file: &str, pos: Pos, message: String, hint: Option<String>) -> ScenarioError {
    let visible = |s: String| {
        if s.chars().any(|c| c.is_control() && c != '\n') {
            s.split('\n').map(shown_text).collect::<Vec<_>>().join("\n")
        } else {
            s
        }
    };
    ScenarioError {
        file: file.to_string(),
        line: pos.line,
        col: pos.col,
        message: visible(message),
        hint: hint.map(visible),
    }
}

pub fn from_syntax(file: &str, e: SyntaxError) -> ScenarioError {
    at(file, e.pos, e.message, Some(e.hint))
}

/// `""` is the whole scenario; anything else is shown as a path in backticks.
pub fn describe(path: &str) -> String {
    if path.is_empty() {
        "the scenario".to_string()
    } else {
        format!("`{path}`")
    }
}

/// `a`, `b` and `c` as "`a`, `b`, `c`".
pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `found`, if it is close enough to be a likely typo.
pub fn suggest<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let found_lower = found.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&found_lower, &c.to_lowercase()), *c))
        .filter(|&(d, c)| d <= 2.max(c.chars().count() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An example for each required field, for "missing field" hints.
fn required_example(cx: &Ctx<'_>, field: &str) -> Option<String> {
    if field == "protocol" {
        let first = cx.registry.names().first().copied()?;
        return Some(format!("protocol: {first}(...)"));
    }
    Some(
        match field {
            "name" => "name: \"my-scenario\"",
            "seed" => "seed: 1",
            "duration" => "duration: \"10s\"",
            "nodes" => "nodes: 5",
            "count" => "count: 4",
            "workload" => "workload: Broadcast(interval: \"200ms\", ops_per_client: 20)",
            "at" => "at: \"2s\"",
            "fault" => "fault: Heal",
            "kinds" => "kinds: [Partition, Crash]",
            "interval_mean" => "interval_mean: \"2s\"",
            "duration_mean" => "duration_mean: \"1s\"",
            _ => return None,
        }
        .to_string(),
    )
}

/// Rewords one of ron's errors around the field path at its position.
pub fn from_ron(cx: &Ctx<'_>, e: &SpannedError) -> ScenarioError {
    let raw = Pos {
        line: e.span.start.line,
        col: e.span.start.col,
    };
    // ron may report a position inside a token or on the whitespace before a value; snap it to
    // the token's start, so that the path found there is the value's.
    let pos = cx.outline.token_start(raw).unwrap_or(raw);
    let path = cx.outline.path_at(pos);
    let here = describe(&path);
    // Errors at a field name are about the record around it.
    let record = describe(&cx.outline.record_at(pos));
    let token = shown_text(cx.outline.token_text(pos).unwrap_or(""));
    // ron reads the `1` of `1.5` as an integer and then trips over `.5`.
    let fraction_after_integer = raw > pos
        && token.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
        && token.contains(['.', 'e', 'E']);
    let (pos, message, hint) = match &e.code {
        RonError::ExpectedComma | RonError::ExpectedStructLikeEnd | RonError::ExpectedArrayEnd
            if fraction_after_integer =>
        {
            (pos, format!("expected an integer for {here}, found `{token}`"), None)
        }
        RonError::NoSuchStructField { expected, found, .. } => {
            let hint = match (expected.len(), suggest(found, expected)) {
                (0, _) => "this takes no fields".to_string(),
                (_, Some(s)) => format!("did you mean `{s}`? the fields here are {}", list(expected)),
                (_, None) => format!("the fields here are {}", list(expected)),
            };
            (pos, format!("unknown field `{found}` in {record}"), Some(hint))
        }
        RonError::NoSuchEnumVariant { expected, found, .. } => {
            let hint = match suggest(found, expected) {
                Some(s) => format!("did you mean `{s}`? expected one of {}", list(expected)),
                None => format!("expected one of {}", list(expected)),
            };
            (pos, format!("unknown variant `{found}` for {here}"), Some(hint))
        }
        RonError::MissingStructField { field, .. } => {
            // Point at the start of the record that lacks the field, not at its closing paren.
            let hint = match required_example(cx, field) {
                Some(ex) if *field == "protocol" => {
                    format!("add `{ex}`; known protocols: {}", list(&cx.registry.names()))
                }
                Some(ex) => format!("add `{ex}`"),
                None => format!("add `{field}: ...` (scenarios/README.md lists every field)"),
            };
            (cx.outline.locate(&path), format!("missing field `{field}` in {here}"), Some(hint))
        }
        RonError::DuplicateStructField { field, .. } => {
            (pos, format!("field `{field}` appears twice in {record}"), Some("remove one of them".into()))
        }
        RonError::InvalidValueForType { expected, found } => {
            (pos, format!("expected {expected} for {here}, found {found}"), None)
        }
        RonError::ExpectedDifferentStructName { expected, found } => (
            pos,
            format!("expected `{expected}(...)`, found `{found}(...)`"),
            Some(format!("write `{expected}(...)`, or leave the name out: `(...)`")),
        ),
        RonError::ExpectedDifferentLength { expected, found } => {
            (pos, format!("expected {expected} for {here}, found {found} elements"), None)
        }
        RonError::IntegerOutOfBounds => (
            pos,
            format!("integer `{token}` is out of range for {here}"),
            Some("ids, counts and seeds are non-negative integers that fit their field".into()),
        ),
        RonError::ExpectedInteger => (pos, format!("expected an integer for {here}, found `{token}`"), None),
        RonError::ExpectedFloat => (
            pos,
            format!("expected a number for {here}, found `{token}`"),
            Some("probabilities and shapes are floats such as `0.5`".into()),
        ),
        RonError::ExpectedString => {
            let hint = if token.starts_with(|c: char| c.is_ascii_digit()) {
                format!("durations are strings with a unit, such as `\"{token}ms\"` or `\"{token}s\"`")
            } else {
                "strings are written in double quotes".to_string()
            };
            (pos, format!("expected a string for {here}, found `{token}`"), Some(hint))
        }
        RonError::ExpectedBoolean => (pos, format!("expected `true` or `false` for {here}, found `{token}`"), None),
        RonError::ExpectedArray => (pos, format!("expected a list `[...]` for {here}, found `{token}`"), None),
        RonError::ExpectedStructLike => (
            pos,
            format!("expected `(` for {here}, found `{token}`"),
            Some("a record or a variant with fields is written with parentheses, e.g. `Convergence()`".into()),
        ),
        RonError::SuggestRawIdentifier(name) | RonError::InvalidIdentifier(name) => (
            pos,
            format!("invalid name `{name}` in {record}"),
            Some("field and variant names are letters, digits and `_`, starting with a letter".into()),
        ),
        RonError::ExpectedMapColon => (
            pos,
            format!("expected `:` after a field name in {record}"),
            Some("fields are written `name: value`".into()),
        ),
        RonError::ExpectedIdentifier => (
            pos,
            format!("expected a name in {record}, found `{token}`"),
            Some("a record holds `name: value` fields; a variant starts with its name".into()),
        ),
        RonError::UnexpectedChar(c) => (pos, format!("unexpected character {} in {here}", shown_char(*c)), None),
        RonError::ExpectedComma => (
            pos,
            format!("expected `,` or a closing bracket in {here}"),
            Some("items of a list or record are separated by commas".into()),
        ),
        RonError::TrailingCharacters => (
            pos,
            "unexpected text after the end of the scenario".into(),
            Some("a file holds one `Scenario(...)`; remove what follows its closing `)`".into()),
        ),
        RonError::Eof => (pos, "unexpected end of file".into(), Some("the scenario is incomplete".into())),
        RonError::Message(m) => match duration_error(cx, pos, m) {
            Some((lit, reason)) => (pos, format!("invalid duration `{lit}` for {here}"), Some(reason)),
            None => (pos, format!("{} (in {here})", lower_first(m)), None),
        },
        other => (pos, format!("{} (in {here})", lower_first(&other.to_string())), None),
    };
    at(cx.file, pos, message, hint)
}

/// When ron's custom message is `parse_duration`'s verdict on the string literal at `pos`, the
/// literal and that verdict.
fn duration_error<'t>(cx: &Ctx<'t>, pos: Pos, message: &str) -> Option<(&'t str, String)> {
    let lit = cx.outline.string_at(pos)?;
    let t = lit.trim();
    let magnitude = t
        .strip_prefix('-')
        .or_else(|| t.strip_prefix('+'))
        .unwrap_or(t);
    [t, magnitude]
        .iter()
        .filter_map(|s| parse_duration(s).err())
        .find(|e| e.0 == message)
        .map(|e| (lit, e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["latency", "drop", "duplicate", "overrides"];
        assert_eq!(suggest("dorp", &fields), Some("drop"));
        assert_eq!(suggest("latnecy", &fields), Some("latency"));
        assert_eq!(suggest("Drop", &fields), Some("drop"));
        assert_eq!(suggest("bandwidth", &fields), None);
        assert_eq!(suggest("Zab", &["Chain", "Quorum"]), None);
        assert_eq!(suggest("Chian", &["Chain", "Quorum"]), Some("Chain"));
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
