//! Detects whether the process runs under Valgrind.
//!
//! Under Valgrind the harness configures wasmtime so that memcheck can follow it (no signal-based
//! traps, small memory reservations) and scales its iteration counts down. Detection uses
//! Valgrind's `RUNNING_ON_VALGRIND` client request, which is a no-op sequence of instructions on a
//! real CPU and returns the nesting depth under Valgrind.

/// Returns `true` when the process runs under Valgrind.
#[must_use]
pub fn running_on_valgrind() -> bool {
    client_request_running_on_valgrind() > 0
}

/// `VG_USERREQ__RUNNING_ON_VALGRIND` from `valgrind.h`.
#[cfg(all(target_arch = "x86_64", not(miri)))]
const RUNNING_ON_VALGRIND: u64 = 0x1001;

#[cfg(all(target_arch = "x86_64", not(miri)))]
fn client_request_running_on_valgrind() -> u64 {
    // The request block of `valgrind.h`: the request code, then five arguments.
    let request: [u64; 6] = [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0];
    // The result is left in rdx; on a real CPU it keeps the default we put there.
    let mut result: u64 = 0;
    // SAFETY: this is the x86_64 "special instruction preamble" of `valgrind.h`. On a real CPU the
    // four rotations of rdi add up to 128 bits (rdi is unchanged) and `xchg rbx, rbx` does nothing;
    // under Valgrind the sequence reads the six words at rax and writes the answer to rdx. rdi is
    // declared clobbered, `request` outlives the asm block, and no stack is used.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") request.as_ptr(),
            inout("rdx") result,
            inout("rdi") 0_u64 => _,
            options(nostack),
        );
    }
    result
}

#[cfg(not(all(target_arch = "x86_64", not(miri))))]
fn client_request_running_on_valgrind() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::running_on_valgrind;

    #[test]
    fn agrees_with_the_environment() {
        // `cargo test` is not run under Valgrind; CI runs the binary under it, where the harness
        // prints what it detected.
        let expected = std::env::var_os("GUESTMEM_EXPECT_VALGRIND").is_some();
        assert_eq!(running_on_valgrind(), expected);
    }
}
