;; A guest that calls host functions with raw arguments, for what guestmem::import! never passes
;; (a range outside memory, text that is not UTF-8, every integer width), and that reads
;; guestmem.last_error only when asked. Its heap bumps and never frees; alloc refuses 1 MiB and
;; more.
(module
  (import "env" "text" (func $text (param i32 i32) (result i32)))
  (import "env" "ints" (func $ints (param i32 i32 i64 i64) (result i64)))
  (import "env" "fail" (func $fail (result i32)))
  (import "env" "succeed" (func $succeed (result i32)))
  (import "env" "big" (func $big (result i32)))
  (import "env" "big_trusted" (func $big_trusted (result i32)))
  (import "guestmem" "last_error" (func $host_error (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\ff\fe")  ;; not UTF-8
  (global $next (mut i32) (i32.const 4096))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (if (i32.ge_u (local.get $len) (i32.const 0x100000)) (then (return (i32.const 0))))
    (local.set $ptr (global.get $next))
    (global.set $next
      (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $next)
        (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1))))))
    (local.get $ptr))
  (func (export "free") (param i32))
  (func (export "dealloc") (param i32 i32))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "last_error") (result i32) (i32.const 0))
  (func (export "abi_version") (result i32) (i32.const 1))
  ;; env.text(ptr, len), with the pair as given.
  (func (export "text") (param i32 i32) (result i32)
    (call $text (local.get 0) (local.get 1)))
  (func (export "ints") (param i32 i32 i64 i64) (result i64)
    (call $ints (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fail") (result i32) (call $fail))
  (func (export "succeed") (result i32) (call $succeed))
  (func (export "big") (result i32) (call $big))
  (func (export "big_trusted") (result i32) (call $big_trusted))
  ;; guestmem.last_error: the host's message as a result block, or 0.
  (func (export "host_error") (result i32) (call $host_error))
)
