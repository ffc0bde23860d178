;; test:left@1.1.0
;;
;; Imports test:base as a DECLARED dependency: the instance import `base`
;; carries (external-id "unlocked-dep=<test:base@{>=2.0.0 <3.0.0}>").
;;
;; Exports left(x) -> u32 = base(x) + 2, both as the plain top-level func `left`
;; and inside the interface instance `test:left/api@1.1.0`.
;; Wired to test:base 2.0.0 (its only allowed version): left(1) == 203.
(component
  (import "base" (external-id "unlocked-dep=<test:base@{>=2.0.0 <3.0.0}>")
    (instance $base
      (export "base" (func (param "x" u32) (result u32)))))
  (core func $base (canon lower (func $base "base")))
  (core module $m
    (import "dep" "base" (func $base (param i32) (result i32)))
    (func (export "left") (param i32) (result i32)
      (i32.add (call $base (local.get 0)) (i32.const 2))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "base" (func $base))))))
  (func $left (param "x" u32) (result u32)
    (canon lift (core func $i "left")))
  (export "left" (func $left))
  (instance $api (export "left" (func $left)))
  (export "test:left/api@1.1.0" (instance $api))
)
