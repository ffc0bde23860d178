;; test:low@1.0.0
;;
;; Imports test:base as a DECLARED dependency: the instance import `base`
;; carries (external-id "unlocked-dep=<test:base@{>=1.0.0 <1.2.0}>").
;;
;; Exports low(x) -> u32 = base(x) * 2, both as the plain top-level func `low`
;; and inside the interface instance `test:low/api@1.0.0`.
;; Part of the backtracking fixture (roots/backtrack.wat): pins track 1.x of
;; test:base below 1.2.0, i.e. to 1.0.0. Wired to base 1.0.0: low(1) == 202.
(component
  (import "base" (external-id "unlocked-dep=<test:base@{>=1.0.0 <1.2.0}>")
    (instance $base
      (export "base" (func (param "x" u32) (result u32)))))
  (core func $base (canon lower (func $base "base")))
  (core module $m
    (import "dep" "base" (func $base (param i32) (result i32)))
    (func (export "low") (param i32) (result i32)
      (i32.mul (call $base (local.get 0)) (i32.const 2))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "base" (func $base))))))
  (func $low (param "x" u32) (result u32)
    (canon lift (core func $i "low")))
  (export "low" (func $low))
  (instance $api (export "low" (func $low)))
  (export "test:low/api@1.0.0" (instance $api))
)
