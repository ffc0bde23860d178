;; Root "host" (not in the registry): host imports pass through.
;;
;; Imports
;;   inc (external-id "unlocked-dep=<test:inc@{>=1.0.0}>")  DECLARED dependency, uses first(x)
;;   log: func(x: u32)                                       HOST import (plain name, no
;;                                                           external-id; no registry provides it)
;;   wasi:clocks/monotonic-clock@0.2.3 { now: func() -> u64 } HOST import (wasi:* is never
;;                                                           looked up in a registry)
;; A bundle of this root must still import `log` and
;; `wasi:clocks/monotonic-clock@0.2.3`, once each, untouched.
;;
;; Exports run(x) -> u32: calls log(x), then returns first(x) = x + 2.
;; run(1) == 3 and the host sees log(1) exactly once. `now` is lowered but
;; never called (so a host may stub it).
(component
  (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>")
    (instance $inc (export "first" (func (param "x" u32) (result u32)))))
  (import "log" (func $log (param "x" u32)))
  (import "wasi:clocks/monotonic-clock@0.2.3"
    (instance $clock (export "now" (func (result u64)))))
  (core func $first (canon lower (func $inc "first")))
  (core func $log (canon lower (func $log)))
  (core func $now (canon lower (func $clock "now")))
  (core module $m
    (import "deps" "first" (func $first (param i32) (result i32)))
    (import "host" "log" (func $log (param i32)))
    (import "host" "now" (func $now (result i64)))
    (func (export "run") (param i32) (result i32)
      (call $log (local.get 0))
      (call $first (local.get 0))))
  (core instance $i (instantiate $m
    (with "deps" (instance (export "first" (func $first))))
    (with "host" (instance
      (export "log" (func $log))
      (export "now" (func $now))))))
  (func $run (param "x" u32) (result u32)
    (canon lift (core func $i "run")))
  (export "run" (func $run))
)
