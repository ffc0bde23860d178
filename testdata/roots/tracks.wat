;; Root "tracks" (not in the registry): two canonical tracks of one package.
;;
;; Imports two DECLARED dependencies on the SAME package, different tracks:
;;   add-one (external-id "unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>") -> test:add 1.1.0
;;   add-two (external-id "unlocked-dep=<test:add@{>=2.0.0 <3.0.0}>") -> test:add 2.0.0
;; Both instances coexist in one resolution (DESIGN.md "Solving").
;;
;; Exports
;;   via-one(a, b) -> u32 = add-one.add(a, b) = a + b          via-one(1, 2) == 3
;;   via-two(a, b) -> u32 = add-two.add(a, b) = a + b + 1000   via-two(1, 2) == 1003
(component
  (import "add-one" (external-id "unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>")
    (instance $add-one
      (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
  (import "add-two" (external-id "unlocked-dep=<test:add@{>=2.0.0 <3.0.0}>")
    (instance $add-two
      (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
  (core func $add-one (canon lower (func $add-one "add")))
  (core func $add-two (canon lower (func $add-two "add")))
  (core module $m
    (import "deps" "add-one" (func $add-one (param i32 i32) (result i32)))
    (import "deps" "add-two" (func $add-two (param i32 i32) (result i32)))
    (func (export "via-one") (param i32 i32) (result i32)
      (call $add-one (local.get 0) (local.get 1)))
    (func (export "via-two") (param i32 i32) (result i32)
      (call $add-two (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m
    (with "deps" (instance
      (export "add-one" (func $add-one))
      (export "add-two" (func $add-two))))))
  (func $via-one (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "via-one")))
  (func $via-two (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "via-two")))
  (export "via-one" (func $via-one))
  (export "via-two" (func $via-two))
)
