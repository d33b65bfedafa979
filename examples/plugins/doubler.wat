;; A plugin loaded at run time by examples/plugin.rs: a process that receives
;; (reply_to: u64, n: u64) and sends back n * 2 (a u64), until it receives n = 0. It uses
;; only the process model: no WASI, no other imports.
;;
;; A message is its value in bincode; its type travels beside it, as the fingerprint the
;; guest library computes (FNV-1a of the type's name: `u64` here).
(module
  (import "lunatic::message" "receive" (func $receive (param i32 i32 i64 i32 i32 i32) (result i32)))
  (import "lunatic::message" "create_data" (func $create_data (param i64 i64)))
  (import "lunatic::message" "write_data" (func $write_data (param i32 i32) (result i32)))
  (import "lunatic::message" "send" (func $send (param i64 i64 i64)))
  (memory (export "memory") 1)
  ;; `serve(factor)`: answers requests with n * factor.
  (func (export "serve") (param $factor i64)
    (loop $next
      ;; Wait for any message (no tags, no timeout); its 16 bytes are copied to 0, and its
      ;; size, whether the call waited and its type to 32.
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 16) (i32.const 32)))
      (if (i64.eqz (i64.load (i32.const 8))) (then (return)))
      (i64.store (i32.const 16) (i64.mul (i64.load (i32.const 8)) (local.get $factor)))
      (call $create_data (i64.const 0) (i64.const 8))
      (drop (call $write_data (i32.const 16) (i32.const 8)))
      ;; A `u64`, no reply awaited.
      (call $send (i64.load (i32.const 0)) (i64.const 0x4d35d3193e8d66f2) (i64.const 0))
      (br $next))))
