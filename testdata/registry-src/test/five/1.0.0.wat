;; test:five@1.0.0
;;
;; Imports test:add as an INTERFACE import `test:add/api@1.0.0` (no
;; external-id; resolved to the registry package test:add on track 1.x).
;;
;; Exports second(x) -> u32 = add(x, 5), both as the plain top-level func
;; `second` and inside the interface instance `test:five/api@1.0.0`.
;; Wired to test:add 1.x: second(2) == 7.
(component
  (import "test:add/api@1.0.0"
    (instance $add
      (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
  (core func $add (canon lower (func $add "add")))
  (core module $m
    (import "dep" "add" (func $add (param i32 i32) (result i32)))
    (func (export "second") (param i32) (result i32)
      (call $add (local.get 0) (i32.const 5))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "add" (func $add))))))
  (func $second (param "x" u32) (result u32)
    (canon lift (core func $i "second")))
  (export "second" (func $second))
  (instance $api (export "second" (func $second)))
  (export "test:five/api@1.0.0" (instance $api))
)
