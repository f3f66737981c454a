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
