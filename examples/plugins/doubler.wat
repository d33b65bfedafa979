;; A plugin loaded at run time by examples/plugin.rs: a process that receives
;; (reply_to: u64, n: u64) and sends back n * 2 (a u64), until it receives n = 0. It uses
;; only the process model: no WASI, no other imports.
;;
;; Every message is the value in bincode between a head and a tail naming its type (see
;; lunatic-core's `codec.rs`): the type's fingerprint (8 bytes) and a flag (1: a 24-byte
;; reply address follows), the value, then the type's name and the name's length (1).
(module
  (import "lunatic::message" "receive" (func $receive (param i32 i32 i64 i32 i32 i32) (result i32)))
  (import "lunatic::message" "create_data" (func $create_data (param i64 i64)))
  (import "lunatic::message" "write_data" (func $write_data (param i32 i32) (result i32)))
  (import "lunatic::message" "send" (func $send (param i64)))
  (memory (export "memory") 1)
  ;; A `u64` message: FNV-1a("u64") little-endian and no reply address, 8 bytes of value
  ;; (at 521), then the name and its length.
  (data (i32.const 512) "\f2\66\8d\3e\19\d3\35\4d\00")
  (data (i32.const 529) "u64\03")
  ;; `serve(factor)`: answers requests with n * factor.
  (func (export "serve") (param $factor i64)
    (loop $next
      ;; Wait for any message (no tags, no timeout); up to 256 of its bytes are copied to
      ;; 0, and its size and whether the call waited to 384. A plain send: the value
      ;; starts after the fingerprint and the flag, at 9.
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 256) (i32.const 384)))
      (if (i64.eqz (i64.load (i32.const 17))) (then (return)))
      (i64.store (i32.const 521) (i64.mul (i64.load (i32.const 17)) (local.get $factor)))
      (call $create_data (i64.const 0) (i64.const 21))
      (drop (call $write_data (i32.const 512) (i32.const 21)))
      (call $send (i64.load (i32.const 9)))
      (br $next))))
