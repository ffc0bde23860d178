;; Root "meet" (not in the registry).
;;
;; Imports two DECLARED dependencies:
;;   inc  (external-id "unlocked-dep=<test:inc@{>=1.0.0}>")   uses first(x)
;;   five (external-id "unlocked-dep=<test:five@{>=1.0.0}>")  uses second(x)
;; test:inc imports test:add as a declared dep, test:five imports it as the
;; interface test:add/api@1.0.0: both land on track 1.x of test:add, so one
;; resolution has ONE test:add instance (1.1.0, the newest on the track).
;; test:five 1.1.0-rc.1 is a pre-release and must NOT be chosen here.
;;
;; Exports full(a, b) -> u32 = first(a) + second(b)
;;   = (a + 2) + (b + 5)
;; full(1, 2) == 10.   (With the pre-release wrongly picked: 55.)
(component
  (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>")
    (instance $inc (export "first" (func (param "x" u32) (result u32)))))
  (import "five" (external-id "unlocked-dep=<test:five@{>=1.0.0}>")
    (instance $five (export "second" (func (param "x" u32) (result u32)))))
  (core func $first (canon lower (func $inc "first")))
  (core func $second (canon lower (func $five "second")))
  (core module $m
    (import "deps" "first" (func $first (param i32) (result i32)))
    (import "deps" "second" (func $second (param i32) (result i32)))
    (func (export "full") (param i32 i32) (result i32)
      (i32.add (call $first (local.get 0)) (call $second (local.get 1)))))
  (core instance $i (instantiate $m
    (with "deps" (instance
      (export "first" (func $first))
      (export "second" (func $second))))))
  (func $full (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "full")))
  (export "full" (func $full))
)
