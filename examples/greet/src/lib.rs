//! `greet(name) -> result`: "<salutation>, <name>!", where the salutation comes from the host
//! function `env.salutation`, and the finished text goes to the host function `env.log` first.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p greet`
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

guestmem::import! {
    /// The greeting the host uses; the host may have none, and says why.
    fn salutation() -> Result<String, String>;
    /// Writes a line to the host's log.
    fn log(line: &str);
}

guestmem::export! {
    /// Greets `name`. When the host has no salutation, fails with the host's message.
    pub fn greet(name: &str) -> Result<String, String> {
        let mut text = salutation()?;
        text.push_str(", ");
        text.push_str(name);
        text.push('!');
        log(&text);
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use guestmem::native;

    use super::greet;

    fn call(name: &str) -> Option<String> {
        // SAFETY: `name` is live for the call.
        let result = unsafe { greet(name.as_ptr(), name.len()) };
        if result.is_null() {
            return None;
        }
        // SAFETY: a result block: u32 length, then the bytes.
        let len = unsafe { result.cast::<u32>().read_unaligned() } as usize;
        // SAFETY: as above, `len` bytes after the prefix.
        let bytes = unsafe { core::slice::from_raw_parts(result.add(4), len) }.to_vec();
        // SAFETY: freed once, as the host does.
        unsafe { guestmem::abi::free(result) };
        Some(String::from_utf8(bytes).expect("UTF-8"))
    }

    #[test]
    fn the_host_salutation_and_log_make_the_greeting() {
        let logged = Rc::new(RefCell::new(Vec::new()));
        let log = Rc::clone(&logged);
        // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
        unsafe { native::register("env", "salutation", |_| native::result(b"Hello")) };
        let log_line = move |args: &[u64]| {
            // SAFETY: the wrapper's (ptr, len) pair, live for the call.
            let line = unsafe { native::bytes(args[0], args[1]) };
            log.borrow_mut()
                .push(String::from_utf8_lossy(line).into_owned());
            0
        };
        // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
        unsafe { native::register("env", "log", log_line) };
        assert_eq!(call("Ada").as_deref(), Some("Hello, Ada!"));
        assert_eq!(*logged.borrow(), ["Hello, Ada!"]);

        // SAFETY: it answers with blocks of this heap (`native::result`, `abi::alloc`), 0 or integers.
        unsafe { native::register("env", "salutation", |_| native::fail("no salutation today")) };
        assert_eq!(call("Ada"), None);
        let message = guestmem::abi::last_error();
        // SAFETY: a result block, read and freed once.
        let len = unsafe { message.cast::<u32>().read_unaligned() } as usize;
        // SAFETY: as above.
        let text = unsafe { core::slice::from_raw_parts(message.add(4), len) }.to_vec();
        // SAFETY: freed once.
        unsafe { guestmem::abi::free(message) };
        assert_eq!(text, b"no salutation today");
        assert_eq!(logged.borrow().len(), 1, "a failed greeting is not logged");
        native::clear();
    }
}
