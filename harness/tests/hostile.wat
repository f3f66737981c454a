;; A guest that breaks the result rules of docs/ABI.md on purpose, to check that the guestmem host
;; turns every bad answer into an error and keeps running.
;;
;; alloc is a bump allocator (blocks are never reused), free/dealloc do nothing, and the
;; functions below each return one kind of bad result. Every function takes (ptr, len) like a
;; real guest function and ignores them.
(module
  (memory (export "memory") 1)

  ;; Result block with a message, at 64: "hostile guest: asked to fail" (28 bytes).
  (data (i32.const 64) "\1c\00\00\00hostile guest: asked to fail")
  ;; Result block whose message is not UTF-8, at 128.
  (data (i32.const 128) "\02\00\00\00\ff\fe")
  ;; Length prefixes placed where the functions point.
  (data (i32.const 4096) "\00\00\01\00")   ;; 65536: past the end of a 1-page memory
  (data (i32.const 4104) "\fc\ff\ff\ff")   ;; u32::MAX - 3
  (data (i32.const 4112) "\ff\ff\ff\ff")   ;; u32::MAX
  (data (i32.const 4121) "\01\00\00\00A")  ;; a valid-looking block at a misaligned address
  (data (i32.const 65528) "\05\00\00\00")  ;; prefix in the last 8 bytes: payload runs off the end

  (global $next (mut i32) (i32.const 8192))
  (global $error (mut i32) (i32.const 0))

  (func (export "abi_version") (result i32) (i32.const 1))

  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local.set $ptr (global.get $next))
    (local.set $end
      (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.add
                  (i32.shr_u
                    (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16)))
                    (i32.const 16))
                  (i32.const 1)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (local.get $end))
    (local.get $ptr))
  (func (export "free") (param i32))
  (func (export "dealloc") (param i32 i32))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "last_error") (result i32)
    (local $error i32)
    (local.set $error (global.get $error))
    (global.set $error (i32.const 0))
    (local.get $error))

  ;; Results that are not result blocks.
  (func (export "out_of_range") (param i32 i32) (result i32) (i32.const 0x7ffffff8))
  (func (export "at_end") (param i32 i32) (result i32) (i32.shl (memory.size) (i32.const 16)))
  (func (export "wraps_around") (param i32 i32) (result i32) (i32.const 0xfffffff8))
  (func (export "past_end") (param i32 i32) (result i32) (i32.const 4096))
  (func (export "near_max") (param i32 i32) (result i32) (i32.const 4104))
  (func (export "max_len") (param i32 i32) (result i32) (i32.const 4112))
  (func (export "misaligned") (param i32 i32) (result i32) (i32.const 4121))
  (func (export "runs_off_end") (param i32 i32) (result i32) (i32.const 65528))

  ;; Zero results with a missing, unreadable, bad, or good message.
  (func (export "zero_no_message") (param i32 i32) (result i32) (i32.const 0))
  (func (export "zero_bad_message") (param i32 i32) (result i32)
    (global.set $error (i32.const 0x7ffffff8))
    (i32.const 0))
  (func (export "zero_not_utf8") (param i32 i32) (result i32)
    (global.set $error (i32.const 128))
    (i32.const 0))
  (func (export "zero_with_message") (param i32 i32) (result i32)
    (global.set $error (i32.const 64))
    (i32.const 0))

  ;; Traps, with and without a recorded reason.
  (func (export "trap_with_reason") (param i32 i32) (result i32)
    (global.set $error (i32.const 64))
    (unreachable))
  (func (export "trap_out_of_bounds") (param i32 i32) (result i32)
    (i32.load (i32.const 0xfffffff0)))

  ;; A real block of 1 MiB: too long for a host with a smaller cap.
  (func (export "huge") (param i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (call $alloc (i32.const 1048580)))
    (if (i32.eqz (local.get $ptr)) (then (return (i32.const 0))))
    (i32.store (local.get $ptr) (i32.const 1048576))
    (local.get $ptr))
)
