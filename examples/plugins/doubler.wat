;; A plugin loaded at run time by examples/plugin.rs: a process that receives
;; (reply_to: u64, n: u64) and sends back n * 2 (a u64), until it receives n = 0. It uses
;; only the process model: no WASI, no other imports.
;;
;; Every message is a header naming its type, then the value in bincode (see
;; lunatic-core's `codec.rs`): the type's fingerprint (8 bytes), the length of its name (1),
;; the name, a flag byte (1: a reply address of 24 bytes follows), then the value.
(module
  (import "lunatic::message" "receive" (func $receive (param i32 i32 i64 i32 i32 i32) (result i32)))
  (import "lunatic::message" "create_data" (func $create_data (param i64 i64)))
  (import "lunatic::message" "write_data" (func $write_data (param i32 i32) (result i32)))
  (import "lunatic::message" "send" (func $send (param i64)))
  (memory (export "memory") 1)
  ;; The header of a `u64`: FNV-1a("u64") little-endian, the name's length and the name,
  ;; no reply address.
  (data (i32.const 512) "\f2\66\8d\3e\19\d3\35\4d\03u64\00")
  ;; `serve(factor)`: answers requests with n * factor.
  (func (export "serve") (param $factor i64)
    (local $value i32)
    (loop $next
      ;; Wait for any message (no tags, no timeout); up to 256 of its bytes are copied to
      ;; 0, and its size and whether the call waited to 384.
      (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 256) (i32.const 384)))
      ;; The value starts after the fingerprint, the name's length, the name and the flag
      ;; (a plain send: no reply address).
      (local.set $value (i32.add (i32.const 10) (i32.load8_u (i32.const 8))))
      (if (i64.eqz (i64.load offset=8 (local.get $value))) (then (return)))
      (i64.store (i32.const 400) (i64.mul (i64.load offset=8 (local.get $value)) (local.get $factor)))
      (call $create_data (i64.const 0) (i64.const 21))
      (drop (call $write_data (i32.const 512) (i32.const 13)))
      (drop (call $write_data (i32.const 400) (i32.const 8)))
      (call $send (i64.load (local.get $value)))
      (br $next))))
