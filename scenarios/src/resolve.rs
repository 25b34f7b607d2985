//! Resolving `protocol: Name(...)` and each entry of `checks: [...]` through the registry.
//!
//! ron reads these values as opaque (the file's schema cannot know a user's parameter types);
//! here the outline hands over each value's text, its leading name picks the registry entry,
//! and the text after the name is deserialized into that entry's own parameter type. ron's
//! positions inside that text are shifted back into the file, so an error in a protocol's own
//! parameters still names `file:line:col` and the field, exactly as for the rest of the file.

use ron::error::{Position, Span, SpannedError};

use crate::diag::{list, suggest, Ctx};
use crate::locate::Pos;
use crate::registry::{CheckSpec, ProtocolSpec};
use crate::ScenarioError;

type R<T> = Result<T, ScenarioError>;

/// A value written `Name(...)`: the name, where it is, and the text after it.
struct Named<'t> {
    name: &'t str,
    name_pos: Pos,
    /// `(...)`, possibly after whitespace or comments.
    args: &'t str,
    /// Where `args` starts.
    args_pos: Pos,
}

/// The value at `path`, which must be written `Name(...)`; `what` and `example` word the
/// errors (`a protocol`, `Chain(...)`).
fn named<'t>(cx: &Ctx<'t>, path: &str, what: &str, example: &str) -> R<Named<'t>> {
    let Some((pos, text)) = cx.outline.value(path) else {
        return Err(cx.error(
            path,
            format!("expected {what} such as `{example}`"),
            None::<String>,
        ));
    };
    let len = text
        .char_indices()
        .find(|&(i, c)| !(c.is_alphanumeric() || c == '_') || (i == 0 && c.is_ascii_digit()))
        .map_or(text.len(), |(i, _)| i);
    let name = &text[..len];
    if name.is_empty() {
        let token = cx.outline.token_text(pos).unwrap_or("");
        return Err(crate::diag::at(
            cx.file,
            pos,
            format!("expected {what} such as `{example}`, found `{token}`"),
            Some(format!(
                "{what} is written as its name and its parameters in parentheses"
            )),
        ));
    }
    let args = &text[len..];
    let args_pos = Pos {
        line: pos.line,
        col: pos.col + name.chars().count(),
    };
    if args.trim().is_empty() {
        return Err(crate::diag::at(
            cx.file,
            args_pos,
            format!("expected `(` after `{name}`"),
            Some(format!(
                "{what} is written with parentheses, even without parameters: `{name}()`"
            )),
        ));
    }
    Ok(Named {
        name,
        name_pos: pos,
        args,
        args_pos,
    })
}

/// A position inside `args` (1-based, as ron counts) moved to where `args` sits in the file.
fn shift(p: Position, origin: Pos) -> Position {
    if p.line <= 1 {
        Position {
            line: origin.line,
            col: origin.col + p.col.saturating_sub(1),
        }
    } else {
        Position {
            line: origin.line + p.line - 1,
            col: p.col,
        }
    }
}

/// ron's error on `args`, reworded as if ron had read the whole file.
fn args_error(cx: &Ctx<'_>, n: &Named<'_>, e: SpannedError) -> ScenarioError {
    let shifted = SpannedError {
        code: e.code,
        span: Span {
            start: shift(e.span.start, n.args_pos),
            end: shift(e.span.end, n.args_pos),
        },
    };
    crate::diag::from_ron(cx, &shifted)
}

/// `protocol: Name(...)`: the registered protocol and its parsed parameters.
pub(crate) fn protocol(cx: &Ctx<'_>) -> R<ProtocolSpec> {
    let known = cx.registry.names();
    let example = known
        .first()
        .map_or("Name(...)".to_string(), |n| format!("{n}(...)"));
    let n = named(cx, "protocol", "a protocol", &example)?;
    let Some(entry) = cx.registry.entry(n.name) else {
        let hint = match suggest(n.name, &known) {
            Some(s) => format!("did you mean `{s}`? known protocols: {}", list(&known)),
            None if known.is_empty() => "no protocol is registered".to_string(),
            None => format!("known protocols: {}", list(&known)),
        };
        return Err(crate::diag::at(
            cx.file,
            n.name_pos,
            format!("unknown protocol `{}`", n.name),
            Some(hint),
        ));
    };
    let params = entry
        .parse_params(n.args)
        .map_err(|e| args_error(cx, &n, e))?;
    Ok(ProtocolSpec {
        entry: entry.clone(),
        params,
    })
}

/// Entry `j` of `checks: [...]`, parsed for `protocol` (which must supply it).
pub(crate) fn check(cx: &Ctx<'_>, protocol: &ProtocolSpec, j: usize) -> R<CheckSpec> {
    let path = crate::locate::index("checks", j);
    let info = protocol.info();
    let example = info
        .checks
        .first()
        .map_or("Linearizable()".to_string(), |c| format!("{}()", c.variant));
    let n = named(cx, &path, "a check", &example)?;
    let supplied = |info: &crate::registry::ProtocolInfo| {
        info.checks.iter().map(|c| c.name).collect::<Vec<_>>()
    };
    let Some(k) = info.check_by_variant(n.name) else {
        // Known from another protocol, or not a check at all.
        let elsewhere = cx
            .registry
            .protocols()
            .flat_map(|p| p.checks.iter())
            .find(|c| c.variant == n.name);
        let err = |message: String, hint: String| {
            crate::diag::at(cx.file, n.name_pos, message, Some(hint))
        };
        return Err(match elsewhere {
            Some(c) => {
                let names = supplied(info);
                let hint = if names.is_empty() {
                    format!("`{}` supplies no checks", info.name)
                } else {
                    format!("`{}` supplies {}", info.name, list(&names))
                };
                err(
                    format!(
                        "check `{}` is not supplied by protocol `{}`",
                        c.name, info.name
                    ),
                    hint,
                )
            }
            None => {
                let variants: Vec<String> = info.checks.iter().map(|c| c.variant.clone()).collect();
                let variants: Vec<&str> = variants.iter().map(String::as_str).collect();
                let hint = match (suggest(n.name, &variants), variants.is_empty()) {
                    (_, true) => format!("`{}` supplies no checks", info.name),
                    (Some(s), _) => format!(
                        "did you mean `{s}`? `{}` supplies {}",
                        info.name,
                        list(&variants)
                    ),
                    (None, _) => format!("`{}` supplies {}", info.name, list(&variants)),
                };
                err(format!("unknown check `{}`", n.name), hint)
            }
        });
    };
    let params = protocol
        .entry
        .parse_check(k, n.args)
        .map_err(|e| args_error(cx, &n, e))?;
    let (write, eq) = protocol.entry.check_fns(k);
    Ok(CheckSpec {
        name: info.checks[k].name,
        params,
        write,
        eq,
        prefix_closed: info.checks[k].prefix_closed,
    })
}
