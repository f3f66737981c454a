;; A guest with the whole ABI over a bump allocator that counts live blocks, so that a test can
;; see what the host frees. alloc refuses 1 MiB and more (so a call's second input can fail after
;; its first was placed); ALLOC_BODY is replaced by tests that need alloc to lie.
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "\04\00\00\00nope")  ;; a canned message block, below the heap
  (global $next (mut i32) (i32.const 4096))
  (global $live (mut i32) (i32.const 0))
  (global $error (mut i32) (i32.const 0))
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    ALLOC_BODY
    (if (i32.ge_u (local.get $len) (i32.const 0x100000)) (then (return (i32.const 0))))
    (local.set $ptr (global.get $next))
    (global.set $next
      (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $next)
        (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1))))))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $ptr))
  ;; Freeing the canned message (below the heap) is not a block coming back.
  (func $free (export "free") (param $ptr i32)
    (if (i32.ge_u (local.get $ptr) (i32.const 4096))
      (then (global.set $live (i32.sub (global.get $live) (i32.const 1))))))
  (func (export "dealloc") (param $ptr i32) (param i32) (call $free (local.get $ptr)))
  (func (export "realloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "last_error") (result i32)
    (local $error i32)
    (local.set $error (global.get $error))
    (global.set $error (i32.const 0))
    (local.get $error))
  (func (export "abi_version") (result i32) (i32.const ABI_VERSION))
  (func (export "live_blocks") (result i32) (global.get $live))
  ;; Returns 0 after recording "nope".
  (func (export "fail") (param i32 i32) (result i32)
    (global.set $error (i32.const 64))
    (i32.const 0))
  ;; Returns 0, a valid answer, recording nothing.
  (func (export "zero") (param i32 i32) (result i32) (i32.const 0))
  ;; The sum of both lengths.
  (func (export "lengths") (param i32 i32 i32 i32) (result i32)
    (i32.add (local.get 1) (local.get 3)))
  ;; A copy of the input as a result block.
  (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32)
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 4))))
    (i32.store (local.get $out) (local.get $len))
    (memory.copy (i32.add (local.get $out) (i32.const 4)) (local.get $ptr) (local.get $len))
    (local.get $out))
)
