;; test:right@1.0.0
;;
;; Imports test:base as a DECLARED dependency: the instance import `base`
;; carries (external-id "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>").
;;
;; Exports right(x) -> u32 = base(x) * 2, both as the plain top-level func `right`
;; and inside the interface instance `test:right/api@1.0.0`.
;; Wired to test:base 1.2.0: right(1) == 242 (to 1.0.0: 202).
(component
  (import "base" (external-id "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>")
    (instance $base
      (export "base" (func (param "x" u32) (result u32)))))
  (core func $base (canon lower (func $base "base")))
  (core module $m
    (import "dep" "base" (func $base (param i32) (result i32)))
    (func (export "right") (param i32) (result i32)
      (i32.mul (call $base (local.get 0)) (i32.const 2))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "base" (func $base))))))
  (func $right (param "x" u32) (result u32)
    (canon lift (core func $i "right")))
  (export "right" (func $right))
  (instance $api (export "right" (func $right)))
  (export "test:right/api@1.0.0" (instance $api))
)
