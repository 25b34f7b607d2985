//! Panics inside a simulation are bugs (in a protocol or in dsim) and are reported with the
//! seed that reproduces them: [`catch`] turns one into its message and location, and
//! [`quiet_panics`] keeps the default hook from printing it first.

/// Runs `f`, turning a panic into `Err(message)`. With [`quiet_panics`] installed, the panic
/// is not printed by the hook and the message carries its location; the caller reports it
/// with the seed.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = IN_CATCH.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_CATCH.with(|c| c.set(was));
    result.map_err(|payload| {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic payload".to_string()
        };
        match LAST_PANIC_LOCATION.with(|l| l.borrow_mut().take()) {
            Some(loc) => format!("{msg} (at {loc})"),
            None => msg,
        }
    })
}

thread_local! {
    static IN_CATCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC_LOCATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs a panic hook that records where a panic inside [`catch`] happened instead of
/// printing it, so that a report names a simulation panic once, with its seed and a reproduce
/// command. Outside `catch` a panic is printed; a closed stdout (`dsim list | head`) ends the
/// process quietly with exit code 0.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied());
        if text.is_some_and(|t| t.contains("Broken pipe")) {
            std::process::exit(0);
        }
        let loc = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        if IN_CATCH.with(|c| c.get()) {
            LAST_PANIC_LOCATION.with(|l| *l.borrow_mut() = loc);
        } else {
            // A panic outside a simulation is a bug in dsim itself: say so, loudly.
            eprintln!(
                "error: dsim panicked: {} (at {})",
                text.unwrap_or("unknown panic payload"),
                loc.unwrap_or_default()
            );
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_turns_a_panic_into_its_message_and_location() {
        quiet_panics();
        let r: Result<(), String> = catch(|| panic!("boom {}", 7));
        let e = r.unwrap_err();
        assert!(e.contains("boom 7"), "{e}");
        assert!(e.contains("panic.rs"), "{e}");
        assert_eq!(catch(|| 5), Ok(5));
    }
}
