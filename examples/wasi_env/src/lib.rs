//! A wasm32-wasip1 guest that uses WASI for something real: it reads an environment variable
//! the host sets, through std.
//!
//! `cargo build --profile guest --target wasm32-wasip1 -p wasi_env`

guestmem::export! {
    /// "GREETING, NAME!", where GREETING is the environment variable `GUESTMEM_GREETING`; an
    /// error when the host did not set it.
    pub fn greet(name: &str) -> Result<String, String> {
        let greeting = std::env::var("GUESTMEM_GREETING")
            .map_err(|error| format!("GUESTMEM_GREETING: {error}"))?;
        Ok(format!("{greeting}, {name}!"))
    }
}

#[cfg(test)]
mod tests {
    use super::greet;

    /// Calls `greet` as a host does and returns its result, or `last_error`'s message.
    fn greet_text(name: &str) -> Result<String, String> {
        // SAFETY: the string is live for the call.
        let result = unsafe { greet(name.as_ptr(), name.len()) };
        let (block, ok) = if result.is_null() {
            (guestmem::abi::last_error(), false)
        } else {
            (result, true)
        };
        // SAFETY: a result block: u32 length, then the bytes.
        let len = unsafe { block.cast::<u32>().read_unaligned() } as usize;
        // SAFETY: as above, `len` bytes after the prefix.
        let text =
            String::from_utf8_lossy(unsafe { core::slice::from_raw_parts(block.add(4), len) })
                .into_owned();
        // SAFETY: freed once, as the host does.
        unsafe { guestmem::abi::free(block) };
        if ok { Ok(text) } else { Err(text) }
    }

    /// One test, so no other thread of this binary reads the environment while it changes.
    #[test]
    fn greets_with_the_variable_and_fails_without_it() {
        // SAFETY: the only test in this binary: no other thread reads the environment.
        unsafe { std::env::set_var("GUESTMEM_GREETING", "Hello") };
        assert_eq!(greet_text("world").as_deref(), Ok("Hello, world!"));
        // SAFETY: as above.
        unsafe { std::env::remove_var("GUESTMEM_GREETING") };
        let error = greet_text("world").expect_err("no variable, an error");
        assert!(error.starts_with("GUESTMEM_GREETING: "), "{error}");
    }
}
