//! A guest written with `std`, as most plugins are: std's collections and formatting, guestmem's
//! heap and ABI through its `std` feature.
//!
//! `cargo build --profile guest --target wasm32-unknown-unknown -p word_count` (or
//! `--target wasm32-wasip1`)

use std::collections::BTreeMap;

guestmem::export! {
    /// One line per distinct word, in order, with its count: "a b a" gives "a: 2\nb: 1\n".
    pub fn word_count(text: &str) -> String {
        let mut counts = BTreeMap::new();
        for word in text.split_whitespace() {
            *counts.entry(word).or_insert(0_u32) += 1;
        }
        counts
            .iter()
            .map(|(word, count)| format!("{word}: {count}\n"))
            .collect()
    }

    /// The longest word. Text without words panics: the trap's reason names the panic
    /// (`last_error` after the trap), as in a no_std guest.
    pub fn longest_word(text: &str) -> String {
        let longest = text
            .split_whitespace()
            .max_by_key(|word| word.chars().count())
            .expect("no words in the text");
        longest.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::word_count;

    #[test]
    fn words_are_counted_in_order() {
        let text = "b a b";
        // SAFETY: the string is live for the call.
        let result = unsafe { word_count(text.as_ptr(), text.len()) };
        // SAFETY: a result block: u32 length, then the bytes.
        let len = unsafe { result.cast::<u32>().read_unaligned() } as usize;
        // SAFETY: as above, `len` bytes after the prefix.
        let bytes = unsafe { core::slice::from_raw_parts(result.add(4), len) };
        assert_eq!(bytes, b"a: 1\nb: 2\n");
        // SAFETY: freed once, as the host does.
        unsafe { guestmem::abi::free(result) };
    }
}
