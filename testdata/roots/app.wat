;; Root "app": the diamond (not in the registry).
;;
;; Imports two DECLARED dependencies:
;;   left  (external-id "unlocked-dep=<test:left@{>=1.0.0}>")   uses left(x)
;;   right (external-id "unlocked-dep=<test:right@{>=1.0.0}>")  uses right(x)
;; Registry: left 1.0.0 needs base {>=1.0.0 <2.0.0}, left 1.1.0 needs base
;; {>=2.0.0 <3.0.0}; right 1.0.0 needs base {>=1.0.0 <2.0.0}.
;;
;; Exports run(x) -> u32 = left(x) + right(x).
;;
;; Expected, by resolution (see testdata/README.md):
;; * Tracks coexist (DESIGN.md "Solving": package identity is name + canonical
;;   track, so base 1.x and base 2.x may both be present). Highest first gives
;;   left 1.1.0 -> base 2.0.0 and right 1.0.0 -> base 1.2.0 (two base
;;   instances): run(1) = (1 + 200 + 2) + (1 + 120) * 2 = 203 + 242 = 445.
;; * If the solver allowed only ONE version of test:base overall, it would have
;;   to back off to left 1.0.0 with base 1.2.0:
;;   run(1) = (1 + 120 + 1) + (1 + 120) * 2 = 122 + 242 = 364.
;; Under the track rule this is therefore NOT a backtracking fixture; see
;; backtrack.wat for one.
(component
  (import "left" (external-id "unlocked-dep=<test:left@{>=1.0.0}>")
    (instance $left (export "left" (func (param "x" u32) (result u32)))))
  (import "right" (external-id "unlocked-dep=<test:right@{>=1.0.0}>")
    (instance $right (export "right" (func (param "x" u32) (result u32)))))
  (core func $left (canon lower (func $left "left")))
  (core func $right (canon lower (func $right "right")))
  (core module $m
    (import "deps" "left" (func $left (param i32) (result i32)))
    (import "deps" "right" (func $right (param i32) (result i32)))
    (func (export "run") (param i32) (result i32)
      (i32.add (call $left (local.get 0)) (call $right (local.get 0)))))
  (core instance $i (instantiate $m
    (with "deps" (instance
      (export "left" (func $left))
      (export "right" (func $right))))))
  (func $run (param "x" u32) (result u32)
    (canon lift (core func $i "run")))
  (export "run" (func $run))
)
