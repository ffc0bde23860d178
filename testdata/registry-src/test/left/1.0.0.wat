;; test:left@1.0.0
;;
;; Imports test:base as a DECLARED dependency: the instance import `base`
;; carries (external-id "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>").
;;
;; Exports left(x) -> u32 = base(x) + 1, both as the plain top-level func `left`
;; and inside the interface instance `test:left/api@1.0.0`.
;; Wired to test:base 1.2.0: left(1) == 122 (to 1.0.0: 102).
(component
  (import "base" (external-id "unlocked-dep=<test:base@{>=1.0.0 <2.0.0}>")
    (instance $base
      (export "base" (func (param "x" u32) (result u32)))))
  (core func $base (canon lower (func $base "base")))
  (core module $m
    (import "dep" "base" (func $base (param i32) (result i32)))
    (func (export "left") (param i32) (result i32)
      (i32.add (call $base (local.get 0)) (i32.const 1))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "base" (func $base))))))
  (func $left (param "x" u32) (result u32)
    (canon lift (core func $i "left")))
  (export "left" (func $left))
  (instance $api (export "left" (func $left)))
  (export "test:left/api@1.0.0" (instance $api))
)
