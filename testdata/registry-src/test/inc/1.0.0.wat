;; test:inc@1.0.0
;;
;; Imports test:add as a DECLARED dependency: the instance import `add`
;; carries (external-id "unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>") and its
;; type lists only the func it uses.
;;
;; Exports first(x) -> u32 = add(x, 2), both as the plain top-level func
;; `first` and inside the interface instance `test:inc/api@1.0.0`.
;; Wired to test:add 1.x: first(1) == 3.
(component
  (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>")
    (instance $add
      (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
  (core func $add (canon lower (func $add "add")))
  (core module $m
    (import "dep" "add" (func $add (param i32 i32) (result i32)))
    (func (export "first") (param i32) (result i32)
      (call $add (local.get 0) (i32.const 2))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "add" (func $add))))))
  (func $first (param "x" u32) (result u32)
    (canon lift (core func $i "first")))
  (export "first" (func $first))
  (instance $api (export "first" (func $first)))
  (export "test:inc/api@1.0.0" (instance $api))
)
