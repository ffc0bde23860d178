;; test:five@1.1.0-rc.1 (a PRE-RELEASE: only chosen when a range names a
;; pre-release, e.g. {>=1.1.0-rc.1}; it adds 50 instead of 5 so a test can
;; tell by value whether it was picked)
;;
;; Imports test:add as an INTERFACE import `test:add/api@1.0.0` (no
;; external-id; resolved to the registry package test:add on track 1.x).
;;
;; Exports second(x) -> u32 = add(x, 50), both as the plain top-level func
;; `second` and inside the interface instance `test:five/api@1.1.0-rc.1`.
;; Wired to test:add 1.x: second(2) == 52.
(component
  (import "test:add/api@1.0.0"
    (instance $add
      (export "add" (func (param "left" u32) (param "right" u32) (result u32)))))
  (core func $add (canon lower (func $add "add")))
  (core module $m
    (import "dep" "add" (func $add (param i32 i32) (result i32)))
    (func (export "second") (param i32) (result i32)
      (call $add (local.get 0) (i32.const 50))))
  (core instance $i (instantiate $m
    (with "dep" (instance (export "add" (func $add))))))
  (func $second (param "x" u32) (result u32)
    (canon lift (core func $i "second")))
  (export "second" (func $second))
  (instance $api (export "second" (func $second)))
  (export "test:five/api@1.1.0-rc.1" (instance $api))
)
