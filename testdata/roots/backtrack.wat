;; Root "backtrack": a real backtracking fixture (not in the registry).
;;
;; Imports two DECLARED dependencies:
;;   top (external-id "unlocked-dep=<test:top@{>=1.0.0}>")  uses top(x)
;;   low (external-id "unlocked-dep=<test:low@{>=1.0.0}>")  uses low(x)
;; Registry: top 1.1.0 needs base {>=1.2.0 <2.0.0}, top 1.0.0 needs base
;; {>=1.0.0 <2.0.0}; low 1.0.0 needs base {>=1.0.0 <1.2.0}. All on track 1.x
;; of test:base, which must share ONE version. The newest top (1.1.0) cannot
;; live with low, so the solver must back off to top 1.0.0 and base 1.0.0.
;;
;; Exports run(x) -> u32 = top(x) + low(x)
;;   = (base(x) + 1) + base(x) * 2, with base(x) = x + 100
;; run(1) == 102 + 202 == 304.
(component
  (import "top" (external-id "unlocked-dep=<test:top@{>=1.0.0}>")
    (instance $top (export "top" (func (param "x" u32) (result u32)))))
  (import "low" (external-id "unlocked-dep=<test:low@{>=1.0.0}>")
    (instance $low (export "low" (func (param "x" u32) (result u32)))))
  (core func $top (canon lower (func $top "top")))
  (core func $low (canon lower (func $low "low")))
  (core module $m
    (import "deps" "top" (func $top (param i32) (result i32)))
    (import "deps" "low" (func $low (param i32) (result i32)))
    (func (export "run") (param i32) (result i32)
      (i32.add (call $top (local.get 0)) (call $low (local.get 0)))))
  (core instance $i (instantiate $m
    (with "deps" (instance
      (export "top" (func $top))
      (export "low" (func $low))))))
  (func $run (param "x" u32) (result u32)
    (canon lift (core func $i "run")))
  (export "run" (func $run))
)
