//! Compiles `host_reader`'s hostile guest ahead of time, with wasmtime's compiler built for this
//! machine as a build dependency: no sanitizer or coverage instrumentation and no optimisation
//! there, so the fuzz build links only wasmtime's runtime (see fuzz/README.md for the times).

#[path = "src/hostile_guest.rs"]
#[cfg(feature = "host")]
mod hostile_guest;

fn main() {
    println!("cargo::rerun-if-changed=src/hostile_guest.rs");
    #[cfg(feature = "host")]
    {
        let engine = wasmtime::Engine::new(&hostile_guest::config()).expect("engine");
        let compiled = engine
            .precompile_module(hostile_guest::GUEST.as_bytes())
            .expect("compile the hostile guest");
        let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
        std::fs::write(out.join("hostile_guest.cwasm"), compiled).expect("write the module");
    }
}
