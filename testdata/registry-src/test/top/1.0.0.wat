;; test:top@1.0.0
;;
;; Imports test:base as a DECLARED dependency: the instance import `base`
;; carries (external-id "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>").
;;
;; Exports top(x) -> u32 = base(x) + 1, both as the plain top-level func `top`
;; and inside the interface instance `test:top/api@1.0.0`.
;; Part of the backtracking fixture (roots/backtrack.wat). Wired to test:base 1.0.0: top(1) == 102.
(component
  (import "base" (external-id "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>")
    (instance $base
      (export "base" (func (param "x" u32) (result u32)))))
  (core func $base (canon lower (func $base "base")))
  (core module $m
    (import "dep" "base" (func $base (param i32) (result i32)))
    (func (export "top") (param i32) (result i32)
      (i32.add (call $base (local.get 0)) (i32.const 1))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "base" (func $base))))))
  (func $top (param "x" u32) (result u32)
    (canon lift (core func $i "top")))
  (export "top" (func $top))
  (instance $api (export "top" (func $top)))
  (export "test:top/api@1.0.0" (instance $api))
)
